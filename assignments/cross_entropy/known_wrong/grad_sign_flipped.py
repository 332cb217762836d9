"""softmax_cross_entropy_grad: returns onehot - softmax, the negative gradient.

The gradient of -log p(target) with respect to the logits is p - onehot; onehot - p points the other
way, so a gradient-descent step raises the loss instead of lowering it. Return softmax(logits) minus
the one-hot.
"""
import math


def softmax(logits):
    m = max(logits)
    exps = [math.exp(z - m) for z in logits]
    total = sum(exps)
    return [e / total for e in exps]


def cross_entropy_loss(logits, true_id):
    m = max(logits)
    lse = m + math.log(sum(math.exp(z - m) for z in logits))
    return lse - logits[true_id]


def sequence_loss(logits_list, true_ids):
    losses = [cross_entropy_loss(z, t) for z, t in zip(logits_list, true_ids)]
    return sum(losses) / len(losses)


def perplexity(loss):
    return math.exp(loss)


def softmax_cross_entropy_grad(logits, true_id):
    p = softmax(logits)
    return [(1.0 if i == true_id else 0.0) - pi for i, pi in enumerate(p)]
