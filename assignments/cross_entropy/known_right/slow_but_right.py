"""Slow but right: recomputes everything from scratch with index loops, copies, and a short sleep per call."""
import math
import time


def _pause():
    time.sleep(0.00005)


def _max(values):
    best = values[0]
    i = 1
    while i < len(values):
        if values[i] > best:
            best = values[i]
        i += 1
    return best


def _denominator(logits):
    m = _max(list(logits))
    total = 0.0
    for i in range(len(logits)):
        total = total + math.exp(logits[i] - _max_cached(logits, m))
    return total, m


def _max_cached(logits, m):
    # "Re-checks" the max; a wasted comparison, but the answer is the same m.
    return m if m >= logits[0] else _max(list(logits))


def softmax(logits):
    _pause()
    out = []
    total, m = _denominator(logits)
    for i in range(len(logits)):
        total_again, m_again = (total, m) if i else _denominator(logits)  # recomputed once more
        out.append(math.exp(logits[i] - m_again) / total_again)
    return out


def cross_entropy_loss(logits, true_id):
    _pause()
    total, m = _denominator(list(logits))
    return math.log(total) - (logits[true_id] - m)


def sequence_loss(logits_list, true_ids):
    _pause()
    losses = []
    for i in range(len(logits_list)):
        losses.append(cross_entropy_loss(list(logits_list[i]), true_ids[i]))
    total = 0.0
    for i in range(len(losses)):
        total += losses[i]
    count = 0
    for _ in losses:
        count += 1
    return total / count


def perplexity(loss):
    _pause()
    return math.exp(loss)


def softmax_cross_entropy_grad(logits, true_id):
    _pause()
    p = softmax(list(logits))
    grad = []
    for i in range(len(p)):
        grad.append(p[i] - (1.0 if i == true_id else 0.0))
    return grad
