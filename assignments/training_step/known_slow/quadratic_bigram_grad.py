"""bigram_grad: right, but works out its context row's gradient again at every position, by scanning the
whole document, so its time grows with the square of the tokens."""
import math

BOS = 26


def encode(name):
    return [BOS] + [ord(c) - ord("a") for c in name] + [BOS]


def _softmax(row):
    top = max(row)
    exps = [math.exp(x - top) for x in row]
    total = sum(exps)
    return [e / total for e in exps]


def bigram_loss(W, tokens):
    n = len(tokens) - 1
    total = 0.0
    for context, target in zip(tokens, tokens[1:]):
        row = W[context]
        top = max(row)
        total += top + math.log(sum(math.exp(x - top) for x in row)) - row[target]
    return total / n


def _row_grad(W, tokens, context):
    """The gradient of one context row: every position it is the context of, found by a scan of the document."""
    n = len(tokens) - 1
    probs = _softmax(W[context])
    grad = [0.0] * len(probs)
    for i in range(n):
        if tokens[i] == context:
            for j, p in enumerate(probs):
                grad[j] += p / n
            grad[tokens[i + 1]] -= 1 / n
    return grad


def bigram_grad(W, tokens):
    grad = [[0.0] * len(row) for row in W]
    for context in tokens[:-1]:
        grad[context] = _row_grad(W, tokens, context)
    return grad


def sgd_update(params, grads, lr):
    return [p - lr * g for p, g in zip(params, grads)]


def linear_lr(step, num_steps, base_lr):
    return base_lr * (1 - step / num_steps)


def adam_update(params, grads, m, v, step, lr, beta1=0.85, beta2=0.99, eps=1e-8):
    new_m = [beta1 * mi + (1 - beta1) * g for mi, g in zip(m, grads)]
    new_v = [beta2 * vi + (1 - beta2) * g * g for vi, g in zip(v, grads)]
    m_hat = [mi / (1 - beta1 ** (step + 1)) for mi in new_m]
    v_hat = [vi / (1 - beta2 ** (step + 1)) for vi in new_v]
    new_params = [p - lr * mh / (math.sqrt(vh) + eps) for p, mh, vh in zip(params, m_hat, v_hat)]
    return new_params, new_m, new_v


def train_step(W, tokens, m, v, step, num_steps=1000, base_lr=0.01):
    grad = bigram_grad(W, tokens)
    lr = linear_lr(step, num_steps, base_lr)
    new_W, new_m, new_v = [], [], []
    for w, g, mi, vi in zip(W, grad, m, v):
        row_W, row_m, row_v = adam_update(w, g, mi, vi, step, lr)
        new_W.append(row_W)
        new_m.append(row_m)
        new_v.append(row_v)
    return bigram_loss(W, tokens), new_W, new_m, new_v
