"""softmax_cross_entropy_grad: returns softmax(z) without subtracting the one-hot.

The gradient of -log p(target) with respect to the logits is p - onehot(target). Without the -1 the
target's entry has the wrong sign, so a descent step lowers the true token's logit instead of
raising it. Subtract 1.0 at true_id.
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
    return np.array(softmax(logits)).tolist()
