"""Hypothesis strategies for the course's quantities, bounded and documented.

Every value stays in the domain the assignments promise to handle: typical logits within +-50,
extreme ones within +-1000 (|z| <= 1e4 anywhere), losses up to 700 nats (exp(700) is still a finite
float). Nothing draws from the whole float range, so a failure is a bug in the submission and never
1e308 noise.

Sizes come in two kinds, as slow is not wrong. Correctness is judged on inputs any reasonable
implementation answers fast, even one that is quadratic in the vocabulary: vocabularies of 1 to 256
tokens (the course's 27 among them), sequences of up to 512 positions and 4096 logits. Scale is
judged apart, by properties of its own (`scale=True`), on vocabularies of 1,000 and 10,000 tokens
(`large_vocab_sizes`) and documents of thousands of positions (`long_sequences`).

The training step's quantities are bounded the same way: names of 1 to 8 letters, 27 x 27 tables
within +-50, Adam states as training leaves them (v >= 0), steps up to 10,000, learning rates up to
0.1 (1 for the schedule).

Vectors of every size are drawn as NumPy arrays in Hypothesis's sparse mode: one fill value and
about sqrt(n) explicit entries (most of them when n is small). A draw per entry of a 10,000-token
vocabulary would cost more than the call it feeds, and a vector filled from a drawn seed cannot be
shrunk; an array in this mode shrinks like any other draw, to the fewest entries, every entry equal
to the fill, and a fill of 0.0. A failure found on a 27-parameter Adam state or a 10,000-token
vocabulary is then reported on the smallest, plainest input that still fails.

Each strategy here is made once for its arguments and given again (`_made_once`): Hypothesis checks a
strategy object at its first draw, and one made inside a composite would be a new object, checked
again, at every draw, which was a large part of what drawing and shrinking a small input cost. The
same arguments make the same strategy, so every draw, and every example a student is shown, is the
same as with strategies made afresh (tests/engine/test_strategies_made_once.py grades with both).
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, ParamSpec, TypeVar

import numpy as np
from hypothesis import strategies as st

from gradekit.hypothesis_pins import composite
from gradekit.reference.course import LETTERS, VOCAB_SIZE, encode

TYPICAL = 50.0
EXTREME = 1000.0
EXTREME_SPREAD = 700.0
ALONE = 750.0  # how far the largest logit may stand above all others: exp(750) overflows a float
EXPLICIT_SIZE = 8
# microgpt's 27, then sizes either side of a type's boundary: ids stored as int8 or uint8 go wrong from 128 or 256.
LARGE_VOCABULARIES = (VOCAB_SIZE, 100, 127, 128, 129, 255, 256)
SCALE_VOCABULARIES = (10_000, 1000)  # the largest first: a scale property's first example
# A scale property's examples: its first alone, drawn at the largest size by every scale strategy here.
# A quadratic implementation runs out of time there; a smaller second input could not find what the
# first did not, and correctness is judged by properties of its own.
SCALE_EXAMPLES = 1
# A correctness property's examples where its assignment's bank shows no more are needed.
# benchmarks/example_counts.py grades the known-wrong files at 1, 3, 10, 30 and 100 examples; a property
# that catches every file it catches at 100 from 10 examples on runs this many, three times that. One
# that needs 30 or 100 for some file keeps the command's count (100 by default).
EARLY_CATCH_EXAMPLES = 30
MAX_POSITIONS = 512
MAX_SEQUENCE_FLOATS = 4096
SCALE_POSITIONS = (2048, 1024)
MAX_LOSS = 700.0
FLOAT32_LOSSES = 80.0  # exp(80) = 5.5e34; float32 overflows above exp(88.7)


P = ParamSpec("P")
S = TypeVar("S", bound=st.SearchStrategy[Any])
K = TypeVar("K")
V = TypeVar("V")
# Strategies already made, by their function and arguments (see `_made_once`).
_MADE: dict[tuple[Any, ...], Any] = {}
MOST_MADE = 4096  # a cap on the strategies kept, so the memory they hold stays bounded


def _kept(table: dict[K, V], key: K, make: Callable[[], V], most: int) -> V:
    """`table[key]`, made by `make` where it is missing; a table holding `most` is emptied first, so
    the memory it holds stays bounded."""
    found = table.get(key)
    if found is None:
        if len(table) >= most:
            table.clear()
        found = table[key] = make()
    return found


def _made_once(make: Callable[P, S]) -> Callable[P, S]:
    """`make`, giving the strategy it made before for the same arguments (see the module docstring).
    An argument that cannot be a key (a list) makes a strategy afresh."""

    @functools.wraps(make)
    def made(*args: P.args, **kwargs: P.kwargs) -> S:
        key = (make, *map(_exactly, args), *((name, _exactly(value)) for name, value in sorted(kwargs.items())))
        try:
            hash(key)
        except TypeError:
            return make(*args, **kwargs)
        return _kept(_MADE, key, lambda: make(*args, **kwargs), MOST_MADE)

    return made


def _exactly(value: Any) -> Any:
    """`value` as a key that tells apart what == does not: 0.0 from -0.0, 1 from 1.0 and True."""
    return (type(value), repr(value)) if isinstance(value, (int, float)) else value


@_made_once
def vocab_sizes(min_size: int = 1, max_size: int = 256) -> st.SearchStrategy[int]:
    """Vocabulary sizes for correctness: mostly small (1 to 8, shrinking towards 1), sometimes 27, 100
    or a size beside a type's boundary (127, 128, 129, 255, 256), up to max_size."""
    small = [v for v in range(min_size, EXPLICIT_SIZE + 1) if v <= max_size]
    large = [v for v in LARGE_VOCABULARIES if min_size <= v <= max_size]
    if not small or not large:
        return st.sampled_from(small or large)
    # one_of picks a branch about evenly: three small branches make a large vocabulary one draw in four.
    small_sizes = st.integers(small[0], small[-1])
    return st.one_of(small_sizes, small_sizes, small_sizes, st.sampled_from(large))


def _array(draw: Any, shape: int | tuple[int, int], elements: st.SearchStrategy[Any], dtype: type = np.float64) -> Any:
    """An array of `shape` drawn from `elements` in the sparse mode (see the module docstring).

    The fill is drawn before the explicit entries, so where a failure needs one entry to stand out,
    the fill shrinks to 0.0 and that entry carries the value (Hypothesis's arrays draw it after).
    """
    fill = draw(elements)
    return draw(_arrays(dtype, shape, elements, fill))


@_made_once
def _arrays(dtype: type, shape: int | tuple[int, int], elements: st.SearchStrategy[Any], fill: Any) -> Any:
    """Arrays of `shape` whose entries are `fill` but those drawn from `elements`.

    Hypothesis's NumPy strategies are imported at the first array drawn, not with this module: a check
    whose properties all pass on their recorded examples draws nothing."""
    from hypothesis.extra import numpy as hnp

    return hnp.arrays(dtype, shape, elements=elements, fill=st.just(fill))


@_made_once
def large_vocab_sizes() -> st.SearchStrategy[int]:
    """Vocabulary sizes for scale properties: 10,000 (tried first) and 1,000 tokens."""
    return st.sampled_from(SCALE_VOCABULARIES)


@_made_once
@composite
def logits(draw: Any, vocab: st.SearchStrategy[int] | None = None, bound: float = TYPICAL) -> list[float]:
    """A logit vector with entries in [-bound, bound]; ties and zeros come up often."""
    size = draw(vocab if vocab is not None else vocab_sizes())
    return _array(draw, size, st.floats(-bound, bound)).tolist()


@_made_once
def targets(size: int) -> st.SearchStrategy[int]:
    """A target id in range(size); the last id is drawn on purpose, as off-by-one bugs live there."""
    return st.one_of(st.integers(0, size - 1), st.just(size - 1))


@_made_once
@composite
def logits_and_target(
    draw: Any, vocab: st.SearchStrategy[int] | None = None, bound: float = TYPICAL
) -> tuple[list[float], int]:
    z = draw(logits(vocab, bound))
    return z, draw(targets(len(z)))


@_made_once
@composite
def extreme_logits(draw: Any, vocab: st.SearchStrategy[int] | None = None) -> list[float]:
    """Logits within +-1000 whose spread exceeds 700: exp() of them overflows or underflows.

    Half the time the largest stands alone, every other logit more than ALONE below it, so a max taken
    over all but one entry overflows where that entry is the largest; it sits at the first or the
    last index as often as anywhere else, where an off-by-one loop misses it.
    """
    size = draw(vocab if vocab is not None else vocab_sizes(min_size=2))
    alone = draw(st.booleans(), label="largest alone")
    gap = ALONE if alone else EXTREME_SPREAD
    top = draw(st.floats(gap - EXTREME, EXTREME))
    low = draw(st.floats(-EXTREME, top - gap))
    values = [top, low] + _array(draw, size - 2, st.floats(low, top - gap if alone else top)).tolist()
    turn = draw(st.one_of(st.integers(0, size - 1), st.sampled_from([0, 1 % size])), label="rotation")
    return values[turn:] + values[:turn]


@_made_once
@composite
def extreme_logits_and_target(draw: Any) -> tuple[list[float], int]:
    z = draw(extreme_logits())
    return z, draw(targets(len(z)))


@_made_once
@composite
def sequences(
    draw: Any, max_positions: int = MAX_POSITIONS, max_vocab: int = 256, spread: bool = True
) -> tuple[list[list[float]], list[int]]:
    """(logits_list, true_ids): n positions over one vocabulary, short ones often, long ones now and then.

    A sequence holds at most 512 positions and 4096 logits in all: 512 positions of up to 8 tokens,
    151 of 27, 40 of 100, 16 of 256; so a sum or mean cut short at a block size (16, 256) is caught.
    With `spread`, one draw in four puts rows at very different scales (each moved by 0 or +-950), so
    a document's rows shifted by one max, the document's, are caught where a row lies far below it.
    """
    size = draw(vocab_sizes(max_size=max_vocab))
    longest = max(1, min(max_positions, MAX_SEQUENCE_FLOATS // size))
    # Mostly short documents (names are), one draw in four up to the longest: enough to catch a cut.
    short = st.integers(1, min(4, longest))
    positions = draw(st.one_of(short, short, st.integers(1, min(64, longest)), st.integers(1, longest)))
    rows = _array(draw, (positions, size), st.floats(-TYPICAL, TYPICAL))
    if spread and draw(st.sampled_from((False, False, False, True)), label="rows at different scales"):
        far = EXTREME - TYPICAL
        rows = rows + _array(draw, positions, st.sampled_from((0.0, far, -far)))[:, None]
    return rows.tolist(), _array(draw, positions, targets(size), np.int64).tolist()


@_made_once
@composite
def long_sequences(draw: Any) -> tuple[list[list[float]], list[int]]:
    """(logits_list, true_ids) for scale properties: 2048 (tried first) or 1024 positions of microgpt's
    27 tokens, a document of thousands of positions."""
    positions = draw(st.sampled_from(SCALE_POSITIONS))
    rows = _array(draw, (positions, VOCAB_SIZE), st.floats(-TYPICAL, TYPICAL)).tolist()
    return rows, _array(draw, positions, targets(VOCAB_SIZE), np.int64).tolist()


@_made_once
@composite
def uniform_logits_and_target(draw: Any, bound: float = EXTREME) -> tuple[list[float], int]:
    """V equal logits (anywhere in +-bound) and a target: every token has probability 1/V."""
    size = draw(vocab_sizes())
    value = draw(st.floats(-bound, bound))
    return [value] * size, draw(targets(size))


@_made_once
@composite
def logits_target_and_index(draw: Any, max_size: int = EXPLICIT_SIZE) -> tuple[list[float], int, int]:
    """(logits, target, j): a small case and one coordinate j to probe, e.g. by finite differences."""
    z, t = draw(logits_and_target(vocab_sizes(max_size=max_size)))
    return z, t, draw(st.integers(0, len(z) - 1))


@_made_once
def losses(max_loss: float = MAX_LOSS) -> st.SearchStrategy[float]:
    """Losses in nats, from 0 up to max_loss: by default 700 (exp(700) is still a finite float), or
    FLOAT32_LOSSES, whose exp stays within float32's range too."""
    return st.one_of(st.floats(0.0, min(10.0, max_loss)), st.floats(0.0, max_loss))


@_made_once
def shifts(bound: float = EXTREME) -> st.SearchStrategy[float]:
    """A constant to add to every logit; up to +-1000, so a missing max shift overflows."""
    return st.floats(-bound, bound)


@_made_once
def margins() -> st.SearchStrategy[float]:
    """How far a true logit stands above all others: from 40 nats, where P(true) is 1 in float64."""
    return st.floats(40.0, 500.0)


# --- The training step: names, bigram tables, optimizer states, schedules -----------------------
#
# A bigram table is 27 x 27 = 729 floats, sent to the worker on every call. Its strategy draws a
# recipe (a scale, a seed and a few explicit entries) that `build_table` turns into the table: the
# recorded example stays a few numbers, and shrinking reaches the zero table with a handful of
# readable entries. Flat optimizer cases (1 to 8 parameters, a row of 27, a table of 729) are
# arrays like the logits: recorded whole, they shrink to one parameter. Scale properties, which are
# not shrunk, fill documents of 6,000 and 3,000 tokens and Adam states of 10,000 parameters from a
# drawn seed (`long_token_sequences`, `large_adam_cases`).

MAX_NAME = 8
TABLE_SCALES = (0.0, 0.08, 1.0)  # all zeros, the size of microgpt's initial weights, unit logits
MAX_STEPS = 10_000
MAX_LR = 0.1
SCALE_TOKENS = (6_000, 3_000)  # the longest first: a scale property's first example
SCALE_PARAMETERS = 10_000


@_made_once
def names(max_size: int = MAX_NAME) -> st.SearchStrategy[str]:
    """Lowercase names of 1 to max_size letters, shrinking towards 'a'; 'z' (id 25) comes up often."""
    letter = st.one_of(st.sampled_from(LETTERS), st.just("z"))
    return st.lists(letter, min_size=1, max_size=max_size).map("".join)


@_made_once
@composite
def token_sequences(draw: Any, vocab: int = VOCAB_SIZE, max_size: int = MAX_NAME + 2) -> list[int]:
    """Token ids for a bigram loss: mostly encoded names, sometimes any ids (BOS need not open or close).

    Encoded names use the same rows as context and as target; arbitrary sequences tell them apart.
    """
    if vocab == VOCAB_SIZE and draw(st.booleans()):
        return encode(draw(names(max_size - 2)))
    return draw(st.lists(targets(vocab), min_size=2, max_size=max_size))


@_made_once
@composite
def long_token_sequences(draw: Any) -> list[int]:
    """Token ids for scale properties: a document of 6,000 (tried first) or 3,000 tokens, names of 1 to
    8 letters joined as microgpt's documents are, one BOS opening, closing and between them.

    The names come from a drawn seed: a scale property is not shrunk, and a draw per token would cost
    more than the call it feeds. Every letter and BOS is a context many times over.
    """
    size = draw(st.sampled_from(SCALE_TOKENS), label="tokens")
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1), label="names seed"))
    lengths = _name_lengths(rng, size)
    letters = rng.choice(list(LETTERS), sum(lengths))
    document = encode("")[:1]
    for name in np.split(letters, np.cumsum(lengths)[:-1]):
        document += encode("".join(name))[1:]  # the name's letters and the BOS after it
    return document


def _name_lengths(rng: np.random.Generator, size: int) -> list[int]:
    """Lengths of 1 to MAX_NAME letters whose names, each with the BOS after it, fill `size` - 1 tokens."""
    lengths, room = [], size - 1
    while room:
        length = min(int(rng.integers(1, MAX_NAME + 1)), room - 1)
        if room - length - 1 == 1:  # one token left would hold no name: take it, or leave two
            length = length + 1 if length < MAX_NAME else length - 1
        lengths.append(length)
        room -= length + 1
    return lengths


@_made_once
@composite
def bigram_tables(draw: Any, max_scale: float = TYPICAL) -> dict[str, Any]:
    """A recipe for a 27 x 27 logit table (see `build_table`): zeros, microgpt's initial scale, up to +-max_scale.

    The example is the recipe, not the table: {"scale", "seed", "set"} fills the table uniformly in
    +-scale from the seed, then sets up to three entries ([row, column, value], within +-max_scale).
    A recorded example then holds a few numbers instead of 729, and it shrinks to the zero table.
    """
    scales = [s for s in TABLE_SCALES if s <= max_scale]
    scale = draw(st.one_of(st.sampled_from(scales), st.floats(0.0, max_scale)), label="table scale")
    seed = draw(st.integers(0, 2**32 - 1), label="fill seed") if scale > 0.0 else 0
    entry = st.lists(st.integers(0, VOCAB_SIZE - 1), min_size=2, max_size=2)
    entries = draw(st.lists(st.tuples(entry, st.floats(-max_scale, max_scale)), max_size=3))
    return {"scale": scale, "seed": seed, "set": [[r, c, value] for (r, c), value in entries]}


def build_table(recipe: dict[str, Any], vocab: int = VOCAB_SIZE) -> list[list[float]]:
    """The vocab x vocab table a `bigram_tables` recipe describes."""
    return _built(("table", recipe, vocab), lambda: (_fill_table(recipe, vocab),))[0]


def _fill_table(recipe: dict[str, Any], vocab: int) -> list[list[float]]:
    scale = recipe["scale"]
    values = np.zeros((vocab, vocab))
    if scale:
        values = np.random.default_rng(recipe["seed"]).uniform(-scale, scale, (vocab, vocab))
    for row, column, value in recipe["set"]:
        values[row, column] = value
    return values.tolist()


@_made_once
def moment_tables() -> st.SearchStrategy[dict[str, Any]]:
    """A recipe for Adam's (m, v) of a 27 x 27 table (see `build_moments`): fresh, or as training leaves them.

    {"scale": None} is m = v = 0; {"scale", "seed"} draws m normal at that scale and v >= 0 as m^2
    times a factor in [0.5, 4], so |m| / sqrt(v) stays near what training produces (independent draws
    would divide by sqrt(v) near 0).
    """
    trained = st.fixed_dictionaries(
        {"scale": st.sampled_from([1e-3, 0.01, 0.1, 1.0]), "seed": st.integers(0, 2**32 - 1)}
    )
    return st.one_of(st.just({"scale": None}), trained)


def build_moments(recipe: dict[str, Any], vocab: int = VOCAB_SIZE) -> tuple[list[list[float]], ...]:
    """The (m, v) tables a `moment_tables` recipe describes."""
    return _built(("moments", recipe, vocab), lambda: _fill_moments(recipe, vocab))


def _fill_moments(recipe: dict[str, Any], vocab: int) -> tuple[list[list[float]], ...]:
    if recipe["scale"] is None:
        return [[0.0] * vocab for _ in range(vocab)], [[0.0] * vocab for _ in range(vocab)]
    rng = np.random.default_rng(recipe["seed"])
    m = rng.normal(0.0, recipe["scale"], (vocab, vocab))
    return m.tolist(), (m * m * rng.uniform(0.5, 4.0, (vocab, vocab))).tolist()


# Tables already built, by recipe. Properties drawn from the same strategies under one seed get the
# same recipes, so most tables of a check would be filled several times; a copy costs far less.
Tables = tuple[list[list[float]], ...]
_BUILT: dict[str, Tables] = {}
MOST_BUILT = 256  # a cap on the tables kept, so the memory they hold stays bounded


def _built(recipe: tuple[Any, ...], fill: Callable[[], Tables]) -> Tables:
    """The tables `fill` makes for `recipe`, copied afresh: a property may change the tables it is given.

    Keyed by repr, which tells 0.0 from -0.0 (an entry a recipe sets may be either; == does not)."""
    made = _kept(_BUILT, repr(recipe), fill, MOST_BUILT)
    return tuple([row[:] for row in table] for table in made)


@_made_once
def optimizer_steps(max_step: int = MAX_STEPS) -> st.SearchStrategy[int]:
    """Zero-based step indices: 0 (where bias correction matters most) often, small ones, up to max_step."""
    return st.one_of(st.just(0), st.integers(0, 10), st.integers(0, max_step))


@_made_once
def learning_rates(min_lr: float = 0.0, max_lr: float = MAX_LR) -> st.SearchStrategy[float]:
    """Learning rates in [min_lr, max_lr]; microgpt's 0.01 comes up on its own."""
    return st.one_of(st.just(0.01), st.floats(min_lr, max_lr))


@_made_once
@composite
def schedules(draw: Any, max_lr: float = 1.0, room: int = 0) -> tuple[int, int, float]:
    """(step, num_steps, base_lr) with 0 <= step <= num_steps - room: the last step is drawn on purpose.

    `room` keeps that many further steps inside the schedule, for a run of several steps.
    """
    num_steps = draw(st.one_of(st.just(1000), st.integers(1 + room, MAX_STEPS)))
    last = num_steps - room
    step = draw(st.one_of(st.just(0), st.just(last), st.integers(0, last)))
    return step, num_steps, draw(learning_rates(max_lr=max_lr))


@_made_once
@composite
def train_schedules(draw: Any, room: int = 0) -> tuple[int, ...]:
    """The schedule arguments of train_step, to splat into a call: (step,) with microgpt's
    num_steps = 1000 and base_lr = 0.01 left to their defaults, or (step, num_steps, base_lr)."""
    if draw(st.booleans()):  # shrinks to False: a failure shows with microgpt's defaults left out
        return draw(schedules(max_lr=MAX_LR, room=room))
    return (draw(st.one_of(st.just(0), st.integers(0, 10), st.integers(0, 1000 - room))),)


@_made_once
def adam_hyperparameters() -> st.SearchStrategy[tuple[float, ...]]:
    """The optional arguments of adam_update, to splat into a call: () for microgpt's defaults, or
    (beta1, beta2, eps) with the earlier revision's 0.9 / 0.95 among them, and any beta in [0, 0.999]
    (0 and 0.5 drawn on purpose), as the contract bounds them no further."""
    explicit = st.tuples(
        st.one_of(st.just(0.9), st.floats(0.5, 0.95), st.sampled_from([0.0, 0.5]), st.floats(0.0, 0.999)),
        st.one_of(st.just(0.95), st.floats(0.9, 0.999), st.sampled_from([0.0, 0.5]), st.floats(0.0, 0.999)),
        st.sampled_from([1e-8, 1e-6, 1e-10]),
    )
    return st.one_of(st.just(()), st.just(()), explicit)


@_made_once
def gradient_entries() -> st.SearchStrategy[float]:
    """Gradients across scales: around 1, around 1e-3, below 1e-7 (where eps decides Adam's step) and
    up to 1e6, as the contract bounds none (a clip to [-1, 1] is caught)."""
    return st.one_of(st.floats(-1.0, 1.0), st.floats(-1e-3, 1e-3), st.floats(-1e-7, 1e-7), st.floats(-1e6, 1e6))


@_made_once
@composite
def parameter_counts(draw: Any) -> int:
    """1 to 8 parameters, sometimes a row of 27 and now and then a whole table of 729: each large
    example is recorded and sent whole. Shrinks towards 1."""
    small = st.integers(1, EXPLICIT_SIZE)
    large = st.sampled_from((VOCAB_SIZE,) * 3 + (VOCAB_SIZE**2,))
    return draw(st.one_of(small, small, small, large))


@_made_once
@composite
def sgd_cases(draw: Any) -> tuple[list[float], list[float], float]:
    """(params, grads, lr) of one length."""
    size = draw(parameter_counts())
    params = _array(draw, size, st.floats(-10.0, 10.0)).tolist()
    grads = _array(draw, size, gradient_entries()).tolist()
    return params, grads, draw(learning_rates(max_lr=1.0))


# Adam's betas as microgpt runs it, with which `adam_cases` builds its moments from earlier gradients.
ADAM_BETAS = (0.85, 0.99)
MOST_EARLIER = 3  # the earlier gradients a drawn Adam state holds


@_made_once
def earlier_gradient_entries() -> st.SearchStrategy[float]:
    """Gradients a training run met before: around 1, around 1e-3 and below 1e-7 (where eps decides
    Adam's step)."""
    return st.one_of(st.floats(-1.0, 1.0), st.floats(-1e-3, 1e-3), st.floats(-1e-7, 1e-7))


@_made_once
@composite
def adam_cases(draw: Any, fresh: bool | None = None) -> tuple[Any, ...]:
    """(params, grads, m, v, step, lr): a state training reaches, or with fresh=True m = v = 0 at step 0.

    m and v are the running averages, with microgpt's betas, of 1 to 3 earlier gradients (each entry
    within +-1) from m = v = 0, and the step is at least their count: so v = 0 only where m = 0 (or
    g^2 underflowed), and |m| / sqrt(v) stays below 2.3 as in any run. A failure shrinks to one
    earlier gradient of plain values, a state a correct run reaches after its first update, never
    m != 0 beside v = 0.
    """
    params, grads, _ = draw(sgd_cases())
    size = len(params)
    if fresh is None:
        fresh = draw(st.booleans())
    if fresh:
        return params, grads, [0.0] * size, [0.0] * size, 0, draw(learning_rates())
    beta1, beta2 = ADAM_BETAS
    m, v = np.zeros(size), np.zeros(size)
    earlier = draw(st.integers(1, MOST_EARLIER), label="earlier gradients")
    for _ in range(earlier):
        g = _array(draw, size, earlier_gradient_entries())
        m, v = beta1 * m + (1 - beta1) * g, beta2 * v + (1 - beta2) * g * g
    step = min(MAX_STEPS, earlier + draw(optimizer_steps()))
    return params, grads, m.tolist(), v.tolist(), step, draw(learning_rates())


@_made_once
@composite
def large_adam_cases(draw: Any) -> tuple[Any, ...]:
    """(params, grads, m, v, step, lr) of 10,000 parameters for scale properties: params in +-10,
    gradients across scales, m in [-1, 1] and v = m^2 times a factor in [0.5, 4], so |m| / sqrt(v)
    stays near what training produces; or m = v = 0 at step 0.

    The values come from a drawn seed: a scale property is not shrunk, and a draw per parameter would
    cost more than the call it feeds.
    """
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1), label="state seed"))
    size = SCALE_PARAMETERS
    params = rng.uniform(-10.0, 10.0, size)
    # around 1, around 1e-3 and below 1e-7, as gradient_entries draws them
    grads = rng.uniform(-1.0, 1.0, size) * rng.choice([1.0, 1e-3, 1e-7], size)
    if draw(st.booleans(), label="fresh"):
        zeros = [0.0] * size
        return params.tolist(), grads.tolist(), zeros, zeros[:], 0, draw(learning_rates())
    m = rng.uniform(-1.0, 1.0, size)
    v = m * m * rng.uniform(0.5, 4.0, size)
    return params.tolist(), grads.tolist(), m.tolist(), v.tolist(), draw(optimizer_steps()), draw(learning_rates())
