"""How close a right answer must be: float64's precision, or float32's for an answer computed in float32.

The course computes in Python floats (float64), and the reference is exact to float64's last digits.
A submission that computes in float32 (NumPy arrays of dtype float32, say) uses a right method with
fewer digits: ML practice accepts it, as torch.testing does by judging each dtype at its own
precision (rtol 1.3e-6 and atol 1e-5 for float32). Both grow with the inputs' magnitude (`scale`):
a float32 method rounds its inputs first, and exp-based answers move in proportion to |z| times
float32's epsilon when z is rounded. An answer is judged at float32's precision when every float in
it is a float32 value. A float64 answer almost never is, unless it is round (0.0, 15.0): then the
looser tolerance forgives no more than float32's rounding would, on that one input, and a float64
mistake still shows on the inputs around it. Where float32 changes the answer in a
way the course cares about (exp overflows above 88.7, losses past float32's range) the stability
properties still catch it, and their message names float32 as the cause (`FLOAT32_CAUSE`).

Whether one answer is close to another is `close`'s to say, everywhere in gradekit: a property's
verdict, a known mistake's diagnosis, a mutant's difference from the solution. Where those callers
want different things of a NaN, of which value the tolerance is relative to, or of values that are
no numbers, they pass an option named for it.
"""

from __future__ import annotations

import math
import struct
from collections.abc import Iterable, Iterator
from itertools import chain
from typing import Any

import numpy as np

FLOAT32_RTOL = 1.3e-6  # torch.testing's defaults for float32
FLOAT32_ATOL = 1e-5
_FLOAT32 = struct.Struct("f")
# A finite-difference step for a float32 function: its rounding (about 1e-7 of the value) divided by
# the step stays far below the tolerance, and the step is short of where the curve bends it.
FLOAT32_STEP = 1e-2
FLOAT32_CAUSE = "it overflows in float32; compute in Python floats or float64"

SHORT = 64  # float lists up to this long are compared in Python: NumPy's per-call costs exceed the work

__all__ = [
    "FLOAT32_ATOL",
    "FLOAT32_CAUSE",
    "FLOAT32_RTOL",
    "FLOAT32_STEP",
    "close",
    "floats",
    "is_float32",
    "magnitude",
    "slack",
    "tolerances",
]


def is_float32(*values: Any) -> bool:
    """Whether these numbers or (nested) lists may have been computed in float32: they hold a finite
    float, and every finite float in them survives a round trip through float32.

    Read a row of floats at a time (`_float_rows`): a short row number by number, stopping at the first
    that does not survive (a float64 answer is told by its first number, whatever its size); a long
    row, a table's zeros say, in one pass."""
    found = False
    for row in _float_rows(values):
        survives = _row_is_float32(row)
        if survives is False:
            return False
        found = found or survives is True
    return found


def _float_rows(value: Any) -> Iterator[list[float]]:
    """Every float in a number or (nested) list, in order, a row at a time: a list of floats alone as
    it is, and each other float as a row of its own."""
    if type(value) is list and set(map(type, value)) == {float}:
        yield value
    elif isinstance(value, (list, tuple)):
        for item in value:
            yield from _float_rows(item)
    elif isinstance(value, float):
        yield [value]


def _row_is_float32(row: list[float]) -> bool | None:
    """Whether every finite float of `row` survives a round trip through float32; None where it holds
    no finite float."""
    if len(row) > SHORT:
        numbers = np.array(row, dtype=np.float64)
        finite = numbers[np.isfinite(numbers)]
        with np.errstate(over="ignore"):  # past float32's range: infinite there, and so not a float32 value
            return bool(np.all(finite.astype(np.float32) == finite)) if finite.size else None
    found = None
    for number in row:
        if math.isfinite(number):
            try:
                if _FLOAT32.unpack(_FLOAT32.pack(number))[0] != number:
                    return False
            except OverflowError:  # past float32's range, and so not a float32 value
                return False
            found = True
    return found


def tolerances(rtol: float, atol: float, scale: float, float32: bool) -> tuple[float, float]:
    """(rtol, atol) for an answer to inputs of magnitude `scale`: as asked, with atol growing with the
    inputs; or at least float32's, both growing with them, where it was computed in float32."""
    grow = max(1.0, scale)
    if float32:
        return max(rtol, FLOAT32_RTOL * grow), max(atol, FLOAT32_ATOL) * grow
    return rtol, atol * grow


def slack(value: Any, atol: float, scale: float) -> float:
    """How far below a bound a right answer may fall by rounding alone (say, a loss below 0): `atol`
    grown with the inputs' magnitude, or float32's where `value` was computed in float32."""
    return tolerances(0.0, atol, scale, is_float32(value))[1]


def floats(value: Any) -> Iterator[float]:
    """Every float in a number or (nested) list, in order."""
    for row in _float_rows(value):
        yield from row


def close(
    actual: Any,
    expected: Any,
    rtol: float = 1e-9,
    atol: float = 1e-12,
    *,
    nan_equal: bool = False,
    symmetric: bool = False,
    others_equal: bool = False,
) -> bool:
    """Whether `actual` is `expected` within a tolerance: the one comparison of answers in gradekit.

    Numbers (ints and floats; a bool is no number) are close where |actual - expected| <= atol +
    rtol * |expected|; an infinity is close only to itself, and a NaN to nothing. Lists, tuples and
    NumPy arrays are close where they hold as many items, each close to its own, nested: a list and
    a tuple of one shape may be close, a ragged table and a rectangular one are not. Anything else
    (None, a bool, text) is close to nothing.

    Where callers differ in what they ask, they say so:
    - `nan_equal`: a NaN is close to a NaN, for comparing two answers as answers (the same NaN from
      two runs is one answer), where a NaN expected of a right answer would be no answer at all;
    - `symmetric`: rtol is of the larger of the two magnitudes, for two answers neither of which is
      the right one, so that neither order of the two decides;
    - `others_equal`: anything that is neither a number nor a list is close to an equal value of its
      own type (None to None, True to True, text to the same text), for answers that may be any plain
      value; a property's expected value is a number or a list of them, and nothing else is close to it.
    """
    if _float_array(actual) and _float_array(expected):  # a table compared as the arrays it is, not listed first
        return _tables_close(actual, expected, rtol, atol, nan_equal, symmetric)
    actual, expected = _listed(actual), _listed(expected)
    if _short_floats(actual) and _short_floats(expected):
        if not (nan_equal or symmetric):
            return len(actual) == len(expected) and all(  # `_numbers_close` inlined: a third of NumPy's time
                a == e or abs(a - e) <= atol + rtol * abs(e) < math.inf for a, e in zip(actual, expected)
            )
        return len(actual) == len(expected) and all(  # two answers compared as answers (a diagnosis's)
            _numbers_close(a, e, rtol, atol, nan_equal, symmetric) for a, e in zip(actual, expected)
        )
    tables = _float_table(actual), _float_table(expected)
    if tables[0] is not None and tables[1] is not None:
        return _tables_close(tables[0], tables[1], rtol, atol, nan_equal, symmetric)
    if isinstance(actual, (list, tuple)) or isinstance(expected, (list, tuple)):
        return _items_close(actual, expected, rtol, atol, nan_equal, symmetric, others_equal)
    if _number(actual) and _number(expected):
        return _numbers_close(float(actual), float(expected), rtol, atol, nan_equal, symmetric)
    return others_equal and type(actual) is type(expected) and bool(actual == expected)


def _items_close(
    actual: Any, expected: Any, rtol: float, atol: float, nan_equal: bool, symmetric: bool, others_equal: bool
) -> bool:
    if not (isinstance(actual, (list, tuple)) and isinstance(expected, (list, tuple))):
        return False
    options = {"nan_equal": nan_equal, "symmetric": symmetric, "others_equal": others_equal}
    return len(actual) == len(expected) and all(close(a, e, rtol, atol, **options) for a, e in zip(actual, expected))


def _numbers_close(actual: float, expected: float, rtol: float, atol: float, nan_equal: bool, symmetric: bool) -> bool:
    if math.isnan(actual) or math.isnan(expected):
        return nan_equal and math.isnan(actual) and math.isnan(expected)
    if math.isinf(actual) or math.isinf(expected):
        return actual == expected
    size = max(abs(actual), abs(expected)) if symmetric else abs(expected)
    return abs(actual - expected) <= atol + rtol * size


def _tables_close(
    actual: np.ndarray, expected: np.ndarray, rtol: float, atol: float, nan_equal: bool, symmetric: bool
) -> bool:
    """`_numbers_close` on every pair of two float tables at once, as long vectors compare in one pass."""
    if actual.shape != expected.shape:
        return False
    size = np.maximum(np.abs(actual), np.abs(expected)) if symmetric else np.abs(expected)
    with np.errstate(invalid="ignore", over="ignore"):  # inf - inf, or two finite extremes apart
        near = np.abs(actual - expected) <= atol + rtol * size
    unusual = ~np.isfinite(actual) | ~np.isfinite(expected)
    alike = (actual == expected) | (nan_equal & np.isnan(actual) & np.isnan(expected))
    return bool(np.all(np.where(unusual, alike, near)))


def _listed(value: Any) -> Any:
    """A NumPy array as the nested list of Python numbers it holds; anything else as it is."""
    return value.tolist() if isinstance(value, np.ndarray) else value


def _float_array(value: Any) -> bool:
    """Whether `value` is a float64 vector or table already, as `_float_table` makes one of a list."""
    return isinstance(value, np.ndarray) and value.dtype == np.float64 and value.ndim in (1, 2) and value.size > 0


def _number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _short_floats(value: Any) -> bool:
    return type(value) is list and 0 < len(value) <= SHORT and set(map(type, value)) == {float}


def _float_table(value: Any) -> np.ndarray | None:
    """A flat or rectangular list of floats as one array, so long vectors compare in one pass; None for
    anything else (a vector beside a matrix of its length, say), which is compared item by item."""
    if not isinstance(value, list) or not value:
        return None
    kinds = set(map(type, value))
    if kinds == {float}:
        return np.array(value, dtype=np.float64)
    rows = kinds == {list} and len(set(map(len, value))) == 1 and bool(value[0])
    if rows and set(map(type, chain.from_iterable(value))) == {float}:  # every row's items, in one pass
        return np.array(value, dtype=np.float64)
    return None


def magnitude(values: Iterable[Any]) -> float:
    """The largest |x| in a (nested) list of numbers: the `scale` of a tolerance."""
    values = list(values)
    if _short_floats(values):  # NumPy's per-call costs exceed the work, as for `close`
        return _largest_abs(values)
    rectangular = _float_table(values)
    if rectangular is not None:
        return float(np.max(np.abs(rectangular)))
    biggest = 0.0
    for v in values:
        biggest = max(biggest, magnitude(v) if isinstance(v, (list, tuple)) else abs(float(v)))
    return biggest


def _largest_abs(numbers: list[float]) -> float:
    """max |x| as NumPy's max of abs gives it, NaN wherever one is: Python's max skips a NaN after the first."""
    absolute = list(map(abs, numbers))
    total = sum(absolute)  # NaN exactly where some |x| is: a sum of |x| never meets inf - inf
    return total if math.isnan(total) else max(absolute)
