"""cross_entropy_loss: returns log p (z[t] - logsumexp) without the minus sign.

logits[true_id] - logsumexp is log p(target), which is never positive, so your loss is the negative
of the right one and minimising it makes the model worse. Return logsumexp(logits) -
logits[true_id], i.e. -log p(target).
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
    return logits[true_id] - lse


def sequence_loss(logits_list, true_ids):
    losses = [cross_entropy_loss(z, t) for z, t in zip(logits_list, true_ids)]
    return sum(losses) / len(losses)


def perplexity(loss):
    return math.exp(loss)


def softmax_cross_entropy_grad(logits, true_id):
    grad = softmax(logits)
    grad[true_id] -= 1.0
    return grad
