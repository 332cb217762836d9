"""cross_entropy_loss: returns -log(max(p, 1e-12)), so the loss is capped at 27.6.

-log p has no ceiling: when p(target) is below 1e-12 (or underflows to 0) the true loss is above
27.6, maybe in the hundreds, but you report 27.6. Compute it from the logits: log-sum-exp with the
max shift, minus logits[true_id].
"""
import math


def softmax(logits):
    m = max(logits)
    exps = [math.exp(z - m) for z in logits]
    total = sum(exps)
    return [e / total for e in exps]


def cross_entropy_loss(logits, true_id):
    p = softmax(logits)[true_id]
    return -math.log(max(p, 1e-12))


def sequence_loss(logits_list, true_ids):
    losses = [cross_entropy_loss(z, t) for z, t in zip(logits_list, true_ids)]
    return sum(losses) / len(losses)


def perplexity(loss):
    return math.exp(loss)


def softmax_cross_entropy_grad(logits, true_id):
    grad = softmax(logits)
    grad[true_id] -= 1.0
    return grad
