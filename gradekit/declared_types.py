"""Reading what a submission returned as the type its assignment declares.

The worker has already turned floats, ints, NumPy values, tuples and microgpt `Value`s into plain
numbers and lists; here a declared return type (`float`, `list[float]`, `list[list[float]]`,
`tuple[...]`, `X | None`) decides whether that plain data has the right shape, so each property
gets clean Python numbers and a wrong shape becomes a failure that names the function.
"""

from __future__ import annotations

import functools
import types
import typing
from itertools import chain
from typing import Any

from gradekit.errors import PropertyFailure


def coerce(value: Any, declared: Any, function: str) -> Any:
    """`value` read as `declared`, or a PropertyFailure saying what `function` should return; the report
    shows what it returned beside it."""
    try:
        return _read(value, declared)
    except _Mismatch:
        message = f"`{function}` should return {describe(declared)}"
        raise PropertyFailure(message, returned=value) from None


def describe(declared: Any) -> str:
    """How a declared type reads in a sentence: 'one number', 'a list of numbers', ..."""
    origin, args = typing.get_origin(declared), typing.get_args(declared)
    if declared is float:
        return "one number"
    if declared is int:
        return "one whole number"
    if declared is type(None) or declared is None:
        return "None"
    if origin in (typing.Union, types.UnionType):
        return " or ".join(describe(a) for a in args)
    if origin is list:
        inner = describe(args[0]).replace("one number", "numbers").replace("one whole number", "whole numbers")
        return f"a list of {inner.removeprefix('a ')}"
    if origin is tuple:
        return "a tuple of (" + ", ".join(describe(a) for a in args) + ")"
    return getattr(declared, "__name__", str(declared))


class _Mismatch(Exception):
    pass


def _read(value: Any, declared: Any) -> Any:
    if declared is float or declared is int:
        return _number(value, declared)
    origin, args = _parts(declared)
    if declared is type(None) or declared is None:
        if value is not None:
            raise _Mismatch("None")
        return None
    if origin in (typing.Union, types.UnionType):
        for option in args:
            try:
                return _read(value, option)
            except _Mismatch:
                continue
        raise _Mismatch(describe(declared))
    if origin is list:
        if not isinstance(value, list):
            raise _Mismatch(describe(declared))
        if args[0] is float and set(map(type, value)) == {float}:  # rows of floats, checked at C speed
            return value
        if _parts(args[0]) == (list, (float,)) and _float_rows(value):  # a table of them, in one pass
            return list(value)
        return [_read(v, args[0]) for v in value]
    if origin is tuple:
        if not isinstance(value, list) or len(value) != len(args):
            raise _Mismatch(describe(declared))
        return tuple(_read(v, a) for v, a in zip(value, args))
    return value


@functools.cache
def _parts(declared: Any) -> tuple[Any, tuple[Any, ...]]:
    """A declared type's origin and arguments: read for every row of every table a property reads."""
    return typing.get_origin(declared), typing.get_args(declared)


def _float_rows(value: list[Any]) -> bool:
    """Whether `value` holds lists alone, and they floats alone: each row reads as itself."""
    return set(map(type, value)) == {list} and set(map(type, chain.from_iterable(value))) <= {float}


def _number(value: Any, declared: type) -> float | int:
    # A one-element list is an honest way to return one number (NumPy's keepdims, p[[t]]).
    if isinstance(value, list) and len(value) == 1:
        value = value[0]
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise _Mismatch(describe(declared))
    if declared is int:
        if isinstance(value, float) and not value.is_integer():
            raise _Mismatch(describe(declared))
        return int(value)
    return float(value)
