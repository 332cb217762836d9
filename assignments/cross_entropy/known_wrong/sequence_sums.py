"""sequence_loss: sums the per-position losses instead of taking their mean.

A sum grows with the length of the sequence, so long names look worse and perplexity = exp(loss)
explodes; the sequence loss is the mean of the per-position losses. Divide the total by the number
of positions.
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


def sequence_loss(logits_list, true_ids):
    return sum(cross_entropy_loss(z, t) for z, t in zip(logits_list, true_ids))


def perplexity(loss):
    return math.exp(loss)


def softmax_cross_entropy_grad(logits, true_id):
    grad = softmax(logits)
    grad[true_id] -= 1.0
    return grad
