"""cross_entropy_loss: computes -log(softmax[t]), which becomes log(0) when the true token's probability underflows.

When one logit is far above the true token's, p(target) underflows to 0.0 and log(0) fails (Python's
math raises ValueError, NumPy gives -inf), though the loss is finite. Stay in log space: loss = log-sum-exp with the max shift,
minus logits[true_id], never forming p.
"""
import math


def softmax(logits):
    m = max(logits)
    exps = [math.exp(z - m) for z in logits]
    total = sum(exps)
    return [e / total for e in exps]


def cross_entropy_loss(logits, true_id):
    return -math.log(softmax(logits)[true_id])


def sequence_loss(logits_list, true_ids):
    losses = [cross_entropy_loss(z, t) for z, t in zip(logits_list, true_ids)]
    return sum(losses) / len(losses)


def perplexity(loss):
    return math.exp(loss)


def softmax_cross_entropy_grad(logits, true_id):
    grad = softmax(logits)
    grad[true_id] -= 1.0
    return grad
