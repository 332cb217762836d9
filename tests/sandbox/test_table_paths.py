"""A table of rows is read in one pass where the grader and the worker would otherwise read it row by
row: whether a reply's value is plain data (`replies.plain`) and the copy a worker keeps of a call's
arguments (`worker.copied`). Each is held here to its row-by-row definition, on nested lists of any
shape, tables with a row that is not numbers, and tables nested to the deepest a reply may be."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from gradekit.sandbox.replies import DEEPEST, FLOAT_LIMIT, plain
from gradekit.sandbox.worker import copied

LEAVES = st.one_of(
    st.floats(), st.integers(-3, 3), st.just(FLOAT_LIMIT + 1), st.booleans(), st.none(), st.text(max_size=1)
)
TABLES = st.lists(st.lists(LEAVES, max_size=3) | LEAVES, max_size=3)
NESTED = st.recursive(
    LEAVES | TABLES,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=1), inner, max_size=2),
    max_leaves=12,
)


def _plain_item_by_item(value, depth=0):
    """The definition: None, a bool, a float, an int a float can hold, or a list of those no deeper
    than DEEPEST, item by item."""
    if type(value) is float or value is None or type(value) is bool:
        return True
    if type(value) is int:
        return -FLOAT_LIMIT <= value <= FLOAT_LIMIT
    return type(value) is list and depth < DEEPEST and all(_plain_item_by_item(v, depth + 1) for v in value)


@given(NESTED, st.integers(0, DEEPEST + 1))
def test_a_value_is_plain_as_its_items_are(value, wrapped):
    for _ in range(wrapped):  # tables at every depth, to the deepest a reply may hold and past it
        value = [value]
    assert plain(value) == _plain_item_by_item(value)


def _lists(value):
    """Every list and dict `value` is or holds, as objects."""
    found = [value] if type(value) in (list, dict) else []
    for item in value.values() if type(value) is dict else value if type(value) is list else ():
        found += _lists(item)
    return found


@given(NESTED)
def test_a_copy_of_the_arguments_equals_them_and_shares_no_list(value):
    copy = copied(value)
    assert repr(copy) == repr(value)  # equal, NaN and all, and of the same types
    assert {id(x) for x in _lists(copy)}.isdisjoint(id(x) for x in _lists(value))
