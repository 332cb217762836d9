"""sequence_loss: takes -log of the mean probability instead of the mean of -log p.

-log(mean p) is not mean(-log p): it is never larger, and one confident mistake (p near 0) barely
moves it. Take -log p(target) at each position, via cross_entropy_loss, and average those.
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
    probs = [softmax(z)[t] for z, t in zip(logits_list, true_ids)]
    return float(-np.log(np.mean(probs)))


def perplexity(loss):
    return float(np.exp(loss))


def softmax_cross_entropy_grad(logits, true_id):
    g = np.array(softmax(logits))
    g[true_id] -= 1.0
    return g.tolist()
