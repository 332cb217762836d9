"""cross_entropy_loss: scores the model's argmax token instead of the true token.

The loss must score the token that actually came next, true_id; the argmax is the model's own
favourite, so its loss is the smallest possible and hides every mistake. Use z[true_id] instead of
z[predicted].
"""
import numpy as np


def softmax(logits):
    z = np.asarray(logits, dtype=np.float64)
    e = np.exp(z - np.max(z))
    return (e / np.sum(e)).tolist()


def cross_entropy_loss(logits, true_id):
    z = np.asarray(logits, dtype=np.float64)
    m = np.max(z)
    predicted = int(np.argmax(z))
    return float(np.log(np.sum(np.exp(z - m))) - (z[predicted] - m))


def sequence_loss(logits_list, true_ids):
    losses = [cross_entropy_loss(z, t) for z, t in zip(logits_list, true_ids)]
    return float(np.mean(losses))


def perplexity(loss):
    return float(np.exp(loss))


def softmax_cross_entropy_grad(logits, true_id):
    g = np.array(softmax(logits))
    g[true_id] -= 1.0
    return g.tolist()
