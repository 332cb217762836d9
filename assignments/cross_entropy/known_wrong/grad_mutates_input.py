"""softmax_cross_entropy_grad: writes the gradient into the caller's logits list and returns that list.

Overwriting the caller's logits with p - onehot destroys them, so any later loss or softmax on that
list is computed from the gradient instead. Build and return a new list, and leave logits untouched.
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
    for i in range(len(logits)):
        logits[i] = p[i] - (1.0 if i == true_id else 0.0)
    return logits
