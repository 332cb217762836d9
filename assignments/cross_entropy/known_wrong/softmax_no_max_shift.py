"""softmax: no max shift, so exp overflows on large logits.

exp(z) overflows for a logit above about 709 (Python's math raises OverflowError), though softmax
is well defined. Subtracting the max first leaves the probabilities unchanged and keeps every exp at
most 1: exps = [math.exp(z - m) for z in logits].
"""
import math


def softmax(logits):
    exps = [math.exp(z) for z in logits]
    total = sum(exps)
    return [e / total for e in exps]


def cross_entropy_loss(logits, true_id):
    m = max(logits)
    lse = m + math.log(sum(math.exp(z - m) for z in logits))
    return lse - logits[true_id]


def sequence_loss(logits_list, true_ids):
    losses = [cross_entropy_loss(z, t) for z, t in zip(logits_list, true_ids)]
    return sum(losses) / len(losses)


def perplexity(loss):
    return math.exp(loss)


def softmax_cross_entropy_grad(logits, true_id):
    grad = softmax(logits)
    grad[true_id] -= 1.0
    return grad
