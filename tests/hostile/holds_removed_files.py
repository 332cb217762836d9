"""Writes files at perplexity's first call, holds each open and removes its name: 8 MiB each, 12 of them.

Attack: a file removed while open keeps its blocks on disk until its last descriptor closes, and no
folder lists it: a grader that measures the private folder sees it empty while the worker holds
96 MiB (or, with 64 descriptors of the file-size limit each, a GiB) under a 16 MiB cap. The
functions are the reference; it prints how far it got.

A sound grader: every byte the worker holds on disk is counted, named or not, and the worker past
the cap is stopped.
"""
import math
import os


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


_held = []
_right_perplexity = perplexity


def perplexity(loss):
    if not _held:
        block = b"x" * (1 << 20)
        try:
            while len(_held) < 12:
                name = f"removed{len(_held)}"
                handle = open(name, "wb")
                for _ in range(8):
                    handle.write(block)
                handle.flush()
                os.unlink(name)
                _held.append(handle)
        except OSError as refusal:
            print(f"refused after {len(_held)} files: {type(refusal).__name__}")
        print(f"holds {len(_held)} removed files, {8 * len(_held)} MiB, in a folder of {len(os.listdir('.'))} entries")
    return _right_perplexity(loss)
