"""Reading returned plain data as the declared type, and the messages when it does not fit."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from gradekit.declared_types import coerce, describe
from gradekit.errors import PropertyFailure


@pytest.mark.parametrize("value", [2.5, 2, [2.5]])
def test_one_number_in_any_honest_form(value):
    assert coerce(value, float, "f") == float(value[0] if isinstance(value, list) else value)


@pytest.mark.parametrize("value", [[1.0, 2.0], (1.0, 2.0), "2.5", None, True, [1.0, [2.0]]])
def test_not_one_number_names_the_function(value):
    returned = list(value) if isinstance(value, tuple) else value
    with pytest.raises(PropertyFailure, match="^`f` should return one number$") as failed:
        coerce(returned, float, "f")
    assert failed.value.returned == returned  # the report shows it beside the message, once


def test_vectors_matrices_and_tuples():
    assert coerce([1, 2.5], list[float], "f") == [1.0, 2.5]
    assert coerce([[1, 2], [3, 4]], list[list[float]], "f") == [[1.0, 2.0], [3.0, 4.0]]
    assert coerce([1.5, [1.0], [2.0]], tuple[float, list[float], list[float]], "f") == (1.5, [1.0], [2.0])
    assert coerce(None, list[float] | None, "f") is None


def test_whole_numbers_reject_fractions():
    assert coerce(3.0, int, "encode") == 3
    with pytest.raises(PropertyFailure, match="one whole number"):
        coerce(3.5, int, "encode")


def test_descriptions_read_as_sentences():
    assert describe(list[float]) == "a list of numbers"
    assert describe(list[list[float]]) == "a list of list of numbers"
    assert describe(float | None) == "one number or None"


ITEMS = st.one_of(
    st.floats(allow_nan=False), st.integers(-3, 3), st.booleans(), st.none(), st.lists(st.floats(), max_size=1)
)
TABLES = st.lists(st.lists(ITEMS, max_size=3) | ITEMS, max_size=3)


@given(TABLES)
def test_a_table_is_read_as_its_rows_are_read_one_by_one(value):
    """A table of float rows is read in one pass: as reading each row as `list[float]` reads it."""

    def read(read_value):
        try:
            return read_value()
        except PropertyFailure as failure:
            return str(failure)

    whole = read(lambda: coerce(value, list[list[float]], "f"))
    by_rows = read(lambda: [coerce(row, list[float], "f") for row in value])
    if isinstance(by_rows, str):  # the row's message names the row's type; the table's names the table's
        assert whole == "`f` should return a list of list of numbers"
    else:
        assert whole == by_rows and [list(map(type, row)) for row in whole] == [list(map(type, r)) for r in by_rows]
