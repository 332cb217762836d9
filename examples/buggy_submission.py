"""A first attempt with two classic mistakes: -log(softmax) for the loss, and the sum over positions."""

import math


def softmax(logits):
    top = max(logits)
    exps = [math.exp(z - top) for z in logits]
    total = sum(exps)
    return [e / total for e in exps]


def cross_entropy_loss(logits, true_id):
    return -math.log(max(softmax(logits)[true_id], 1e-12))


def sequence_loss(logits_list, true_ids):
    return sum(cross_entropy_loss(z, t) for z, t in zip(logits_list, true_ids))


def perplexity(loss):
    return math.exp(loss)


def softmax_cross_entropy_grad(logits, true_id):
    grad = softmax(logits)
    grad[true_id] -= 1.0
    return grad
