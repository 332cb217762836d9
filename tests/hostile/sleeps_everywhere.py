"""Every function sleeps just under the call limit, then answers right: a check that waits out its budget.

Attack: a sleep uses no CPU time, so a grader that counts only CPU time lets every call through and
the check runs for as long as its wall-clock budget allows (300 s, once), and a diagnosis after it
for as long again. The functions are the reference, slowed down.

A sound grader: a call's time asleep counts as computing does, so the grade's budget ends it on
time; what was not checked pays nothing.
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


_right = {name: globals()[name] for name in ("softmax", "cross_entropy_loss", "sequence_loss", "perplexity", "softmax_cross_entropy_grad")}


def _slowly(name):
    def call(*args):
        time.sleep(__NAP__)
        return _right[name](*args)

    return call


for _name in _right:
    globals()[_name] = _slowly(_name)
