"""microgpt's training step on a bigram table: encode, loss, gradient, SGD, the schedule and Adam.

A trainable table W (V x V, row = the current token, column = the next) stands in for the network, so
every piece of the step microgpt runs can be checked exactly: one name per step with BOS on both ends,
the mean cross-entropy over its positions, the gradient, a linearly decaying learning rate, and Adam
with bias correction. Each row's loss is taken around its largest logit (log1p of the rest), so no
table overflows exp and a confident prediction keeps its tiny loss. Results are plain Python floats
and lists so the module can also be graded as a submission; the maths holds for any V.
"""

import math

import numpy as np

# The course's BOS and encode (gradekit.reference.course), spelled out again as a student spells them:
# this file is also graded as a submission, in a worker that cannot import gradekit.
# tests/kit/test_course.py holds the two to each other.
BOS = 26
BETA1, BETA2, EPS = 0.85, 0.99, 1e-8
NUM_STEPS, BASE_LR = 1000, 0.01


def encode(name):
    return [BOS] + [ord(c) - ord("a") for c in name] + [BOS]


def _rows(W, tokens):
    """Per position: the context row's logits shifted by their max, and the exp-sum of the rest.

    Keeping the max's own exp(0) = 1 apart from the rest lets log1p see the rest whole.
    """
    contexts, targets = list(tokens[:-1]), list(tokens[1:])
    if not contexts:
        raise ValueError("a bigram loss needs at least two tokens")
    if len(contexts) < len(W):  # a name: only the rows it uses
        logits = np.array([W[c] for c in contexts], dtype=np.float64)
    else:  # a document uses each row many times: read the table once, then pick its rows
        logits = np.asarray(W, dtype=np.float64)[contexts]
    positions = np.arange(len(contexts))
    top = np.argmax(logits, axis=1)
    shifted = logits - logits[positions, top][:, None]
    exps = np.exp(shifted)
    exps[positions, top] = 0.0
    return contexts, targets, positions, shifted, exps, exps.sum(axis=1)


def _position_losses(shifted, rest, positions, targets):
    return np.log1p(rest) - shifted[positions, targets]


def bigram_loss(W, tokens):
    _, targets, positions, shifted, _, rest = _rows(W, tokens)
    losses = _position_losses(shifted, rest, positions, targets)
    return math.fsum(losses.tolist()) / len(targets)


def _bigram_loss_and_grad(W, tokens):
    contexts, targets, positions, shifted, exps, rest = _rows(W, tokens)
    losses = _position_losses(shifted, rest, positions, targets)
    exps[positions, np.argmax(shifted, axis=1)] = 1.0
    per_position = exps / (1.0 + rest)[:, None]
    # p[target] - 1 = exp(-loss) - 1: expm1 keeps its digits when p[target] is within 1e-16 of one.
    per_position[positions, targets] = np.expm1(-losses)
    grad = np.zeros((len(W), len(W[0])), dtype=np.float64)
    # Each context row collects every position it predicts from; a row used twice gets both.
    np.add.at(grad, contexts, per_position)
    return math.fsum(losses.tolist()) / len(targets), grad / len(targets)


def bigram_grad(W, tokens):
    return _bigram_loss_and_grad(W, tokens)[1].tolist()


def sgd_update(params, grads, lr):
    return [p - lr * g for p, g in zip(params, grads)]


def linear_lr(step, num_steps, base_lr):
    return base_lr * (1 - step / num_steps)


def _adam(params, grads, m, v, step, lr, beta1, beta2, eps):
    """Adam on arrays of any one shape, as microgpt writes it per parameter."""
    m = beta1 * m + (1 - beta1) * grads
    v = beta2 * v + (1 - beta2) * grads * grads
    # step counts from 0, so after the first update the moments are divided by 1 - beta.
    m_hat = m / (1 - beta1 ** (step + 1))
    v_hat = v / (1 - beta2 ** (step + 1))
    return params - lr * m_hat / (np.sqrt(v_hat) + eps), m, v


def adam_update(params, grads, m, v, step, lr, beta1=BETA1, beta2=BETA2, eps=EPS):
    arrays = (np.asarray(x, dtype=np.float64) for x in (params, grads, m, v))
    return tuple(x.tolist() for x in _adam(*arrays, step, lr, beta1, beta2, eps))


def train_step(W, tokens, m, v, step, num_steps=NUM_STEPS, base_lr=BASE_LR):
    loss, grad = _bigram_loss_and_grad(W, tokens)
    lr = linear_lr(step, num_steps, base_lr)
    table, m, v = (np.asarray(x, dtype=np.float64) for x in (W, m, v))
    table, m, v = _adam(table, grad, m, v, step, lr, BETA1, BETA2, EPS)
    return loss, table.tolist(), m.tolist(), v.tolist()
