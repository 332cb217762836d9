"""sequence_loss: divides the total by the vocabulary size instead of the number of positions.

The mean is over positions, so divide the total by how many targets you scored, len(losses);
len(logits_list[0]) is the vocabulary size (27), which has nothing to do with the length of the
sequence.
"""
import numpy as np


def softmax(logits):
    z = np.asarray(logits, dtype=np.float64)
    e = np.exp(z - np.max(z))
    return (e / np.sum(e)).tolist()


def cross_entropy_loss(logits, true_id):
    z = np.asarray(logits, dtype=np.float64)
    m = np.max(z)
    return float(np.log(np.sum(np.exp(z - m))) - (z[true_id] - m))


def sequence_loss(logits_list, true_ids):
    losses = [cross_entropy_loss(z, t) for z, t in zip(logits_list, true_ids)]
    return float(np.sum(losses) / len(logits_list[0]))


def perplexity(loss):
    return float(np.exp(loss))


def softmax_cross_entropy_grad(logits, true_id):
    g = np.array(softmax(logits))
    g[true_id] -= 1.0
    return g.tolist()
