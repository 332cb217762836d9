"""adam_update: empties the caller's grads list with grads.clear() after the step, so the caller is left with no gradients.

Resetting gradients after an update is what microgpt does (`p.grad = 0`), and writing 0.0 into
every entry is allowed; `.clear()` removes the entries instead, and code that zips the caller's
grads with its params then does nothing. Leave `grads` alone, or write 0.0 into each entry.
"""
import math

BOS = 26


def encode(name):
    ids = [BOS]
    for ch in name:
        ids.append(ord(ch) - ord("a"))
    ids.append(BOS)
    return ids


def log_softmax(row):
    top = max(row)
    lse = top + math.log(sum(math.exp(x - top) for x in row))
    return [x - lse for x in row]


def bigram_loss(W, tokens):
    n = len(tokens) - 1
    loss = 0.0
    for i in range(n):
        loss -= log_softmax(W[tokens[i]])[tokens[i + 1]]
    return loss / n


def bigram_grad(W, tokens):
    n = len(tokens) - 1
    grad = [[0.0 for _ in row] for row in W]
    for i in range(n):
        cur, nxt = tokens[i], tokens[i + 1]
        probs = [math.exp(lp) for lp in log_softmax(W[cur])]
        for j in range(len(probs)):
            target = 1.0 if j == nxt else 0.0
            grad[cur][j] += (probs[j] - target) / n
    return grad


def sgd_update(params, grads, lr):
    return [p - lr * g for p, g in zip(params, grads)]


def linear_lr(step, num_steps, base_lr):
    return base_lr * (1 - step / num_steps)


def adam_update(params, grads, m, v, step, lr, beta1=0.85, beta2=0.99, eps=1e-8):
    for i in range(len(params)):
        g = grads[i]
        m[i] = beta1 * m[i] + (1 - beta1) * g
        v[i] = beta2 * v[i] + (1 - beta2) * g ** 2
        m_hat = m[i] / (1 - beta1 ** (step + 1))
        v_hat = v[i] / (1 - beta2 ** (step + 1))
        params[i] -= lr * m_hat / (v_hat ** 0.5 + eps)
    grads.clear()  # done with the gradients, like p.grad = 0
    return params, m, v


def train_step(W, tokens, m, v, step, num_steps=1000, base_lr=0.01):
    loss = bigram_loss(W, tokens)
    grad = bigram_grad(W, tokens)
    lr = linear_lr(step, num_steps, base_lr)
    for r in range(len(W)):
        adam_update(W[r], grad[r], m[r], v[r], step, lr)
    return loss
