"""cross_entropy_loss: adds 1e-9 inside the log, -log(p + 1e-9), which biases every loss and caps it at 20.7.

-log(p + 1e-9) is below -log p for every p, far below when p is tiny, and never exceeds ln(1e9) =
20.7. Compute the loss from the logits instead: log-sum-exp with the max shift, minus
logits[true_id]; it is exact and never takes log(0).
"""
import numpy as np


def softmax(logits):
    z = np.asarray(logits, dtype=np.float64)
    e = np.exp(z - np.max(z))
    return (e / np.sum(e)).tolist()


def cross_entropy_loss(logits, true_id):
    p = np.asarray(softmax(logits))
    return float(-np.log(p[true_id] + 1e-9))


def sequence_loss(logits_list, true_ids):
    losses = [cross_entropy_loss(z, t) for z, t in zip(logits_list, true_ids)]
    return float(np.mean(losses))


def perplexity(loss):
    return float(np.exp(loss))


def softmax_cross_entropy_grad(logits, true_id):
    g = np.array(softmax(logits))
    g[true_id] -= 1.0
    return g.tolist()
