"""Right to float32's precision: every table, parameter, moment and gradient is a float32 NumPy array
(about 7 digits), with the max shift; lists come back through .tolist()."""
import numpy as np

BOS = 26
F32 = np.float32


def encode(name):
    return [BOS] + [ord(c) - ord("a") for c in name] + [BOS]


def _log_probs(W, tokens):
    """The log-softmax of each position's context row, in float32."""
    rows = np.asarray(W, dtype=F32)[np.asarray(tokens[:-1])]
    shifted = rows - rows.max(axis=1, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))


def bigram_loss(W, tokens):
    log_probs = _log_probs(W, tokens)
    targets = np.asarray(tokens[1:])
    return float(-np.mean(log_probs[np.arange(len(targets)), targets]))


def bigram_grad(W, tokens):
    probs = np.exp(_log_probs(W, tokens))
    n = len(tokens) - 1
    probs[np.arange(n), np.asarray(tokens[1:])] -= F32(1.0)
    grad = np.zeros(np.shape(W), dtype=F32)
    np.add.at(grad, np.asarray(tokens[:-1]), probs / F32(n))
    return grad.tolist()


def sgd_update(params, grads, lr):
    return (np.asarray(params, dtype=F32) - F32(lr) * np.asarray(grads, dtype=F32)).tolist()


def linear_lr(step, num_steps, base_lr):
    return float(F32(base_lr) * (F32(1.0) - F32(step) / F32(num_steps)))


def _adam(params, grads, m, v, step, lr, beta1, beta2, eps):
    g = np.asarray(grads, dtype=F32)
    beta1, beta2 = F32(beta1), F32(beta2)
    m = beta1 * np.asarray(m, dtype=F32) + (F32(1.0) - beta1) * g
    v = beta2 * np.asarray(v, dtype=F32) + (F32(1.0) - beta2) * g * g
    m_hat = m / (F32(1.0) - beta1 ** F32(step + 1))
    v_hat = v / (F32(1.0) - beta2 ** F32(step + 1))
    return np.asarray(params, dtype=F32) - F32(lr) * m_hat / (np.sqrt(v_hat) + F32(eps)), m, v


def adam_update(params, grads, m, v, step, lr, beta1=0.85, beta2=0.99, eps=1e-8):
    return tuple(x.tolist() for x in _adam(params, grads, m, v, step, lr, beta1, beta2, eps))


def train_step(W, tokens, m, v, step, num_steps=1000, base_lr=0.01):
    loss = bigram_loss(W, tokens)
    new = _adam(W, bigram_grad(W, tokens), m, v, step, linear_lr(step, num_steps, base_lr), 0.85, 0.99, 1e-8)
    return loss, *(x.tolist() for x in new)
