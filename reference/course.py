"""The course's facts about tokens, defined once: the vocabulary, BOS and how a name becomes tokens.

microgpt's documents are lowercase names over a 27-token vocabulary: the letters a-z as ids 0-25 and
BOS as 26, the one special token that opens and closes every name. The strategies that draw names and
token sequences and the properties that check a student's `encode` read these from here, so no copy
of them can drift from the others; `decode` lets a report show a token list as the name it spells.

The model answer in training_step.py keeps its own `encode`: it is graded as a submission, in a
worker that cannot import gradekit, and tests/kit/test_course.py holds it to the one defined here.
"""

from __future__ import annotations

import operator

LETTERS = "abcdefghijklmnopqrstuvwxyz"
BOS = len(LETTERS)  # 26: the token after the last letter
VOCAB_SIZE = len(LETTERS) + 1  # 27


def encode(name: str) -> list[int]:
    """The tokens of a name: [BOS] + the id of each letter + [BOS]; "ava" is [26, 0, 21, 0, 26].

    A character outside a-z raises ValueError: no token stands for it.
    """
    return [BOS, *(_letter_id(c) for c in name), BOS]


def decode(tokens: list[int]) -> str:
    """The name a token list spells, BOS dropped wherever it falls: decode([26, 0, 26]) is "a".

    The inverse of `encode`, for reports that show a token list as the name it encodes. An id outside
    0..26 raises ValueError.
    """
    return "".join(name for name in map(token_name, tokens) if name != "BOS")


def token_name(token: int) -> str:
    """How a report names one token: its letter, or "BOS"."""
    index = operator.index(token)  # an int or a NumPy integer; a float is refused (TypeError)
    if index == BOS:
        return "BOS"
    if 0 <= index < len(LETTERS):
        return LETTERS[index]
    raise ValueError(f"token {token!r} is not in the course's vocabulary (ids 0..{VOCAB_SIZE - 1})")


def _letter_id(letter: str) -> int:
    index = LETTERS.find(letter) if len(letter) == 1 else -1
    if index < 0:
        raise ValueError(f"{letter!r} is not a lowercase letter a-z, so no token stands for it")
    return index
