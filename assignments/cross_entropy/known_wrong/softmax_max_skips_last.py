"""softmax: the loop that finds the max stops one entry short and never looks at the last logit.

`for i in range(len(z) - 1)` leaves out the last index. The answer stays right unless the last
logit beats every other one by more than about 709: then exp overflows (Python's math raises
OverflowError, NumPy gives inf and then nan). Loop over range(len(z)), or use max(logits).
"""
import math


def softmax(logits):
    z = logits
    biggest = z[0]
    for i in range(len(z) - 1):
        if z[i] > biggest:
            biggest = z[i]
    exps = []
    for i in range(len(z)):
        exps.append(math.exp(z[i] - biggest))
    total = 0.0
    for e in exps:
        total += e
    probs = []
    for e in exps:
        probs.append(e / total)
    return probs


def cross_entropy_loss(logits, true_id):
    biggest = logits[0]
    for x in logits:
        if x > biggest:
            biggest = x
    total = 0.0
    for x in logits:
        total += math.exp(x - biggest)
    return biggest + math.log(total) - logits[true_id]


def sequence_loss(logits_list, true_ids):
    total = 0.0
    for row, target in zip(logits_list, true_ids):
        total += cross_entropy_loss(row, target)
    return total / len(true_ids)


def perplexity(loss):
    return math.exp(loss)


def softmax_cross_entropy_grad(logits, true_id):
    biggest = logits[0]
    for x in logits:
        if x > biggest:
            biggest = x
    exps = [math.exp(x - biggest) for x in logits]
    total = sum(exps)
    grad = []
    for j, e in enumerate(exps):
        p = e / total
        if j == true_id:
            p -= 1.0
        grad.append(p)
    return grad
