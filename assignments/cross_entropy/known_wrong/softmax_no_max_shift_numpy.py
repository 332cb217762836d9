"""softmax: no max shift, so np.exp gives inf and the probabilities become nan on large logits.

np.exp gives inf for a logit above about 709, and inf / inf is nan, though softmax is well defined.
Subtract the max first: e = np.exp(z - np.max(z)) gives the same probabilities and keeps every exp
at most 1.
"""
import numpy as np


def softmax(logits):
    e = np.exp(np.asarray(logits, dtype=np.float64))
    return (e / e.sum()).tolist()


def cross_entropy_loss(logits, true_id):
    z = np.asarray(logits, dtype=np.float64)
    m = np.max(z)
    return float(np.log(np.sum(np.exp(z - m))) - (z[true_id] - m))


def sequence_loss(logits_list, true_ids):
    losses = [cross_entropy_loss(z, t) for z, t in zip(logits_list, true_ids)]
    return float(np.mean(losses))


def perplexity(loss):
    return float(np.exp(loss))


def softmax_cross_entropy_grad(logits, true_id):
    g = np.array(softmax(logits))
    g[true_id] -= 1.0
    return g.tolist()
