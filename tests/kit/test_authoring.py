"""The authoring kit: mistakes caught at definition, tolerances that scale, and the bounded strategies."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gradekit import strategies
from gradekit.authoring import Property, at_scale, close, expect_close, magnitude, prop
from gradekit.errors import CallTimedOut, InvalidProperty, PropertyFailure, TimedOutEarlier, TooSlow
from gradekit.precision import is_float32, slack, tolerances


@given(x=st.integers())
def some_test(sub, x):
    pass


@pytest.mark.parametrize(
    "kwargs, complaint",
    [
        (dict(points=0, functions=["f"], hint="h"), "points=0 must be a positive number"),
        (dict(points=1, functions="f", hint="h"), "functions='f' must be a non-empty list"),
        (dict(points=1, functions=[], hint="h"), "functions=[] must be a non-empty list"),
        (dict(points=1, functions=["f"], hint=""), "must be one non-empty line"),
        (dict(points=1, functions=["f"], hint="two\nlines"), "must be one non-empty line"),
        (dict(points=1, functions=["f"], hint="h", requires="other"), "must be a list of property names"),
        (dict(points=1, functions=["f"], hint="h", without="other"), "without='other' must be a list of property"),
        (dict(points=1, functions=["f"], hint="h", max_examples=0), "max_examples=0 must be a positive whole number"),
    ],
)
def test_definition_mistakes_name_the_argument(kwargs, complaint):
    with pytest.raises(InvalidProperty, match=complaint.replace("[", r"\[").replace("]", r"\]")):
        prop(**kwargs)


def test_a_property_must_be_a_hypothesis_test():
    with pytest.raises(InvalidProperty, match="put @given"):
        prop(points=1, functions=["f"], hint="h")(lambda sub: None)


def test_prop_keeps_what_the_report_needs():
    made = prop(points=2, functions=["f"], hint="a hint", requires=["base"], without=["other"])(some_test)
    assert isinstance(made, Property)
    assert (made.name, made.points, made.functions, made.requires) == ("some_test", 2.0, ("f",), ("base",))
    assert made.without == ("other",)


def test_tolerance_grows_with_the_size_of_the_inputs():
    with pytest.raises(PropertyFailure):
        expect_close(1.0 + 1e-10, 1.0, atol=1e-12, rtol=0)
    expect_close(1.0 + 1e-10, 1.0, atol=1e-12, rtol=0, scale=1000.0)
    assert not close(math.nan, math.nan) and close(math.inf, math.inf) and not close(math.inf, 1e308)


SPECIAL = st.sampled_from([math.nan, math.inf, -math.inf, 0.0, -0.0, 1.0, 1.0 + 1e-10, 1e308])
FLOATS = st.one_of(SPECIAL, st.floats())


def _passes(actual, expected, rtol, atol):
    try:
        expect_close(actual, expected, rtol=rtol, atol=atol)
    except PropertyFailure:
        return False
    return True


@settings(max_examples=300, deadline=None)
@given(
    pairs=st.lists(st.tuples(FLOATS, FLOATS), min_size=1, max_size=8),
    rtol=st.sampled_from([0.0, 1e-9, 1e-3]),
    atol=st.sampled_from([0.0, 1e-12, 1.0]),
)
def test_float_lists_short_and_long_are_compared_as_close_compares_each_pair(pairs, rtol, atol):
    """Short lists are compared in Python, long ones with NumPy: both must agree with `close`, at
    float32's tolerances where every float of the answer is a float32 value."""
    actual, expected = map(list, zip(*pairs))
    agree = all(close(a, e, rtol, atol) for a, e in pairs)
    if is_float32(actual):
        rtol32, atol32 = tolerances(rtol, atol, 1.0, float32=True)
        agree = agree or all(close(a, e, rtol32, atol32) for a, e in pairs)
    assert _passes(actual, expected, rtol, atol) == agree
    assert _passes(actual * 100, expected * 100, rtol, atol) == agree


@pytest.mark.filterwarnings("error::RuntimeWarning")
def test_extremes_far_apart_are_not_close_and_warn_nobody():
    """The student sees a verdict, never NumPy's overflow warning in the grader's output."""
    for length in (3, 100):
        assert not _passes([1e308] * length, [-1e308] * length, 1e-9, 1e-12)
        assert not _passes([math.inf] * length, [-math.inf] * length, 1e-9, 1e-12)


def test_a_length_mismatch_says_so():
    with pytest.raises(PropertyFailure, match="2 values where 3 were expected"):
        expect_close([1.0, 2.0], [1.0, 2.0, 3.0])
    with pytest.raises(PropertyFailure, match="1 value where 2 were expected"):
        expect_close([1.0], [1.0, 2.0])
    with pytest.raises(PropertyFailure, match="2 values where 1 was expected"):
        expect_close([1.0, 2.0], [1.0])


def test_magnitude_of_nested_lists():
    assert magnitude([[1.0, -7.5], [3.0]]) == 7.5 and magnitude([2, -3]) == 3
    assert magnitude([[1.0, -7.5], [3.0, 9.0]]) == 9.0 and magnitude([]) == 0.0


def test_magnitude_of_a_vector_beside_a_matrix_of_its_length():
    """A worked example's arguments: a bias vector and a square weight matrix, as a layer takes them."""
    assert magnitude([[1.0, -2.0], [[1.0, 2.0], [3.0, -4.5]]]) == 4.5
    expect_close([[1.0, 2.0], [[1.0, 2.0], [3.0, 4.0]]], [[1.0, 2.0], [[1.0, 2.0], [3.0, 4.0]]])


@settings(max_examples=300, deadline=None)
@given(values=st.lists(st.floats(), min_size=1, max_size=80))
def test_magnitude_is_numpy_s_largest_absolute_value_nan_and_infinity_included(values):
    numpy_s = float(np.max(np.abs(np.array(values))))
    assert repr(magnitude(values)) == repr(numpy_s)  # repr: a NaN equals a NaN, 0.0 is not -0.0


@settings(max_examples=200, deadline=None)
@given(case=strategies.logits_and_target())
def test_logits_stay_in_the_documented_domain(case):
    z, t = case
    assert 1 <= len(z) <= 256 and 0 <= t < len(z)
    assert all(isinstance(x, float) and abs(x) <= strategies.TYPICAL for x in z)


@settings(max_examples=200, deadline=None)
@given(z=strategies.extreme_logits())
def test_extreme_logits_are_extreme_but_bounded(z):
    assert max(z) - min(z) >= strategies.EXTREME_SPREAD
    assert magnitude(z) <= strategies.EXTREME


@settings(max_examples=200, deadline=None)
@given(case=strategies.sequences())
def test_sequences_are_rectangular_and_bounded(case):
    rows, ids = case
    size = len(rows[0])
    assert len(rows) == len(ids) >= 1 and all(len(r) == size for r in rows)
    assert len(rows) * size <= max(strategies.MAX_SEQUENCE_FLOATS, size)
    assert all(0 <= t < size for t in ids)


@settings(max_examples=200, deadline=None)
@given(loss=strategies.losses())
def test_losses_keep_exp_finite(loss):
    assert 0.0 <= loss <= strategies.MAX_LOSS and math.isfinite(math.exp(loss))


def test_the_strategies_reach_the_edges():
    """Drawn under a fixed seed: under a random one, the largest vocabulary (one large draw in four, one
    of seven sizes) can stay out of 300 examples, and the test would fail by chance."""
    sizes = set()
    lasts = []

    @settings(max_examples=300, deadline=None, database=None, derandomize=True)
    @given(case=strategies.logits_and_target())
    def collect(case):
        z, t = case
        sizes.add(len(z))
        lasts.append(t == len(z) - 1)

    collect()
    assert 1 in sizes and 256 in sizes and 27 in sizes
    assert sum(lasts) > 30, "the last target id must come up often"


# --- float32 answers are judged at float32's precision ----------------------------------------------


def _softmax(z, dtype):
    e = np.exp(np.asarray(z, dtype=dtype) - np.max(np.asarray(z, dtype=dtype)))
    return (e / np.sum(e)).tolist()


@settings(max_examples=100, deadline=None)
@given(z=strategies.logits())
def test_a_right_float32_answer_passes_and_the_same_error_in_float64_does_not(z):
    exact = _softmax(z, np.float64)
    expect_close(_softmax(z, np.float32), exact, scale=magnitude(z))
    off = [p * (1 + 1e-6) for p in exact]  # float32's size of error, in numbers float32 cannot hold
    if any(p > 1e-6 for p in exact) and not is_float32(off):
        with pytest.raises(PropertyFailure):
            expect_close(off, exact, scale=magnitude(z))


def test_a_float32_answer_that_is_wrong_still_fails():
    z = [1.0, 2.0, 3.0]
    wrong = np.float32(np.exp(z) / np.sum(np.exp(z)) * 1.01).tolist()  # 1% off, in float32
    with pytest.raises(PropertyFailure):
        expect_close(wrong, _softmax(z, np.float64), scale=3.0)


def test_a_value_worked_out_from_float32_values_is_judged_like_them():
    p = _softmax([0.1 * i for i in range(27)], np.float32)
    total = math.fsum(p)  # a float64 number: not float32 itself
    assert total != 1.0 and not is_float32(total)
    with pytest.raises(PropertyFailure):
        expect_close(total, 1.0, atol=1e-12)
    expect_close(total, 1.0, atol=1e-12, computed_from=[p])


def test_float32_tolerances_are_torch_testings_grown_with_the_inputs():
    assert tolerances(1e-9, 1e-12, 1.0, float32=True) == (1.3e-6, 1e-5)
    assert tolerances(1e-9, 1e-12, 50.0, float32=True) == pytest.approx((1.3e-6 * 50, 1e-5 * 50))
    assert tolerances(1e-9, 1e-12, 50.0, float32=False) == (1e-9, 1e-12 * 50)
    assert slack(0.1, 1e-12, 1.0) == 1e-12 and slack(float(np.float32(0.1)), 1e-12, 1.0) == 1e-5


@pytest.mark.parametrize(
    "values, float32",
    [
        (float(np.float32(0.1)), True),
        (0.1, False),
        ([float(np.float32(x)) for x in (0.3, 1.7, -2.2)], True),
        ([float(np.float32(0.3)), 0.1], False),
        ([[float(np.float32(0.3))], [float("inf")]], True),
        ([float("inf"), float("nan")], False),  # no finite float: no evidence either way
        ([], False),
        ([1, 2], False),  # integers are not floats
    ],
)
def test_float32_is_told_apart_by_its_values(values, float32):
    assert is_float32(values) is float32


def test_an_overflow_float32_causes_says_so_and_other_failures_do_not():
    with pytest.raises(PropertyFailure, match="it overflows in float32"):
        expect_close(float("inf"), math.exp(700.0), "perplexity differs", computed_from=[float(np.float32(5.5e34))])
    with pytest.raises(PropertyFailure, match="it overflows in float32"):
        expect_close([float(np.float32(0.5)), float("inf")], [0.5, 1.0], "softmax differs")
    with pytest.raises(PropertyFailure) as failure:
        expect_close(float("inf"), 1.0, "the loss differs")  # float64 could hold 1.0: not float32's doing
    assert "float32" not in failure.value.message
    with pytest.raises(PropertyFailure) as failure:
        # past float32's range, but nothing says the answer was computed in float32: a cap, say
        expect_close(float("inf"), math.exp(700.0), "perplexity differs")
    assert "float32" not in failure.value.message


# --- scale properties -----------------------------------------------------------------------------


def test_a_timeout_at_scale_fails_with_the_size_and_a_question():
    with pytest.raises(TooSlow) as slow, at_scale("a vocabulary of 10,000", "is it quadratic?"):
        raise CallTimedOut("`softmax` took more than 2 s of CPU time")
    assert slow.value.message == "`softmax` took more than 2 s of CPU time on a vocabulary of 10,000: is it quadratic?"


def test_a_function_that_timed_out_earlier_is_reported_as_it_is_at_scale():
    with pytest.raises(TimedOutEarlier, match="timed out earlier"), at_scale("a vocabulary of 10,000", "?"):
        raise TimedOutEarlier("`softmax` timed out earlier in this grade, on z = [0.0]")


def test_prop_marks_a_scale_property():
    scale = prop(points=1, functions=["f"], hint="h", scale=True)(some_test)
    assert scale.scale and not prop(points=1, functions=["f"], hint="h")(some_test).scale
