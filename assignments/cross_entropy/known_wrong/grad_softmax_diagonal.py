"""softmax_cross_entropy_grad: returns p * (1 - p), the diagonal of the softmax Jacobian, instead of p - onehot.

p * (1 - p) is the derivative of each probability, not of the loss -log p(target): it ignores which
token is the target and is never negative. Chaining -1/p(target) through the full softmax Jacobian
gives p - onehot: return that.
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
    return float(np.exp(loss))


def softmax_cross_entropy_grad(logits, true_id):
    p = np.array(softmax(logits))
    return (p * (1.0 - p)).tolist()
