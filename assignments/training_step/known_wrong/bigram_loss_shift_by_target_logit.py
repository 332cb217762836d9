"""bigram_loss: shifts each position's row by the target's logit instead of the row's max, so exp overflows when another logit in the row is far larger.

log(sum(exp(row - row[target]))) is the position's loss while no logit of the row exceeds the
target's by more than about 709; one 720 above it overflows exp, and the loss is inf instead of about
720. Shift by the row's own max: max(row) + log(sum(exp(row - max(row)))) - row[target].
"""
import numpy as np

BOS = 26


def encode(name):
    return [BOS] + [ord(c) - ord("a") for c in name] + [BOS]


def bigram_loss(W, tokens):
    W = np.asarray(W, dtype=np.float64)
    ctx = np.asarray(tokens[:-1])
    tgt = np.asarray(tokens[1:])
    rows = W[ctx]
    anchor = rows[np.arange(len(tgt)), tgt][:, None]
    losses = np.log(np.exp(rows - anchor).sum(axis=1))
    return float(losses.mean())


def bigram_grad(W, tokens):
    W = np.asarray(W, dtype=np.float64)
    ctx = np.asarray(tokens[:-1])
    tgt = np.asarray(tokens[1:])
    n = len(tgt)
    rows = W[ctx]
    e = np.exp(rows - rows.max(axis=1, keepdims=True))
    probs = e / e.sum(axis=1, keepdims=True)
    probs[np.arange(n), tgt] -= 1.0
    grad = np.zeros_like(W)
    for i in range(n):
        grad[ctx[i]] += probs[i] / n
    return grad


def sgd_update(params, grads, lr):
    return (np.asarray(params, dtype=np.float64) - lr * np.asarray(grads, dtype=np.float64)).tolist()


def linear_lr(step, num_steps, base_lr):
    return base_lr * (1 - step / num_steps)


def adam_update(params, grads, m, v, step, lr, beta1=0.85, beta2=0.99, eps=1e-8):
    g = np.asarray(grads, dtype=np.float64)
    m = beta1 * np.asarray(m, dtype=np.float64) + (1 - beta1) * g
    v = beta2 * np.asarray(v, dtype=np.float64) + (1 - beta2) * g ** 2
    m_hat = m / (1 - beta1 ** (step + 1))
    v_hat = v / (1 - beta2 ** (step + 1))
    p = np.asarray(params, dtype=np.float64) - lr * m_hat / (np.sqrt(v_hat) + eps)
    return p, m, v


def train_step(W, tokens, m, v, step, num_steps=1000, base_lr=0.01):
    Wa = np.asarray(W, dtype=np.float64)
    ctx = np.asarray(tokens[:-1])
    tgt = np.asarray(tokens[1:])
    rows = Wa[ctx]
    top = rows.max(axis=1)
    lse = top + np.log(np.exp(rows - top[:, None]).sum(axis=1))
    loss = float((lse - rows[np.arange(len(tgt)), tgt]).mean())
    grad = bigram_grad(W, tokens)
    lr = linear_lr(step, num_steps, base_lr)
    new_W, new_m, new_v = adam_update(W, grad, m, v, step, lr)
    return loss, new_W, new_m, new_v
