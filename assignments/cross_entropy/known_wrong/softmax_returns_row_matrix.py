"""softmax: returns a 1 x V two-dimensional array (kept the batch axis) instead of V probabilities.

The [None, :] adds a batch axis, so you return a 1 x V array: p[true_id] picks a row, not a
probability. Work on the 1-D array of logits (or take row [0]) and return a flat list of V floats,
e.g. with .tolist().
"""
import numpy as np


def softmax(logits):
    z = np.asarray(logits, dtype=np.float64)[None, :]
    e = np.exp(z - np.max(z, axis=1, keepdims=True))
    return e / np.sum(e, axis=1, keepdims=True)


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
