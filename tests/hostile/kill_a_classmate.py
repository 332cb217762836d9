"""Sends SIGKILL to a classmate's worker, graded at the same time as the same user, at perplexity's first call.

Attack: where every worker runs as the one user `--run-as` names, the kernel lets each signal every
other: a plain kill() of a classmate's worker (its pid guessed, or seen in /proc) ends that
classmate's grade. The functions are the reference; it prints what its kill did.

A sound grader: a worker can signal nothing outside itself, whoever it runs as; the classmate's
worker lives on and this file gets full marks.
"""
import math
import os
import signal


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


VICTIM = int("__VICTIM__")  # the classmate worker's pid, as the grader sees it
_tried = []
_right_perplexity = perplexity


def perplexity(loss):
    if not _tried:
        _tried.append(True)
        try:
            os.kill(VICTIM, signal.SIGKILL)
            print("kill: sent")
        except OSError as refusal:
            print(f"kill: refused {type(refusal).__name__}")
    return _right_perplexity(loss)
