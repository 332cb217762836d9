"""perplexity: returns exp(-loss), the geometric-mean probability, instead of exp(loss).

exp(-loss) is the geometric-mean probability of the targets, between 0 and 1; perplexity is its
reciprocal, exp(loss), the number of tokens the model is effectively choosing among (27 for a
uniform guess). Return math.exp(loss).
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
    return math.exp(-loss)


def softmax_cross_entropy_grad(logits, true_id):
    grad = softmax(logits)
    grad[true_id] -= 1.0
    return grad
