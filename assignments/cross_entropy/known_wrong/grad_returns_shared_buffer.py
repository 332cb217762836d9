"""softmax_cross_entropy_grad: fills one gradient list kept at module level and returns it, so every call hands back the same list.

The gradient is right when it arrives, but a second call overwrites it: g1 = grad(a, 0); g2 =
grad(b, 1) leaves g1 equal to g2. Anything that keeps one gradient while computing another (a
finite-difference check, a sum over positions) reads the wrong numbers. Return a new list each call.
"""
import math


def softmax(logits):
    m = max(logits)
    exps = [math.exp(z - m) for z in logits]
    s = sum(exps)
    return [e / s for e in exps]


def cross_entropy_loss(logits, true_id):
    m = max(logits)
    return math.log(sum(math.exp(z - m) for z in logits)) - (logits[true_id] - m)


def sequence_loss(logits_list, true_ids):
    total = 0.0
    for row, t in zip(logits_list, true_ids):
        total += cross_entropy_loss(row, t)
    return total / len(true_ids)


def perplexity(loss):
    return math.exp(loss)


_grad_buffer = []


def softmax_cross_entropy_grad(logits, true_id):
    p = softmax(logits)
    # reuse one buffer instead of making a new list each time
    del _grad_buffer[len(p):]
    while len(_grad_buffer) < len(p):
        _grad_buffer.append(0.0)
    for j in range(len(p)):
        _grad_buffer[j] = p[j]
    _grad_buffer[true_id] -= 1.0
    return _grad_buffer
