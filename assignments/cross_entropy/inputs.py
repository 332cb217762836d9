"""The inputs every cross-entropy function must answer as the solution does, across its whole contract.

`gradekit selftest cross_entropy --mutants` asks each mutant of the solution that keeps full marks,
and the solution, these inputs (see gradekit.instructor.differential). They cover what functions.py
promises, boundaries weighted:
- logits: vocabularies of 1 to 8 tokens, the course's 27, and the sizes either side of 128 and 256;
  typical logits (+-50), any logits within +-1000, ones more than 700 apart (exp over- or
  underflows), all equal; the largest logit moved to the first or the last index, or tied there;
- targets: the first id, the last, the largest logit's, any other;
- documents of 1 to 512 positions (at most 4096 logits, as the properties draw them);
- losses from 0 to 700 nats, the ends included.
"""

from hypothesis import strategies as st

from gradekit.strategies import (
    EXTREME,
    MAX_LOSS,
    MAX_POSITIONS,
    MAX_SEQUENCE_FLOATS,
    TYPICAL,
    composite,
    extreme_logits,
    logits,
)

RTOL, ATOL = 1e-9, 1e-12  # functions.py: a relative 1e-9, plus a margin that grows with the logits
SIZES = st.one_of(st.integers(1, 8), st.sampled_from((1, 2, 27, 127, 128, 129, 255, 256)))
PLACES = ("as drawn", "first", "last", "tied first and last")


@composite
def logit_vectors(draw, size=None):
    """Logits of `size` tokens (drawn from SIZES when None), of one of four kinds, the largest placed."""
    size = draw(SIZES) if size is None else size
    kind = draw(st.sampled_from(("typical", "wide", "extreme", "equal")))
    if kind == "extreme" and size >= 2:
        z = draw(extreme_logits(st.just(size)))
    elif kind == "equal":
        z = [draw(st.floats(-EXTREME, EXTREME))] * size
    else:
        z = draw(logits(st.just(size), bound=TYPICAL if kind == "typical" else EXTREME))
    place = draw(st.sampled_from(PLACES))
    top = z.index(max(z))
    if place == "first":
        z[0], z[top] = z[top], z[0]
    elif place == "last":
        z[-1], z[top] = z[top], z[-1]
    elif place == "tied first and last":
        z[0] = z[-1] = z[top]
    return z


def target_of(z):
    """The first id, the last, the largest logit's, or any."""
    return st.one_of(st.just(0), st.just(len(z) - 1), st.just(z.index(max(z))), st.integers(0, len(z) - 1))


@composite
def logits_and_target(draw):
    z = draw(logit_vectors())
    return z, draw(target_of(z))


@composite
def documents(draw):
    """(logits_list, true_ids): 1 to 512 positions of one vocabulary, at most 4096 logits; the rows
    cycle through up to four drawn vectors, the targets are drawn one by one."""
    size = draw(SIZES)
    longest = max(1, min(MAX_POSITIONS, MAX_SEQUENCE_FLOATS // size))
    short = st.integers(1, min(4, longest))
    positions = draw(st.one_of(short, st.sampled_from((1, 2, longest)), st.integers(1, longest)))
    distinct = [draw(logit_vectors(size)) for _ in range(min(positions, 4))]
    rows = [list(distinct[i % len(distinct)]) for i in range(positions)]
    ids = draw(st.lists(st.one_of(st.just(size - 1), st.integers(0, size - 1)), min_size=positions, max_size=positions))
    return rows, ids


losses = st.one_of(
    st.sampled_from((0.0, MAX_LOSS, 5e-324, 1e-300)),
    st.floats(0.0, 1e-8),
    st.floats(0.0, 10.0),
    st.floats(0.0, MAX_LOSS),
)

INPUTS = {
    "softmax": st.tuples(logit_vectors()),
    "cross_entropy_loss": logits_and_target(),
    "sequence_loss": documents(),
    "perplexity": st.tuples(losses),
    "softmax_cross_entropy_grad": logits_and_target(),
}
