"""What running one property showed, before any points are given.

The runner (gradekit.engine.runner) makes outcomes; the scorer (gradekit.engine.scorer) alone turns them into points.
"""

from __future__ import annotations

from dataclasses import dataclass

from gradekit.result import Counterexample, Status


@dataclass(frozen=True)
class Outcome:
    """One property's verdict, message, smallest failing input, examples run and time taken,
    whether it ran out of its time budget before any example failed (`spent`), and, for one passed
    against the submission's own wrong function or without the ones that did not pass, which (`note`)."""

    status: Status
    message: str = ""
    counterexample: Counterexample | None = None
    examples: int = 0
    seconds: float = 0.0
    spent: bool = False
    note: str = ""
