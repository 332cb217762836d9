"""NumPy maths written back into the caller's lists with slice assignment; updates return None."""
import numpy as np

BOS = 26


def encode(name):
    return [BOS] + (np.frombuffer(name.encode(), dtype=np.uint8).astype(int) - ord("a")).tolist() + [BOS]


def _probs_and_losses(W, tokens):
    rows = np.asarray(W, dtype=np.float64)[tokens[:-1]]
    rows = rows - rows.max(axis=1, keepdims=True)
    log_total = np.log(np.exp(rows).sum(axis=1))
    targets = np.asarray(tokens[1:])
    losses = log_total - rows[np.arange(len(targets)), targets]
    return np.exp(rows - log_total[:, None]), losses


def bigram_loss(W, tokens):
    return float(np.mean(_probs_and_losses(W, tokens)[1]))


def bigram_grad(W, tokens):
    probs, _ = _probs_and_losses(W, tokens)
    n = len(tokens) - 1
    probs[np.arange(n), tokens[1:]] -= 1
    grad = np.zeros(np.shape(W))
    for context, row in zip(tokens[:-1], probs):
        grad[context] += row / n
    return grad.tolist()


def sgd_update(params, grads, lr):
    params[:] = (np.asarray(params) - lr * np.asarray(grads)).tolist()


def linear_lr(step, num_steps, base_lr):
    return float(np.interp(step, [0, num_steps], [base_lr, 0.0]))


def adam_update(params, grads, m, v, step, lr, beta1=0.85, beta2=0.99, eps=1e-8):
    g = np.asarray(grads, dtype=np.float64)
    new_m = beta1 * np.asarray(m, dtype=np.float64) + (1 - beta1) * g
    new_v = beta2 * np.asarray(v, dtype=np.float64) + (1 - beta2) * g * g
    m_hat = new_m / (1 - beta1 ** (step + 1))
    v_hat = new_v / (1 - beta2 ** (step + 1))
    params[:] = (np.asarray(params, dtype=np.float64) - lr * m_hat / (np.sqrt(v_hat) + eps)).tolist()
    m[:] = new_m.tolist()
    v[:] = new_v.tolist()


def train_step(W, tokens, m, v, step, num_steps=1000, base_lr=0.01):
    loss = bigram_loss(W, tokens)
    grad = bigram_grad(W, tokens)
    lr = linear_lr(step, num_steps, base_lr)
    for row, g, m_row, v_row in zip(W, grad, m, v):
        adam_update(row, g, m_row, v_row, step, lr)
    return np.float64(loss)
