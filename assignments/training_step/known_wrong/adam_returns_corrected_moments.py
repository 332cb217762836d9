"""adam_update: returns the bias-corrected m_hat and v_hat as the new moments, not m and v.

m_hat and v_hat only size this step's update; what the next step averages into is m and v. Returned
as the moments, each step's correction is carried on, and the next step corrects a moment that was
already scaled up. Return m and v, and use m_hat and v_hat in the update alone.
"""
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
    n = len(tokens) - 1
    total = 0.0
    for i in range(n):
        row = W[tokens[i]]
        top = max(row)
        log_sum_exp = top + math.log(sum(math.exp(z - top) for z in row))
        total += log_sum_exp - row[tokens[i + 1]]
    return total / n


def bigram_grad(W, tokens):
    n = len(tokens) - 1
    grad = [[0.0] * len(row) for row in W]
    for i in range(n):
        context, target = tokens[i], tokens[i + 1]
        probs = softmax(W[context])
        for j, p in enumerate(probs):
            grad[context][j] += (p - (1.0 if j == target else 0.0)) / n
    return grad


def sgd_update(params, grads, lr):
    return [p - lr * g for p, g in zip(params, grads)]


def linear_lr(step, num_steps, base_lr):
    return base_lr * (1 - step / num_steps)


def adam_update(params, grads, m, v, step, lr, beta1=0.85, beta2=0.99, eps=1e-8):
    new_params, new_m, new_v = [], [], []
    for p, g, m_i, v_i in zip(params, grads, m, v):
        m_i = beta1 * m_i + (1 - beta1) * g
        v_i = beta2 * v_i + (1 - beta2) * g * g
        m_hat = m_i / (1 - beta1 ** (step + 1))
        v_hat = v_i / (1 - beta2 ** (step + 1))
        new_params.append(p - lr * m_hat / (v_hat ** 0.5 + eps))
        new_m.append(m_hat)
        new_v.append(v_hat)
    return new_params, new_m, new_v


def flatten(table):
    return [x for row in table for x in row]


def unflatten(values, width):
    return [values[i:i + width] for i in range(0, len(values), width)]


def train_step(W, tokens, m, v, step, num_steps=1000, base_lr=0.01):
    loss = bigram_loss(W, tokens)
    grad = bigram_grad(W, tokens)
    lr = linear_lr(step, num_steps, base_lr)
    params, new_m, new_v = adam_update(flatten(W), flatten(grad), flatten(m), flatten(v), step, lr)
    width = len(W[0])
    return loss, unflatten(params, width), unflatten(new_m, width), unflatten(new_v, width)
