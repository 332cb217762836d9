"""NumPy that returns NumPy objects as they are: np.float64 scalars and float64 arrays."""
import numpy as np


def softmax(logits):
    z = np.array(logits, dtype=np.float64)
    z -= z.max()
    np.exp(z, out=z)
    z /= z.sum()
    return z


def cross_entropy_loss(logits, true_id):
    z = np.array(logits, dtype=np.float64)
    m = z.max()
    return np.log(np.exp(z - m).sum()) - (z[true_id] - m)


def sequence_loss(logits_list, true_ids):
    losses = np.array([cross_entropy_loss(z, t) for z, t in zip(logits_list, true_ids)])
    return losses.mean()


def perplexity(loss):
    return np.exp(np.float64(loss))


def softmax_cross_entropy_grad(logits, true_id):
    g = softmax(logits)
    g[true_id] -= 1.0
    return g
