"""The functions students write for the cross-entropy assignment.

Arguments arrive as Python lists of floats (and ints for token ids); any honest number comes back
fine: float, int, NumPy scalar or array, tuple, or a microgpt `Value` (alone or in a list).
"""


def softmax(logits: list[float]) -> list[float]:
    """Probabilities p_i = exp(z_i) / sum_j exp(z_j), one per logit.

    Subtract max(z) before exponentiating: the result is the same, and exp never overflows.
    """
    raise NotImplementedError


def cross_entropy_loss(logits: list[float], true_id: int) -> float:
    """The loss at one position: -log softmax(logits)[true_id], in nats (natural log).

    Compute it as logsumexp(z) - z[true_id] so a confidently wrong prediction costs its true, large
    loss instead of log(0).
    """
    raise NotImplementedError


def sequence_loss(logits_list: list[list[float]], true_ids: list[int]) -> float:
    """The loss of a document: the mean of cross_entropy_loss over its positions."""
    raise NotImplementedError


def perplexity(loss: float) -> float:
    """exp(loss): the number of tokens the model is, on average, choosing between."""
    raise NotImplementedError


def softmax_cross_entropy_grad(logits: list[float], true_id: int) -> list[float]:
    """dL/dz for L = cross_entropy_loss(logits, true_id): softmax(logits) - onehot(true_id)."""
    raise NotImplementedError
