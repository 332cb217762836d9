"""Returns numbers that lie: __eq__/__lt__/__abs__/__sub__ say close, __float__ and .data are wrong."""
import math

import numpy as np


class Liar(float):
    """A float whose comparisons and arithmetic always say "equal" or "close"."""

    def __eq__(self, other):
        return True

    def __ne__(self, other):
        return False

    def __lt__(self, other):
        return False

    def __le__(self, other):
        return True

    def __gt__(self, other):
        return False

    def __ge__(self, other):
        return True

    def __abs__(self):
        return Liar(0.0)

    def __sub__(self, other):
        return Liar(0.0)

    def __rsub__(self, other):
        return Liar(0.0)

    def __float__(self):
        return 42.0

    __hash__ = float.__hash__


class Agreeable:
    """Not a number at all, but it compares equal to everything and converts to 42."""

    def __eq__(self, other):
        return True

    def __lt__(self, other):
        return False

    def __abs__(self):
        return 0.0

    def __sub__(self, other):
        return 0.0

    def __rsub__(self, other):
        return 0.0

    def __float__(self):
        return 42.0

    __hash__ = object.__hash__


class LyingValue:
    """Looks like microgpt's Value, but its .data is a Liar worth 42."""

    def __init__(self):
        self.data = Liar(7.0)

    def __eq__(self, other):
        return True

    __hash__ = object.__hash__


def softmax(logits):
    return [Liar(1.0 / len(logits)) for _ in logits]


def cross_entropy_loss(logits, true_id):
    return Agreeable()


def sequence_loss(logits_list, true_ids):
    return LyingValue()


def perplexity(loss):
    return Liar(2.0**loss)


def softmax_cross_entropy_grad(logits, true_id):
    return [LyingValue() for _ in logits]
