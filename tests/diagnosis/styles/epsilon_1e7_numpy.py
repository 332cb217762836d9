"""cross_entropy_loss with 1e-7 inside the log, in NumPy: the bank's file adds 1e-9."""

import numpy as np


def softmax(logits):
    z = np.asarray(logits, dtype=np.float64)
    e = np.exp(z - z.max())
    return e / e.sum()


def cross_entropy_loss(logits, true_id):
    return float(-np.log(softmax(logits)[true_id] + 1e-7))


def sequence_loss(logits_list, true_ids):
    return float(np.mean([cross_entropy_loss(z, t) for z, t in zip(logits_list, true_ids)]))


def perplexity(loss):
    return float(np.exp(loss))


def softmax_cross_entropy_grad(logits, true_id):
    g = softmax(logits)
    g[true_id] -= 1.0
    return g.tolist()
