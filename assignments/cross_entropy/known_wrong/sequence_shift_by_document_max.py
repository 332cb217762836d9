"""sequence_loss: shifts every row by the largest logit of the whole document instead of that row's own max.

Any shift cancels in logsumexp(z) - z[t], so rows near the document's max come out right. A row whose
logits all lie more than about 745 below it has every exp(z - M) underflow to 0, the sum is 0 and
log(0) fails (or gives inf). Take the max of each row: m = max(row).
"""
import numpy as np


def softmax(logits):
    z = np.array(logits, dtype=np.float64)
    e = np.exp(z - z.max())
    return e / e.sum()


def cross_entropy_loss(logits, true_id):
    z = np.array(logits, dtype=np.float64)
    m = z.max()
    return float(m + np.log(np.exp(z - m).sum()) - z[true_id])


def sequence_loss(logits_list, true_ids):
    Z = np.array(logits_list, dtype=np.float64)
    t = np.array(true_ids)
    M = Z.max()  # one shift for the whole document
    lse = M + np.log(np.exp(Z - M).sum(axis=1))
    losses = lse - Z[np.arange(len(t)), t]
    return float(losses.mean())


def perplexity(loss):
    return float(np.exp(np.float64(loss)))


def softmax_cross_entropy_grad(logits, true_id):
    g = softmax(logits)
    g[true_id] -= 1.0
    return g
