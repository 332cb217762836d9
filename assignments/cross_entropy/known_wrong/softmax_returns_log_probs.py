"""softmax: returns log-probabilities (log_softmax) instead of probabilities.

z - m - log(sum) is log p, which is never positive, not p; anything that sums, samples or subtracts
the one-hot from it gets nonsense. Return the probabilities themselves: exps divided by their sum.
"""
import math


def softmax(logits):
    m = max(logits)
    log_total = math.log(sum(math.exp(z - m) for z in logits))
    return [z - m - log_total for z in logits]


def cross_entropy_loss(logits, true_id):
    m = max(logits)
    lse = m + math.log(sum(math.exp(z - m) for z in logits))
    return lse - logits[true_id]


def sequence_loss(logits_list, true_ids):
    losses = [cross_entropy_loss(z, t) for z, t in zip(logits_list, true_ids)]
    return sum(losses) / len(losses)


def perplexity(loss):
    return math.exp(loss)


def softmax_cross_entropy_grad(logits, true_id):
    grad = softmax(logits)
    grad[true_id] -= 1.0
    return grad
