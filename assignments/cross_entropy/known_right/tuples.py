"""Immutable style: every vector is a tuple, built by generator expressions."""
import math


def softmax(logits):
    top = max(logits)
    exps = tuple(math.exp(z - top) for z in logits)
    norm = sum(exps)
    return tuple(e / norm for e in exps)


def cross_entropy_loss(logits, true_id):
    top = max(logits)
    lse = top + math.log(sum(math.exp(z - top) for z in logits))
    return lse - logits[true_id]


def sequence_loss(logits_list, true_ids):
    losses = tuple(cross_entropy_loss(z, t) for z, t in zip(logits_list, true_ids))
    return sum(losses) / len(losses)


def perplexity(loss):
    return math.exp(loss)


def softmax_cross_entropy_grad(logits, true_id):
    p = softmax(logits)
    return tuple(pi - (1.0 if i == true_id else 0.0) for i, pi in enumerate(p))
