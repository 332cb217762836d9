"""log_softmax first: everything (probabilities, loss, gradient) is derived from stable log-probabilities."""
import math


def log_softmax(logits):
    m = max(logits)
    log_norm = math.log(sum(math.exp(z - m) for z in logits))
    return [(z - m) - log_norm for z in logits]


def softmax(logits):
    return [math.exp(lp) for lp in log_softmax(logits)]


def cross_entropy_loss(logits, true_id):
    return -log_softmax(logits)[true_id]


def sequence_loss(logits_list, true_ids):
    nll = [-log_softmax(z)[t] for z, t in zip(logits_list, true_ids)]
    return sum(nll) / len(nll)


def perplexity(loss):
    return math.exp(loss)


def softmax_cross_entropy_grad(logits, true_id):
    logp = log_softmax(logits)
    grad = [math.exp(lp) for lp in logp]
    grad[true_id] = math.expm1(logp[true_id])  # p_t - 1 without cancellation
    return grad
