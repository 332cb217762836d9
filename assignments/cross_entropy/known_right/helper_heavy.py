"""Helper-heavy: many tiny single-purpose helpers composed into the five graded functions."""
import math


def _largest(values):
    return max(values)


def _minus(values, c):
    return [v - c for v in values]


def _exps(values):
    return [math.exp(v) for v in values]


def _total(values):
    return math.fsum(values)


def _scale(values, c):
    return [v / c for v in values]


def _log(x):
    return math.log(x)


def _shifted(logits):
    return _minus(logits, _largest(logits))


def _logsumexp_shifted(shifted):
    return _log(_total(_exps(shifted)))


def _onehot(size, index):
    return [1.0 if i == index else 0.0 for i in range(size)]


def _subtract(a, b):
    return [x - y for x, y in zip(a, b)]


def _mean(values):
    return _total(values) / len(values)


def softmax(logits):
    exps = _exps(_shifted(logits))
    return _scale(exps, _total(exps))


def cross_entropy_loss(logits, true_id):
    shifted = _shifted(logits)
    return _logsumexp_shifted(shifted) - shifted[true_id]


def sequence_loss(logits_list, true_ids):
    return _mean([cross_entropy_loss(z, t) for z, t in zip(logits_list, true_ids)])


def perplexity(loss):
    return math.exp(loss)


def softmax_cross_entropy_grad(logits, true_id):
    return _subtract(softmax(logits), _onehot(len(logits), true_id))
