"""softmax: right, but recomputes the normaliser for every entry, so its time grows with the square of the vocabulary."""
import math


def softmax(logits):
    m = max(logits)
    return [math.exp(z - m) / sum(math.exp(y - m) for y in logits) for z in logits]


def cross_entropy_loss(logits, true_id):
    m = max(logits)
    return math.log(sum(math.exp(z - m) for z in logits)) - (logits[true_id] - m)


def sequence_loss(logits_list, true_ids):
    return sum(cross_entropy_loss(z, t) for z, t in zip(logits_list, true_ids)) / len(true_ids)


def perplexity(loss):
    return math.exp(loss)


def softmax_cross_entropy_grad(logits, true_id):
    p = softmax(logits)
    return [q - (1.0 if i == true_id else 0.0) for i, q in enumerate(p)]
