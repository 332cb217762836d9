"""perplexity: clamps the loss at 100 'to avoid overflow', so large losses get exp(100).

exp(loss) is right for every loss; the cap reports exp(100) for any loss above 100, hiding how bad
the model is. There is no overflow to avoid: in float64 math.exp(loss) stays finite up to a loss of
about 709. Return math.exp(loss).
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
    return math.exp(min(loss, 100.0))


def softmax_cross_entropy_grad(logits, true_id):
    grad = softmax(logits)
    grad[true_id] -= 1.0
    return grad
