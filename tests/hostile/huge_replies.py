"""Pads replies to about 15 MiB on every call, two ways.

perplexity returns 15 MiB of floats (1,966,080 of them) on each call, for the worker to encode and
send; softmax_cross_entropy_grad returns the right gradient, but first writes 15 MiB of spaces
straight into the reply pipe (its descriptor is in the worker's own arguments, sys.argv), no
newline, as the start of a reply no cap was made for. The other three functions are the reference.
"""
import json
import math
import os
import sys

import numpy as np


REPLY_FD = json.loads(sys.argv[1])["reply_fd"]
PADDING = 15 * 1024 * 1024


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


def perplexity(loss):
    return [0.5] * (PADDING // 8)


_right_grad = softmax_cross_entropy_grad


def softmax_cross_entropy_grad(logits, true_id):
    os.write(REPLY_FD, b" " * PADDING)
    return _right_grad(logits, true_id)
