"""Many small helpers (logsumexp, softmax, one-hot, zeros, flatten, axpy), each doing one thing."""
import math

BOS = 26
VOCAB = 27
LETTERS = "abcdefghijklmnopqrstuvwxyz"


def char_to_id(c):
    return LETTERS.index(c)


def encode(name):
    return [BOS, *map(char_to_id, name), BOS]


def pairs(tokens):
    return list(zip(tokens[:-1], tokens[1:]))


def logsumexp(row):
    top = max(row)
    return top + math.log(sum(math.exp(x - top) for x in row))


def softmax(row):
    lse = logsumexp(row)
    return [math.exp(x - lse) for x in row]


def one_hot(index, size=VOCAB):
    return [1.0 if i == index else 0.0 for i in range(size)]


def zeros(rows, cols):
    return [[0.0] * cols for _ in range(rows)]


def axpy(a, x, y):
    """a * x + y, entry by entry."""
    return [a * xi + yi for xi, yi in zip(x, y)]


def flatten(table):
    return [x for row in table for x in row]


def reshape(values, cols):
    return [values[i:i + cols] for i in range(0, len(values), cols)]


def position_loss(row, target):
    return logsumexp(row) - row[target]


def bigram_loss(W, tokens):
    steps = pairs(tokens)
    return sum(position_loss(W[a], b) for a, b in steps) / len(steps)


def bigram_grad(W, tokens):
    steps = pairs(tokens)
    grad = zeros(len(W), len(W[0]))
    for a, b in steps:
        delta = axpy(-1.0, one_hot(b, len(W[a])), softmax(W[a]))
        grad[a] = axpy(1.0 / len(steps), delta, grad[a])
    return grad


def sgd_update(params, grads, lr):
    return axpy(-lr, grads, params)


def linear_lr(step, num_steps, base_lr):
    progress = step / num_steps
    return base_lr * (1 - progress)


def bias_corrected(moment, beta, step):
    return moment / (1 - beta ** (step + 1))


def running_average(old, new, beta):
    return beta * old + (1 - beta) * new


def adam_update(params, grads, m, v, step, lr, beta1=0.85, beta2=0.99, eps=1e-8):
    m = [running_average(mi, g, beta1) for mi, g in zip(m, grads)]
    v = [running_average(vi, g * g, beta2) for vi, g in zip(v, grads)]
    steps = [bias_corrected(mi, beta1, step) / (math.sqrt(bias_corrected(vi, beta2, step)) + eps)
             for mi, vi in zip(m, v)]
    return axpy(-lr, steps, params), m, v


def train_step(W, tokens, m, v, step, num_steps=1000, base_lr=0.01):
    cols = len(W[0])
    loss = bigram_loss(W, tokens)
    lr = linear_lr(step, num_steps, base_lr)
    params, m, v = adam_update(flatten(W), flatten(bigram_grad(W, tokens)), flatten(m), flatten(v), step, lr)
    return loss, reshape(params, cols), reshape(m, cols), reshape(v, cols)
