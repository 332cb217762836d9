"""sequence_loss: shifts each row of the caller's logits in place by its max before scoring it (the mean is right).

Your mean is right, but every row of the caller's logits comes back shifted by its max, so their
data changes under them. cross_entropy_loss already does the max shift: call it on the rows as given
and never assign into them.
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
    total = 0.0
    for row, t in zip(logits_list, true_ids):
        m = max(row)
        for i in range(len(row)):
            row[i] -= m
        total += cross_entropy_loss(row, t)
    return total / len(true_ids)


def perplexity(loss):
    return math.exp(loss)


def softmax_cross_entropy_grad(logits, true_id):
    grad = softmax(logits)
    grad[true_id] -= 1.0
    return grad
