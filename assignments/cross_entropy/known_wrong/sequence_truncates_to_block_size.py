"""sequence_loss: scores only the first block_size = 16 positions, microgpt's context length.

block_size = 16 limits how many tokens the model sees, not which positions count; a longer sequence
loses every position past 16 from its mean. Average -log p(target) over all len(true_ids) positions.
"""
import math


def softmax(logits):
    m = max(logits)
    exps = [math.exp(z - m) for z in logits]
    total = sum(exps)
    return [e / total for e in exps]


def cross_entropy_loss(logits, true_id):
    m = max(logits)
    lse = m + math.log(sum(math.exp(z - m) for z in logits))
    return lse - logits[true_id]


BLOCK_SIZE = 16


def sequence_loss(logits_list, true_ids):
    n = min(len(true_ids), BLOCK_SIZE)
    losses = [cross_entropy_loss(logits_list[i], true_ids[i]) for i in range(n)]
    return sum(losses) / n


def perplexity(loss):
    return math.exp(loss)


def softmax_cross_entropy_grad(logits, true_id):
    grad = softmax(logits)
    grad[true_id] -= 1.0
    return grad
