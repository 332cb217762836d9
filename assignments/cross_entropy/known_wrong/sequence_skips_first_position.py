"""sequence_loss: starts at position 1, leaving the first position out of the mean.

Position 0, predicting the first letter after BOS, is a real prediction; leaving its loss out while
still dividing by len(true_ids) makes the loss too small. Sum the losses of all positions, starting
at index 0.
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
    losses = [cross_entropy_loss(logits_list[i], true_ids[i]) for i in range(1, len(true_ids))]
    return sum(losses) / len(true_ids)


def perplexity(loss):
    return math.exp(loss)


def softmax_cross_entropy_grad(logits, true_id):
    grad = softmax(logits)
    grad[true_id] -= 1.0
    return grad
