"""perplexity: memoises on round(loss, 3), so nearby losses get the perplexity of whichever came first.

round(loss, 3) puts different losses in one slot, so a later loss gets the perplexity cached for the
first loss that rounded the same, off by up to about 0.1%. exp is cheap: drop the cache and return
math.exp(loss).
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


_cache = {}


def perplexity(loss):
    key = round(loss, 3)
    if key not in _cache:
        _cache[key] = math.exp(loss)
    return _cache[key]


def softmax_cross_entropy_grad(logits, true_id):
    grad = softmax(logits)
    grad[true_id] -= 1.0
    return grad
