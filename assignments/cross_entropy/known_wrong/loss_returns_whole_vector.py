"""cross_entropy_loss: returns -log_softmax for every token instead of picking the true token's entry.

This returns an array of V values, -log p for every token, but the loss at one position is a single
float: the true token's entry. Pick it out: float(np.log(np.sum(np.exp(z - m))) - (z[true_id] - m)).
"""
import numpy as np


def softmax(logits):
    z = np.asarray(logits, dtype=np.float64)
    e = np.exp(z - np.max(z))
    return (e / np.sum(e)).tolist()


def cross_entropy_loss(logits, true_id):
    z = np.asarray(logits, dtype=np.float64)
    m = np.max(z)
    return np.log(np.sum(np.exp(z - m))) - (z - m)


def sequence_loss(logits_list, true_ids):
    losses = [cross_entropy_loss(z, t) for z, t in zip(logits_list, true_ids)]
    return float(np.mean(losses))


def perplexity(loss):
    return float(np.exp(loss))


def softmax_cross_entropy_grad(logits, true_id):
    g = np.array(softmax(logits))
    g[true_id] -= 1.0
    return g.tolist()
