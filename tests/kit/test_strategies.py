"""The strategies shrink: a failure on a large input is reported on the smallest, plainest one."""

from __future__ import annotations

import math

import pytest
from hypothesis import Phase, find, given, settings
from hypothesis import strategies as st

from gradekit import strategies

# Derandomized, so each search below finds and shrinks the same example on every run.
SEARCH = settings(database=None, max_examples=500, derandomize=True, deadline=None)
SIZES = [1, 2, 8, 27, 100, 1000, 10_000]


def test_a_large_logit_vector_shrinks_to_the_entries_that_matter():
    """A spread of 30 nats (where a clamped loss breaks) in a large vocabulary: one entry stands out."""
    z = find(
        strategies.logits(strategies.vocab_sizes()),
        lambda z: len(z) >= 27 and max(z) - min(z) >= 30.0,
        settings=SEARCH,
    )
    low, high = sorted(set(z))
    assert len(z) == 27 and high - low == 30.0
    assert min(z.count(low), z.count(high)) == 1  # reads as "all x except [i] = y"


def test_a_clamped_loss_shows_on_two_logits():
    """A loss clamped at 27.6 nats is wrong once the true logit is 30 below the top: two logits show it."""
    z, t = find(strategies.logits_and_target(), lambda case: max(case[0]) - case[0][case[1]] >= 30.0, settings=SEARCH)
    assert len(z) == 2 and sorted(map(abs, z)) == [0.0, 30.0] and max(z) - z[t] == 30.0


def _starting_large(condition):
    """`condition`, true first on a case of more than 8 parameters; then on any case it holds for.

    The search then has to shrink from the 27- or 729-parameter branch, not start small."""
    seen_large = []

    def holds(case):
        if not condition(case):
            return False
        if len(case[0]) > strategies.EXPLICIT_SIZE:
            seen_large.append(True)
        return bool(seen_large)

    return holds


@pytest.mark.parametrize("strategy", [strategies.sgd_cases(), strategies.adam_cases()], ids=["sgd", "adam"])
def test_an_optimizer_case_needing_one_parameter_shrinks_to_one(strategy):
    case = find(strategy, _starting_large(lambda case: any(g != 0.0 for g in case[1])), settings=SEARCH)
    assert len(case[0]) == 1 and case[1] != [0.0]


def test_an_adam_state_needing_one_moment_shrinks_to_one_parameter_after_one_real_update():
    """Shrunk, the state is the one a first update leaves: m = (1 - beta1) g and v = (1 - beta2) g^2 from
    one earlier gradient g, and the step after it, never m != 0 beside v = 0."""
    case = find(
        strategies.adam_cases(fresh=False),
        _starting_large(lambda case: any(m != 0.0 for m in case[2])),
        settings=SEARCH,
    )
    params, grads, m, v, step, _ = case
    beta1, beta2 = strategies.ADAM_BETAS
    assert len(params) == 1 and grads == [0.0] and step == 1
    (g,) = [x / (1 - beta1) for x in m]
    assert g != 0.0 and v == [pytest.approx((1 - beta2) * g * g, rel=1e-12)]


def test_a_long_sequence_shrinks_to_the_length_needed_with_plain_rows():
    rows, ids = find(strategies.sequences(), lambda case: len(case[0]) > 256 and len(case[0][0]) >= 2, settings=SEARCH)
    assert len(rows) == len(ids) == 257
    assert rows == [[0.0, 0.0]] * 257 and ids == [0] * 257


def test_a_table_needing_one_entry_shrinks_to_the_zero_table_and_that_entry():
    def one_entry_set(recipe):
        return sum(x != 0.0 for row in strategies.build_table(recipe) for x in row) == 1

    recipe = find(strategies.bigram_tables(), one_entry_set, settings=SEARCH)
    assert recipe["scale"] == 0.0 and recipe["seed"] == 0
    assert len(recipe["set"]) == 1 and recipe["set"][0][:2] == [0, 0]


def test_moments_shrink_to_fresh_ones():
    assert find(strategies.moment_tables(), lambda recipe: True, settings=SEARCH) == {"scale": None}


def _floats(values, bound):
    return all(type(x) is float and abs(x) <= bound for x in values)


@pytest.mark.parametrize("size", SIZES)
@settings(max_examples=30, deadline=None)
@given(data=st.data())
def test_logits_and_targets_are_bounded_plain_numbers_at_every_size(size, data):
    z, t = data.draw(strategies.logits_and_target(st.just(size)))
    assert len(z) == size and _floats(z, strategies.TYPICAL)
    assert type(t) is int and 0 <= t < size


@pytest.mark.parametrize("size", SIZES[1:])
@settings(max_examples=30, deadline=None)
@given(data=st.data())
def test_extreme_logits_keep_their_spread_at_every_size(size, data):
    z = data.draw(strategies.extreme_logits(st.just(size)))
    assert len(z) == size and _floats(z, strategies.EXTREME)
    assert max(z) - min(z) >= strategies.EXTREME_SPREAD


@settings(max_examples=100, deadline=None)
@given(case=strategies.sequences())
def test_sequences_are_plain_numbers_within_the_float_budget(case):
    rows, ids = case
    assert len(rows) <= strategies.MAX_POSITIONS
    assert len(rows) * len(rows[0]) <= max(strategies.MAX_SEQUENCE_FLOATS, len(rows[0]))
    assert all(_floats(row, strategies.EXTREME) for row in rows)  # +-50, some rows moved by +-950
    assert all(type(t) is int and 0 <= t < len(rows[0]) for t in ids)


@settings(max_examples=200, deadline=None)
@given(
    size=strategies.vocab_sizes(),
    z=strategies.extreme_logits(),
    uniform=strategies.uniform_logits_and_target(),
)
def test_correctness_never_sees_a_vocabulary_past_a_few_hundred(size, z, uniform):
    """Slow is not wrong: correctness properties draw sizes any reasonable implementation answers fast."""
    assert 1 <= size <= 256 and len(z) <= 256 and len(uniform[0]) <= 256


@settings(max_examples=10, deadline=None)
@given(size=strategies.large_vocab_sizes(), case=strategies.long_sequences())
def test_scale_sizes_are_large(size, case):
    rows, ids = case
    assert size in (1000, 10_000)
    assert len(rows) == len(ids) in strategies.SCALE_POSITIONS and len(rows) >= 1024
    assert all(len(row) == 27 and _floats(row, strategies.TYPICAL) for row in rows)
    assert all(type(t) is int and 0 <= t < 27 for t in ids)


def _first_example(strategy):
    """What a property that is not shrunk meets first: Hypothesis starts from its simplest draw."""
    seen = []

    @settings(max_examples=1, phases=[Phase.generate], database=None, deadline=None)
    @given(strategy)
    def record(example):
        seen.append(example)

    record()
    return seen[0]


def test_a_scale_property_meets_the_largest_size_first():
    assert _first_example(strategies.large_vocab_sizes()) == strategies.SCALE_VOCABULARIES[0] == 10_000
    assert len(_first_example(strategies.long_sequences())[0]) == strategies.SCALE_POSITIONS[0] == 2048


@settings(max_examples=100, deadline=None)
@given(loss=strategies.losses(strategies.FLOAT32_LOSSES), large=strategies.losses())
def test_losses_stay_within_their_range(loss, large):
    assert 0.0 <= loss <= strategies.FLOAT32_LOSSES and math.isfinite(math.exp(loss))
    assert 0.0 <= large <= strategies.MAX_LOSS and math.isfinite(math.exp(large))


@settings(max_examples=100, deadline=None)
@given(case=strategies.sgd_cases())
def test_sgd_cases_are_bounded_plain_numbers(case):
    params, grads, lr = case
    assert len(params) == len(grads) in (*range(1, strategies.EXPLICIT_SIZE + 1), 27, 729)
    assert _floats(params, 10.0) and _floats(grads, 1e6) and 0.0 <= lr <= 1.0


# The most |m| / sqrt(v) can be after 1 to 3 updates with microgpt's betas (Cauchy-Schwarz over the
# gradients' weights in m and in v): sqrt(sum of (1 - b1)^2 b1^2k / ((1 - b2) b2^k)) = 2.256.
MOST_MOMENT_RATIO = 2.26


@settings(max_examples=100, deadline=None)
@given(case=strategies.adam_cases())
def test_adam_cases_are_states_training_reaches(case):
    params, grads, m, v, step, lr = case
    assert len(params) == len(grads) == len(m) == len(v)
    assert _floats(m, 1.0) and _floats(v, 1.0) and min(v) >= 0.0
    assert type(step) is int and 0 <= step <= strategies.MAX_STEPS and 0.0 <= lr <= strategies.MAX_LR
    if any(m) or any(v):
        assert step >= 1  # at least one update made these moments
    # v = 0 only where every earlier g was 0 (or so small that g^2 underflowed), and so is m
    assert all(abs(a) < 1e-150 for a, b in zip(m, v) if b == 0.0)
    ratios = [abs(a) / math.sqrt(b) for a, b in zip(m, v) if b > 1e-300]
    assert all(r <= MOST_MOMENT_RATIO for r in ratios)


@settings(max_examples=50, deadline=None)
@given(recipe=strategies.bigram_tables(), moments=strategies.moment_tables())
def test_tables_are_27_by_27_plain_numbers_within_bounds(recipe, moments):
    table = strategies.build_table(recipe)
    m, v = strategies.build_moments(moments)
    assert len(table) == len(m) == len(v) == 27 and all(len(row) == 27 for row in table + m + v)
    assert all(_floats(row, strategies.TYPICAL) for row in table)
    assert all(x >= 0.0 and type(x) is float for row in v for x in row)


# --- the contract's boundaries are drawn, not only allowed -----------------------------------------


@pytest.mark.parametrize("size", [127, 128, 129, 255, 256])
def test_vocabularies_reach_either_side_of_a_types_boundary(size):
    assert find(strategies.vocab_sizes(), lambda v: v == size) == size


def test_extreme_logits_put_a_lone_largest_logit_at_the_last_index():
    z = find(strategies.extreme_logits(), lambda z: len(z) > 2 and z[-1] - max(z[:-1]) > 709.8)
    assert z[-1] == max(z)


def test_a_documents_rows_are_drawn_at_very_different_scales():
    rows, _ = find(strategies.sequences(), lambda case: max(map(max, case[0])) - min(map(max, case[0])) > 700)
    assert len(rows) >= 2


def test_gradients_beyond_one_are_drawn():
    assert abs(find(strategies.gradient_entries(), lambda g: abs(g) > 1e3)) > 1e3


@pytest.mark.parametrize("beta", [0.0, 0.5])
@pytest.mark.parametrize("which", [0, 1])
def test_adams_betas_reach_the_low_end_the_contract_allows(beta, which):
    found = find(strategies.adam_hyperparameters(), lambda extra: len(extra) == 3 and extra[which] == beta)
    assert 0.0 <= found[0] < 1.0 and 0.0 <= found[1] < 1.0


# --- each strategy is made once for its arguments ------------------------------------------------------


def test_a_strategy_is_made_once_for_its_arguments_and_told_apart_where_equal_values_differ():
    """Given again for the same arguments (tests/engine/test_strategies_made_once.py proves the grades
    the same); made apart for 0.0 and -0.0, 1 and 1.0, which == calls equal and a strategy does not."""
    assert strategies.logits_and_target(strategies.vocab_sizes(max_size=27)) is strategies.logits_and_target(
        strategies.vocab_sizes(max_size=27)
    )
    assert strategies.logits(bound=3.0) is strategies.logits(bound=3.0) is not strategies.logits(bound=2.0)
    assert strategies.losses(0.0) is not strategies.losses(-0.0)
    assert strategies.schedules(max_lr=1) is not strategies.schedules(max_lr=1.0)


def test_a_strategy_of_arguments_that_cannot_be_a_key_is_made_afresh():
    made = strategies._made_once(lambda values: st.sampled_from(values))
    assert made([1, 2]) is not made([1, 2])
    assert find(made([3, 4]), lambda value: value == 4) == 4
