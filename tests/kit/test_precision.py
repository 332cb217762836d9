"""gradekit.precision's `close`: the one comparison of answers, and the options its callers differ by."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gradekit import authoring
from gradekit.diagnosis.mistakes import AGREE_ATOL, AGREE_RTOL, agree
from gradekit.precision import _float_table, close, is_float32

OPTIONS = st.fixed_dictionaries({"nan_equal": st.booleans(), "symmetric": st.booleans(), "others_equal": st.booleans()})
SPECIAL = st.sampled_from([math.nan, math.inf, -math.inf, 0.0, -0.0, 1.0, 1.0 + 1e-10, 2.0, 1e308, -1e308])
FLOATS = st.one_of(SPECIAL, st.floats())


def test_authors_import_the_same_function():
    assert authoring.close is close


def test_a_nan_is_close_to_nothing_unless_nans_are_equal():
    assert not close(math.nan, math.nan)
    assert not close(math.nan, 1.0) and not close(1.0, math.nan)
    assert close(math.nan, math.nan, nan_equal=True)
    assert not close(math.nan, 1.0, nan_equal=True) and not close(1.0, math.nan, nan_equal=True)
    assert not close(math.nan, math.inf, nan_equal=True)


def test_an_infinity_is_close_only_to_itself():
    assert close(math.inf, math.inf) and close(-math.inf, -math.inf)
    assert not close(math.inf, -math.inf) and not close(-math.inf, math.inf)
    assert not close(math.inf, 1e308) and not close(1e308, math.inf)
    assert not close(1.0, math.inf, rtol=1.0, atol=1.0)  # rtol * inf would let every number near it


def test_signed_zeros_are_one_number():
    assert close(0.0, -0.0, 0.0, 0.0) and close(-0.0, 0.0, 0.0, 0.0)
    assert close([0.0] * 100, [-0.0] * 100, 0.0, 0.0)


def test_the_tolerance_is_of_the_expected_value_unless_symmetric():
    assert close(1.0, 2.0, rtol=0.5, atol=0.0)  # 1 apart, half of the expected 2
    assert not close(2.0, 1.0, rtol=0.5, atol=0.0)  # 1 apart, more than half of the expected 1
    assert close(2.0, 1.0, rtol=0.5, atol=0.0, symmetric=True)
    assert close(1.0, 1.0 + 1e-10, rtol=0.0, atol=1e-9) and not close(1.0, 1.0 + 1e-8, rtol=0.0, atol=1e-9)


def test_ints_and_floats_are_numbers_bools_and_text_are_not():
    assert close(1, 1.0) and close(1.0, 1) and close(3, 3)
    assert not close(True, 1.0) and not close(1.0, True) and not close(True, True)
    assert not close("1.0", 1.0) and not close(1.0, "1.0") and not close("a", "a")
    assert not close(None, None) and not close(None, 0.0)
    assert not close([True, 2.0], [1.0, 2.0]) and not close([1.0, 2.0], [True, 2.0])


def test_other_values_are_close_where_equal_and_of_one_type():
    assert close(None, None, others_equal=True) and close("a", "a", others_equal=True)
    assert close(True, True, others_equal=True) and not close(True, False, others_equal=True)
    assert not close(True, 1, others_equal=True) and not close(1.0, True, others_equal=True)
    assert not close("1.0", 1.0, others_equal=True) and not close(None, 0.0, others_equal=True)
    assert not close([True, 2.0], [1.0, 2.0], others_equal=True)  # a table of floats holds no bool
    assert close({"a": 1.0}, {"a": 1.0}, others_equal=True) and not close({"a": 1.0}, {"a": 1.0})


def test_nested_lists_tuples_and_arrays_compare_item_by_item():
    assert close([1.0, (2.0, [3.0])], ((1.0, [2.0, (3.0,)]),)[0])
    assert close([[1.0, 2.0], [3.0, 4.0]], np.array([[1.0, 2.0], [3.0, 4.0]]))
    assert close(np.array([1.0, 2.0], dtype=np.float32), [1.0, 2.0])
    assert not close(np.array([[1.0, 2.0]]), [1.0, 2.0])
    assert not close([1.0, 2.0], [1.0, 2.0, 3.0]) and not close([1.0, 2.0, 3.0], [1.0, 2.0])
    assert not close([1.0], 1.0) and not close(1.0, [1.0])
    assert close([], []) and close([[]], [()]) and not close([], [[]])


def test_ragged_tables_are_not_close_to_tables_of_another_shape():
    ragged, other = [[1.0], [2.0, 3.0]], [[1.0, 2.0], [3.0]]
    assert close(ragged, [[1.0], [2.0, 3.0]]) and not close(ragged, other)
    assert not close(ragged, [[1.0, 2.0], [3.0, 4.0]]) and not close([[1.0, 2.0], [3.0, 4.0]], ragged)
    assert not close([[1.0, 2.0]] * 40, [[1.0, 2.0]] * 39 + [[1.0]])


@settings(max_examples=400, deadline=None)
@given(
    pairs=st.lists(st.tuples(FLOATS, FLOATS), min_size=1, max_size=8),
    rtol=st.sampled_from([0.0, 1e-9, 1e-3]),
    atol=st.sampled_from([0.0, 1e-12, 1.0]),
    options=OPTIONS,
)
def test_float_lists_and_tables_are_judged_as_their_pairs_are(pairs, rtol, atol, options):
    """Short float lists are compared in Python, long ones and tables with NumPy, tuples item by
    item: all give the verdict of their pairs."""
    actual, expected = map(list, zip(*pairs))
    each = all(close(a, e, rtol, atol, **options) for a, e in pairs)
    assert close(actual, expected, rtol, atol, **options) == each
    assert close(actual * 100, expected * 100, rtol, atol, **options) == each
    assert close([actual] * 3, [expected] * 3, rtol, atol, **options) == each
    assert close(tuple(actual), tuple(expected), rtol, atol, **options) == each


@settings(max_examples=300, deadline=None)
@given(
    shape=st.sampled_from([(3,), (1, 4), (2, 3)]),
    transposed=st.booleans(),
    data=st.data(),
    options=OPTIONS,
)
def test_float64_arrays_are_judged_as_the_lists_they_hold(shape, transposed, data, options):
    size = int(np.prod(shape))
    one = np.array(data.draw(st.lists(FLOATS, min_size=size, max_size=size))).reshape(shape)
    other = np.array(data.draw(st.lists(FLOATS, min_size=size, max_size=size))).reshape(shape)
    other = other.T if transposed else other
    assert close(one, other, **options) == close(one.tolist(), other.tolist(), **options)
    assert close(one, one.tolist(), **options) == close(one.tolist(), one.tolist(), **options)


@pytest.mark.filterwarnings("error::RuntimeWarning")
def test_extremes_far_apart_are_not_close_and_warn_nobody():
    for length in (3, 100):
        assert not close([1e308] * length, [-1e308] * length, symmetric=True)
        assert not close([math.inf] * length, [-math.inf] * length, nan_equal=True)


def test_diagnosis_agrees_on_answers_as_answers():
    """Two answers agree whichever comes first, NaN for NaN, None for None."""
    apart = 1e6 * AGREE_RTOL + AGREE_ATOL + 5e-7  # within AGREE_RTOL of the larger only
    assert not close(1e6 + apart, 1e6, AGREE_RTOL, AGREE_ATOL)
    bigger, smaller = ("returned", [1e6 + apart]), ("returned", [1e6])
    assert agree(bigger, smaller) and agree(smaller, bigger)
    assert agree(("returned", [math.nan, 1.0]), ("returned", [math.nan, 1.0]))
    assert agree(("returned", None), ("returned", None)) and not agree(("returned", None), ("returned", 0.0))


def _float32_by_definition(*values: object) -> bool:
    """is_float32 as its docstring defines it, number by number: a finite float, and every finite float
    surviving a round trip through float32."""
    found = []

    def walk(value: object) -> None:
        if isinstance(value, (list, tuple)):
            for item in value:
                walk(item)
        elif isinstance(value, float) and math.isfinite(value):
            found.append(value)

    walk(values)
    with np.errstate(over="ignore"):
        return bool(found) and all(float(np.float32(x)) == x for x in found)


FLOAT32_VALUES = st.one_of(SPECIAL, st.floats(width=32), st.floats(), st.just(3.5e38), st.integers(-3, 3), st.none())
# Rows long enough to be read in one pass (precision.SHORT), and short ones read number by number.
LONG = st.builds(
    lambda row, extra, at: [*row[:at], extra, *row[at:]],
    st.lists(st.floats(width=32), min_size=60, max_size=130),
    SPECIAL | st.floats(width=32),
    st.integers(0, 130),
)
ROWS = st.lists(FLOAT32_VALUES, max_size=3) | LONG
NESTED = st.recursive(ROWS, lambda rows: st.lists(rows, max_size=4) | st.tuples(rows, rows), max_leaves=6)


@given(NESTED, st.lists(FLOAT32_VALUES, max_size=2))
@settings(max_examples=300)
def test_is_float32_reads_rows_at_a_time_as_it_reads_number_by_number(value, others):
    assert is_float32(value, *others) is _float32_by_definition(value, *others)


def test_a_table_of_zeros_with_one_float64_entry_is_no_float32_answer():
    table = [[0.0] * 27 for _ in range(27)]
    assert is_float32(table)
    table[26][26] = 1e-05
    assert not is_float32(table)
    assert not is_float32([[0.0] * 100, [3.5e38]]) and not is_float32([[math.nan] * 100])
    assert is_float32([math.nan] * 100 + [0.5, math.inf])


ITEMS = st.one_of(st.floats(allow_nan=False), st.integers(-3, 3), st.booleans(), st.none())


@given(st.lists(st.lists(ITEMS, max_size=3) | ITEMS, max_size=3))
def test_a_list_is_one_array_where_it_is_a_float_vector_or_a_rectangle_of_float_rows(value):
    """Read in one pass, a table is an array exactly where each of its rows, read alone, is floats."""
    floats = lambda row: bool(row) and all(type(x) is float for x in row)
    rows = bool(value) and all(type(row) is list for row in value) and len(set(map(len, value))) == 1
    table = _float_table(value)
    assert (table is not None) == (floats(value) or (rows and all(map(floats, value))))
    if table is not None:
        assert table.dtype == np.float64 and table.tolist() == value
