"""sequence_loss cut at a block size of 64 positions: the bank's files cut at 16 and 256."""

import math

BLOCK = 64


def softmax(logits):
    m = max(logits)
    exps = [math.exp(x - m) for x in logits]
    s = sum(exps)
    return [e / s for e in exps]


def cross_entropy_loss(logits, true_id):
    m = max(logits)
    return m + math.log(sum(math.exp(x - m) for x in logits)) - logits[true_id]


def sequence_loss(logits_list, true_ids):
    rows, targets = logits_list[:BLOCK], true_ids[:BLOCK]
    return sum(cross_entropy_loss(z, t) for z, t in zip(rows, targets)) / len(rows)


def perplexity(loss):
    return math.exp(loss)


def softmax_cross_entropy_grad(logits, true_id):
    g = softmax(logits)
    g[true_id] -= 1.0
    return g
