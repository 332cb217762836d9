"""softmax_cross_entropy_grad: subtracts the one-hot at true_id + 1 (wrapping around) instead of true_id.

The one-hot belongs at the target itself; putting it at true_id + 1 gives the gradient for the next
token id (wrapping to 0 for the last), so descent raises the wrong logit. Subtract 1.0 at
grad[true_id].
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
    grad = softmax(logits)
    grad[(true_id + 1) % len(grad)] -= 1.0
    return grad
