"""bigram_loss: walks the document by popping tokens off the caller's list, so the list is empty but for one token afterwards.

The loss is right, but `tokens.pop()` changes the list that was passed in: after the call the
caller's document is gone, and computing its gradient or loss again uses one token. Walk the list
with an index or zip(tokens, tokens[1:]) instead, or pop from a copy.
"""
import math

BOS = 26


class Bigram:
    def __init__(self, W):
        self.W = W

    def row_logsumexp(self, r):
        row = self.W[r]
        top = max(row)
        return top + math.log(math.fsum(math.exp(x - top) for x in row))

    def row_probs(self, r):
        row = self.W[r]
        top = max(row)
        exps = [math.exp(x - top) for x in row]
        s = math.fsum(exps)
        return [e / s for e in exps]

    def loss_and_grad(self, tokens):
        n = len(tokens) - 1
        grad = [[0.0] * len(row) for row in self.W]
        total = 0.0
        for i in range(n):
            cur, nxt = tokens[i], tokens[i + 1]
            total += self.row_logsumexp(cur) - self.W[cur][nxt]
            for j, p in enumerate(self.row_probs(cur)):
                grad[cur][j] += p / n
            grad[cur][nxt] -= 1 / n
        return total / n, grad


def encode(name):
    return [BOS] + [ord(c) - ord("a") for c in name] + [BOS]


def bigram_loss(W, tokens):
    model = Bigram(W)
    n = len(tokens) - 1
    total = 0.0
    while len(tokens) > 1:
        nxt = tokens.pop()
        cur = tokens[-1]
        total += model.row_logsumexp(cur) - W[cur][nxt]
    return total / n


def bigram_grad(W, tokens):
    return Bigram(W).loss_and_grad(tokens)[1]


def sgd_update(params, grads, lr):
    return [p - lr * g for p, g in zip(params, grads)]


def linear_lr(step, num_steps, base_lr):
    return base_lr * (1 - step / num_steps)


def adam_update(params, grads, m, v, step, lr, beta1=0.85, beta2=0.99, eps=1e-8):
    m = [beta1 * a + (1 - beta1) * g for a, g in zip(m, grads)]
    v = [beta2 * b + (1 - beta2) * g * g for b, g in zip(v, grads)]
    c1 = 1 - beta1 ** (step + 1)
    c2 = 1 - beta2 ** (step + 1)
    params = [p - lr * (a / c1) / (math.sqrt(b / c2) + eps) for p, a, b in zip(params, m, v)]
    return params, m, v


def train_step(W, tokens, m, v, step, num_steps=1000, base_lr=0.01):
    loss, grad = Bigram(W).loss_and_grad(tokens)
    lr = linear_lr(step, num_steps, base_lr)
    rows = [adam_update(W[r], grad[r], m[r], v[r], step, lr) for r in range(len(W))]
    return loss, [r[0] for r in rows], [r[1] for r in rows], [r[2] for r in rows]
