"""cross_entropy_loss: shifts the logits by the target's logit instead of the row's max, so exp overflows when another logit is far larger.

log(sum(exp(z - z[t]))) is the loss exactly, but exp overflows once another logit exceeds the
target's by about 709: a confidently wrong prediction costs inf or an error. Shift by the max
m instead: loss = m + log(sum(exp(z - m))) - z[t].
"""
import math


class CrossEntropy:
    def softmax(self, logits):
        m = max(logits)
        exps = [math.exp(z - m) for z in logits]
        total = math.fsum(exps)
        return [e / total for e in exps]

    def loss(self, logits, true_id):
        anchor = logits[true_id]
        return math.log(math.fsum(math.exp(z - anchor) for z in logits))

    def sequence(self, logits_list, true_ids):
        m = [max(row) for row in logits_list]
        losses = [
            mi + math.log(math.fsum(math.exp(z - mi) for z in row)) - row[t]
            for row, t, mi in zip(logits_list, true_ids, m)
        ]
        return math.fsum(losses) / len(losses)

    def grad(self, logits, true_id):
        g = self.softmax(logits)
        g[true_id] -= 1.0
        return g


_ce = CrossEntropy()


def softmax(logits):
    return _ce.softmax(logits)


def cross_entropy_loss(logits, true_id):
    return _ce.loss(logits, true_id)


def sequence_loss(logits_list, true_ids):
    return _ce.sequence(logits_list, true_ids)


def perplexity(loss):
    return math.exp(loss)


def softmax_cross_entropy_grad(logits, true_id):
    return _ce.grad(logits, true_id)
