"""sequence_loss: keeps every loss it has ever seen in a global list and returns their running mean.

The global list keeps the losses of earlier calls, so each result mixes in other sequences and the
same input gives a different answer the second time. Keep the losses in a local list and return the
mean of this call's positions.
"""
import math


def softmax(logits):
    m = max(logits)
    exps = [math.exp(z - m) for z in logits]
    total = sum(exps)
    return [e / total for e in exps]


def cross_entropy_loss(logits, true_id):
    m = max(logits)
    lse = m + math.log(sum(math.exp(z - m) for z in logits))
    return lse - logits[true_id]


_history = []


def sequence_loss(logits_list, true_ids):
    _history.extend(cross_entropy_loss(z, t) for z, t in zip(logits_list, true_ids))
    return sum(_history) / len(_history)


def perplexity(loss):
    return math.exp(loss)


def softmax_cross_entropy_grad(logits, true_id):
    grad = softmax(logits)
    grad[true_id] -= 1.0
    return grad
