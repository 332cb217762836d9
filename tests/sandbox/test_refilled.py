"""The worker hands a function its new arguments in the lists it was given the call before
(`Loaded.recycled`, gradekit/sandbox/worker.py), so that a function remembering its answers by its
arguments' identity answers wrongly on every seed. Rows of numbers are refilled at once, not item by
item: this holds the fast path to the item-by-item definition, on nested lists of any shape, with
the lists the function returned last left alone."""

from __future__ import annotations

import copy

from hypothesis import given
from hypothesis import strategies as st

from gradekit.sandbox.worker import _lists_in, _refilled

LEAVES = st.one_of(st.floats(allow_nan=False), st.integers(-3, 3), st.text(max_size=2), st.none())
# Tables of rows as well, which are refilled and walked in one pass where every row holds numbers alone.
TABLES = st.lists(st.lists(LEAVES, max_size=3), max_size=3)
VALUES = st.recursive(
    LEAVES | TABLES, lambda inner: st.lists(inner, max_size=4) | st.tuples(inner, inner), max_leaves=24
)


def _item_by_item(old, new, returned):
    """The definition: each item refilled in turn, however deep."""
    if type(old) is not list or type(new) is not list or len(old) != len(new) or id(old) in returned:
        return new
    old[:] = [_item_by_item(o, n, returned) for o, n in zip(old, new)]
    return old


def _lists(value):
    """Every list `value` is or holds, in order, as objects."""
    found = [value] if type(value) is list else []
    for item in value if type(value) in (list, tuple) else ():
        found += _lists(item)
    return found


@given(VALUES, VALUES, st.data())
def test_refilling_at_once_is_refilling_item_by_item(old, new, data):
    twin = copy.deepcopy(old)
    held, held_twin = _lists(old), _lists(twin)  # the lists given the call before, as they were
    kept = data.draw(st.sets(st.integers(0, max(len(held) - 1, 0)), max_size=2)) if held else set()
    returned = {id(held[i]) for i in kept}
    returned_twin = {id(held_twin[i]) for i in kept}
    refilled = _refilled(old, copy.deepcopy(new), returned)
    expected = _item_by_item(twin, copy.deepcopy(new), returned_twin)
    assert refilled == expected and type(refilled) is type(expected)
    # The same lists are reused: each list of the result is the old one at the same place, or not.
    assert [id(x) in map(id, held) for x in _lists(refilled)] == [id(x) in map(id, held_twin) for x in _lists(expected)]


@given(VALUES)
def test_the_lists_in_an_answer_are_every_list_it_holds(value):
    assert _lists_in(value) == {id(x) for x in _lists(value)}


def test_a_table_keeps_its_rows_and_takes_the_new_numbers():
    table = [[0.0, 1.0], [2.0, 3.0]]
    rows = list(map(id, table))
    assert _refilled(table, [[4.0, 5.0], [6.0, 7.0]], set()) is table
    assert table == [[4.0, 5.0], [6.0, 7.0]] and list(map(id, table)) == rows


def test_a_row_the_function_returned_last_is_left_alone():
    table = [[0.0, 1.0], [2.0, 3.0]]
    returned = table[1]
    assert _refilled(table, [[4.0, 5.0], [6.0, 7.0]], {id(returned)}) is table
    assert table == [[4.0, 5.0], [6.0, 7.0]] and table[1] is not returned and returned == [2.0, 3.0]
