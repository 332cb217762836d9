"""softmax_cross_entropy_grad: exponentiates the logits without the max shift, so exp overflows on large logits.

exp overflows once a logit passes about 709 (Python's math raises OverflowError, NumPy gives inf and
then nan), though the gradient is perfectly well defined. Shift by the max first (exp(z -
max(logits))), or subtract the one-hot from a softmax that does.
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


def sequence_loss(logits_list, true_ids):
    losses = [cross_entropy_loss(z, t) for z, t in zip(logits_list, true_ids)]
    return sum(losses) / len(losses)


def perplexity(loss):
    return math.exp(loss)


def softmax_cross_entropy_grad(logits, true_id):
    exps = [math.exp(z) for z in logits]
    total = sum(exps)
    return [e / total - (1.0 if i == true_id else 0.0) for i, e in enumerate(exps)]
