"""sequence_loss: pairs each position's logits with the next position's target.

true_ids[i] is already the target for logits_list[i], the token that follows input i; shifting again
scores each position against the next position's target, and the last against the first. Zip
logits_list with true_ids as given.
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
    pairs = list(zip(logits_list, true_ids[1:] + true_ids[:1]))
    return sum(cross_entropy_loss(z, t) for z, t in pairs) / len(pairs)


def perplexity(loss):
    return math.exp(loss)


def softmax_cross_entropy_grad(logits, true_id):
    grad = softmax(logits)
    grad[true_id] -= 1.0
    return grad
