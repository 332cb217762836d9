"""softmax_cross_entropy_grad: subtracts 1 from every entry instead of only the true token's.

The gradient is p - onehot(target): only the target's entry loses 1, and the entries sum to 0.
Subtracting 1 from all V entries makes every entry negative or zero, so descent pushes up the wrong
tokens' logits too. Subtract 1.0 at true_id only.
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
    g = np.array(softmax(logits))
    g -= 1.0
    return g.tolist()
