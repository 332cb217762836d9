"""cross_entropy_loss reading the logit one after the target, wrapping at the end: the bank's file reads one before."""

import math


def softmax(logits):
    m = max(logits)
    exps = [math.exp(x - m) for x in logits]
    s = sum(exps)
    return [e / s for e in exps]


def cross_entropy_loss(logits, true_id):
    m = max(logits)
    lse = m + math.log(sum(math.exp(x - m) for x in logits))
    return lse - logits[(true_id + 1) % len(logits)]


def sequence_loss(logits_list, true_ids):
    total = 0.0
    for z, t in zip(logits_list, true_ids):
        m = max(z)
        total += m + math.log(sum(math.exp(x - m) for x in z)) - z[t]
    return total / len(true_ids)


def perplexity(loss):
    return math.exp(loss)


def softmax_cross_entropy_grad(logits, true_id):
    g = softmax(logits)
    g[true_id] -= 1.0
    return g
