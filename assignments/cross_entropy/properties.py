"""What a right cross-entropy implementation must do, as graded properties.

Each function has one property that compares it with the reference (the identities in
gradekit.reference.identities prove the reference equal to the sympy derivation); every other property is
metamorphic, and `requires` makes it pay only once that comparison passes, so constants score 0.

Correctness is judged on vocabularies of up to 256 tokens and sequences of up to 512 positions,
where a right but slow implementation answers in time; the scale properties at the end (8 of the
100 points) ask that a function's time grow no faster than its input, from vocabularies of 1,000 to
10,000 and documents of 204 to 2,048 positions (see gradekit.call_at_scale).
"""

import math
from collections.abc import Iterable

import numpy as np
from gradekit.reference import cross_entropy as ref
from hypothesis import example, given
from hypothesis import strategies as st

from gradekit import (
    PropertyFailure,
    SubmissionRaised,
    call,
    call_at_scale,
    coerce,
    each,
    expect,
    expect_built_on,
    expect_close,
    has_nan,
    magnitude,
    prop,
)
from gradekit.precision import FLOAT32_STEP, is_float32, slack
from gradekit.strategies import (
    EARLY_CATCH_EXAMPLES,
    FLOAT32_LOSSES,
    SCALE_EXAMPLES,
    extreme_logits,
    extreme_logits_and_target,
    large_vocab_sizes,
    logits,
    logits_and_target,
    logits_target_and_index,
    long_sequences,
    losses,
    margins,
    sequences,
    shifts,
    uniform_logits_and_target,
    vocab_sizes,
)

SMALL = vocab_sizes(max_size=27)
GROWTH = 10  # a scale property times its function on an input this many times smaller first
VOCABULARY = "a vocabulary of {:,}"
QUADRATIC = "is it quadratic in the vocabulary?"
# Inputs given on purpose, so every boundary functions.py names is met under every seed (docs/contracts.md).
# An untrained model's logits over the course's 27 tokens: every loss is ln 27, the number a student knows.
UNTRAINED = [0.0] * 27
# Ties either side of the largest logit: a sum over a set of exps, or a sort, is seen here.
TIED = [0.0, 1.0, 0.0]
# Two logits 2000 apart, the largest last, the target the first: exp overflows with no max shift, with a
# max that skips the last entry, or with a shift by the first logit, the smallest or the target's; a
# clamped probability caps the loss at 27.6, far below 2000.
FAR_APART = [-1000.0, 1000.0]
# Logits a constant shift takes to 1000 and past, where exp overflows unless shifted by the max.
PAIR = [0.0, 1.0]
# The largest alone in the middle of 200 tokens, 1000 above the first and the last: a vocabulary past
# 128, where an id stored as int8 wraps.
ALONE_IN_THE_MIDDLE = [0.0] * 100 + [1000.0] + [-50.0] * 99


def _document(positions, size):
    """A document of `positions` rows over `size` tokens, every position's loss different, so the
    mean of any first k positions differs from the whole document's."""
    rows = [[round(8 * math.sin(7 * i + 3 * j + 1), 2) for j in range(size)] for i in range(positions)]
    return rows, [(5 * i + 3) % size for i in range(positions)]


# A microgpt document, "ava": rows made at tokens [BOS, a, v, a], targets [a, v, a, BOS], all 0.0 but
# the first target's logit (2) and the last's (5). Skipping the BOS target, the first position or every
# position but the last, or dividing by n - 1, n + 1 or V, is seen here.
AVA = ([[2.0] + [0.0] * 26, [0.0] * 27, [0.0] * 27, [0.0] * 26 + [5.0]], [0, 21, 0, 26])
# Targets either side of a type's boundary, 255 and 128, in a vocabulary of 256: ids kept as int8 break.
PAST_INT8 = (_document(2, 256)[0], [255, 128])
# 300 positions: a mean cut at any common block size (8, 16, 32, 64, 128, 256) differs from the whole's.
LONG_DOCUMENT = _document(300, 8)
# Rows far apart: a row 2000 above its target, one whose every logit lies 950 below the document's
# largest, one 750 above its target. An unshifted loss overflows; one shifted by the document's max
# underflows to log(0).
FAR_ROWS = ([[1000.0, 0.0, -1000.0], [-1000.0, -950.0, -960.0], [0.0, 250.0, 1000.0]], [2, 0, 1])
# The two apart: every logit past exp's range but each row near its own max, which only an unshifted
# loss fails; a row 790 below the document's largest logit, every logit within exp's range, which only
# one shifted by the document's max fails. Diagnosis probes both, so neither is named for the other.
HIGH_ROWS = ([[1000.0, 999.0, 998.0], [1001.0, 1000.0, 999.5]], [1, 0])
FAR_BELOW = ([[700.0, 0.0, -10.0], [-100.0, -90.0, -95.0]], [1, 0])
# 24 of the 28 correctness properties catch every known-wrong file they catch from 10 examples on (most
# from 1, the sequence loss's and the extreme gradient's on their explicit examples) and run
# EARLY_CATCH_EXAMPLES (benchmarks/example_counts.py); the gradient's match needs 30, and three catch
# no file of the bank, as the properties they require catch them first: those four keep the command's
# count, the scale ones run SCALE_EXAMPLES. The purity of perplexity, a float of a float, catches no
# file of the bank and runs as its sibling purity properties do.


def expect_finite(values, function):
    flat = values if isinstance(values, list) else [values]
    expect(all(math.isfinite(v) for v in flat), f"`{function}` returned a value that is not finite", returned=values)


def expect_reference(sub, function, args, expected, message, scale, own=None, on=""):
    """`function(*args)` agrees with the reference's answer, `expected`, or, where it is specified in
    terms of the submission's own `on`, with `own()` (see gradekit.expect_built_on). An answer that
    does not is asked for once more: an explicit example is not replayed as a drawn one is, and a
    function that answers the same call otherwise is then told so (gradekit.engine.calls), not only
    that it is wrong. A call that raised is told as it is, and not asked again."""
    answer = lambda: getattr(sub, function)(*args)
    try:
        if own is None:
            expect_close(answer(), expected, message, scale=scale)
        else:
            expect_built_on(sub, answer, expected, own, on, message, scale=scale)
    except SubmissionRaised:
        raise
    except PropertyFailure:
        call(sub, function, *args, want_args=True)
        raise


def expect_pure(sub, function, *args, times=2):
    """`times` identical calls give identical answers. Each reaches the worker, as it asks for the
    arguments back (an answer to a call made before is otherwise not asked for again); whether
    any changed its arguments, every call is watched for (gradekit.engine.calls)."""
    first = call(sub, function, *args, want_args=True)
    expect(not has_nan(first.returned), f"`{function}` returned NaN", returned=first.returned)
    for _ in range(times - 1):
        again = call(sub, function, *args, want_args=True)
        expect(
            first.returned == again.returned,
            f"`{function}` answered the same call twice with different values",
            returned=again.returned,
            expected=first.returned,
        )


def _mean(values: Iterable[float]) -> float:
    """The mean of a submission's losses: exact (math.fsum) where every one is finite, else as plain
    addition gives it (inf, or NaN for inf and -inf together), which fsum refuses to add."""
    losses = list(values)
    return (math.fsum(losses) if all(map(math.isfinite, losses)) else sum(losses)) / len(losses)


# softmax


@prop(
    points=6,
    functions=["softmax"],
    hint="softmax(z)_i = exp(z_i - max z) / sum_j exp(z_j - max z).",
    max_examples=EARLY_CATCH_EXAMPLES,
)
@example(z=TIED)
@given(z=logits())
def softmax_matches_reference(sub, z):
    """softmax agrees with the reference on typical logits."""
    expect_reference(sub, "softmax", (z,), ref.softmax(z), "softmax differs from the reference", magnitude(z))


@prop(
    points=5,
    functions=["softmax"],
    requires=["softmax_matches_reference"],
    hint="Probabilities are non-negative, sum to 1, and a larger logit never gets a smaller probability.",
    max_examples=EARLY_CATCH_EXAMPLES,
)
@given(z=logits())
def softmax_is_distribution(sub, z):
    """softmax returns a probability distribution that keeps the order of the logits."""
    p = sub.softmax(z)
    expect(len(p) == len(z), f"softmax returned {len(p)} probabilities for {len(z)} logits", returned=p)
    expect(min(p) >= 0.0, "a probability is negative", returned=p)
    expect_close(math.fsum(p), 1.0, "the probabilities do not sum to 1", atol=1e-9 * len(p), computed_from=[p])
    order = np.argsort(z, kind="stable")
    ranked = [p[i] for i in order]
    expect(
        all(a <= b * (1 + 1e-12) + 1e-300 for a, b in zip(ranked, ranked[1:])),
        "a larger logit got a smaller probability",
        returned=p,
    )


@prop(
    points=3,
    functions=["softmax"],
    requires=["softmax_matches_reference"],
    hint="Adding the same constant to every logit must not change softmax: shift by the max.",
    max_examples=EARLY_CATCH_EXAMPLES,
)
@example(z=PAIR, c=1000.0)
@given(z=logits(), c=shifts())
def softmax_shift_invariant(sub, z, c):
    """softmax(z + c) equals softmax(z)."""
    shifted = [x + c for x in z]
    expect_close(
        sub.softmax(shifted), sub.softmax(z), "softmax(z + c) differs from softmax(z)", scale=magnitude(shifted)
    )


@prop(
    points=4,
    functions=["softmax"],
    requires=["softmax_matches_reference"],
    hint="exp(1000) overflows: subtract max(z) before exponentiating.",
    max_examples=EARLY_CATCH_EXAMPLES,
)
@example(z=FAR_APART)
@example(z=ALONE_IN_THE_MIDDLE)
@given(z=extreme_logits())
def softmax_stable_on_extreme_logits(sub, z):
    """softmax stays finite and exact for logits up to +-1000 with spreads above 700."""
    p = sub.softmax(z)
    expect_finite(p, "softmax")
    expect_close(p, ref.softmax(z), "softmax is wrong on extreme logits", scale=magnitude(z))


@prop(
    points=1,
    functions=["softmax"],
    requires=["softmax_matches_reference"],
    hint="Build a new list; do not change the logits you were given, and keep no state between calls.",
    max_examples=EARLY_CATCH_EXAMPLES,
)
@given(z=logits(SMALL))
def softmax_is_pure(sub, z):
    """softmax leaves its argument alone and answers the same call the same way."""
    expect_pure(sub, "softmax", z)


# cross_entropy_loss


@prop(
    points=8,
    functions=["cross_entropy_loss"],
    hint="loss = -log softmax(z)[true_id] = logsumexp(z) - z[true_id], natural log.",
    max_examples=EARLY_CATCH_EXAMPLES,
)
@example(case=(UNTRAINED, 0))
@example(case=([-28.0, 0.0], 0))
@given(case=logits_and_target())
def loss_matches_reference(sub, case):
    """cross_entropy_loss agrees with the reference: on an untrained model's logits (ln 27), on a target
    28 below the other logit, and on typical logits."""
    z, t = case
    message = "the loss differs from the reference"
    expect_reference(sub, "cross_entropy_loss", case, ref.cross_entropy_loss(z, t), message, magnitude(z))


@prop(
    points=2,
    functions=["cross_entropy_loss"],
    requires=["loss_matches_reference"],
    hint="-log p is never negative when 0 < p <= 1: check the sign.",
    max_examples=EARLY_CATCH_EXAMPLES,
)
@given(case=logits_and_target())
def loss_non_negative(sub, case):
    """The loss is never negative."""
    z, t = case
    loss = sub.cross_entropy_loss(z, t)
    expect(loss >= -slack(loss, 1e-12, magnitude(z)), "the loss is negative", returned=loss, expected=">= 0")


@prop(
    points=3,
    functions=["cross_entropy_loss"],
    requires=["loss_matches_reference"],
    hint="When P(true) = 1 the loss is -log 1 = 0; no epsilon added inside the log.",
    max_examples=EARLY_CATCH_EXAMPLES,
)
@given(case=logits_and_target(), margin=margins())
def loss_zero_when_certain(sub, case, margin):
    """The loss is 0 when the true logit dominates every other by 40 nats or more (P(true) = 1)."""
    z, t = case
    z = list(z)
    z[t] = max(z) + margin
    loss = sub.cross_entropy_loss(z, t)
    expect_close(loss, 0.0, "the loss is not 0 although P(true) = 1", atol=1e-12, scale=magnitude(z))


@prop(
    points=3,
    functions=["cross_entropy_loss"],
    requires=["loss_matches_reference"],
    hint="Adding one constant to every logit must not change the loss.",
    max_examples=EARLY_CATCH_EXAMPLES,
)
@example(case=(PAIR, 0), c=1000.0)
@given(case=logits_and_target(), c=shifts())
def loss_shift_invariant(sub, case, c):
    """cross_entropy_loss(z + c, t) equals cross_entropy_loss(z, t)."""
    z, t = case
    shifted = [x + c for x in z]
    expect_close(
        sub.cross_entropy_loss(shifted, t),
        sub.cross_entropy_loss(z, t),
        "the loss changed when every logit moved by the same constant",
        scale=magnitude(shifted),
    )


@prop(
    points=3,
    functions=["cross_entropy_loss"],
    requires=["loss_matches_reference"],
    hint="Equal logits over V tokens give P = 1/V, so the loss is ln V (ln 27 = 3.2958 for microgpt).",
    max_examples=EARLY_CATCH_EXAMPLES,
)
@example(case=([1000.0] * 27, 26))
@given(case=uniform_logits_and_target())
def loss_uniform_is_log_v(sub, case):
    """Uniform logits over V tokens give a loss of ln V."""
    z, t = case
    loss = sub.cross_entropy_loss(z, t)
    expect_close(loss, math.log(len(z)), "uniform logits should give a loss of ln V", scale=magnitude(z))


@prop(
    points=3,
    functions=["cross_entropy_loss"],
    requires=["loss_matches_reference"],
    hint="Raising the true token's logit raises its probability, so the loss must fall.",
)
@given(case=logits_and_target(SMALL), rise=st.floats(0.01, 50.0))
def loss_falls_as_true_logit_rises(sub, case, rise):
    """Raising the true logit lowers the loss (strictly, unless P(true) is already 1)."""
    z, t = case
    higher = list(z)
    higher[t] += rise
    before, after = sub.cross_entropy_loss(z, t), sub.cross_entropy_loss(higher, t)
    tolerance = slack([before, after], 1e-12, magnitude(higher))
    should = "(the second call's loss should be below the first's)"
    rose = f"the loss rose when the true logit rose {should}"
    expect(after <= before + tolerance, rose, returned=after, expected=before)
    if ref.cross_entropy_loss(z, t) - ref.cross_entropy_loss(higher, t) > max(1e-6, 2 * tolerance):
        message = f"the loss did not fall when the true logit rose {should}"
        expect(after < before, message, returned=after, expected=before)


@prop(
    points=3,
    functions=["cross_entropy_loss", "softmax"],
    requires=["loss_matches_reference", "softmax_matches_reference"],
    hint="With a one-hot target, cross-entropy is KL(onehot || softmax(z)) = -log softmax(z)[t].",
    max_examples=EARLY_CATCH_EXAMPLES,
)
@given(case=logits_and_target(SMALL))
def loss_equals_kl_of_own_softmax(sub, case):
    """CE(q, p) = H(q) + KL(q || p), and H(onehot) = 0: the loss is the KL of your own softmax."""
    z, t = case
    p = sub.softmax(z)
    onehot = [1.0 if i == t else 0.0 for i in range(len(z))]
    kl = math.fsum(q * math.log(q / pi) for q, pi in zip(onehot, p) if q > 0)
    expect_close(
        sub.cross_entropy_loss(z, t),
        kl,
        "the loss differs from KL(onehot || your softmax)",
        rtol=1e-7,
        scale=magnitude(z),
        computed_from=[p],
    )


@prop(
    points=5,
    functions=["cross_entropy_loss"],
    requires=["loss_matches_reference"],
    hint="Use logsumexp(z) - z[t]: -log(softmax) underflows to inf, and a clamp caps the loss.",
    max_examples=EARLY_CATCH_EXAMPLES,
)
@example(case=(FAR_APART, 0))
@example(case=(ALONE_IN_THE_MIDDLE, 0))
@given(case=extreme_logits_and_target())
def loss_stable_on_extreme_logits(sub, case):
    """The loss stays finite and exact for logits up to +-1000 with spreads above 700."""
    z, t = case
    loss = sub.cross_entropy_loss(z, t)
    expect_finite(loss, "cross_entropy_loss")
    expect_close(loss, ref.cross_entropy_loss(z, t), "the loss is wrong on extreme logits", scale=magnitude(z))


@prop(
    points=1,
    functions=["cross_entropy_loss"],
    requires=["loss_matches_reference"],
    hint="Do not change the logits you were given, and keep no state between calls.",
    max_examples=EARLY_CATCH_EXAMPLES,
)
@given(case=logits_and_target(SMALL))
def loss_is_pure(sub, case):
    """cross_entropy_loss leaves its arguments alone and answers the same call the same way."""
    expect_pure(sub, "cross_entropy_loss", *case)


# sequence_loss


@prop(
    points=6,
    functions=["sequence_loss"],
    hint="The mean (not the sum) over every position i of cross_entropy_loss(logits_list[i], true_ids[i]).",
    max_examples=EARLY_CATCH_EXAMPLES,
)
@example(case=AVA)
@example(case=PAST_INT8)
@example(case=LONG_DOCUMENT)
@example(case=FAR_ROWS)
@example(case=HIGH_ROWS)
@example(case=FAR_BELOW)
@given(case=sequences())
def sequence_loss_matches_reference(sub, case):
    """sequence_loss agrees with the reference, from one position to 512, on rows up to +-1000, or
    with the mean of your own cross_entropy_loss, as it is specified: a wrong loss is that function's
    mistake alone."""
    rows, ids = case
    message = "the sequence loss differs from the reference"
    own = lambda: _mean(each(sub, "cross_entropy_loss", zip(rows, ids)))
    expected = ref.sequence_loss(rows, ids)
    expect_reference(sub, "sequence_loss", case, expected, message, magnitude(rows), own, "cross_entropy_loss")


@prop(
    points=3,
    functions=["sequence_loss", "cross_entropy_loss"],
    requires=["sequence_loss_matches_reference", "loss_matches_reference"],
    hint="sequence_loss(Z, T) = (1/n) * sum_i cross_entropy_loss(Z[i], T[i]).",
    max_examples=EARLY_CATCH_EXAMPLES,
)
@given(case=sequences(max_positions=6, max_vocab=27))
def sequence_loss_is_mean_of_positions(sub, case):
    """sequence_loss equals the mean of your own per-position losses."""
    rows, ids = case
    each = [sub.cross_entropy_loss(z, t) for z, t in zip(rows, ids)]
    expect_close(
        sub.sequence_loss(rows, ids),
        _mean(each),
        "the sequence loss is not the mean of the per-position losses",
        rtol=1e-9,
        scale=magnitude(rows),
        computed_from=[each],
    )


@prop(
    points=3,
    functions=["sequence_loss"],
    requires=["sequence_loss_matches_reference"],
    hint="A mean does not depend on the order of the positions.",
    max_examples=EARLY_CATCH_EXAMPLES,
)
@given(case=sequences(), order_seed=st.integers(0, 2**32 - 1))
def sequence_loss_order_invariant(sub, case, order_seed):
    """Reordering the positions (logits with their targets) leaves the sequence loss unchanged."""
    rows, ids = case
    order = np.random.default_rng(order_seed).permutation(len(rows)).tolist()
    expect_close(
        sub.sequence_loss([rows[i] for i in order], [ids[i] for i in order]),
        sub.sequence_loss(rows, ids),
        "reordering the positions changed the loss",
        rtol=1e-9,
        scale=magnitude(rows),
    )


@prop(
    points=2,
    functions=["sequence_loss", "cross_entropy_loss"],
    requires=["sequence_loss_matches_reference", "loss_matches_reference"],
    hint="With one position the mean is that position's loss.",
)
@given(case=logits_and_target())
def sequence_loss_single_position(sub, case):
    """A one-position sequence has the loss of that position."""
    z, t = case
    expect_close(
        sub.sequence_loss([z], [t]),
        sub.cross_entropy_loss(z, t),
        "one position's sequence loss differs from its cross_entropy_loss",
        scale=magnitude(z),
    )


# Eight positions whose losses sum to different last bits in many orders. Two sums in random orders
# still agree 4 times in 10, eight agree 1 time in 200: the purity of sequence_loss asks eight times, so
# a sum in a random order is seen at once, whatever the draws.
PURITY_CALLS = 8
ORDER_SENSITIVE = (
    [[round(((i * 7 + j * 13) % 17 - 8.0) * 1.1 * (1 + i / 3), 1) for j in range(5)] for i in range(8)],
    [(3 * i + 1) % 5 for i in range(8)],
)


@prop(
    points=1,
    functions=["sequence_loss"],
    requires=["sequence_loss_matches_reference"],
    hint="Do not change the lists you were given, and keep no state between calls.",
    max_examples=EARLY_CATCH_EXAMPLES,
)
@example(case=ORDER_SENSITIVE)
@given(case=sequences(max_positions=8, max_vocab=27, spread=False))
def sequence_loss_is_pure(sub, case):
    """sequence_loss leaves its arguments alone and answers the same call the same way."""
    expect_pure(sub, "sequence_loss", *case, times=PURITY_CALLS)


# perplexity


@prop(
    points=4,
    functions=["perplexity"],
    hint="Perplexity is exp(loss) with the natural exponential (not 2 ** loss), for every loss.",
    max_examples=EARLY_CATCH_EXAMPLES,
)
@given(loss=losses(FLOAT32_LOSSES), nudge=st.floats(1e-7, 1e-3))
def perplexity_matches_reference(sub, loss, nudge):
    """perplexity is exp(loss), for losses from 0 to 80 nats, also for two losses a hair apart."""
    for value in (loss, loss + nudge):
        expect_close(sub.perplexity(value), ref.perplexity(value), "perplexity differs from exp(loss)", scale=value)


@prop(
    points=2,
    functions=["perplexity"],
    requires=["perplexity_matches_reference"],
    hint="exp(700) is 1e304, finite in Python floats and float64: return it whole, with no cap and no float32.",
    max_examples=EARLY_CATCH_EXAMPLES,
)
@example(loss=700.0)
@given(loss=losses())
def perplexity_stable_on_large_losses(sub, loss):
    """perplexity stays finite and exact for losses up to 700 nats, past float32's range. An overflow is
    put down to float32 only where the answer for a loss of 80 is a float32 value."""
    value = sub.perplexity(loss)
    own = [sub.perplexity(FLOAT32_LOSSES)] if math.isinf(value) else []  # computed in float32?
    expect_close(
        value, ref.perplexity(loss), "perplexity differs from exp(loss) on a large loss", scale=loss, computed_from=own
    )


@prop(
    points=3,
    functions=["perplexity", "cross_entropy_loss"],
    requires=["perplexity_matches_reference", "loss_matches_reference"],
    hint="Uniform logits over V tokens give perplexity V: the model is choosing between V tokens.",
)
@given(size=vocab_sizes(), value=st.floats(-50.0, 50.0))
def perplexity_of_uniform_is_v(sub, size, value):
    """perplexity(cross_entropy_loss(uniform logits)) equals the vocabulary size."""
    loss = sub.cross_entropy_loss([value] * size, size - 1)
    ppl = sub.perplexity(loss)
    message = "the perplexity of uniform logits should be V"
    expect_close(ppl, float(size), message, rtol=1e-9, scale=math.log(size), computed_from=[loss])


@prop(
    points=1,
    functions=["perplexity"],
    requires=["perplexity_matches_reference"],
    hint="Keep no state between calls: the same loss always gives the same perplexity.",
    max_examples=EARLY_CATCH_EXAMPLES,
)
@given(loss=losses())
def perplexity_is_pure(sub, loss):
    """perplexity answers the same call the same way."""
    expect_pure(sub, "perplexity", loss)


# softmax_cross_entropy_grad


@prop(
    points=6,
    functions=["softmax_cross_entropy_grad"],
    hint="dL/dz = softmax(z) - onehot(true_id): subtract 1 at the true token only.",
)
@given(case=logits_and_target())
def grad_matches_identity(sub, case):
    """The gradient equals the sympy-derived identity softmax(z) - onehot(t)."""
    expect_gradient(sub, *case, "the gradient differs from softmax(z) - onehot(t)")


def expect_gradient(sub, z, t, message):
    """The gradient is the identity's, or softmax(z) - onehot(t) from your own softmax, what it is
    specified as (a wrong softmax is that function's mistake alone: gradekit.expect_built_on)."""
    answer = lambda: sub.softmax_cross_entropy_grad(z, t)
    expected = ref.softmax_cross_entropy_grad(z, t)
    expect_built_on(sub, answer, expected, lambda: _from_own_softmax(sub, z, t), "softmax", message, scale=magnitude(z))


def _from_own_softmax(sub, z, t):
    """softmax(z) - onehot(t) from your own softmax."""
    return [p - (i == t) for i, p in enumerate(sub.softmax(z))]


@prop(
    points=3,
    functions=["softmax_cross_entropy_grad"],
    requires=["grad_matches_identity"],
    hint="softmax sums to 1 and the one-hot sums to 1, so the gradient sums to 0.",
    max_examples=EARLY_CATCH_EXAMPLES,
)
@given(case=logits_and_target())
def grad_sums_to_zero(sub, case):
    """The gradient's entries sum to 0."""
    z, t = case
    g = sub.softmax_cross_entropy_grad(z, t)
    expect_close(math.fsum(g), 0.0, "the gradient does not sum to 0", atol=1e-10 * max(1, len(g)), computed_from=[g])


@prop(
    points=4,
    functions=["softmax_cross_entropy_grad", "cross_entropy_loss"],
    requires=["grad_matches_identity", "loss_matches_reference"],
    hint="Your gradient must be the slope of your own loss: check its sign and the true token's entry.",
    max_examples=EARLY_CATCH_EXAMPLES,
)
@example(case=([0.0, 1.0, 2.0], 0, 2))  # a gradient from probabilities that do not sum to 1 fails here
@given(case=logits_target_and_index())
def grad_matches_finite_differences(sub, case):
    """Each entry matches the central difference (L(z + h e_j) - L(z - h e_j)) / 2h of your own loss.

    A loss computed in float32 is differenced over a wider step, as its rounding would swamp a narrow
    one. That step is the same for every logit: the loss curves no faster where the logits are large,
    and float32 rounds a logit of this size by far less than the step."""
    z, t, j = case
    slope, float32 = _slope(sub, z, t, j, 1e-5 * max(1.0, abs(z[j])))
    if float32:
        slope, _ = _slope(sub, z, t, j, FLOAT32_STEP)
    g = sub.softmax_cross_entropy_grad(z, t)
    rtol, atol = (1e-2, 1e-3) if float32 else (1e-4, 1e-6)
    expect_close(g[j], slope, f"gradient entry {j} differs from the slope of your loss", rtol=rtol, atol=atol)


def _slope(sub, z, t, j, h):
    """The central difference of your loss along z[j] over a step of h, and whether your loss is float32."""
    up, down = list(z), list(z)
    up[j] += h
    down[j] -= h
    losses_at = [sub.cross_entropy_loss(up, t), sub.cross_entropy_loss(down, t)]
    return (losses_at[0] - losses_at[1]) / (up[j] - down[j]), is_float32(losses_at)


@prop(
    points=3,
    functions=["softmax_cross_entropy_grad"],
    requires=["grad_matches_identity"],
    hint="Compute softmax with the max shift inside the gradient too: exp(1000) overflows.",
    max_examples=EARLY_CATCH_EXAMPLES,
)
@example(case=(FAR_APART, 0))
@example(case=(ALONE_IN_THE_MIDDLE, 0))
@given(case=extreme_logits_and_target())
def grad_stable_on_extreme_logits(sub, case):
    """The gradient stays finite and exact for logits up to +-1000 with spreads above 700."""
    expect_gradient(sub, *case, "the gradient is wrong on extreme logits")


@prop(
    points=1,
    functions=["softmax_cross_entropy_grad"],
    requires=["grad_matches_identity"],
    hint="Build a new list for the gradient; do not write into the logits you were given.",
    max_examples=EARLY_CATCH_EXAMPLES,
)
@given(case=logits_and_target(SMALL))
def grad_is_pure(sub, case):
    """The gradient leaves its arguments alone and answers the same call the same way."""
    expect_pure(sub, "softmax_cross_entropy_grad", *case)


# scale: the same functions on large inputs, within the time limit (slow is not wrong: these run
# after every correctness property, and no correctness property waits on them)


@prop(
    points=2,
    functions=["softmax"],
    requires=["softmax_matches_reference"],
    scale=True,
    max_examples=SCALE_EXAMPLES,
    hint="softmax is linear in the vocabulary: one pass for the max, one for the sum, one to divide.",
)
@given(z=logits(large_vocab_sizes()))
def softmax_scales_to_large_vocabularies(sub, z):
    """softmax's time grows with the vocabulary, not faster, up to 10,000 tokens, and agrees with the reference."""
    n = len(z) // GROWTH
    reply = call_at_scale(sub, "softmax", (z[:n],), (z,), sizes=(n, len(z)), size=VOCABULARY, question=QUADRATIC)
    p = coerce(reply.returned, reply.declared, "softmax")
    expect_close(p, ref.softmax(z), "softmax differs from the reference on a large vocabulary", scale=magnitude(z))


@prop(
    points=2,
    functions=["cross_entropy_loss"],
    requires=["loss_matches_reference"],
    scale=True,
    max_examples=SCALE_EXAMPLES,
    hint="The loss needs one logsumexp over the vocabulary: no loop inside a loop over it.",
)
@given(case=logits_and_target(large_vocab_sizes()))
def loss_scales_to_large_vocabularies(sub, case):
    """The loss's time grows with the vocabulary, not faster, up to 10,000 tokens, and agrees with the reference."""
    z, t = case
    n = len(z) // GROWTH
    small, large = (z[:n], t % n), (z, t)
    function = "cross_entropy_loss"
    reply = call_at_scale(sub, function, small, large, sizes=(n, len(z)), size=VOCABULARY, question=QUADRATIC)
    loss = coerce(reply.returned, reply.declared, function)
    expect_close(
        loss,
        ref.cross_entropy_loss(z, t),
        "the loss differs from the reference on a large vocabulary",
        scale=magnitude(z),
    )


@prop(
    points=2,
    functions=["sequence_loss"],
    requires=["sequence_loss_matches_reference"],
    scale=True,
    max_examples=SCALE_EXAMPLES,
    hint="One loss per position, summed once: the work grows with the positions, not their square.",
)
@given(case=long_sequences())
def sequence_loss_scales_to_long_documents(sub, case):
    """sequence_loss's time grows with the positions, not faster, up to 2,048, and agrees with the reference."""
    rows, ids = case
    n = len(rows) // GROWTH
    small, large = (rows[:n], ids[:n]), (rows, ids)
    size, question = "a document of {:,} positions", "is it quadratic in the positions?"
    reply = call_at_scale(sub, "sequence_loss", small, large, sizes=(n, len(rows)), size=size, question=question)
    loss = coerce(reply.returned, reply.declared, "sequence_loss")
    message = "the sequence loss differs from the reference on a long document"
    own = lambda: _mean(each(sub, "cross_entropy_loss", zip(rows, ids)))
    expected = ref.sequence_loss(rows, ids)
    expect_built_on(sub, lambda: loss, expected, own, "cross_entropy_loss", message, scale=magnitude(rows))


@prop(
    points=2,
    functions=["softmax_cross_entropy_grad"],
    requires=["grad_matches_identity"],
    scale=True,
    max_examples=SCALE_EXAMPLES,
    hint="Compute softmax once and subtract 1 at the target: the gradient is linear in the vocabulary.",
)
@given(case=logits_and_target(large_vocab_sizes()))
def grad_scales_to_large_vocabularies(sub, case):
    """The gradient's time grows with the vocabulary, not faster, up to 10,000 tokens, and agrees with the identity."""
    z, t = case
    n = len(z) // GROWTH
    small, large = (z[:n], t % n), (z, t)
    function = "softmax_cross_entropy_grad"
    reply = call_at_scale(sub, function, small, large, sizes=(n, len(z)), size=VOCABULARY, question=QUADRATIC)
    g = coerce(reply.returned, reply.declared, function)
    message = "the gradient differs from softmax(z) - onehot(t) on a large vocabulary"
    expected = ref.softmax_cross_entropy_grad(z, t)
    own = lambda: _from_own_softmax(sub, z, t)
    expect_built_on(sub, lambda: g, expected, own, "softmax", message, scale=magnitude(z))
