"""cross_entropy_loss: divides the loss by the vocabulary size, as if averaging over tokens.

The loss at one position is -log p(target) for one target; dividing by len(z) makes it V times too
small (27 times for our vocabulary), and perplexity = exp(loss) too. Averaging is over positions, in
sequence_loss: drop the / len(z).
"""
import numpy as np


def softmax(logits):
    z = np.asarray(logits, dtype=np.float64)
    e = np.exp(z - np.max(z))
    return (e / np.sum(e)).tolist()


def cross_entropy_loss(logits, true_id):
    z = np.asarray(logits, dtype=np.float64)
    m = np.max(z)
    return float((np.log(np.sum(np.exp(z - m))) - (z[true_id] - m)) / len(z))


def sequence_loss(logits_list, true_ids):
    losses = [cross_entropy_loss(z, t) for z, t in zip(logits_list, true_ids)]
    return float(np.mean(losses))


def perplexity(loss):
    return float(np.exp(loss))


def softmax_cross_entropy_grad(logits, true_id):
    g = np.array(softmax(logits))
    g[true_id] -= 1.0
    return g.tolist()
