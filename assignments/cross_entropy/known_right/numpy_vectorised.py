"""NumPy vectorised throughout, converting results back to plain floats and lists."""
import numpy as np


def _log_softmax(z):
    shifted = z - np.max(z, axis=-1, keepdims=True)
    return shifted - np.log(np.sum(np.exp(shifted), axis=-1, keepdims=True))


def softmax(logits):
    z = np.asarray(logits, dtype=np.float64)
    e = np.exp(z - z.max())
    return (e / e.sum()).tolist()


def cross_entropy_loss(logits, true_id):
    z = np.asarray(logits, dtype=np.float64)
    return float(-_log_softmax(z)[true_id])


def sequence_loss(logits_list, true_ids):
    z = np.asarray(logits_list, dtype=np.float64)
    ids = np.asarray(true_ids, dtype=np.int64)
    picked = _log_softmax(z)[np.arange(len(ids)), ids]
    return float(-picked.mean())


def perplexity(loss):
    return float(np.exp(loss))


def softmax_cross_entropy_grad(logits, true_id):
    z = np.asarray(logits, dtype=np.float64)
    e = np.exp(z - z.max())
    g = e / e.sum()
    g[true_id] -= 1.0
    return g.tolist()
