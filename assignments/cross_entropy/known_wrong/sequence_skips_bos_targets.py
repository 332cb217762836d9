"""sequence_loss: skips positions whose target is microgpt's BOS id (26), as if it were padding.

Predicting BOS at the end of a name is a real prediction: it is how the model learns when to stop.
Skipping those positions drops them from the mean and makes the loss look better. Average -log
p(target) over every position, BOS included.
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


BOS = 26


def sequence_loss(logits_list, true_ids):
    losses = [cross_entropy_loss(z, t) for z, t in zip(logits_list, true_ids) if t != BOS]
    return sum(losses) / len(losses) if losses else 0.0


def perplexity(loss):
    return math.exp(loss)


def softmax_cross_entropy_grad(logits, true_id):
    grad = softmax(logits)
    grad[true_id] -= 1.0
    return grad
