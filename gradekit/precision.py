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
"""

from __future__ import annotations

import math
import struct
from collections.abc import Iterator
from typing import Any

import numpy as np

FLOAT32_RTOL = 1.3e-6  # torch.testing's defaults for float32
FLOAT32_ATOL = 1e-5
FLOAT32_MAX = float(np.finfo(np.float32).max)
_FLOAT32 = struct.Struct("f")
# A finite-difference step for a float32 function: its rounding (about 1e-7 of the value) divided by
# the step stays far below the tolerance, and the step is short of where the curve bends it.
FLOAT32_STEP = 1e-2
FLOAT32_CAUSE = (
    "your answer is float32, which keeps about 7 digits and overflows above 3.4e38 (exp above 88.7): "
    "compute in Python floats or float64"
)

__all__ = [
    "FLOAT32_ATOL",
    "FLOAT32_CAUSE",
    "FLOAT32_MAX",
    "FLOAT32_RTOL",
    "FLOAT32_STEP",
    "floats",
    "is_float32",
    "slack",
    "tolerances",
]


def is_float32(*values: Any) -> bool:
    """Whether these numbers or (nested) lists may have been computed in float32: they hold a finite
    float, and every finite float in them survives a round trip through float32.

    Read number by number, it stops at the first that does not: a float64 answer is told by its first
    number, whatever its size."""
    found = False
    for number in floats(values):
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
    if isinstance(value, (list, tuple)):
        for item in value:
            yield from floats(item)
    elif isinstance(value, float):
        yield value
