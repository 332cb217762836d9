"""A right file in uncommon but honest ways: it looks up its user and home at import, and answers in the
standard library's and NumPy's less common types.

pwd.getpwuid(os.getuid()) raised KeyError in a sandbox whose passwd did not name the worker's user, so
a correct file that asked who it was scored 0; answers as a deque, an array.array, a Fraction, a
Decimal or a NumPy longdouble were not read as numbers. A sound grader: full marks.
"""
import array
import collections
import decimal
import fractions
import getpass
import math
import os
import pwd

import numpy as np

USER = pwd.getpwuid(os.getuid()).pw_name
HOME = os.path.expanduser("~")
NAME = getpass.getuser()


def softmax(logits):
    top = max(logits)
    exps = [math.exp(z - top) for z in logits]
    total = sum(exps)
    return collections.deque(e / total for e in exps)


def cross_entropy_loss(logits, true_id):
    top = max(logits)
    return np.longdouble(top + math.log(sum(math.exp(z - top) for z in logits)) - logits[true_id])


def sequence_loss(logits_list, true_ids):
    losses = [float(cross_entropy_loss(z, t)) for z, t in zip(logits_list, true_ids)]
    return fractions.Fraction(sum(losses) / len(losses))


def perplexity(loss):
    try:
        return decimal.Decimal(math.exp(loss))
    except OverflowError:
        return math.inf


def softmax_cross_entropy_grad(logits, true_id):
    grad = list(softmax(logits))
    grad[true_id] -= 1.0
    return array.array("d", grad)
