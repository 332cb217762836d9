"""The properties not checked yet, as the human reports give them: one line per function and what it
waits on, never a line per property.

A property waits where a property it requires (or is checked after) did not pass: its points could
not be paid, and a failure would blame its function for another's mistake. A failing loss leaves a
dozen of them, and a line each repeated the same reason a dozen times, the longest part of a failing
report. The text and Markdown reports say it once per function and reason instead: "`perplexity`: 2
properties (5 points) count once `loss_matches_reference` passes". The JSON, JUnit and Gradescope
reports keep every property as it is.

What a property waits on is read from its message, which the grader words in one place
(gradekit.engine.runner): the properties it names in backticks, and "not timed" for a speed property
that waits on its function's values.
"""

from __future__ import annotations

from collections.abc import Sequence

from gradekit.course_terms import counted
from gradekit.reports.stubs import NAMED
from gradekit.result import PropertyResult

TIMED = "not timed"  # how the grader's message for a speed property waiting on values starts


def waiting(tests: Sequence[PropertyResult]) -> list[str]:
    """A line per function for its properties waiting on values, then one for its speed, in the order
    the functions' properties come; each names every property its group waits on (once they all
    pass, every property of the group counts)."""
    lines = []
    for function in dict.fromkeys(test.functions[0] for test in tests):
        for timed in (False, True):
            group = [t for t in tests if t.functions[0] == function and t.message.startswith(TIMED) == timed]
            lines += [_line(function, timed, group)] if group else []
    return lines


def _line(function: str, timed: bool, group: list[PropertyResult]) -> str:
    on = list(dict.fromkeys(name for test in group for name in NAMED.findall(test.message)))
    names = " and ".join(f"`{name}`" for name in on) or "the properties it requires"
    once = f"once {names} {'passes' if len(on) == 1 else 'pass'}"
    points = counted(sum(t.max_score for t in group), "point")
    if timed:
        return f"`{function}`: its speed ({points}) is timed {once}"
    verb = "counts" if len(group) == 1 else "count"
    return f"`{function}`: {counted(len(group), 'property')} ({points}) {verb} {once}"
