"""Int-friendly: results that are exactly whole numbers come back as Python ints (perplexity 1, loss 0, p = 0 or 1)."""
import math


def _tidy(x):
    return int(x) if float(x).is_integer() else x


def softmax(logits):
    m = max(logits)
    exps = [math.exp(z - m) for z in logits]
    s = sum(exps)
    return [_tidy(e / s) for e in exps]


def cross_entropy_loss(logits, true_id):
    m = max(logits)
    return _tidy(math.log(sum(math.exp(z - m) for z in logits)) - (logits[true_id] - m))


def sequence_loss(logits_list, true_ids):
    return _tidy(sum(cross_entropy_loss(z, t) for z, t in zip(logits_list, true_ids)) / len(true_ids))


def perplexity(loss):
    if loss == 0:
        return 1
    return _tidy(math.exp(loss))


def softmax_cross_entropy_grad(logits, true_id):
    p = softmax(logits)
    return [_tidy(pi - 1) if i == true_id else pi for i, pi in enumerate(p)]
