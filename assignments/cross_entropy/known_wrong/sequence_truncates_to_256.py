"""sequence_loss: only the first 256 positions count, as if the document were cut at a block size.

The loss of a document is the mean over all its positions; cutting at 256 silently ignores the rest
of a long sequence. A block size limits the model's context, not which positions are scored: average
over every position.
"""
import math


def softmax(logits):
    top = max(logits)
    exps = [math.exp(z - top) for z in logits]
    total = sum(exps)
    return [e / total for e in exps]


def cross_entropy_loss(logits, true_id):
    top = max(logits)
    return top + math.log(sum(math.exp(z - top) for z in logits)) - logits[true_id]


def sequence_loss(logits_list, true_ids):
    n = min(len(logits_list), 256)
    return sum(cross_entropy_loss(z, t) for z, t in zip(logits_list[:n], true_ids[:n])) / n


def perplexity(loss):
    return math.exp(loss)


def softmax_cross_entropy_grad(logits, true_id):
    grad = softmax(logits)
    grad[true_id] -= 1.0
    return grad
