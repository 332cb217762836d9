"""The functions students write for the training-step assignment.

Arguments arrive as Python lists (floats, and ints for token ids); a table is a list of 27 rows of 27
floats, row = the current token. Any honest number comes back fine: float, int, NumPy scalar or
array, tuple, or a microgpt `Value`. The update functions may return new values or, as microgpt does,
update the lists they were given in place and return None (train_step then returns only the loss):
both are graded the same.
"""


def encode(name: str) -> list[int]:
    """The tokens of a name: [BOS] + [ord(c) - ord('a') for c in name] + [BOS], with BOS = 26."""
    raise NotImplementedError


def bigram_loss(W: list[list[float]], tokens: list[int]) -> float:
    """The mean over the n = len(tokens) - 1 positions of -log softmax(W[tokens[i]])[tokens[i + 1]].

    Row tokens[i] of W holds the logits for the token after tokens[i]. Take each position's loss as
    logsumexp(row) - row[target], shifting by the row's max so exp never overflows.
    """
    raise NotImplementedError


def bigram_grad(W: list[list[float]], tokens: list[int]) -> list[list[float]]:
    """d bigram_loss / dW, shaped like W.

    Each position adds (softmax(W[context]) - onehot(target)) / n to its context row; rows never
    used as context get zeros.
    """
    raise NotImplementedError


def sgd_update(params: list[float], grads: list[float], lr: float) -> list[float] | None:
    """params - lr * grads, entry by entry (flat lists): the new params, or None after updating in place."""
    raise NotImplementedError


def linear_lr(step: int, num_steps: int, base_lr: float) -> float:
    """microgpt's schedule: base_lr * (1 - step / num_steps), from base_lr at step 0 down to 0."""
    raise NotImplementedError


def adam_update(
    params: list[float],
    grads: list[float],
    m: list[float],
    v: list[float],
    step: int,
    lr: float,
    beta1: float = 0.85,
    beta2: float = 0.99,
    eps: float = 1e-8,
) -> tuple[list[float], list[float], list[float]] | None:
    """One Adam update of flat lists, step counting from 0; returns (params, m, v), or None in place.

    m = beta1 * m + (1 - beta1) * g;    v = beta2 * v + (1 - beta2) * g ** 2
    m_hat = m / (1 - beta1 ** (step + 1));    v_hat = v / (1 - beta2 ** (step + 1))
    params -= lr * m_hat / (v_hat ** 0.5 + eps)
    """
    raise NotImplementedError


def train_step(
    W: list[list[float]],
    tokens: list[int],
    m: list[list[float]],
    v: list[list[float]],
    step: int,
    num_steps: int = 1000,
    base_lr: float = 0.01,
) -> tuple[float, list[list[float]], list[list[float]], list[list[float]]] | float:
    """One training step on one document: returns (loss, W, m, v), or the loss alone after updating in place.

    The loss is bigram_loss(W, tokens) before the update; then its gradient, lr = linear_lr(step,
    num_steps, base_lr), and adam_update of W with m and v (shaped like W), microgpt's betas and eps.
    """
    raise NotImplementedError
