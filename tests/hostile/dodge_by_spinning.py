"""Runs out the property's time budget on purpose before any example can fail: perplexity is slow.

perplexity computes for 0.15 s of CPU time on every call (a sleep would cost the budget nothing: it
counts CPU time) and answers right for its first 10 calls in a worker, then 2 ** loss, which is
wrong: every example it is shown in its time budget passes, so a grader that paid a property whose
budget ran out without a failure would pay for a wrong function. The other four functions are the
reference.
"""
import math
import time

import numpy as np


SPIN_SECONDS = 0.15
RIGHT_CALLS = 10
CALLS = []


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
    started = time.process_time()
    while time.process_time() - started < SPIN_SECONDS:
        pass
    CALLS.append(loss)
    if len(CALLS) <= RIGHT_CALLS:
        try:
            return math.exp(loss)
        except OverflowError:
            return math.inf
    return 2.0**loss
