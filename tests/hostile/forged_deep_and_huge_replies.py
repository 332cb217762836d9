"""Sends the grader what no worker could: a reply nested 100,000 deep, and integers past a float's range.

Attack: the reply pipe's descriptor is in the worker's argv, so a submission can write its own replies,
under the id the grader is waiting for. json's C scanner raises RecursionError on deep nesting (not
the ValueError a parser of replies expects), an integer of 400 digits parses but no float holds it
(OverflowError wherever the writers or the diagnosis convert it), and one of 5,000 digits is past
Python's limit on converting digits. grad honestly returns an integer too large for a float.

A sound grader: each of those calls is that worker's broken protocol (or, for grad, a value that is no
number), the other properties pass, and every writer renders the report. softmax is the reference.
"""
import json
import sys

import math


def softmax(logits):
    top = max(logits)  # shift by the max so exp never overflows
    exps = [math.exp(z - top) for z in logits]
    total = sum(exps)
    return [e / total for e in exps]


def cross_entropy_loss(logits, true_id):
    top = max(logits)
    log_sum_exp = top + math.log(sum(math.exp(z - top) for z in logits))
    return log_sum_exp - logits[true_id]


def sequence_loss(logits_list, true_ids):
    losses = [cross_entropy_loss(z, t) for z, t in zip(logits_list, true_ids)]
    return sum(losses) / len(losses)


def perplexity(loss):
    return math.exp(loss)


def softmax_cross_entropy_grad(logits, true_id):
    grad = softmax(logits)
    grad[true_id] -= 1.0
    return grad


_REPLY_FD = json.loads(sys.argv[1])["reply_fd"]


def _forge(body):
    """Writes `body` as the reply to the call being served, under the id the grader waits for."""
    import os

    request_id = sys._getframe(2).f_locals["request"]["id"]
    os.write(_REPLY_FD, ('{"id": %d, "cpu": 0.001, "ok": true, "returned": %s}\n' % (request_id, body)).encode())


def perplexity(loss):
    _forge("[" * 100_000 + "]" * 100_000)
    return 1.0


def cross_entropy_loss(logits, true_id):
    _forge("1" * 400)
    return 1.0


def sequence_loss(logits_list, true_ids):
    _forge("7" * 5000)
    return 1.0


def softmax_cross_entropy_grad(logits, true_id):
    return [10**400] * len(logits)
