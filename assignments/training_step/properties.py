"""What a right training step must do, as graded properties.

Each function has one property that compares it with the reference (gradekit.reference.identities proves the
reference's bigram gradient and Adam's first step from their definitions); the metamorphic ones
`require` it, so constants score 0. The update functions may return new values or update their
arguments in place: `updated` reads either, so both are graded the same.

Correctness is judged on names of up to 8 letters, documents of 21 and 303 tokens, 27 x 27 tables and
up to 729 parameters, where a right but slow implementation answers in time; the scale properties at
the end (6 of the 100 points) ask for documents of 6,000 tokens and 10,000 parameters within the time
limit.

Tolerances. Losses and plain updates are compared at rtol 1e-9 with an absolute floor that grows with
the table's scale. After an Adam step W gets one more allowance, 1e-6 * lr: a gradient entry near 0
moves its parameter by lr * g / eps, so rounding of 1e-16 in a correct gradient (p - 1 when p is
near 1, two positions that nearly cancel) becomes 1e-8 * lr there. Every bug here moves W by far more.
An answer computed in float32 is judged at float32's precision (gradekit.precision), and its W after
an Adam step may be wherever the reference's step from any gradient within float32's tolerance of the
true one puts it: float32 rounds p - 1 to 0 when p is within 6e-8 of 1, and from m = v = 0 that entry
then does not move, where the reference moves it by up to lr.
"""

import math

import numpy as np
from gradekit.reference import training_step as ref
from gradekit.reference.course import BOS, token_name
from gradekit.reference.course import VOCAB_SIZE as VOCAB
from hypothesis import example, given
from hypothesis import strategies as st

from gradekit import call, call_at_scale, close, coerce, expect, expect_close, fail, magnitude, per_submission, prop
from gradekit.course_terms import differences, value, whole
from gradekit.precision import FLOAT32_STEP, is_float32, tolerances
from gradekit.strategies import (
    EARLY_CATCH_EXAMPLES,
    SCALE_EXAMPLES,
    adam_cases,
    adam_hyperparameters,
    bigram_tables,
    build_moments,
    build_table,
    large_adam_cases,
    learning_rates,
    long_token_sequences,
    moment_tables,
    names,
    schedules,
    sgd_cases,
    shifts,
    token_sequences,
    train_schedules,
)

Table = list[list[float]]
# A logit this far above the rest of its row overflows exp(logit - any other entry) (past 709.8), while
# its row's other probabilities stay above float64's smallest (exp(-745)): shifted by the row's max,
# the loss is right whether it is a logsumexp or microgpt's -log(softmax(row)[target]). Not so the
# gradient: backward through microgpt's log multiplies by 1 / p, which overflows past 709.8 as well.
FAR = 720.0
RUN_STEPS = 3

# Inputs given on purpose, so every argument of every function is varied, and every boundary the
# contract names met, under every seed (docs/contracts.md). Explicit examples run first, and the first
# that fails is the one shown: each list opens with the plainest input, where most mistakes show.
ZERO_TABLE = {"scale": 0.0, "seed": 0, "set": []}
UNIT_TABLE = {"scale": 1.0, "seed": 0, "set": []}
TRAINED_MOMENTS = {"scale": 0.01, "seed": 1}
FRESH_MOMENTS = {"scale": None}  # m = v = 0, as training starts


def _document(names):
    """The tokens of `names` joined as microgpt's documents are, one BOS opening, closing and between them."""
    return [BOS] + [t for name in names.split() for t in ref.encode(name)[1:]]


# On a table of unit logits, a loss or gradient cut at a common block size differs from the whole's:
# 21 tokens (20 positions) past 8 and microgpt's 16; 44 names, 303 tokens, past 32, 64, 128 and 256.
SHORT_DOCUMENT = _document("emma olivia ava mia")
LONG_DOCUMENT = _document(
    "emma olivia ava isabella sophia charlotte mia amelia harper evelyn abigail emily elizabeth sofia avery "
    "ella scarlett grace chloe victoria riley aria lily aubrey zoey penelope lillian addison layla natalie "
    "camila hannah brooklyn zoe nora leah savannah audrey claire eleanor skylar ellie samantha stella"
)
# A name that is no palindrome: read backwards (W[next][current]), its loss differs.
NOT_A_PALINDROME = "emma"
# A schedule other than microgpt's in each of its three arguments, partway through.
SCHEDULE = (7, 50, 0.05)
RUN_EXAMPLES = 5  # runs of hundreds of calls each: see linear_lr_through_a_run
# Training's first step: the zero table, m = v = 0, on "a" at step 0 with microgpt's schedule. A step
# that is no Adam's, that keeps state of its own, or that takes the loss after its update shows there.
FIRST_STEP = {"table": ZERO_TABLE, "tokens": _document("a"), "state": FRESH_MOMENTS, "schedule": (0,)}


def _trained(params, gradients, *hyperparameters):
    """(m, v) as Adam leaves them after a step on each of `gradients` from m = v = 0: a state training
    reaches."""
    m, v = [0.0] * len(params), [0.0] * len(params)
    for step, grads in enumerate(gradients):
        params, m, v = ref.adam_update(params, grads, m, v, step, 0.01, *hyperparameters)
    return m, v


# Adam: microgpt's first update of one parameter; the first update of one parameter with a gradient of
# 1e-7, where sqrt(v_hat) is below eps, so that what is done with eps decides the step; then, with a
# gradient near 1e-7 beside one of 0.25, a first update with other betas, eps and lr, and the update
# three steps into a run, with microgpt's hyperparameters and with others. An Adam that reads any
# argument as its default, or as a constant, moves a parameter or a moment elsewhere.
FIRST_ADAM = ([1.0], [1.0], [0.0], [0.0], 0, 0.01)
NEAR_EPS_ADAM = ([1.0], [1e-7], [0.0], [0.0], 0, 0.01)
ADAM_PARAMS = [2.0, 0.5]
ADAM_EARLIER = ([1e-7, 0.25], [-2e-7, 0.125], [1.5e-7, -0.5])
OTHER_HYPERPARAMETERS = (0.9, 0.95, 1e-6)
FRESH_ADAM = (ADAM_PARAMS, list(ADAM_EARLIER[0]), [0.0, 0.0], [0.0, 0.0], 0, 0.05)
RUNNING_ADAM = (ADAM_PARAMS, [5e-8, 0.0625], *_trained(ADAM_PARAMS, ADAM_EARLIER), 3, 0.005)
OTHER_RUNNING_ADAM = (
    ADAM_PARAMS,
    [5e-8, 0.0625],
    *_trained(ADAM_PARAMS, ADAM_EARLIER, *OTHER_HYPERPARAMETERS),
    3,
    0.005,
)


# --- Reading what an update function produced -----------------------------------------------------

# Whether each update function returned its new values (True) or updated in place (False) is kept per
# submission: once a function is known to return its values, its arguments are not sent back, which
# spares a 27 x 27 train_step call sending its tables back. The first call always asks for them.


def updated(sub, function, *args):
    """What an update function produced, returned or written into its arguments.

    sgd_update -> params; adam_update -> (params, m, v); train_step -> (loss, W, m, v). A function
    that returns None is read from its arguments after the call; train_step must return its loss.
    """
    known = per_submission(sub).setdefault("returns values", {})
    reply = call(sub, function, *args, want_args=not known.get(function, False))
    new, in_place = read_update(function, reply)
    if not in_place:
        known.setdefault(function, True)
        return new
    expect(
        new is not None,
        f"`{function}` returned its new values before, but this time updated its arguments in place: pick one",
        returned=reply.returned,
    )
    known[function] = False
    return new


def read_update(function, reply):
    """What an update function produced, as `updated` gives it, from its reply, and whether it updated
    its arguments in place; None for that where the reply does not hold the arguments."""
    returned = coerce(reply.returned, reply.declared, function)
    if returned is not None and not (function == "train_step" and not isinstance(returned, tuple)):
        return returned, False
    if reply.args_after is None:
        return None, True
    indices = (0,) if function == "sgd_update" else (0, 2, 3)
    shape = list[float] if function != "train_step" else Table
    state = tuple(coerce(reply.args_after[i], shape, function) for i in indices)
    if function == "train_step":
        return (returned, *state), True
    return (state[0] if function == "sgd_update" else state), True


def expect_table(actual, expected, message, rtol=1e-9, atol=1e-12, scale=1.0, float32_allowance=None):
    """A table equal to the expected one within rtol and atol; the report shows the entries that differ most.

    A table of float32 values is judged at float32's precision, grown with `scale` (the inputs'
    magnitude), and may be off by `float32_allowance()` more, entry by entry. That is a function,
    called only for a float32 table float64's tolerance refuses: working it out takes reference steps
    that a float64 answer never needs.
    """
    try:
        a = np.asarray(actual, dtype=np.float64)
    except (TypeError, ValueError):
        a = None
    e = np.asarray(expected, dtype=np.float64)
    if a is None or a.shape != e.shape:
        rows = f"{len(actual)} rows" if isinstance(actual, list) else type(actual).__name__
        expect(False, f"{message}: it is not a {e.shape[0]} x {e.shape[1]} table ({rows})", returned=actual)
    if close(a, e, rtol, atol):
        return
    if is_float32(actual):
        # A tolerance of each entry's own (the allowance), which gradekit.close, one atol for all, does not take.
        rtol, atol = tolerances(rtol, atol, scale, float32=True)
        extra = float32_allowance() if float32_allowance else 0.0
        with np.errstate(invalid="ignore", over="ignore"):
            gap = np.where(np.isnan(a), np.inf, np.abs(a - e))
        if np.all(gap <= atol + extra + rtol * np.abs(e)):
            return
    expect(False, message, returned=actual, expected=expected)


def expect_shaped_like_W(table, function):
    expect(
        len(table) == VOCAB and all(len(row) == VOCAB for row in table),
        f"`{function}` did not return a table shaped like W (27 rows of 27)",
        returned=table,
    )


def expect_state(function, actual, expected, what, scale=1.0, atol=1e-12):
    """Each of a function's outputs (params, m, v...) equal to the reference's, by name."""
    for name, a, e in zip(what, actual, expected):
        expect_close(a, e, f"`{function}` got {name} wrong", atol=atol, scale=scale)


def adam_allowance(lr):
    """The extra absolute tolerance on W after an Adam step whose gradient was computed (see above)."""
    return 1e-6 * abs(lr)


def float32_gradient_allowance(W, tokens, m, v, schedule):
    """How far a float32 train_step may leave each entry of W from the reference's, past float32's own
    tolerance: the most the reference's step moves when every gradient entry moves by the tolerance a
    float32 `bigram_grad` is judged at (see above)."""
    grad = np.asarray(ref.bigram_grad(W, tokens))
    rtol, atol = tolerances(1e-9, 1e-12, magnitude(W), float32=True)
    band = atol + rtol * np.abs(grad)
    step, lr = schedule[0], schedule_lr(schedule)
    centre, low, high = (np.asarray(ref.adam_update(W, g, m, v, step, lr)[0]) for g in (grad, grad - band, grad + band))
    return np.maximum(np.abs(low - centre), np.abs(high - centre))


def zeros():
    return [[0.0] * VOCAB for _ in range(VOCAB)]


def schedule_lr(schedule):
    step, num_steps, base_lr = (list(schedule) + [1000, 0.01])[:3]
    return ref.linear_lr(step, num_steps, base_lr)


def expect_train_step(state, W, tokens, m, v, schedule, when="", loss=False):
    """train_step's W, m and v (and with loss=True its loss) equal the reference's from the same inputs.

    Returns the reference's (loss, W, m, v).
    """
    expected = ref.train_step(W, tokens, m, v, *schedule)
    expected_loss, expected_W, expected_m, expected_v = expected
    new_loss, new_W, new_m, new_v = state
    scale = max(1.0, magnitude(W))
    if loss:
        expect_close(new_loss, expected_loss, f"`train_step` returned the wrong loss{when}", scale=scale)
    atol = 1e-12 * scale + adam_allowance(schedule_lr(schedule))
    expect_table(
        new_W,
        expected_W,
        f"`train_step` left W different from the reference{when}",
        atol=atol,
        scale=scale,
        float32_allowance=lambda: float32_gradient_allowance(W, tokens, m, v, schedule),
    )
    expect_table(new_m, expected_m, f"`train_step` left m different from the reference{when}")
    expect_table(new_v, expected_v, f"`train_step` left v different from the reference{when}")
    return expected


# --- encode -----------------------------------------------------------------------------------------

# Names past every common block size (8, 16, 32, 64, 256), tried on purpose: an encode that cuts its
# name at microgpt's block size of 16, or at any other, tokenises one of them wrongly.
SEVENTEEN_LETTERS = "maximilianalexand"
LONG_NAME = "".join(chr(ord("a") + (7 * i) % 26) for i in range(300))


@prop(
    points=4,
    functions=["encode"],
    hint="tokens = [26] + [ord(c) - ord('a') for c in name] + [26]: 'a' is 0, 'z' is 25, BOS is 26.",
    max_examples=EARLY_CATCH_EXAMPLES,
)
@example(name=SEVENTEEN_LETTERS)
@example(name=LONG_NAME)
@given(name=names())
def encode_matches_reference(sub, name):
    """encode gives BOS, the letter ids, BOS."""
    tokens = sub.encode(name)
    expect(
        tokens == ref.encode(name), f"`encode` tokenised {name!r} wrongly", returned=tokens, expected=ref.encode(name)
    )


@prop(
    points=2,
    functions=["encode"],
    requires=["encode_matches_reference"],
    hint="One BOS (26) opens the name and one closes it: microgpt predicts the first letter and the end.",
    max_examples=EARLY_CATCH_EXAMPLES,
)
@given(name=names())
def encode_bos_at_both_ends(sub, name):
    """The first and last tokens are BOS."""
    tokens = sub.encode(name)
    expect(
        len(tokens) >= 2 and tokens[0] == BOS and tokens[-1] == BOS,
        f"`encode({name!r})` does not start and end with BOS = 26",
        returned=tokens,
    )


@prop(
    points=2,
    functions=["encode"],
    requires=["encode_matches_reference"],
    hint="A name of k letters gives k + 2 tokens, every one an id in 0..26.",
    max_examples=EARLY_CATCH_EXAMPLES,
)
@given(name=names())
def encode_ids_in_range_and_length(sub, name):
    """len(encode(name)) = len(name) + 2, and every id is in range(27)."""
    tokens = sub.encode(name)
    expect(
        len(tokens) == len(name) + 2,
        f"`encode({name!r})` gave {len(tokens)} tokens, not {len(name) + 2}",
        returned=tokens,
    )
    expect(all(0 <= t < VOCAB for t in tokens), f"`encode({name!r})` gave an id outside 0..26", returned=tokens)


# --- bigram_loss ------------------------------------------------------------------------------------


@prop(
    max_examples=EARLY_CATCH_EXAMPLES,
    points=6,
    functions=["bigram_loss"],
    hint="Mean over i of logsumexp(W[tokens[i]]) - W[tokens[i]][tokens[i + 1]].",
)
@given(table=bigram_tables(), tokens=token_sequences())
@example(table=ZERO_TABLE, tokens=[BOS, 1, BOS])
@example(table={"scale": 1.0, "seed": 0, "set": [[BOS, 0, FAR]]}, tokens=[BOS, 1, BOS])
@example(table=UNIT_TABLE, tokens=SHORT_DOCUMENT)
@example(table=UNIT_TABLE, tokens=LONG_DOCUMENT)
def bigram_loss_matches_reference(sub, table, tokens):
    """bigram_loss agrees with the reference: on the zero table (ln 27 at every position, an untrained
    model's loss), on a row with one logit 720 above the rest, and on documents of 21 and 303 tokens."""
    W = build_table(table)
    expect_close(
        sub.bigram_loss(W, tokens),
        ref.bigram_loss(W, tokens),
        "the loss differs from the reference",
        scale=magnitude(W),
    )


@prop(
    max_examples=EARLY_CATCH_EXAMPLES,
    points=2,
    functions=["bigram_loss"],
    requires=["bigram_loss_matches_reference"],
    hint="Equal logits give every token 1/27, so the loss is ln 27 = 3.2958 at every position.",
)
@given(value=st.one_of(st.just(0.0), st.floats(-50.0, 50.0)), tokens=token_sequences())
def bigram_loss_uniform_table_is_log_27(sub, value, tokens):
    """W = 0 (or any constant table) gives ln 27, an untrained model's loss."""
    W = [[value] * VOCAB for _ in range(VOCAB)]
    expect_close(
        sub.bigram_loss(W, tokens),
        math.log(VOCAB),
        "`bigram_loss` of a constant table should be ln 27",
        scale=abs(value),
    )


@prop(
    max_examples=EARLY_CATCH_EXAMPLES,
    points=3,
    functions=["bigram_loss"],
    requires=["bigram_loss_matches_reference"],
    hint="Only rows of tokens used as context (tokens[:-1]) reach the loss: index W[current][next].",
)
@given(table=bigram_tables(), tokens=token_sequences(), seed=st.integers(0, 2**32 - 1))
def bigram_loss_uses_only_context_rows(sub, table, tokens, seed):
    """Changing every row not used as context leaves the loss alone."""
    W = build_table(table)
    contexts = set(tokens[:-1])
    fill = np.random.default_rng(seed).uniform(-50.0, 50.0, (VOCAB, VOCAB)).tolist()
    changed = [row if r in contexts else fill[r] for r, row in enumerate(W)]
    expect_close(
        sub.bigram_loss(changed, tokens),
        sub.bigram_loss(W, tokens),
        "`bigram_loss` changed when rows never used as context changed",
        scale=max(magnitude(W), 50.0),
    )


@prop(
    max_examples=EARLY_CATCH_EXAMPLES,
    points=3,
    functions=["bigram_loss"],
    requires=["bigram_loss_matches_reference"],
    hint="Adding one constant to a row must not change the loss: shift each row by its max before exp.",
)
@given(table=bigram_tables(), tokens=token_sequences(), position=st.integers(0, 64), c=shifts())
@example(table=ZERO_TABLE, tokens=[BOS, 0, BOS], position=0, c=1000.0)
def bigram_loss_row_shift_invariant(sub, table, tokens, position, c):
    """Adding c (up to +-1000) to one context row leaves the loss unchanged and finite."""
    W = build_table(table)
    row = tokens[:-1][position % (len(tokens) - 1)]
    shifted = [[x + c for x in r] if i == row else r for i, r in enumerate(W)]
    loss = sub.bigram_loss(shifted, tokens)
    expect(math.isfinite(loss), f"`bigram_loss` is not finite after adding {c!r} to row {row}", returned=loss)
    expect_close(
        loss,
        sub.bigram_loss(W, tokens),
        f"`bigram_loss` changed when row {row} moved by {c!r}",
        scale=magnitude(shifted),
    )


# --- bigram_grad ------------------------------------------------------------------------------------


@prop(
    max_examples=EARLY_CATCH_EXAMPLES,
    points=6,
    functions=["bigram_grad"],
    hint="Row tokens[i] gets (softmax(W[tokens[i]]) - onehot(tokens[i + 1])) / n, summed over positions.",
)
@given(table=bigram_tables(), tokens=token_sequences())
@example(table=ZERO_TABLE, tokens=[BOS, 0, BOS])
@example(table=UNIT_TABLE, tokens=SHORT_DOCUMENT)
@example(table=UNIT_TABLE, tokens=LONG_DOCUMENT)
def bigram_grad_matches_identity(sub, table, tokens):
    """The gradient equals the sympy-derived closed form, on documents of 21 and 303 tokens too."""
    W = build_table(table)
    grad = sub.bigram_grad(W, tokens)
    expect_table(grad, ref.bigram_grad(W, tokens), "`bigram_grad` differs from the closed form", scale=magnitude(W))


@prop(
    max_examples=EARLY_CATCH_EXAMPLES,
    points=2,
    functions=["bigram_grad"],
    requires=["bigram_grad_matches_identity"],
    hint="softmax and the one-hot each sum to 1, so every row of the gradient sums to 0.",
)
@given(table=bigram_tables(), tokens=token_sequences(), position=st.integers(0, 64), c=shifts())
@example(table=ZERO_TABLE, tokens=[BOS, 0, BOS], position=0, c=1000.0)
def bigram_grad_rows_sum_to_zero(sub, table, tokens, position, c):
    """Every row sums to 0 and stays finite, even with a context row moved by up to +-1000."""
    W = build_table(table)
    row = tokens[:-1][position % (len(tokens) - 1)]
    shifted = [[x + c for x in r] if i == row else r for i, r in enumerate(W)]
    grad = sub.bigram_grad(shifted, tokens)
    expect_shaped_like_W(grad, "bigram_grad")
    expect(
        all(math.isfinite(x) for r in grad for x in r),
        "`bigram_grad` returned a value that is not finite",
        returned=grad,
    )
    sums = [math.fsum(r) for r in grad]
    expect_close(sums, [0.0] * VOCAB, "a row of `bigram_grad` does not sum to 0", atol=1e-12, computed_from=[grad])


@prop(
    max_examples=EARLY_CATCH_EXAMPLES,
    points=3,
    functions=["bigram_grad"],
    requires=["bigram_grad_matches_identity"],
    hint="A row never used as context (tokens[:-1]) never reaches the loss: its gradient is exactly 0.",
)
@given(table=bigram_tables(), tokens=token_sequences())
def bigram_grad_unused_rows_are_zero(sub, table, tokens):
    """Rows never used as context are exactly zero."""
    W = build_table(table)
    grad = sub.bigram_grad(W, tokens)
    contexts = set(tokens[:-1])
    for r, row in enumerate(grad):
        if r not in contexts:
            expect(
                row.count(0.0) == len(row),
                f"`bigram_grad` row {r} ({token_name(r)}) is not 0, but {token_name(r)} is never a context in tokens",
                returned=row,
                expected=[0.0] * len(row),
            )


@prop(
    max_examples=EARLY_CATCH_EXAMPLES,
    points=4,
    functions=["bigram_grad", "bigram_loss"],
    requires=["bigram_grad_matches_identity", "bigram_loss_matches_reference"],
    hint="Your gradient must be the slope of your own loss: check which row and which sign.",
)
@given(
    table=bigram_tables(max_scale=10.0),
    tokens=token_sequences(),
    position=st.integers(0, 64),
    column=st.integers(0, VOCAB - 1),
)
def bigram_grad_matches_finite_differences(sub, table, tokens, position, column):
    """Entry (context row, column) matches the central difference of your own bigram_loss.

    A loss computed in float32 is differenced over a wider step, as its rounding would swamp a narrow
    one. That step is the same for every entry: the loss curves no faster where W is large, and float32
    rounds an entry of this size by far less than the step.
    """
    W = build_table(table)
    row = tokens[:-1][position % (len(tokens) - 1)]
    slope, float32 = _slope(sub, W, tokens, row, column, 1e-5 * max(1.0, abs(W[row][column])))
    if float32:
        slope, _ = _slope(sub, W, tokens, row, column, FLOAT32_STEP)
    grad = sub.bigram_grad(W, tokens)
    expect_shaped_like_W(grad, "bigram_grad")
    rtol, atol = (1e-2, 1e-3) if float32 else (1e-4, 1e-6)
    expect_close(
        grad[row][column],
        slope,
        f"`bigram_grad` entry ({row}, {column}) differs from the slope of your `bigram_loss`",
        rtol=rtol,
        atol=atol,
    )


def _slope(sub, W, tokens, row, column, h):
    """The central difference of your bigram_loss along W[row][column] over a step of h, and whether your
    loss is float32."""
    up, down = list(W), list(W)  # the other rows are shared: only this one changes
    up[row], down[row] = list(W[row]), list(W[row])
    up[row][column] += h
    down[row][column] -= h
    losses_at = [sub.bigram_loss(up, tokens), sub.bigram_loss(down, tokens)]
    return (losses_at[0] - losses_at[1]) / (up[row][column] - down[row][column]), is_float32(losses_at)


# --- sgd_update -------------------------------------------------------------------------------------

# A whole 27 x 27 table flattened, the most parameters the contract names, tried on purpose: an update
# that cuts its lists at a block size (32, 64, 256) leaves the rest out.
WHOLE_TABLE = (
    [round(math.sin(i), 3) for i in range(729)],
    [round(math.cos(3 * i), 3) for i in range(729)],
    0.01,
)


@prop(
    points=4,
    functions=["sgd_update"],
    hint="params - lr * grads: step against the gradient, scaled by the learning rate.",
    max_examples=EARLY_CATCH_EXAMPLES,
)
@example(case=([1.0], [2.0], 0.5))
@example(case=WHOLE_TABLE)
@given(case=sgd_cases())
def sgd_matches_reference(sub, case):
    """sgd_update gives params - lr * grads."""
    params, grads, lr = case
    expect_close(
        updated(sub, "sgd_update", params, grads, lr),
        ref.sgd_update(params, grads, lr),
        "`sgd_update` differs from params - lr * grads",
        scale=max(magnitude(params), abs(lr) * magnitude(grads)),
    )


@prop(
    points=2,
    functions=["sgd_update"],
    requires=["sgd_matches_reference"],
    hint="With lr = 0, or with every gradient 0, the parameters must come back exactly as they were.",
    max_examples=EARLY_CATCH_EXAMPLES,
)
@given(case=sgd_cases())
def sgd_zero_step_changes_nothing(sub, case):
    """lr = 0 and zero gradients both leave every parameter exactly as it was (as float32 keeps it, for
    a float32 answer)."""
    params, grads, lr = case
    expect_unchanged(updated(sub, "sgd_update", params, grads, 0.0), params, "with lr = 0")
    expect_unchanged(updated(sub, "sgd_update", params, [0.0] * len(grads), lr), params, "with zero gradients")


def expect_unchanged(new, params, when):
    """`new` is `params` exactly; an answer of float32 values may also be `params` rounded to float32,
    the one change a float32 method makes to a parameter it does not move."""
    kept = [params]
    if is_float32(new):
        kept.append(np.asarray(params, dtype=np.float32).astype(np.float64).tolist())
    expect(new in kept, f"`sgd_update` {when} changed the parameters", returned=new, expected=params)


@prop(
    points=2,
    functions=["sgd_update"],
    requires=["sgd_matches_reference"],
    hint="The step is lr * grads: doubling lr must double how far every parameter moves.",
    max_examples=EARLY_CATCH_EXAMPLES,
)
@given(case=sgd_cases(), factor=st.floats(0.0, 10.0))
def sgd_linear_in_lr(sub, case, factor):
    """How far each parameter moves scales with lr: step(factor * lr) = factor * step(lr)."""
    params, grads, lr = case
    once = updated(sub, "sgd_update", params, grads, lr)
    scaled = updated(sub, "sgd_update", params, grads, factor * lr)
    expect_close(
        [s - p for s, p in zip(scaled, params)],
        [factor * (o - p) for o, p in zip(once, params)],
        f"`sgd_update` did not move {factor!r} times as far with {factor!r} times the learning rate",
        rtol=1e-6,
        scale=max(magnitude(params), factor * abs(lr) * magnitude(grads)),
        computed_from=[once, scaled],
    )


# --- linear_lr --------------------------------------------------------------------------------------


@prop(
    points=3,
    functions=["linear_lr"],
    hint="base_lr * (1 - step / num_steps): true division, step counting from 0.",
    max_examples=EARLY_CATCH_EXAMPLES,
)
@example(schedule=SCHEDULE)
@given(schedule=schedules())
def linear_lr_matches_reference(sub, schedule):
    """linear_lr agrees with microgpt's schedule."""
    expect_close(sub.linear_lr(*schedule), ref.linear_lr(*schedule), "`linear_lr` differs from the reference")


@prop(
    points=1,
    functions=["linear_lr"],
    requires=["linear_lr_matches_reference"],
    hint="The schedule starts at base_lr at step 0 and reaches 0 at step num_steps.",
    max_examples=EARLY_CATCH_EXAMPLES,
)
@given(schedule=schedules())
def linear_lr_endpoints(sub, schedule):
    """linear_lr(0) = base_lr and linear_lr(num_steps) = 0."""
    _, num_steps, base_lr = schedule
    expect_close(sub.linear_lr(0, num_steps, base_lr), base_lr, "`linear_lr` at step 0 is not base_lr")
    expect_close(sub.linear_lr(num_steps, num_steps, base_lr), 0.0, "`linear_lr` at the last step is not 0")


@prop(
    points=1,
    functions=["linear_lr"],
    requires=["linear_lr_matches_reference"],
    hint="A linear schedule drops by the same base_lr / num_steps at every step.",
    max_examples=EARLY_CATCH_EXAMPLES,
)
@given(schedule=schedules(), later=st.integers(1, 10_000))
def linear_lr_is_linear(sub, schedule, later):
    """Between two steps of the schedule the rate changes by base_lr * (steps between) / num_steps."""
    step, num_steps, base_lr = schedule
    other = (step + later) % (num_steps + 1)
    rates = [sub.linear_lr(step, num_steps, base_lr), sub.linear_lr(other, num_steps, base_lr)]
    expect_close(
        rates[0] - rates[1],
        base_lr * (other - step) / num_steps,
        f"`linear_lr` did not change linearly from step {step} to step {other}",
        rtol=1e-6,
        atol=1e-12,
        scale=abs(base_lr),
        computed_from=[rates],
    )


@prop(
    points=1,
    functions=["linear_lr"],
    requires=["linear_lr_matches_reference"],
    hint="Answer each call from its arguments alone: a cache or a counter kept between calls goes wrong in a run.",
    max_examples=RUN_EXAMPLES,
)
@example(num_steps=300, base_lr=0.01)
@given(num_steps=st.integers(260, 1000), base_lr=learning_rates(min_lr=1e-4))
def linear_lr_through_a_run(sub, num_steps, base_lr):
    """linear_lr asked for every step of a run, one after another as microgpt's training loop asks,
    answers each step as the schedule does: the loop's step counter is a new int at every step, so
    an answer kept by the arguments' identity answers a later step with an earlier one's rate. Runs
    last past step 256, where Python no longer shares its ints; the first one tried (the example)
    catches such a cache under any seed, so a few more suffice."""
    rates = sub.schedule_of_run(num_steps, base_lr)
    expect(isinstance(rates, list) and len(rates) == num_steps + 1, "`linear_lr` did not answer every step of the run")
    for step, rate in enumerate(rates):
        expect_close(
            coerce(rate, float, "linear_lr"),
            ref.linear_lr(step, num_steps, base_lr),
            f"`linear_lr({step}, {num_steps}, {base_lr!r})` answered differently in a run of steps than alone",
        )


# --- adam_update ------------------------------------------------------------------------------------


@prop(
    points=4,
    functions=["adam_update"],
    hint="Return m = beta1*m + (1 - beta1)*g, v = beta2*v + (1 - beta2)*g**2 (not m_hat), with the betas passed.",
    max_examples=EARLY_CATCH_EXAMPLES,
)
# One parameter, first: betas of 0.5 and 0.25, where `1 % beta` equals `1 - beta` no longer ((1 - beta) is
# each average's own share), told apart (betas swapped move m and v elsewhere), and a gradient of 2,
# whose square is not itself (v averaging g moves v elsewhere): m = 1, v = 3, the parameter to 0.99. The
# moments do not read eps, so it is left at its default here; the examples after this one pass it.
@example(case=([1.0], [2.0], [0.0], [0.0], 0, 0.01), extra=(0.5, 0.25))
@example(case=FRESH_ADAM, extra=OTHER_HYPERPARAMETERS)
@example(case=RUNNING_ADAM, extra=())
@example(case=OTHER_RUNNING_ADAM, extra=OTHER_HYPERPARAMETERS)
@given(case=adam_cases(), extra=adam_hyperparameters())
def adam_moments_match(sub, case, extra):
    """The new moments m and v are exactly the running averages of g and g**2."""
    params, grads, m, v, step, lr = case
    _, new_m, new_v = updated(sub, "adam_update", params, grads, m, v, step, lr, *extra)
    _, expected_m, expected_v = ref.adam_update(params, grads, m, v, step, lr, *extra)
    expect_state("adam_update", [new_m, new_v], [expected_m, expected_v], ["m", "v"])


@prop(
    points=6,
    functions=["adam_update"],
    hint="params -= lr * m_hat / (sqrt(v_hat) + eps), m_hat = m / (1 - beta1**(step + 1)), same for v.",
    max_examples=EARLY_CATCH_EXAMPLES,
    after=["adam_moments_match"],  # wrong moments move the parameters wrong: the moments' hint is the one
)
@example(case=FIRST_ADAM, extra=())
@example(case=NEAR_EPS_ADAM, extra=OTHER_HYPERPARAMETERS)
@example(case=FRESH_ADAM, extra=OTHER_HYPERPARAMETERS)
@example(case=RUNNING_ADAM, extra=())
@example(case=OTHER_RUNNING_ADAM, extra=OTHER_HYPERPARAMETERS)
@given(case=adam_cases(), extra=adam_hyperparameters())
def adam_matches_reference(sub, case, extra):
    """adam_update agrees with microgpt's Adam over any state and step."""
    params, grads, m, v, step, lr = case
    new = updated(sub, "adam_update", params, grads, m, v, step, lr, *extra)
    expected = ref.adam_update(params, grads, m, v, step, lr, *extra)
    moved = [p - e for p, e in zip(params, expected[0])]
    expect_state("adam_update", new, expected, ["params", "m", "v"], scale=max(magnitude(params), magnitude(moved)))


@prop(
    points=3,
    functions=["adam_update"],
    requires=["adam_matches_reference"],
    hint="At step 0 bias correction makes m_hat = g and v_hat = g**2: every parameter moves by lr * sign(g).",
    max_examples=EARLY_CATCH_EXAMPLES,
)
@given(case=sgd_cases(), floor=st.sampled_from([1e-3, 1e-2, 1.0]), lr=learning_rates(min_lr=1e-4))
def adam_first_step_moves_by_lr(sub, case, floor, lr):
    """From m = v = 0 at step 0, each parameter with |g| >= 1e-3 >> eps moves by lr * sign(g)."""
    params, raw, _ = case
    grads = [math.copysign(max(abs(g), floor), g) for g in raw]
    zeros_ = [0.0] * len(params)
    new, _, _ = updated(sub, "adam_update", params, grads, zeros_, zeros_[:], 0, lr)
    # The step is exactly lr * g / (|g| + eps): within lr * eps / |g| <= lr * 1e-5 of lr * sign(g).
    expect_close(
        new,
        [p - math.copysign(lr, g) for p, g in zip(params, grads)],
        "`adam_update`'s first step did not move every parameter by lr * sign(g)",
        rtol=0.0,
        atol=1e-12 * max(1.0, magnitude(params)) + 1.1e-5 * lr,
    )


@prop(
    points=3,
    functions=["adam_update"],
    requires=["adam_matches_reference"],
    hint="Adam divides m_hat by sqrt(v_hat): scaling every gradient (and m, v alike) by c > 0 changes nothing.",
    max_examples=EARLY_CATCH_EXAMPLES,
)
@given(case=adam_cases(), c=st.one_of(st.just(2.0), st.floats(0.1, 10.0)))
def adam_invariant_to_gradient_scale(sub, case, c):
    """Scaling g and m by c > 0 and v by c**2 leaves the new params alone, up to eps."""
    params, grads, m, v, step, lr = case
    scaled = (params, [c * g for g in grads], [c * x for x in m], [c * c * x for x in v], step, lr)
    new, _, _ = updated(sub, "adam_update", *scaled)
    plain, _, _ = updated(sub, "adam_update", params, grads, m, v, step, lr)
    # eps does not scale with c: allow each parameter what the reference itself moves by, plus rounding.
    reference_gap = np.abs(np.subtract(ref.adam_update(*scaled)[0], ref.adam_update(params, grads, m, v, step, lr)[0]))
    scale = max(magnitude(params), magnitude(plain))
    rtol, atol = tolerances(1e-9, 1e-12, scale, float32=is_float32(new, plain))
    gap = np.abs(np.subtract(new, plain))
    allowed = reference_gap * 1.01 + rtol * np.abs(plain) + atol
    worst = int(np.argmax(gap - allowed))
    expect(
        bool(np.all(gap <= allowed)),
        f"`adam_update` moved parameter {worst} differently when every gradient was scaled by {c!r}",
        returned=new,
        expected=plain,
    )


@prop(
    points=1,
    functions=["adam_update"],
    requires=["adam_matches_reference"],
    hint="Either return new lists and leave params, m, v alone, or update them in place: not half of each.",
    max_examples=EARLY_CATCH_EXAMPLES,
)
@given(case=adam_cases())
def adam_leaves_caller_state_consistent(sub, case):
    """Each of params, m, v after the call is either what was passed or what was returned. (grads is
    left alone or set to zeros: every call is watched for that, functions.py's ZEROED_IN_PLACE.)"""
    params, grads, m, v, step, lr = case
    sent = [params, grads, m, v]
    reply = call(sub, "adam_update", params, grads, m, v, step, lr, want_args=True)
    returned = coerce(reply.returned, reply.declared, "adam_update")
    after = reply.args_after
    if returned is not None:
        for name, index, new in (("params", 0, returned[0]), ("m", 2, returned[1]), ("v", 3, returned[2])):
            _expect_passed_or_new("adam_update", name, after[index], sent[index], new)


def _expect_passed_or_new(function, name, kept, sent, new):
    """The caller's list `kept` is either as it was `sent` or the `new` one returned. The message,
    which compares whole tables, is worked out only for a list left as neither."""
    if kept not in (sent, new):
        fail(_left_changed(function, name, kept, new))


def _left_changed(function, name, kept, new):
    """A caller's list left neither as passed nor as the new one returned, as a student reads it: what
    the caller's list holds against what was returned, which no "you returned" line may stand for."""
    said = f"`{function}` returned a new {name} but left the caller's {name} changed to something else"
    if whole(kept) and whole(new):
        return f"{said}: {value(kept)}, where it returned {value(new)}"
    where = differences(kept, new, by_tokens=True)
    return f"{said}, most different from the {name} it returned at {where}" if where else said


# --- train_step -------------------------------------------------------------------------------------

# Every train_step example is a whole step on three 27 x 27 tables, built from the functions above,
# which are each checked on their own. A wiring mistake (the loss after the update, no decay, a buffer
# never reset) shows on nearly any input, so these properties run at most 25 examples each. An example of
# a run is 2 to RUN_STEPS steps: 10 of them take about as many steps as 25 single ones, and
# benchmarks/example_counts.py finds every known-wrong file it catches caught from 3 runs on. What the
# step's two checks of its effect look for shows on the first input it is in: a step that does not lower
# the loss of the name it trained on, and state kept between two identical calls or a caller's list left
# half updated. benchmarks/example_counts.py finds each catching every known-wrong file it catches from
# 1 example on; they run EFFECT_EXAMPLES, ten times that.
STEP_EXAMPLES = 25
RUN_EXAMPLES = 10
EFFECT_EXAMPLES = 10
# What a step is built from: where one of these fails, a wrong step may be that function's mistake, met
# through train_step, so train_step's own is "not checked yet" until they pass (see `prop(after=...)`).
STEP_PARTS = [
    "bigram_loss_matches_reference",
    "bigram_grad_matches_identity",
    "linear_lr_matches_reference",
    "adam_matches_reference",
]


@prop(
    max_examples=STEP_EXAMPLES,
    points=3,
    functions=["train_step"],
    after=["bigram_loss_matches_reference"],
    hint="Return the loss computed before the update: bigram_loss(W, tokens) on the W you were given.",
)
@given(table=bigram_tables(), tokens=token_sequences(), state=moment_tables(), schedule=train_schedules())
# Training's first step first; then "emma", whose loss read backwards differs.
@example(**FIRST_STEP)
@example(table=UNIT_TABLE, tokens=_document(NOT_A_PALINDROME), state=TRAINED_MOMENTS, schedule=SCHEDULE)
def train_step_returns_pre_update_loss(sub, table, tokens, state, schedule):
    """The loss train_step returns is the loss of the table it was given."""
    W = build_table(table)
    m, v = build_moments(state)
    reply = call(sub, "train_step", W, tokens, m, v, *schedule)
    returned = coerce(reply.returned, reply.declared, "train_step")
    loss = returned[0] if isinstance(returned, tuple) else returned
    expected = ref.bigram_loss(W, tokens)
    scale = max(1.0, magnitude(W))
    rtol, atol = tolerances(1e-9, 1e-12, scale, float32=is_float32(loss))
    if not close(loss, expected, rtol, atol):
        after = ref.bigram_loss(ref.train_step(W, tokens, m, v, *schedule)[1], tokens)
        expect(
            not close(loss, after, rtol, atol),
            "`train_step` returned the loss after the update, not before it",
            returned=loss,
            expected=expected,
        )
    expect_close(loss, expected, "`train_step` returned a loss that is not bigram_loss(W, tokens)", scale=scale)


@prop(
    max_examples=STEP_EXAMPLES,
    points=8,
    functions=["train_step"],
    after=STEP_PARTS,
    hint="loss, grad = bigram_loss, bigram_grad; lr = linear_lr(step, num_steps, base_lr); Adam on W with m, v.",
)
@given(table=bigram_tables(), tokens=token_sequences(), state=moment_tables(), schedule=train_schedules())
# Training's first step; then a state partway through training, for what only moments and a decayed
# rate show.
@example(**FIRST_STEP)
@example(table=ZERO_TABLE, tokens=[BOS, 0, 21, 0, BOS], state=TRAINED_MOMENTS, schedule=SCHEDULE)
@example(table=ZERO_TABLE, tokens=[BOS, 0, 21, 0, BOS], state=TRAINED_MOMENTS, schedule=SCHEDULE[:1])
@example(table=UNIT_TABLE, tokens=LONG_DOCUMENT, state=TRAINED_MOMENTS, schedule=SCHEDULE)
def train_step_matches_reference(sub, table, tokens, state, schedule):
    """After one step from any table, moments and step, W, m and v equal the reference's: on a
    document of 303 tokens with a schedule of its own too, and with microgpt's schedule left out."""
    W = build_table(table)
    m, v = build_moments(state)
    state = updated(sub, "train_step", W, tokens, m, v, *schedule)
    expect_train_step(state, W, tokens, m, v, schedule)


@prop(
    max_examples=RUN_EXAMPLES,
    points=8,
    functions=["train_step"],
    # A step wrong on its own is wrong in a run too: what only a run shows is state kept between calls.
    after=[*STEP_PARTS, "train_step_returns_pre_update_loss", "train_step_matches_reference"],
    hint="Each call is one step on its own inputs: keep no gradient, step count or moments between calls.",
)
@given(
    run=st.lists(names(), min_size=2, max_size=RUN_STEPS),
    table=bigram_tables(max_scale=10.0),
    state=moment_tables(),
    schedule=train_schedules(room=RUN_STEPS),
)
def train_step_run_matches_reference(sub, run, table, state, schedule):
    """A run of consecutive steps over several names, as microgpt trains, checked after every step.

    Model-based, as a Hypothesis state machine with one rule would be: the reference is the model,
    its (W, m, v) at step k is fed to the submission's step k, and the submission's answer must be
    the model's next state. Feeding the model's state (equal to the submission's own up to rounding,
    as long as every earlier step was right) makes every call known in advance, so the worker runs
    ahead. A gradient buffer never reset, a private step counter or cached moments show up by step 2.
    """
    W = build_table(table)
    m, v = build_moments(state)
    first, *rest = schedule
    for i, name in enumerate(run):
        tokens = ref.encode(name)
        step_schedule = [first + i, *rest]
        answer = updated(sub, "train_step", W, tokens, m, v, *step_schedule)
        when = f" at step {i + 1} of the run (name {name!r}, step {first + i})"
        _, W, m, v = expect_train_step(answer, W, tokens, m, v, step_schedule, when, loss=True)


@prop(
    max_examples=EFFECT_EXAMPLES,
    points=3,
    functions=["train_step"],
    requires=["train_step_matches_reference"],
    hint="Step against the gradient: training one name over and over must lower its loss at every step.",
)
@given(
    name=names(),
    table=bigram_tables(max_scale=1.0),
    earlier=st.integers(0, 4),
    base_lr=st.one_of(st.just(0.01), st.floats(0.001, 0.1)),
)
def train_step_lowers_loss_on_repeated_name(sub, name, table, earlier, base_lr):
    """Training one name over and over from m = v = 0: each step lowers the name's loss.

    The submission takes step `earlier` (0 to 4) from where the reference's earlier steps on the same
    name left W, m and v; the loss after is the reference's loss of the table the submission returns.
    """
    W = build_table(table)
    tokens = ref.encode(name)
    m, v = zeros(), zeros()
    for step in range(earlier):
        _, W, m, v = ref.train_step(W, tokens, m, v, step, 1000, base_lr)
    before = ref.bigram_loss(W, tokens)
    _, new_W, _, _ = updated(sub, "train_step", W, tokens, m, v, earlier, 1000, base_lr)
    after = ref.bigram_loss(new_W, tokens)
    expect(
        after < before,
        f"`train_step` step {earlier} of training {name!r} over and over did not lower its loss "
        f"(the loss of the W it returned should be below the loss before the step)",
        returned=after,
        expected=before,
    )


@prop(
    max_examples=EFFECT_EXAMPLES,
    points=4,
    functions=["train_step"],
    requires=["train_step_matches_reference"],
    after=["adam_leaves_caller_state_consistent"],
    hint="Reset the gradient every step and keep nothing between calls; return new lists or update in "
    "place, not half of each.",
)
@given(table=bigram_tables(), tokens=token_sequences(), state=moment_tables(), schedule=train_schedules())
def train_step_is_repeatable_and_leaves_caller_state_consistent(sub, table, tokens, state, schedule):
    """Two calls with identical inputs give identical outputs, and neither corrupts the caller's lists.

    After a call, each of W, m and v is either as it was passed or the new value (updated in place):
    a list returned and also kept, or two names for one list, shows up here. (tokens is left alone:
    every call is watched for that.)
    """
    W = build_table(table)
    m, v = build_moments(state)
    sent = [W, tokens, m, v]
    reply = call(sub, "train_step", W, tokens, m, v, *schedule, want_args=True)
    returned = coerce(reply.returned, reply.declared, "train_step")
    after = reply.args_after
    if isinstance(returned, tuple):
        for name, index, new in (("W", 0, returned[1]), ("m", 2, returned[2]), ("v", 3, returned[3])):
            _expect_passed_or_new("train_step", name, after[index], sent[index], new)
        first = returned
    else:
        first = (returned, *after[0:1], *after[2:4])
    second = updated(sub, "train_step", W, tokens, m, v, *schedule)
    for name, a, b in zip(["loss", "W", "m", "v"], first, second):
        expect(
            a == b,
            f"`train_step` gave a different {name} when called again with the same inputs",
            returned=b,
            expected=a,
        )


# --- scale: how the functions' time grows, up to large inputs -----------------------------------------

# Slow is not wrong: these run after every correctness property, and no correctness property waits on
# them. A document of 6,000 tokens is about a thousand names; 10,000 parameters, a small model's worth.
# Each times its function on an input GROWTH times smaller first (see gradekit.call_at_scale).
GROWTH = 10
DOCUMENT = "a document of {:,} tokens"
QUADRATIC = "is it quadratic in the tokens?"


@prop(
    points=2,
    functions=["bigram_loss"],
    requires=["bigram_loss_matches_reference"],
    scale=True,
    max_examples=SCALE_EXAMPLES,
    hint="One logsumexp per position, summed once: the work grows with the tokens, not their square.",
)
@given(table=bigram_tables(), tokens=long_token_sequences())
def bigram_loss_scales_to_long_documents(sub, table, tokens):
    """bigram_loss's time grows with the tokens, not faster, up to 6,000, and agrees with the reference."""
    W = build_table(table)
    n = len(tokens) // GROWTH
    small, large = (W, tokens[:n]), (W, tokens)
    reply = call_at_scale(sub, "bigram_loss", small, large, sizes=(n, len(tokens)), size=DOCUMENT, question=QUADRATIC)
    loss = coerce(reply.returned, reply.declared, "bigram_loss")
    message = "`bigram_loss` differs from the reference on a long document"
    expect_close(loss, ref.bigram_loss(W, tokens), message, scale=magnitude(W))


@prop(
    points=2,
    functions=["bigram_grad"],
    requires=["bigram_grad_matches_identity"],
    scale=True,
    max_examples=SCALE_EXAMPLES,
    hint="Each position adds to its context row once: no loop over the document inside a loop over it.",
)
@given(table=bigram_tables(), tokens=long_token_sequences())
def bigram_grad_scales_to_long_documents(sub, table, tokens):
    """bigram_grad's time grows with the tokens, not faster, up to 6,000, and agrees with the closed form."""
    W = build_table(table)
    n = len(tokens) // GROWTH
    small, large = (W, tokens[:n]), (W, tokens)
    reply = call_at_scale(sub, "bigram_grad", small, large, sizes=(n, len(tokens)), size=DOCUMENT, question=QUADRATIC)
    grad = coerce(reply.returned, reply.declared, "bigram_grad")
    message = "`bigram_grad` differs from the closed form on a long document"
    expect_table(grad, ref.bigram_grad(W, tokens), message, scale=magnitude(W))


@prop(
    points=2,
    functions=["adam_update"],
    requires=["adam_matches_reference"],
    scale=True,
    max_examples=SCALE_EXAMPLES,
    hint="Adam updates each parameter on its own: one pass over the lists, no search or copy per parameter.",
)
@given(case=large_adam_cases())
def adam_scales_to_many_parameters(sub, case):
    """adam_update's time grows with the parameters, not faster, up to 10,000, and agrees with microgpt's Adam."""
    params, grads, m, v, step, lr = case
    n = len(params) // GROWTH
    small = (params[:n], grads[:n], m[:n], v[:n], step, lr)
    large = (params, grads, m, v, step, lr)
    size, question = "{:,} parameters", "is it quadratic in the parameters?"
    sizes = (n, len(params))
    reply = call_at_scale(sub, "adam_update", small, large, sizes=sizes, size=size, question=question, want_args=True)
    new, _ = read_update("adam_update", reply)
    expected = ref.adam_update(params, grads, m, v, step, lr)
    moved = [p - e for p, e in zip(params, expected[0])]
    expect_state("adam_update", new, expected, ["params", "m", "v"], scale=max(magnitude(params), magnitude(moved)))
