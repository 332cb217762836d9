"""sequence_loss: shuffles the losses before summing; the seed is set once at import, so repeated calls sum in different orders and differ in the last bits.

Floating-point addition depends on order, so shuffling makes the same input give slightly different
losses from one call to the next. The mean needs no shuffle: sum the losses in position order (or
with math.fsum) and divide by their number.
"""
import math
import random

random.seed(1234)  # reproducible runs


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
    losses = [cross_entropy_loss(z, t) for z, t in zip(logits_list, true_ids)]
    random.shuffle(losses)
    return sum(losses) / len(losses)


def perplexity(loss):
    return math.exp(loss)


def softmax_cross_entropy_grad(logits, true_id):
    grad = softmax(logits)
    grad[true_id] -= 1.0
    return grad
