"""cross_entropy_loss: logsumexp without the max shift, so exp overflows on large logits.

exp(z) overflows once a logit is above about 709 (Python's math raises OverflowError, NumPy gives
inf), though the loss is finite. Use log-sum-exp with the max shift: m = max(logits), loss = m +
log(sum(exp(z - m))) - logits[true_id].
"""
import math


def softmax(logits):
    m = max(logits)
    exps = [math.exp(z - m) for z in logits]
    total = sum(exps)
    return [e / total for e in exps]


def cross_entropy_loss(logits, true_id):
    return math.log(sum(math.exp(z) for z in logits)) - logits[true_id]


def sequence_loss(logits_list, true_ids):
    losses = [cross_entropy_loss(z, t) for z, t in zip(logits_list, true_ids)]
    return sum(losses) / len(losses)


def perplexity(loss):
    return math.exp(loss)


def softmax_cross_entropy_grad(logits, true_id):
    grad = softmax(logits)
    grad[true_id] -= 1.0
    return grad
