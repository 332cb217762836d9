"""cross_entropy_loss: shifts the caller's logits in place by their max (the value it returns is right).

Your loss is right, but the caller's logits come back shifted by their max, so later code reading
that list sees changed values. Keep the shift local: use z - m inside the sum and logits[true_id] -
m, and never assign into logits.
"""
import math


def softmax(logits):
    m = max(logits)
    exps = [math.exp(z - m) for z in logits]
    total = sum(exps)
    return [e / total for e in exps]


def cross_entropy_loss(logits, true_id):
    m = max(logits)
    for i, z in enumerate(logits):
        logits[i] = z - m
    return math.log(sum(math.exp(z) for z in logits)) - logits[true_id]


def sequence_loss(logits_list, true_ids):
    losses = [cross_entropy_loss(z, t) for z, t in zip(logits_list, true_ids)]
    return sum(losses) / len(losses)


def perplexity(loss):
    return math.exp(loss)


def softmax_cross_entropy_grad(logits, true_id):
    grad = softmax(logits)
    grad[true_id] -= 1.0
    return grad
