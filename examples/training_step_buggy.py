"""A first attempt with two classic mistakes: the gradient is not divided by n, and Adam skips bias correction."""

import math

BOS = 26


def encode(name):
    return [BOS] + [ord(c) - ord("a") for c in name] + [BOS]


def softmax(logits):
    top = max(logits)  # shift by the max so exp never overflows
    exps = [math.exp(z - top) for z in logits]
    total = sum(exps)
    return [e / total for e in exps]


def bigram_loss(W, tokens):
    losses = []
    for current, following in zip(tokens, tokens[1:]):
        row = W[current]
        top = max(row)
        log_sum_exp = top + math.log(sum(math.exp(z - top) for z in row))
        losses.append(log_sum_exp - row[following])
    return sum(losses) / len(losses)


def bigram_grad(W, tokens):
    grad = [[0.0] * len(row) for row in W]
    for current, following in zip(tokens, tokens[1:]):
        probs = softmax(W[current])
        for j, p in enumerate(probs):
            grad[current][j] += p - (1.0 if j == following else 0.0)
    return grad


def sgd_update(params, grads, lr):
    return [p - lr * g for p, g in zip(params, grads)]


def linear_lr(step, num_steps, base_lr):
    return base_lr * (1 - step / num_steps)


def adam_update(params, grads, m, v, step, lr, beta1=0.85, beta2=0.99, eps=1e-8):
    new_params, new_m, new_v = [], [], []
    for p, g, m_i, v_i in zip(params, grads, m, v):
        m_i = beta1 * m_i + (1 - beta1) * g
        v_i = beta2 * v_i + (1 - beta2) * g**2
        m_hat, v_hat = m_i, v_i
        new_params.append(p - lr * m_hat / (v_hat**0.5 + eps))
        new_m.append(m_i)
        new_v.append(v_i)
    return new_params, new_m, new_v


def train_step(W, tokens, m, v, step, num_steps=1000, base_lr=0.01):
    loss = bigram_loss(W, tokens)
    grad = bigram_grad(W, tokens)
    lr = linear_lr(step, num_steps, base_lr)
    size = len(W)
    flat = lambda table: [x for row in table for x in row]
    params, m_flat, v_flat = adam_update(flat(W), flat(grad), flat(m), flat(v), step, lr)
    rows = lambda values: [values[i * size : (i + 1) * size] for i in range(size)]
    return loss, rows(params), rows(m_flat), rows(v_flat)
