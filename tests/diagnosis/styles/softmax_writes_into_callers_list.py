"""softmax writing its probabilities into the caller's list, returning a copy: the bank's file shifts it."""

import math


def softmax(logits):
    m = max(logits)
    exps = [math.exp(x - m) for x in logits]
    total = sum(exps)
    for i, e in enumerate(exps):
        logits[i] = e / total
    return list(logits)


def cross_entropy_loss(logits, true_id):
    m = max(logits)
    return m + math.log(sum(math.exp(x - m) for x in logits)) - logits[true_id]


def sequence_loss(logits_list, true_ids):
    return sum(cross_entropy_loss(z, t) for z, t in zip(logits_list, true_ids)) / len(true_ids)


def perplexity(loss):
    return math.exp(loss)


def softmax_cross_entropy_grad(logits, true_id):
    m = max(logits)
    exps = [math.exp(x - m) for x in logits]
    total = sum(exps)
    grad = [e / total for e in exps]
    grad[true_id] -= 1.0
    return grad
