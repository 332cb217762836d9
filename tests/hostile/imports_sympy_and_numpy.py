"""Harsh, not hostile: a right file that imports sympy, numpy and math at its top, and derives.

It checks with sympy, at import, that the derivative of the loss for three logits is
softmax - onehot, as a student might while working; then the functions are the reference. Loading
sympy in the worker must not cost it any points.
"""
import math

import numpy as np
import sympy

z = sympy.symbols("z0:3")
loss = sympy.log(sum(sympy.exp(zi) for zi in z)) - z[0]
softmax_0 = sympy.exp(z[0]) / sum(sympy.exp(zi) for zi in z)
assert sympy.simplify(sympy.diff(loss, z[0]) - (softmax_0 - 1)) == 0


def _shifted_and_rest(logits):
    """Logits minus their max, and the sum of exp over every entry but one maximal one.

    Keeping that sum apart from the max's own exp(0) = 1 lets log1p see it whole, so a loss of
    1e-20 comes out as 1e-20 instead of log(1.0) = 0.
    """
    z = np.asarray(logits, dtype=np.float64)
    top = int(np.argmax(z))
    shifted = z - z[top]
    exps = np.exp(shifted)
    exps[top] = 0.0
    return shifted, float(np.sum(exps))


def log_softmax(logits):
    shifted, rest = _shifted_and_rest(logits)
    return (shifted - math.log1p(rest)).tolist()


def softmax(logits):
    shifted, rest = _shifted_and_rest(logits)
    return (np.exp(shifted) / (1.0 + rest)).tolist()


def cross_entropy_loss(logits, true_id):
    shifted, rest = _shifted_and_rest(logits)
    return math.log1p(rest) - float(shifted[true_id])


def sequence_loss(logits_list, true_ids):
    losses = [cross_entropy_loss(z, t) for z, t in zip(logits_list, true_ids)]
    return math.fsum(losses) / len(losses)


def perplexity(loss):
    try:
        return math.exp(loss)
    except OverflowError:
        return math.inf


def softmax_cross_entropy_grad(logits, true_id):
    grad = softmax(logits)
    # p[t] - 1 = exp(-loss) - 1: expm1 keeps its digits when p[t] is within 1e-16 of one.
    grad[true_id] = math.expm1(-cross_entropy_loss(logits, true_id))
    return grad
