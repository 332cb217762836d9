"""perplexity: computes exp in float32, which overflows to inf above a loss of 88.7.

float32 tops out near 3.4e38, so exp overflows to inf once the loss passes 88.7, and it keeps only
about 7 digits below that. Compute in float64: math.exp(loss), or np.exp(loss) on a plain Python
float.
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
    return float(np.mean(losses))


def perplexity(loss):
    return float(np.exp(np.float32(loss)))


def softmax_cross_entropy_grad(logits, true_id):
    g = np.array(softmax(logits))
    g[true_id] -= 1.0
    return g.tolist()
