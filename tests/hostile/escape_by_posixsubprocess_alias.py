"""Starts a process that outlives grading with a fresh copy of _posixsubprocess under another name.

A guard that disarms the loaded _posixsubprocess, or refuses imports named "_posixsubprocess",
misses the same extension module loaded again from its file by importlib.machinery's
ExtensionFileLoader as "innocent._posixsubprocess" (the last part of the name must stay, it names
the module's init function). Its fork_exec goes into subprocess.Popen, which starts a survivor in a
session of its own, at import and at the first perplexity call of each worker. The functions are
the reference.
"""
import importlib.machinery
import importlib.util
import math
import subprocess
import sys

import numpy as np


MARKER = "__MARKER__"  # a unique token: a survivor carries it in its command line and environment
MARKER_FILE = "__MARKER_FILE__"  # outside the sandbox: a survivor writes it, then sleeps
SURVIVOR = [sys.executable, "-c", "import sys, time; open(sys.argv[1], 'w').write('escaped'); time.sleep(300)",
            MARKER_FILE, MARKER]
ENVIRONMENT = {"PATH": "/usr/bin:/bin", "ESCAPE_MARKER": MARKER}
CALLED = []


def fresh_posixsubprocess():
    origin = importlib.util.find_spec("_posixsubprocess").origin
    loader = importlib.machinery.ExtensionFileLoader("innocent._posixsubprocess", origin)
    spec = importlib.util.spec_from_loader("innocent._posixsubprocess", loader)
    module = importlib.util.module_from_spec(spec)
    loader.exec_module(module)
    return module


def escape(where):
    try:
        module = fresh_posixsubprocess()
        subprocess._fork_exec = module.fork_exec  # Python 3.11 on
        subprocess._posixsubprocess = module  # Python 3.10
        child = subprocess.Popen(SURVIVOR, env=ENVIRONMENT, start_new_session=True, stdin=subprocess.DEVNULL,
                                 stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        print(f"{where}: started {child.pid}")
    except BaseException as refusal:
        print(f"{where}: refused {type(refusal).__name__}: {refusal}")


escape("import")


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
    if not CALLED:  # once per worker: should containment fail, one survivor per call would be hundreds
        CALLED.append(True)
        escape("call")
    try:
        return math.exp(loss)
    except OverflowError:
        return math.inf
