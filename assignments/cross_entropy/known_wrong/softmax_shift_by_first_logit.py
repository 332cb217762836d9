"""softmax: shifts by the first logit instead of the max, so exp overflows when a later logit is far larger.

Any shift gives the same probabilities, but only the max keeps every exp at most 1; with logits[0],
a logit more than about 709 above the first overflows. Shift by m = max(logits).
"""
import math


def softmax(logits):
    m = logits[0]
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
    grad = softmax(logits)
    grad[true_id] -= 1.0
    return grad
