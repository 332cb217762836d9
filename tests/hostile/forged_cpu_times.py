"""Answers in the worker's place with CPU times the worker could never report.

Each attacked function writes a reply straight into the grader's reply pipe (its fd is in argv),
under the id the grader waits for (the worker's own frame that made the call holds it), with the
right answer, and then returns a wrong one. perplexity's reply has no "cpu", sequence_loss's gives
it as a string, and softmax_cross_entropy_grad's is negative: a grader that took any of them as an
answer would pay for a wrong function. The other functions are the reference.
"""
import json
import math
import os
import sys

import numpy as np


REPLY_FD = json.loads(sys.argv[1])["reply_fd"]


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


right_perplexity = perplexity
right_sequence_loss = sequence_loss
right_grad = softmax_cross_entropy_grad


def forge(cpu, answer):
    """Reply to the call being made, as the worker would but with `cpu` where its CPU time goes."""
    request_id = sys._getframe(2).f_locals["request"]["id"]
    line = '{"id": %d, %s"ok": true, "returned": %s}\n' % (request_id, cpu, json.dumps(answer))
    os.write(REPLY_FD, line.encode())


def perplexity(loss):
    forge("", right_perplexity(loss))
    return 2.0**loss


def sequence_loss(logits_list, true_ids):
    forge('"cpu": "0.001", ', right_sequence_loss(logits_list, true_ids))
    return 0.0


def softmax_cross_entropy_grad(logits, true_id):
    forge('"cpu": -0.001, ', right_grad(logits, true_id))
    return [0.0] * len(logits)
