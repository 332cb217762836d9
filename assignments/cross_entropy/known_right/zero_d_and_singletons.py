"""Scalars come back wrapped: 0-d NumPy arrays and one-element lists (keepdims style)."""
import numpy as np


def softmax(logits):
    z = np.asarray(logits, dtype=np.float64)[None, :]
    e = np.exp(z - z.max(axis=1, keepdims=True))
    return (e / e.sum(axis=1, keepdims=True))[0]


def cross_entropy_loss(logits, true_id):
    z = np.asarray(logits, dtype=np.float64)
    m = z.max(keepdims=True)
    lse = m + np.log(np.exp(z - m).sum(keepdims=True))
    return (lse - z[[true_id]]).tolist()  # a one-element list


def sequence_loss(logits_list, true_ids):
    losses = [cross_entropy_loss(z, t)[0] for z, t in zip(logits_list, true_ids)]
    return np.array(np.mean(losses))  # a 0-d array


def perplexity(loss):
    return np.array(np.exp(np.float64(loss)))  # a 0-d array


def softmax_cross_entropy_grad(logits, true_id):
    g = np.array(softmax(logits))
    g[true_id] -= 1.0
    return g
