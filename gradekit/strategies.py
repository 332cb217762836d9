"""Hypothesis strategies for the course's quantities, bounded and documented.

Every value stays in the domain the assignments promise to handle: typical logits within +-50,
extreme ones within +-1000 (|z| <= 1e4 anywhere), vocabularies of 1 to 10,000 tokens, sequences of
up to 4096 positions (and 4096 logits), losses up to 700 nats (exp(700) is still a finite float). Nothing draws from the
whole float range, so a failure is a bug in the submission and never 1e308 noise.

Small structures are drawn element by element, so Hypothesis shrinks them to the smallest failing
input. Large ones (a 10,000-token vocabulary, a long sequence) are filled from one drawn seed: each
Hypothesis draw costs tens of microseconds, and these examples exist to show scale, not to shrink.
"""
from __future__ import annotations

from typing import Any

import numpy as np
from hypothesis import strategies as st

TYPICAL = 50.0
EXTREME = 1000.0
EXTREME_SPREAD = 700.0
EXPLICIT_SIZE = 8
LARGE_VOCABULARIES = (27, 100, 1000, 10_000)
MAX_POSITIONS = 4096
MAX_SEQUENCE_FLOATS = 4096
MAX_LOSS = 700.0
COURSE_VOCABULARY = 27


def vocab_sizes(min_size: int = 1, max_size: int = 1000) -> st.SearchStrategy[int]:
    """Vocabulary sizes: mostly small (1 to 8, shrinking towards 1), sometimes 27 up to max_size.

    The default stops at 1000; pass max_size=10_000 where a property must see the largest
    vocabulary (agreement with the reference), as each such example sends 10,000 floats each way.
    """
    small = [v for v in range(min_size, EXPLICIT_SIZE + 1) if v <= max_size]
    large = [v for v in LARGE_VOCABULARIES if min_size <= v <= max_size]
    if not small or not large:
        return st.sampled_from(small or large)
    # one_of picks a branch about evenly: three small branches make a large vocabulary one draw in four.
    small_sizes = st.integers(small[0], small[-1])
    return st.one_of(small_sizes, small_sizes, small_sizes, st.sampled_from(large))


def _seeded_fill(draw: Any, size: int, low: float, high: float) -> list[float]:
    seed = draw(st.integers(0, 2**32 - 1), label="fill seed")
    return np.random.default_rng(seed).uniform(low, high, size).tolist()


@st.composite
def logits(draw: Any, vocab: st.SearchStrategy[int] | None = None, bound: float = TYPICAL) -> list[float]:
    """A logit vector with entries in [-bound, bound]; ties and zeros come up often."""
    size = draw(vocab if vocab is not None else vocab_sizes())
    if size <= EXPLICIT_SIZE:
        return draw(st.lists(st.floats(-bound, bound), min_size=size, max_size=size))
    spread = draw(st.floats(0.0, bound))
    return _seeded_fill(draw, size, -spread, spread)


@st.composite
def targets(draw: Any, size: int) -> int:
    """A target id in range(size); the last id is drawn on purpose, as off-by-one bugs live there."""
    return draw(st.one_of(st.integers(0, size - 1), st.just(size - 1)))


@st.composite
def logits_and_target(draw: Any, vocab: st.SearchStrategy[int] | None = None, bound: float = TYPICAL) -> tuple[list[float], int]:
    z = draw(logits(vocab, bound))
    return z, draw(targets(len(z)))


@st.composite
def extreme_logits(draw: Any, vocab: st.SearchStrategy[int] | None = None) -> list[float]:
    """Logits within +-1000 whose spread exceeds 700: exp() of them overflows or underflows."""
    size = draw(vocab if vocab is not None else vocab_sizes(min_size=2, max_size=1000))
    top = draw(st.floats(EXTREME_SPREAD - EXTREME, EXTREME))
    low = draw(st.floats(-EXTREME, top - EXTREME_SPREAD))
    middle = (
        draw(st.lists(st.floats(low, top), min_size=size - 2, max_size=size - 2))
        if size <= EXPLICIT_SIZE
        else _seeded_fill(draw, size - 2, low, top)
    )
    values = [top, low] + middle
    turn = draw(st.integers(0, size - 1), label="rotation")
    return values[turn:] + values[:turn]


@st.composite
def extreme_logits_and_target(draw: Any) -> tuple[list[float], int]:
    z = draw(extreme_logits())
    return z, draw(targets(len(z)))


@st.composite
def sequences(draw: Any, max_positions: int = MAX_POSITIONS, max_vocab: int = 100) -> tuple[list[list[float]], list[int]]:
    """(logits_list, true_ids): n positions over one vocabulary; short ones drawn, long ones filled.

    A sequence holds at most 4096 logits in all: up to 4096 positions of one token, 2048 of two,
    151 of 27, 40 of 100; so a sum or mean cut short at a block size (256, 1024) is caught.
    """
    size = draw(vocab_sizes(max_size=max_vocab))
    longest = max(1, min(max_positions, MAX_SEQUENCE_FLOATS // size))
    # Mostly short documents (names are), one draw in four up to the longest: enough to catch a cut.
    short = st.integers(1, min(4, longest))
    positions = draw(st.one_of(short, short, st.integers(1, min(64, longest)), st.integers(1, longest)))
    if positions * size <= 2 * EXPLICIT_SIZE:
        rows = draw(st.lists(st.lists(st.floats(-TYPICAL, TYPICAL), min_size=size, max_size=size),
                             min_size=positions, max_size=positions))
        ids = draw(st.lists(targets(size), min_size=positions, max_size=positions))
        return rows, ids
    seed = draw(st.integers(0, 2**32 - 1), label="fill seed")
    rng = np.random.default_rng(seed)
    spread = draw(st.floats(0.0, TYPICAL))
    rows = rng.uniform(-spread, spread, (positions, size)).tolist()
    ids = rng.integers(0, size, positions).tolist()
    return rows, ids


@st.composite
def uniform_logits_and_target(draw: Any, bound: float = EXTREME) -> tuple[list[float], int]:
    """V equal logits (anywhere in +-bound) and a target: every token has probability 1/V."""
    size = draw(vocab_sizes())
    value = draw(st.floats(-bound, bound))
    return [value] * size, draw(targets(size))


@st.composite
def logits_target_and_index(draw: Any, max_size: int = EXPLICIT_SIZE) -> tuple[list[float], int, int]:
    """(logits, target, j): a small case and one coordinate j to probe, e.g. by finite differences."""
    z, t = draw(logits_and_target(vocab_sizes(max_size=max_size)))
    return z, t, draw(st.integers(0, len(z) - 1))


def losses() -> st.SearchStrategy[float]:
    """Losses in nats, from 0 up to 700 (large losses included: exp(700) is still finite)."""
    return st.one_of(st.floats(0.0, 10.0), st.floats(0.0, MAX_LOSS))


def shifts(bound: float = EXTREME) -> st.SearchStrategy[float]:
    """A constant to add to every logit; up to +-1000, so a missing max shift overflows."""
    return st.floats(-bound, bound)


def margins() -> st.SearchStrategy[float]:
    """How far a true logit stands above all others: from 40 nats, where P(true) is 1 in float64."""
    return st.floats(40.0, 500.0)
