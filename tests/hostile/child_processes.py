"""Starts child processes (fork, Popen, os.system, multiprocessing, fork_exec...) at import and in a call."""
import math
import os
import time

import numpy as np


LOG_FILE = "__LOG_FILE__"
MARKER = "__MARKER__"  # a unique sleep length, so a survivor can be found by its command line
CALLED = []


def log(line):
    with open(LOG_FILE, "a") as handle:
        handle.write(line + "\n")


def by_fork():
    pid = os.fork()
    if pid == 0:
        log(f"child {os.getpid()}")
        time.sleep(float(MARKER))
        os._exit(0)
    return pid


def by_popen():
    import subprocess

    return subprocess.Popen(["sleep", MARKER], start_new_session=True).pid


def by_system():
    return os.system(f"sleep {MARKER} &")


def by_multiprocessing():
    import multiprocessing

    process = multiprocessing.Process(target=time.sleep, args=(float(MARKER),), daemon=False)
    process.start()
    return process.pid


def by_posix_spawn():
    return os.posix_spawn("/bin/sleep", ["sleep", MARKER], {})


def by_fork_exec():
    import _posixsubprocess

    return _posixsubprocess.fork_exec(
        ["sleep", MARKER], [b"/bin/sleep"], True, (), None, None, -1, -1, -1, -1, -1, -1,
        *os.pipe(), True, True, -1, None, None, None, -1, None, False,
    )


def by_ctypes():
    import ctypes

    pid = ctypes.CDLL(None).fork()
    if pid == 0:
        os.setsid()
        time.sleep(float(MARKER))
        os._exit(0)
    return pid


def start_children(where):
    for attempt in (by_fork, by_popen, by_system, by_multiprocessing, by_posix_spawn, by_fork_exec, by_ctypes):
        try:
            log(f"{where} {attempt.__name__} started {attempt()}")
        except BaseException as refusal:
            log(f"{where} {attempt.__name__} refused {type(refusal).__name__}")


start_children("import")


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
        start_children("call")
    try:
        return math.exp(loss)
    except OverflowError:
        return math.inf
