"""Values as the course writes them: tables by what is special, tokens as names, numbers by the digits that matter."""

from __future__ import annotations

import math

from gradekit.reference.course import BOS, encode
from hypothesis import given
from hypothesis import strategies as st

from gradekit import course_terms
from gradekit.strategies import names


def zeros() -> list[list[float]]:
    return [[0.0] * 27 for _ in range(27)]


def test_a_table_reads_as_its_shape_and_what_is_special():
    W = zeros()
    assert course_terms.value(W) == "27 x 27 zeros"
    W[26][0] = 1e-05
    assert course_terms.value(W) == "27 x 27 zeros except [26][0] = 1e-05"
    W[3][4] = -2.5
    W[5][6] = float("nan")
    W[7][8] = 1.0
    assert course_terms.value(W) == "27 x 27, from -2.5 to 1.0, 1 not finite"


def test_the_bigram_table_and_its_moments_read_by_their_tokens_their_shape_the_courses():
    W = zeros()
    assert course_terms.value(W, "W") == course_terms.value(W, "m") == "all zeros"
    W[BOS][0] = 1e-05
    assert course_terms.value(W, "W") == "all zeros except [BOS][a] = 1e-05"
    W[3][4] = -2.5
    W[5][6] = 0.25
    W[7][8] = 1.0
    assert course_terms.value(W, "v") == "values from -2.5 to 1.0"
    # the same numbers as a document's logits, a row per position: no tokens, and its shape
    assert course_terms.value(W, "logits_list") == "27 x 27, from -2.5 to 1.0"
    assert course_terms.value(W[:5], "W") == "5 x 27 zeros except [3][4] = -2.5"  # not the course's shape


def test_an_answer_to_a_call_given_the_bigram_table_is_told_by_its_tokens():
    expected, returned = zeros(), zeros()
    returned[0][BOS], expected[0][BOS] = 0.481, -0.481
    returned[3][3] = 1e-3
    assert course_terms.differences(returned, expected, by_tokens=True) == "[a][BOS]: 0.481 vs -0.481 (and 1 more)"
    assert course_terms.differences(returned, expected) == "[0][26]: 0.481 vs -0.481 (and 1 more)"
    step, reference = (3.0, returned, zeros(), zeros()), (3.0, expected, zeros(), zeros())  # (loss, W, m, v)
    assert course_terms.differences(step, reference, by_tokens=True).startswith("[1][a][BOS]: 0.481 vs -0.481")


def test_a_long_vector_reads_as_its_size_and_entries_that_matter():
    assert course_terms.value([0.5] * 27) == "27 values, all 0.5"
    assert course_terms.value([0.0] * 26 + [-30.0]) == "27 zeros except [26] = -30.0"
    assert course_terms.value([float(i) for i in range(27)]) == "27 values, from 0.0 to 26.0"


def test_short_values_are_shown_whole_with_readable_digits():
    assert course_terms.value([0.0, -30.0]) == "[0.0, -30.0]"
    assert course_terms.value([2.739233746429086]) == "[2.739]"
    assert course_terms.value([[1.0, 2.0], [3.0, 4.0]]) == "[[1.0, 2.0], [3.0, 4.0]]"
    assert course_terms.value(7) == "7" and course_terms.value(True) == "True"
    assert course_terms.value(float("-inf")) == "-inf"


def test_token_lists_read_as_the_name_they_encode():
    assert course_terms.value([26, 0, 26], "tokens") == '"a" [BOS, a, BOS]'
    assert course_terms.value([0, 26, 25], "tokens") == "[a, BOS, z]"
    assert course_terms.value([26, 0, 26], "true_ids") == "[26, 0, 26]"  # ids of another vocabulary
    assert course_terms.value([26, 27], "tokens") == "[26, 27]"  # not the course's ids


@given(name=names())
def test_every_encoded_name_reads_back_as_itself(name):
    assert course_terms.value(encode(name), "tokens").startswith(f'"{name}" [BOS, ')


def test_two_numbers_keep_the_digits_that_tell_them_apart():
    assert course_terms.pair(0.0185, 0.037) == ("0.0185", "0.0370")
    assert course_terms.pair(27.63, 27.0) == ("27.6", "27.0")
    assert course_terms.pair(1.0, 1.0 + 2**-52) == ("1.0", "1.0000000000000002")
    assert course_terms.pair(0.0, -0.5) == ("0.0", "-0.500")
    assert course_terms.pair(float("nan"), 1.0) == ("nan", "1.0")
    assert course_terms.pair(0.0, -0.0) == ("0.0", "-0.0")


@given(a=st.floats(allow_nan=False, allow_infinity=False), b=st.floats(allow_nan=False, allow_infinity=False))
def test_two_different_numbers_never_read_alike(a, b):
    shown = course_terms.pair(a, b)
    assert (shown[0] == shown[1]) == (repr(a) == repr(b))  # 0.0 and -0.0 read apart too


def test_differences_name_the_entries_that_differ_most():
    expected, returned = zeros(), zeros()
    returned[26][0], expected[26][0] = 0.481, -0.481
    returned[0][26], expected[0][26] = -0.0185, 0.0185
    returned[3][3] = 1e-3
    shown = course_terms.differences(returned, expected)
    assert shown == "[26][0]: 0.481 vs -0.481 (and 2 more)"
    assert course_terms.differences([0.5, 0.0, 0.1], [0.5, 0.2, 0.0]) == "[1]: 0.0 vs 0.200 (and 1 more)"
    assert course_terms.differences(expected, expected) == ""
    assert course_terms.differences([1.0, 2.0], [1.0]) == ""  # shapes differ: nothing to line up
    ids = [26, *range(17), 26]  # token ids read as the whole numbers they are
    assert course_terms.differences([26, *range(1, 18), 26], ids) == "[1]: 1 vs 0 (and 16 more)"


def test_the_tables_of_an_answer_are_named_as_the_call_named_them():
    """A step's (loss, W, m, v): the entry that differs most is in m, and reads m[a][BOS], not [2][0][26]."""
    returned, expected = [1.0, zeros(), zeros(), zeros()], [1.0, zeros(), zeros(), zeros()]
    returned[2][0][26] = 0.5
    returned[3][1][1] = 1e-3
    shown = course_terms.differences(returned, expected, by_tokens=True, parts={1: "W", 2: "m", 3: "v"})
    assert shown == "m[a][BOS]: 0.500 vs 0.0 (and 1 more)"
    assert course_terms.differences(returned, expected, by_tokens=True) == "[2][a][BOS]: 0.500 vs 0.0 (and 1 more)"


def test_two_long_vectors_of_different_lengths_read_as_their_sizes_where_nothing_else_differs():
    """encode's 18 ids against 19: their ranges read alike, so the sizes alone tell them apart."""
    assert course_terms.pair([0, *range(2, 19)], list(range(0, 19))) == ("18 values", "19 values")
    assert course_terms.pair([26, *range(17)], [26, *range(18)]) == ("18 values", "19 values")
    assert course_terms.pair(list(range(18)), list(range(19))) == ("18 values, from 0 to 17", "19 values, from 0 to 18")
    assert course_terms.pair([1.0, 2.0], [1.0] * 19) == ("[1.0, 2.0]", "19 values, all 1.0")


def test_a_nan_differs_most():
    assert course_terms.differences([1.0, math.nan, 3.0], [1.5, 2.0, 3.0]).startswith("[1]: nan vs 2.0")


@given(
    rows=st.integers(1, 27),
    columns=st.integers(1, 27),
    fill=st.floats(allow_nan=False),
    entries=st.lists(st.tuples(st.integers(0, 26), st.integers(0, 26), st.floats()), max_size=40),
)
def test_no_table_or_vector_takes_more_than_a_line(rows, columns, fill, entries):
    table = [[fill] * columns for _ in range(rows)]
    for r, c, x in entries:
        table[r % rows][c % columns] = x
    assert len(course_terms.value(table)) <= 120
    assert len(course_terms.value(table[0])) <= 120
    assert len(course_terms.differences(table, [[fill] * columns for _ in range(rows)])) <= 120


def test_a_long_document_reads_as_its_size_and_names_not_every_token():
    document = [BOS]
    for name in ["emma", "ava"] * 1000:
        document += encode(name)[1:]
    shown = course_terms.value(document, "tokens")
    assert shown.startswith('9,001 tokens, 2,000 names: "emma", "ava", "emma"') and len(shown) <= 120
    assert course_terms.value(list(range(26)) * 2, "tokens").startswith("52 tokens: [a, b, c")


def test_a_count_agrees_with_its_noun():
    counted = course_terms.counted
    assert [counted(n, "property") for n in (0, 1, 29)] == ["0 properties", "1 property", "29 properties"]
    assert [counted(n, "day") for n in (1, 2)] == ["1 day", "2 days"]
    assert counted(0.5, "point") == "0.5 points" and counted(2, "mouse", "mice") == "2 mice"


def test_a_time_limit_reads_as_a_sentence_gives_it():
    seconds = course_terms.seconds
    assert [seconds(t) for t in (9.99965, 0.5, 30, 1234.5, 0.012345)] == ["10", "0.5", "30", "1230", "0.0123"]


def test_two_short_vectors_keep_the_digits_that_tell_their_entries_apart():
    assert course_terms.pair([1.000001], [1.0]) == ("[1.000001]", "[1.000000]")
    assert course_terms.pair([0.5, 1.000001], [0.5, 1.0]) == ("[0.5, 1.000001]", "[0.5, 1.000000]")
    assert course_terms.pair([1, 2], [1.0, 2.5]) == ("[1.0, 2.00]", "[1.0, 2.50]")  # 1 is 1.0
