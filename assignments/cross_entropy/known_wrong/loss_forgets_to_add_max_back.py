"""cross_entropy_loss: drops the max from logsumexp but subtracts the unshifted true logit.

log(sum(exp(z - m))) is logsumexp(z) - m, so your loss is off by exactly m = max(logits) and can
even be negative. The two shifts must cancel: add m back to the log-sum, or subtract the shifted
true logit, logits[true_id] - m.
"""
import math


def softmax(logits):
    m = max(logits)
    exps = [math.exp(z - m) for z in logits]
    total = sum(exps)
    return [e / total for e in exps]


def cross_entropy_loss(logits, true_id):
    m = max(logits)
    lse = math.log(sum(math.exp(z - m) for z in logits))
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
