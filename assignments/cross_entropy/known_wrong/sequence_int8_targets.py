"""sequence_loss: stores the target ids as int8, which only holds -128..127, so a vocabulary over 128 breaks it.

For microgpt's 27 tokens nothing shows. An id of 128 or more does not fit: NumPy 2 raises an
OverflowError, older NumPy wrapped it (130 became -126) and read another token's logit. Keep the
ids as Python ints, or as np.int64.
"""
import numpy as np


def softmax(logits):
    z = np.asarray(logits, dtype=float)
    z = z - np.max(z)
    e = np.exp(z)
    return (e / np.sum(e)).tolist()


def cross_entropy_loss(logits, true_id):
    z = np.asarray(logits, dtype=float)
    m = np.max(z)
    return float(m + np.log(np.sum(np.exp(z - m))) - z[true_id])


def sequence_loss(logits_list, true_ids):
    Z = np.asarray(logits_list, dtype=float)
    targets = np.array(true_ids, dtype=np.int8)  # small ints, small type
    m = np.max(Z, axis=1, keepdims=True)
    log_probs = Z - m - np.log(np.sum(np.exp(Z - m), axis=1, keepdims=True))
    picked = log_probs[np.arange(len(targets)), targets]
    return float(-np.mean(picked))


def perplexity(loss):
    return float(np.exp(loss))


def softmax_cross_entropy_grad(logits, true_id):
    p = np.asarray(softmax(logits))
    p[true_id] -= 1.0
    return p.tolist()
