"""bigram_grad: subtracts each context row's max from the caller's W in place, so the table is changed by computing its gradient.

Shifting a row leaves its softmax, so the gradient, unchanged: the answer is right. But the shift
is written into W itself, and after the call every used row of the caller's table has its max at
0: another model. Shift a copy of the row, never W.
"""
import math

BOS = 26


def encode(name):
    return [BOS] + [ord(c) - ord("a") for c in name] + [BOS]


def _softmax(row):
    top = max(row)
    e = [math.exp(x - top) for x in row]
    s = sum(e)
    return [x / s for x in e]


def bigram_loss(W, tokens):
    n = len(tokens) - 1
    total = 0.0
    for a, b in zip(tokens, tokens[1:]):
        top = max(W[a])
        total += top + math.log(sum(math.exp(x - top) for x in W[a])) - W[a][b]
    return total / n


def bigram_grad(W, tokens):
    n = len(tokens) - 1
    for a in set(tokens[:-1]):
        top = max(W[a])
        for j in range(len(W[a])):
            W[a][j] -= top  # stability: largest logit becomes 0
    grad = [[0.0] * len(row) for row in W]
    for a, b in zip(tokens, tokens[1:]):
        p = _softmax(W[a])
        for j in range(len(p)):
            grad[a][j] += p[j] / n
        grad[a][b] -= 1 / n
    return grad


def sgd_update(params, grads, lr):
    out = list(params)
    for i, g in enumerate(grads):
        out[i] -= lr * g
    return out


def linear_lr(step, num_steps, base_lr):
    return base_lr * (1 - step / num_steps)


def adam_update(params, grads, m, v, step, lr, beta1=0.85, beta2=0.99, eps=1e-8):
    new_params, new_m, new_v = [], [], []
    for p, g, mi, vi in zip(params, grads, m, v):
        mi = beta1 * mi + (1 - beta1) * g
        vi = beta2 * vi + (1 - beta2) * g * g
        mh = mi / (1 - beta1 ** (step + 1))
        vh = vi / (1 - beta2 ** (step + 1))
        new_params.append(p - lr * mh / (math.sqrt(vh) + eps))
        new_m.append(mi)
        new_v.append(vi)
    return new_params, new_m, new_v


def _grad_of(W, tokens):
    n = len(tokens) - 1
    grad = [[0.0] * len(row) for row in W]
    for a, b in zip(tokens, tokens[1:]):
        p = _softmax(W[a])
        for j in range(len(p)):
            grad[a][j] += p[j] / n
        grad[a][b] -= 1 / n
    return grad


def train_step(W, tokens, m, v, step, num_steps=1000, base_lr=0.01):
    loss = bigram_loss(W, tokens)
    grad = _grad_of(W, tokens)
    lr = linear_lr(step, num_steps, base_lr)
    out = [adam_update(W[r], grad[r], m[r], v[r], step, lr) for r in range(len(W))]
    return loss, [o[0] for o in out], [o[1] for o in out], [o[2] for o in out]
