"""cross_entropy_loss: takes -log2 of the target's probability, in bits instead of nats.

The loss is -ln p(target), in nats; -log2 p is the same loss in bits, 1 / ln 2 = 1.44 times larger,
so every loss and every gradient built on it is too large, and exp of it is not the perplexity. Use
math.log (or np.log): the natural log.
"""
import math


def softmax(logits):
    m = max(logits)
    exps = [math.exp(z - m) for z in logits]
    total = sum(exps)
    return [e / total for e in exps]


def cross_entropy_loss(logits, true_id):
    return -math.log2(softmax(logits)[true_id])


def sequence_loss(logits_list, true_ids):
    losses = [cross_entropy_loss(z, t) for z, t in zip(logits_list, true_ids)]
    return sum(losses) / len(losses)


def perplexity(loss):
    return math.exp(loss)


def softmax_cross_entropy_grad(logits, true_id):
    grad = softmax(logits)
    grad[true_id] -= 1.0
    return grad
