"""softmax: writes its answer into one module-level list and returns that list, so the next call overwrites it.

Each answer is right when it comes back, but it is the same list object every time: keep p1 =
softmax(a), call softmax(b), and p1 now holds b's probabilities (resized if b is another length).
Code that keeps two distributions at once sees one twice. Build a new list in every call.
"""
import math

_probs = []


def softmax(logits):
    m = max(logits)
    _probs.clear()
    total = 0.0
    for z in logits:
        e = math.exp(z - m)
        _probs.append(e)
        total += e
    for i in range(len(_probs)):
        _probs[i] /= total
    return _probs


def cross_entropy_loss(logits, true_id):
    m = max(logits)
    return m + math.log(sum(math.exp(z - m) for z in logits)) - logits[true_id]


def sequence_loss(logits_list, true_ids):
    return sum(cross_entropy_loss(r, t) for r, t in zip(logits_list, true_ids)) / len(true_ids)


def perplexity(loss):
    return math.exp(loss)


def softmax_cross_entropy_grad(logits, true_id):
    m = max(logits)
    exps = [math.exp(z - m) for z in logits]
    s = sum(exps)
    return [e / s - (1.0 if j == true_id else 0.0) for j, e in enumerate(exps)]
