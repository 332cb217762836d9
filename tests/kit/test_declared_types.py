"""Reading returned plain data as the declared type, and the messages when it does not fit."""

from __future__ import annotations

import pytest

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
