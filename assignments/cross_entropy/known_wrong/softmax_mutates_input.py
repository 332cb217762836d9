"""softmax: subtracts the max from the caller's list in place (the values it returns are right).

Your probabilities are right, but the caller's logits come back shifted by their max, so any later
code reading that list sees changed values. Keep the shift local: exps = [math.exp(z - m) for z in
logits].
"""
import math


def softmax(logits):
    m = max(logits)
    for i in range(len(logits)):
        logits[i] -= m
    exps = [math.exp(z) for z in logits]
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
    grad[true_id] -= 1.0
    return grad
