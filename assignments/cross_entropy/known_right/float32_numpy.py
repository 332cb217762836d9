"""Right to float32's precision: every vector is a float32 NumPy array (about 7 digits), with the max
shift; perplexity takes exp in Python floats, where exp(700) is still finite."""
import math

import numpy as np


def softmax(logits):
    z = np.asarray(logits, dtype=np.float32)
    e = np.exp(z - np.max(z))
    return (e / np.sum(e)).tolist()


def cross_entropy_loss(logits, true_id):
    z = np.asarray(logits, dtype=np.float32)
    m = np.max(z)
    return float(np.log(np.sum(np.exp(z - m))) - (z[true_id] - m))


def sequence_loss(logits_list, true_ids):
    losses = np.array([cross_entropy_loss(z, t) for z, t in zip(logits_list, true_ids)], dtype=np.float32)
    return float(np.mean(losses))


def perplexity(loss):
    return math.exp(loss)


def softmax_cross_entropy_grad(logits, true_id):
    g = np.array(softmax(logits), dtype=np.float32)
    g[true_id] -= np.float32(1.0)
    return g.tolist()
