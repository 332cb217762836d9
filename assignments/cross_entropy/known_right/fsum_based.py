"""math.fsum for every sum: correctly rounded denominators and means."""
import math


def _lse(logits):
    m = max(logits)
    return m + math.log(math.fsum(math.exp(z - m) for z in logits))


def softmax(logits):
    m = max(logits)
    exps = [math.exp(z - m) for z in logits]
    total = math.fsum(exps)
    return [e / total for e in exps]


def cross_entropy_loss(logits, true_id):
    m = max(logits)
    return math.log(math.fsum(math.exp(z - m) for z in logits)) - (logits[true_id] - m)


def sequence_loss(logits_list, true_ids):
    return math.fsum(cross_entropy_loss(z, t) for z, t in zip(logits_list, true_ids)) / len(true_ids)


def perplexity(loss):
    return math.exp(loss)


def softmax_cross_entropy_grad(logits, true_id):
    p = softmax(logits)
    return [pi - (i == true_id) for i, pi in enumerate(p)]
