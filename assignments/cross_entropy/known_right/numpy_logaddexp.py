"""NumPy ufunc style: np.logaddexp.reduce for the log-normaliser, take_along_axis for the targets, a zeros_like one-hot."""
import numpy as np


def _lse(z):
    return np.logaddexp.reduce(z)


def softmax(logits):
    z = np.asarray(logits, dtype=float)
    return np.exp(z - _lse(z)).tolist()


def cross_entropy_loss(logits, true_id):
    z = np.asarray(logits, dtype=float)
    return float(_lse(z) - z[true_id])


def sequence_loss(logits_list, true_ids):
    z = np.asarray(logits_list, dtype=float)
    lse = np.logaddexp.reduce(z, axis=1)
    picked = np.take_along_axis(z, np.asarray(true_ids)[:, None], axis=1)[:, 0]
    return float(np.mean(lse - picked))


def perplexity(loss):
    return float(np.exp(loss))


def softmax_cross_entropy_grad(logits, true_id):
    z = np.asarray(logits, dtype=float)
    onehot = np.zeros_like(z)
    onehot[true_id] = 1.0
    return (np.exp(z - _lse(z)) - onehot).tolist()
