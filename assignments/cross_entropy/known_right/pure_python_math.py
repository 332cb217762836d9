"""Pure Python with the math module: explicit loops, max shift, logsumexp minus the true logit."""
import math


def softmax(logits):
    m = max(logits)
    exps = [math.exp(z - m) for z in logits]
    total = sum(exps)
    return [e / total for e in exps]


def cross_entropy_loss(logits, true_id):
    m = max(logits)
    total = sum(math.exp(z - m) for z in logits)
    return math.log(total) - (logits[true_id] - m)


def sequence_loss(logits_list, true_ids):
    total = 0.0
    for z, t in zip(logits_list, true_ids):
        total += cross_entropy_loss(z, t)
    return total / len(logits_list)


def perplexity(loss):
    return math.exp(loss)


def softmax_cross_entropy_grad(logits, true_id):
    grad = softmax(logits)
    grad[true_id] -= 1.0
    return grad
