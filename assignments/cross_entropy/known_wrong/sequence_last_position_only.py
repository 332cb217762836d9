"""sequence_loss: returns the loss of the last position only.

The loop overwrites loss each time, so only the last position counts; the sequence loss is the mean
of -log p(target) over all positions. Add each position's loss to a total and divide by the number
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
    loss = 0.0
    for z, t in zip(logits_list, true_ids):
        loss = cross_entropy_loss(z, t)
    return loss


def perplexity(loss):
    return math.exp(loss)


def softmax_cross_entropy_grad(logits, true_id):
    grad = softmax(logits)
    grad[true_id] -= 1.0
    return grad
