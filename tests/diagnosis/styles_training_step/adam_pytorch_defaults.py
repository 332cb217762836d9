"""adam_update with PyTorch's defaults, beta1 = 0.9 and beta2 = 0.999, in NumPy."""

import numpy as np

BOS = 26


def encode(name):
    return np.array([BOS] + [ord(c) - 97 for c in name] + [BOS])


def _log_softmax(rows):
    shifted = rows - rows.max(axis=1, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))


def bigram_loss(W, tokens):
    W, tokens = np.asarray(W, dtype=float), np.asarray(tokens)
    logp = _log_softmax(W[tokens[:-1]])
    return -logp[np.arange(len(tokens) - 1), tokens[1:]].mean()


def bigram_grad(W, tokens):
    W, tokens = np.asarray(W, dtype=float), np.asarray(tokens)
    n = len(tokens) - 1
    probs = np.exp(_log_softmax(W[tokens[:-1]]))
    probs[np.arange(n), tokens[1:]] -= 1.0
    grad = np.zeros_like(W)
    np.add.at(grad, tokens[:-1], probs / n)
    return grad


def sgd_update(params, grads, lr):
    return np.asarray(params, dtype=float) - lr * np.asarray(grads, dtype=float)


def linear_lr(step, num_steps, base_lr):
    return np.float64(base_lr) * (1 - step / num_steps)


def adam_update(params, grads, m, v, step, lr, beta1=0.9, beta2=0.999, eps=1e-8):
    g = np.asarray(grads, dtype=float)
    m = beta1 * np.asarray(m, dtype=float) + (1 - beta1) * g
    v = beta2 * np.asarray(v, dtype=float) + (1 - beta2) * g**2
    m_hat = m / (1 - beta1 ** (step + 1))
    v_hat = v / (1 - beta2 ** (step + 1))
    return np.asarray(params, dtype=float) - lr * m_hat / (np.sqrt(v_hat) + eps), m, v


def train_step(W, tokens, m, v, step, num_steps=1000, base_lr=0.01):
    W = np.asarray(W, dtype=float)
    loss = bigram_loss(W, tokens)
    params, m, v = adam_update(W, bigram_grad(W, tokens), m, v, step, linear_lr(step, num_steps, base_lr))
    return loss, params, m, v
