"""The loss and its gradient averaged over len(tokens) - 2 positions, as if the closing BOS were no position."""

import math

BOS = 26
VOCAB = 27


def encode(name):
    tokens = [BOS]
    for c in name:
        tokens.append(ord(c) - ord("a"))
    tokens.append(BOS)
    return tokens


def bigram_loss(W, tokens):
    n = len(tokens) - 2  # the closing BOS not counted
    losses = []
    for i in range(len(tokens) - 1):
        row = W[tokens[i]]
        top = max(row)
        log_sum_exp = top + math.log(math.fsum(math.exp(z - top) for z in row))
        losses.append(log_sum_exp - row[tokens[i + 1]])
    return math.fsum(losses) / n


def bigram_grad(W, tokens):
    n = len(tokens) - 2  # the closing BOS not counted
    grad = [[0.0 for _ in range(VOCAB)] for _ in range(VOCAB)]
    for i in range(len(tokens) - 1):
        row = W[tokens[i]]
        top = max(row)
        exps = [math.exp(z - top) for z in row]
        total = math.fsum(exps)
        for j in range(VOCAB):
            grad[tokens[i]][j] += exps[j] / total / n
        grad[tokens[i]][tokens[i + 1]] -= 1.0 / n
    return grad


def sgd_update(params, grads, lr):
    out = []
    for i in range(len(params)):
        out.append(params[i] - lr * grads[i])
    return out


def linear_lr(step, num_steps, base_lr):
    return base_lr * (1.0 - step / num_steps)


def adam_update(params, grads, m, v, step, lr, beta1=0.85, beta2=0.99, eps=1e-8):
    new_params, new_m, new_v = list(params), list(m), list(v)
    for i in range(len(params)):
        new_m[i] = beta1 * m[i] + (1 - beta1) * grads[i]
        new_v[i] = beta2 * v[i] + (1 - beta2) * grads[i] ** 2
        m_hat = new_m[i] / (1 - beta1 ** (step + 1))
        v_hat = new_v[i] / (1 - beta2 ** (step + 1))
        new_params[i] = params[i] - lr * m_hat / (math.sqrt(v_hat) + eps)
    return new_params, new_m, new_v


def train_step(W, tokens, m, v, step, num_steps=1000, base_lr=0.01):
    loss = bigram_loss(W, tokens)
    grad = bigram_grad(W, tokens)
    lr = linear_lr(step, num_steps, base_lr)
    new_W, new_m, new_v = [], [], []
    for r in range(VOCAB):
        p, m_r, v_r = adam_update(W[r], grad[r], m[r], v[r], step, lr)
        new_W.append(p)
        new_m.append(m_r)
        new_v.append(v_r)
    return loss, new_W, new_m, new_v
