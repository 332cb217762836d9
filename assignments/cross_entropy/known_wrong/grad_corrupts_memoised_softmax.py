"""softmax_cross_entropy_grad: subtracts 1 in place from softmax's memoised list, so every repeated call drifts further.

The memo hands back the very list it stores, so subtracting 1 in place changes the cached softmax:
the second call with the same logits returns p - 2 at the target, the third p - 3. Copy the
probabilities first (grad = list(...)) or drop the memo.
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
    grad = _memo_softmax(logits)
    grad[true_id] -= 1.0
    return grad


_memo = {}


def _memo_softmax(logits):
    key = tuple(logits)
    if key not in _memo:
        _memo[key] = softmax(logits)
    return _memo[key]
