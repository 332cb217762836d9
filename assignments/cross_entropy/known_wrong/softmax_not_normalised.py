"""softmax: returns exp(z - max) without dividing by the sum.

exp(z - max) is only proportional to the probabilities: the largest is always 1 and the total is
more than 1. Divide each exp by the sum of the exps so the V probabilities add up to 1.
"""
import numpy as np


def softmax(logits):
    z = np.asarray(logits, dtype=np.float64)
    return np.exp(z - np.max(z)).tolist()


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
