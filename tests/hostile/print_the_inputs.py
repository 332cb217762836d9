"""Prints every call's arguments, to learn the course's grade: a correct cross_entropy whose functions
print what they were called with, marked CALLED-WITH, and one line marked LOADED at import.

Under the course's own seed the grade's inputs are secret: a table of them, handed back in a report,
would let a later file look the answers up with no implementation. So a report under the course seed
shows none of what was printed once a function was called; under the public seed it shows it all.
"""

import functools
import math

print("LOADED: the top level ran")


def softmax(logits):
    top = max(logits)
    exps = [math.exp(z - top) for z in logits]
    total = sum(exps)
    return [e / total for e in exps]


def cross_entropy_loss(logits, true_id):
    top = max(logits)
    return top + math.log(sum(math.exp(z - top) for z in logits)) - logits[true_id]


def sequence_loss(logits_list, true_ids):
    losses = [cross_entropy_loss(z, t) for z, t in zip(logits_list, true_ids)]
    return sum(losses) / len(losses)


def perplexity(loss):
    return math.exp(loss)


def softmax_cross_entropy_grad(logits, true_id):
    grad = softmax(logits)
    grad[true_id] -= 1.0
    return grad


def _printing(function):
    @functools.wraps(function)
    def printing(*arguments):
        print("CALLED-WITH", function.__name__, repr(arguments), flush=True)
        return function(*arguments)

    return printing


softmax = _printing(softmax)
cross_entropy_loss = _printing(cross_entropy_loss)
sequence_loss = _printing(sequence_loss)
perplexity = _printing(perplexity)
softmax_cross_entropy_grad = _printing(softmax_cross_entropy_grad)
