"""train_step updating W, m and v in place, as microgpt does, and returning the loss of the updated table."""

import math

BOS = 26


def encode(name):
    return [BOS] + [ord(ch) - ord("a") for ch in name] + [BOS]


def softmax(logits):
    max_val = max(logits)
    exps = [math.exp(val - max_val) for val in logits]
    total = sum(exps)
    return [e / total for e in exps]


def bigram_loss(W, tokens):
    n = len(tokens) - 1
    losses = []
    for pos_id in range(n):
        token_id, target_id = tokens[pos_id], tokens[pos_id + 1]
        logits = W[token_id]
        max_val = max(logits)
        losses.append(max_val + math.log(sum(math.exp(val - max_val) for val in logits)) - logits[target_id])
    return (1 / n) * sum(losses)


def bigram_grad(W, tokens):
    n = len(tokens) - 1
    grad = [[0.0] * len(row) for row in W]
    for pos_id in range(n):
        token_id, target_id = tokens[pos_id], tokens[pos_id + 1]
        probs = softmax(W[token_id])
        for j, p in enumerate(probs):
            grad[token_id][j] += p / n
        grad[token_id][target_id] -= 1 / n
    return grad


def sgd_update(params, grads, lr):
    for i, g in enumerate(grads):
        params[i] -= lr * g


def linear_lr(step, num_steps, base_lr):
    return base_lr * (1 - step / num_steps)


def adam_update(params, grads, m, v, step, lr, beta1=0.85, beta2=0.99, eps=1e-8):
    for i, g in enumerate(grads):
        m[i] = beta1 * m[i] + (1 - beta1) * g
        v[i] = beta2 * v[i] + (1 - beta2) * g**2
        m_hat = m[i] / (1 - beta1 ** (step + 1))
        v_hat = v[i] / (1 - beta2 ** (step + 1))
        params[i] -= lr * m_hat / (v_hat**0.5 + eps)


def train_step(W, tokens, m, v, step, num_steps=1000, base_lr=0.01):
    grad = bigram_grad(W, tokens)
    lr_t = linear_lr(step, num_steps, base_lr)
    for row, grad_row, m_row, v_row in zip(W, grad, m, v):
        adam_update(row, grad_row, m_row, v_row, step, lr_t)
    return bigram_loss(W, tokens)
