"""sgd_update: multiplies the caller's grads by lr in place to get the step, so the gradients are lr times too small afterwards.

The new params are right, but the contract says not to change `grads`: after the call every
gradient the caller holds has been scaled by lr (all zero with lr = 0), so using them again (a second
step, a log of the gradient norm) reads the wrong numbers. Compute `lr * grads[i]` into a local or
a new list.
"""
import numpy as np

BOS = 26


def encode(name):
    return [BOS] + [ord(ch) - 97 for ch in name] + [BOS]


def _log_probs(W, tokens):
    Z = np.asarray(W, dtype=np.float64)[np.asarray(tokens[:-1])]
    Z = Z - Z.max(axis=1, keepdims=True)
    return Z - np.log(np.exp(Z).sum(axis=1, keepdims=True))


def bigram_loss(W, tokens):
    lp = _log_probs(W, tokens)
    targets = np.asarray(tokens[1:])
    return float(-lp[np.arange(len(targets)), targets].mean())


def bigram_grad(W, tokens):
    lp = _log_probs(W, tokens)
    n = len(tokens) - 1
    d = np.exp(lp)
    d[np.arange(n), np.asarray(tokens[1:])] -= 1.0
    grad = np.zeros((len(W), len(W[0])))
    np.add.at(grad, np.asarray(tokens[:-1]), d / n)
    return grad.tolist()


def sgd_update(params, grads, lr):
    for i in range(len(grads)):
        grads[i] *= lr
    return [p - step for p, step in zip(params, grads)]


def linear_lr(step, num_steps, base_lr):
    return base_lr * (1.0 - step / num_steps)


def adam_update(params, grads, m, v, step, lr, beta1=0.85, beta2=0.99, eps=1e-8):
    p, g, m, v = (np.asarray(x, dtype=np.float64) for x in (params, grads, m, v))
    m = beta1 * m + (1 - beta1) * g
    v = beta2 * v + (1 - beta2) * g * g
    m_hat = m / (1 - beta1 ** (step + 1))
    v_hat = v / (1 - beta2 ** (step + 1))
    p = p - lr * m_hat / (np.sqrt(v_hat) + eps)
    return p.tolist(), m.tolist(), v.tolist()


def train_step(W, tokens, m, v, step, num_steps=1000, base_lr=0.01):
    loss = bigram_loss(W, tokens)
    grad = bigram_grad(W, tokens)
    lr = linear_lr(step, num_steps, base_lr)
    new_W, new_m, new_v = adam_update(W, grad, m, v, step, lr)
    return loss, new_W, new_m, new_v
