"""cross_entropy_loss: returns the probability of the true token instead of -log of it.

The loss is -log p(target), not p(target): a sure, correct prediction should give loss 0 and a tiny
p a large loss, but yours does the reverse and stays between 0 and 1. Return -log of it, best as
logsumexp(logits) - logits[true_id].
"""
import math


def softmax(logits):
    m = max(logits)
    exps = [math.exp(z - m) for z in logits]
    total = sum(exps)
    return [e / total for e in exps]


def cross_entropy_loss(logits, true_id):
    m = max(logits)
    exps = [math.exp(z - m) for z in logits]
    return exps[true_id] / sum(exps)


def sequence_loss(logits_list, true_ids):
    losses = [cross_entropy_loss(z, t) for z, t in zip(logits_list, true_ids)]
    return sum(losses) / len(losses)


def perplexity(loss):
    return math.exp(loss)


def softmax_cross_entropy_grad(logits, true_id):
    grad = softmax(logits)
    grad[true_id] -= 1.0
    return grad
