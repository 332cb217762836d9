"""Counts first: each context row's gradient is (k * softmax(row) - counts) / n, with k its uses."""
import math
from collections import Counter

BOS = 26


def encode(name):
    return [BOS] + [ord(c) - 97 for c in name] + [BOS]


def _transitions(tokens):
    """{context: Counter of next tokens}, and n, the number of positions."""
    table = {}
    for a, b in zip(tokens, tokens[1:]):
        table.setdefault(a, Counter())[b] += 1
    return table, len(tokens) - 1


def _logsumexp(row):
    top = max(row)
    return top + math.log(sum(math.exp(x - top) for x in row))


def bigram_loss(W, tokens):
    table, n = _transitions(tokens)
    total = 0.0
    for a, counts in table.items():
        lse = _logsumexp(W[a])
        total += sum(k * (lse - W[a][b]) for b, k in counts.items())
    return total / n


def bigram_grad(W, tokens):
    table, n = _transitions(tokens)
    grad = [[0.0] * len(row) for row in W]
    for a, counts in table.items():
        uses = sum(counts.values())
        lse = _logsumexp(W[a])
        grad[a] = [(uses * math.exp(x - lse) - counts.get(j, 0)) / n for j, x in enumerate(W[a])]
    return grad


def sgd_update(params, grads, lr):
    return [p - lr * g for p, g in zip(params, grads)]


def linear_lr(step, num_steps, base_lr):
    return base_lr - base_lr * step / num_steps


def adam_update(params, grads, m, v, step, lr, beta1=0.85, beta2=0.99, eps=1e-8):
    correction1, correction2 = 1 - beta1 ** (step + 1), 1 - beta2 ** (step + 1)
    out_p, out_m, out_v = [], [], []
    for p, g, mi, vi in zip(params, grads, m, v):
        mi = beta1 * mi + (1 - beta1) * g
        vi = beta2 * vi + (1 - beta2) * g * g
        out_p.append(p - lr * (mi / correction1) / (math.sqrt(vi / correction2) + eps))
        out_m.append(mi)
        out_v.append(vi)
    return out_p, out_m, out_v


def train_step(W, tokens, m, v, step, num_steps=1000, base_lr=0.01):
    grad = bigram_grad(W, tokens)
    lr = linear_lr(step, num_steps, base_lr)
    updated = [adam_update(w, g, mi, vi, step, lr) for w, g, mi, vi in zip(W, grad, m, v)]
    return bigram_loss(W, tokens), [u[0] for u in updated], [u[1] for u in updated], [u[2] for u in updated]
