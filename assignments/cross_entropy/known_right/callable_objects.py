"""Callable objects: each graded name is an instance of a small class with __call__."""
import math


class _Softmax:
    def __call__(self, logits):
        m = max(logits)
        exps = [math.exp(z - m) for z in logits]
        s = sum(exps)
        return [e / s for e in exps]


class _Loss:
    def __call__(self, logits, true_id):
        m = max(logits)
        return math.log(sum(math.exp(z - m) for z in logits)) + m - logits[true_id]


class _SequenceLoss:
    def __init__(self, loss):
        self.loss = loss

    def __call__(self, logits_list, true_ids):
        n = len(logits_list)
        return sum(self.loss(z, t) for z, t in zip(logits_list, true_ids)) / n


class _Perplexity:
    def __call__(self, loss):
        return math.exp(loss)


class _Grad:
    def __init__(self, softmax):
        self.softmax = softmax

    def __call__(self, logits, true_id):
        p = self.softmax(logits)
        return [pi - 1.0 if i == true_id else pi for i, pi in enumerate(p)]


softmax = _Softmax()
cross_entropy_loss = _Loss()
sequence_loss = _SequenceLoss(cross_entropy_loss)
perplexity = _Perplexity()
softmax_cross_entropy_grad = _Grad(softmax)
