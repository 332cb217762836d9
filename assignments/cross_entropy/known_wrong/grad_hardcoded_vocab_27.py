"""softmax_cross_entropy_grad: builds the one-hot with microgpt's hard-coded vocab_size = 27, so any other vocabulary gets the wrong length.

The gradient needs one entry per logit. With 27 fixed, zip stops after 27 entries, so a larger
vocabulary loses the rest of its gradient, and a target id of 27 or more raises IndexError. Size the
one-hot with len(logits).
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


VOCAB_SIZE = 27


def softmax_cross_entropy_grad(logits, true_id):
    onehot = [0.0] * VOCAB_SIZE
    onehot[true_id] = 1.0
    return [p - o for p, o in zip(softmax(logits), onehot)]
