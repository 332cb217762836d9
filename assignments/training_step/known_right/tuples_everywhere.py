"""Immutable results: tuples for tokens, rows, tables and every update."""
import math

BOS = 26


def encode(name):
    return (BOS,) + tuple(ord(c) - ord("a") for c in name) + (BOS,)


def _row_loss_and_probs(row, target):
    top = max(row)
    exps = tuple(math.exp(x - top) for x in row)
    total = sum(exps)
    return top + math.log(total) - row[target], tuple(e / total for e in exps)


def bigram_loss(W, tokens):
    n = len(tokens) - 1
    return sum(_row_loss_and_probs(W[tokens[i]], tokens[i + 1])[0] for i in range(n)) / n


def bigram_grad(W, tokens):
    n = len(tokens) - 1
    rows = {}
    for i in range(n):
        a, b = tokens[i], tokens[i + 1]
        _, probs = _row_loss_and_probs(W[a], b)
        delta = tuple((p - (j == b)) / n for j, p in enumerate(probs))
        rows[a] = tuple(x + d for x, d in zip(rows.get(a, (0.0,) * len(delta)), delta))
    return tuple(rows.get(r, (0.0,) * len(W[r])) for r in range(len(W)))


def sgd_update(params, grads, lr):
    return tuple(p - lr * g for p, g in zip(params, grads))


def linear_lr(step, num_steps, base_lr):
    return base_lr * (1 - step / num_steps)


def adam_update(params, grads, m, v, step, lr, beta1=0.85, beta2=0.99, eps=1e-8):
    m = tuple(beta1 * mi + (1 - beta1) * g for mi, g in zip(m, grads))
    v = tuple(beta2 * vi + (1 - beta2) * g ** 2 for vi, g in zip(v, grads))
    params = tuple(p - lr * (mi / (1 - beta1 ** (step + 1))) / ((vi / (1 - beta2 ** (step + 1))) ** 0.5 + eps)
                   for p, mi, vi in zip(params, m, v))
    return params, m, v


def train_step(W, tokens, m, v, step, num_steps=1000, base_lr=0.01):
    grad = bigram_grad(W, tokens)
    lr = linear_lr(step, num_steps, base_lr)
    rows = tuple(adam_update(*row, step, lr) for row in zip(W, grad, m, v))
    return bigram_loss(W, tokens), tuple(r[0] for r in rows), tuple(r[1] for r in rows), tuple(r[2] for r in rows)
