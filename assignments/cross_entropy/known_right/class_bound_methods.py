"""Class-based: a CrossEntropy object does the work and the module-level names are its bound methods."""
import math


class CrossEntropy:
    def __init__(self, base=math.e):
        self.log = math.log if base == math.e else (lambda x: math.log(x, base))
        self.exp = math.exp

    def _shift(self, logits):
        m = max(logits)
        return [z - m for z in logits]

    def softmax(self, logits):
        exps = [self.exp(s) for s in self._shift(logits)]
        total = sum(exps)
        return [e / total for e in exps]

    def loss(self, logits, true_id):
        shifted = self._shift(logits)
        return self.log(sum(self.exp(s) for s in shifted)) - shifted[true_id]

    def mean_loss(self, logits_list, true_ids):
        losses = [self.loss(z, t) for z, t in zip(logits_list, true_ids)]
        return sum(losses) / len(losses)

    def perplexity(self, loss):
        return self.exp(loss)

    def grad(self, logits, true_id):
        g = self.softmax(logits)
        g[true_id] -= 1.0
        return g


_ce = CrossEntropy()

softmax = _ce.softmax
cross_entropy_loss = _ce.loss
sequence_loss = _ce.mean_loss
perplexity = _ce.perplexity
softmax_cross_entropy_grad = _ce.grad
