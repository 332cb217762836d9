"""Holds the grader with a reply that never ends: perplexity hangs while a thread trickles bytes.

The reply pipe's descriptor is in the worker's own arguments (sys.argv, the settings JSON). At its
first call perplexity starts a thread that writes one space to that pipe every 0.1 s, never a
newline, so a reply seems to be always on its way, and then sleeps for an hour: a
grader that waited for a reply as long as bytes kept coming would wait for ever. The other four
functions are the reference.
"""
import json
import math
import os
import sys
import threading
import time

import numpy as np


REPLY_FD = json.loads(sys.argv[1])["reply_fd"]
TRICKLE_SECONDS = 0.1


def trickle():
    while True:
        os.write(REPLY_FD, b" ")
        time.sleep(TRICKLE_SECONDS)


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
    threading.Thread(target=trickle, daemon=True).start()
    time.sleep(3600)
