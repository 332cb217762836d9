"""cross_entropy_loss: memoises on (sum(logits), true_id), so different logits with the same sum share one loss.

Many different logit vectors share one sum, e.g. [1, 0] and [0, 1], so the second gets the loss
cached for the first. A loss is cheap to compute: drop the cache, or key it on (tuple(logits),
true_id).
"""
import math


def softmax(logits):
    m = max(logits)
    exps = [math.exp(z - m) for z in logits]
    total = sum(exps)
    return [e / total for e in exps]


_cache = {}


def cross_entropy_loss(logits, true_id):
    key = (sum(logits), true_id)
    if key not in _cache:
        m = max(logits)
        _cache[key] = m + math.log(sum(math.exp(z - m) for z in logits)) - logits[true_id]
    return _cache[key]


def sequence_loss(logits_list, true_ids):
    losses = [cross_entropy_loss(z, t) for z, t in zip(logits_list, true_ids)]
    return sum(losses) / len(losses)


def perplexity(loss):
    return math.exp(loss)


def softmax_cross_entropy_grad(logits, true_id):
    grad = softmax(logits)
    grad[true_id] -= 1.0
    return grad
