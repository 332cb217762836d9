"""Functional: map, reduce and lambdas, no explicit loops or mutation."""
import math
from functools import reduce
from operator import add


def _logsumexp(logits):
    top = reduce(max, logits)
    return top + math.log(reduce(add, map(lambda z: math.exp(z - top), logits)))


def softmax(logits):
    lse = _logsumexp(logits)
    return list(map(lambda z: math.exp(z - lse), logits))


def cross_entropy_loss(logits, true_id):
    top = reduce(max, logits)
    return math.log(reduce(add, map(lambda z: math.exp(z - top), logits))) - (logits[true_id] - top)


def sequence_loss(logits_list, true_ids):
    losses = list(map(cross_entropy_loss, logits_list, true_ids))
    return reduce(add, losses) / len(losses)


def perplexity(loss):
    return math.exp(loss)


def softmax_cross_entropy_grad(logits, true_id):
    return [p - (1.0 if i == true_id else 0.0) for i, p in enumerate(softmax(logits))]
