"""Updates in place and also returns the same lists, as code written for chaining does."""
import math

BOS = 26


def encode(name):
    return [BOS] + [ord(c) - ord("a") for c in name] + [BOS]


def bigram_loss(W, tokens):
    total = 0.0
    for a, b in zip(tokens, tokens[1:]):
        row = W[a]
        top = max(row)
        total += top + math.log(sum(math.exp(x - top) for x in row)) - row[b]
    return total / (len(tokens) - 1)


def bigram_grad(W, tokens):
    n = len(tokens) - 1
    grad = [[0.0] * len(row) for row in W]
    for a, b in zip(tokens, tokens[1:]):
        top = max(W[a])
        exps = [math.exp(x - top) for x in W[a]]
        total = sum(exps)
        for j, e in enumerate(exps):
            grad[a][j] += e / total / n
        grad[a][b] -= 1 / n
    return grad


def sgd_update(params, grads, lr):
    for i, g in enumerate(grads):
        params[i] -= lr * g
    return params


def linear_lr(step, num_steps, base_lr):
    return base_lr * (1 - step / num_steps)


def adam_update(params, grads, m, v, step, lr, beta1=0.85, beta2=0.99, eps=1e-8):
    for i, g in enumerate(grads):
        m[i] = beta1 * m[i] + (1 - beta1) * g
        v[i] = beta2 * v[i] + (1 - beta2) * g * g
        params[i] -= lr * (m[i] / (1 - beta1 ** (step + 1))) / ((v[i] / (1 - beta2 ** (step + 1))) ** 0.5 + eps)
    return params, m, v


def train_step(W, tokens, m, v, step, num_steps=1000, base_lr=0.01):
    loss = bigram_loss(W, tokens)
    grad = bigram_grad(W, tokens)
    lr = linear_lr(step, num_steps, base_lr)
    for r in range(len(W)):
        adam_update(W[r], grad[r], m[r], v[r], step, lr)
    return loss, W, m, v
