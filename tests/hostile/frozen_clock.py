"""Freezes the worker's own CPU clock, then computes slowly in perplexity.

Attack: the worker reports each call's CPU time from time.process_time, and a grader that trusts it
for the property budget sees no time spent: the slow function is graded on every example a budget
would have stopped at. Frozen, an honest twin's timeout becomes a pass. The functions are the
reference; perplexity spins __SPIN__ s before it answers.
"""
import time

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


time.process_time = lambda: 0.0

_right_perplexity = perplexity


def perplexity(loss):
    deadline = time.monotonic() + __SPIN__
    while time.monotonic() < deadline:
        pass
    return _right_perplexity(loss)
