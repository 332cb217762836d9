"""perplexity: computes loss ** e instead of e ** loss.

loss ** e raises the loss to the power 2.718; perplexity is e to the power of the loss, exp(loss).
Yours gives 0 instead of 1 for a perfect model and 25.6 instead of 27 for a uniform guess over 27
tokens. Return math.exp(loss).
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
    return math.pow(loss, math.e)


def softmax_cross_entropy_grad(logits, true_id):
    grad = softmax(logits)
    grad[true_id] -= 1.0
    return grad
