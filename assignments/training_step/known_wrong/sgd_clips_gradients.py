"""sgd_update: clips every gradient to [-1, 1] before the step, so a large gradient moves its parameter by lr at most.

Clipping is a training trick, not gradient descent: the step is `params[i] - lr * grads[i]` for the
gradient as given. With a gradient of 3 the parameter should move by 3 * lr; clipped it moves by lr,
and every entry with |g| > 1 comes back wrong. Use the gradients as they are.
"""
import math

BOS = 26


def encode(name):
    return [BOS] + [ord(c) - ord("a") for c in name] + [BOS]


def _row_stats(row):
    m = max(row)
    exps = [math.exp(x - m) for x in row]
    return m, exps, sum(exps)


def bigram_loss(W, tokens):
    total = 0.0
    for cur, nxt in zip(tokens[:-1], tokens[1:]):
        m, _, s = _row_stats(W[cur])
        total += m + math.log(s) - W[cur][nxt]
    return total / (len(tokens) - 1)


def bigram_grad(W, tokens):
    n = len(tokens) - 1
    grad = [[0.0] * len(row) for row in W]
    for cur, nxt in zip(tokens[:-1], tokens[1:]):
        _, exps, s = _row_stats(W[cur])
        for j, e in enumerate(exps):
            grad[cur][j] += e / s / n
        grad[cur][nxt] -= 1.0 / n
    return grad


def sgd_update(params, grads, lr):
    new_params = []
    for p, g in zip(params, grads):
        g = max(-1.0, min(1.0, g))  # keep steps from blowing up
        new_params.append(p - lr * g)
    return new_params


def linear_lr(step, num_steps, base_lr):
    return base_lr * (1 - step / num_steps)


def adam_update(params, grads, m, v, step, lr, beta1=0.85, beta2=0.99, eps=1e-8):
    new_p, new_m, new_v = [], [], []
    for p, g, mi, vi in zip(params, grads, m, v):
        mi = beta1 * mi + (1 - beta1) * g
        vi = beta2 * vi + (1 - beta2) * g ** 2
        m_hat = mi / (1 - beta1 ** (step + 1))
        v_hat = vi / (1 - beta2 ** (step + 1))
        new_p.append(p - lr * m_hat / (v_hat ** 0.5 + eps))
        new_m.append(mi)
        new_v.append(vi)
    return new_p, new_m, new_v


def train_step(W, tokens, m, v, step, num_steps=1000, base_lr=0.01):
    loss = bigram_loss(W, tokens)
    grad = bigram_grad(W, tokens)
    lr = linear_lr(step, num_steps, base_lr)
    new_W, new_m, new_v = [], [], []
    for row_p, row_g, row_m, row_v in zip(W, grad, m, v):
        p, mm, vv = adam_update(row_p, row_g, row_m, row_v, step, lr)
        new_W.append(p)
        new_m.append(mm)
        new_v.append(vv)
    return loss, new_W, new_m, new_v
