"""Writes into the grader's example cache (open, os.replace, os.remove, mkdir) to poison later grades."""
import math
import os

import numpy as np


CACHE = "__CACHE__"  # the real cache folder, as a student could guess it
SENTINEL = "__SENTINEL__"  # a file already in the cache; every new name below starts with its name
POISON = "poisoned by a submission"
LOG_FILE = "__LOG_FILE__"


def guessed_caches():
    """Where a student would look: $GRADEKIT_CACHE, ~/.cache/gradekit, and the real one."""
    home = os.path.join(os.path.expanduser("~"), ".cache", "gradekit")
    return [p for p in (os.environ.get("GRADEKIT_CACHE"), home, CACHE) if p]


def overwrite(folder):
    with open(os.path.join(folder, os.path.basename(SENTINEL)), "w") as handle:
        handle.write(POISON)


def by_replace():
    with open("poison.json", "w") as handle:
        handle.write(POISON)
    os.replace("poison.json", SENTINEL)


def by_new_file():
    with open(SENTINEL + ".new", "x") as handle:
        handle.write(POISON)


def by_dir_fd():
    folder = os.open(CACHE, os.O_RDONLY)
    name = os.path.basename(SENTINEL) + ".fd"
    os.write(os.open(name, os.O_WRONLY | os.O_CREAT, dir_fd=folder), POISON.encode())


def by_remove():
    os.remove(SENTINEL)


def by_mkdir():
    os.mkdir(SENTINEL + ".folder")


def by_symlink():
    os.symlink("/etc/hostname", SENTINEL + ".link")


for attempt in (by_replace, by_new_file, by_dir_fd, by_remove, by_mkdir, by_symlink):
    try:
        attempt()
        outcome = "done"
    except BaseException as refusal:
        outcome = type(refusal).__name__
    with open(LOG_FILE, "a") as log:
        log.write(f"{attempt.__name__} {outcome}\n")


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
    for folder in guessed_caches():
        if os.path.isdir(folder):
            overwrite(folder)
    try:
        return math.exp(loss)
    except OverflowError:
        return math.inf
