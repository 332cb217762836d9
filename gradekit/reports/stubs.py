"""The functions still left as the starter's `raise NotImplementedError`, as the human reports group them.

A stub fails its first property at the first call and leaves every property built on it waiting, so
an untouched starter would read as a block per property saying the same thing. The text and Markdown
reports say it once per function instead: "`perplexity`: not implemented yet (4 properties, 10
points)". The JSON, JUnit and Gradescope reports keep every property as it is.

A property found a stub where its last call raised NotImplementedError, which the grader words as
NOT_IMPLEMENTED (gradekit.engine.calls). Its function is the one called, or, where the call went
through a harness (autograd's `gradients`), the property's first. A property not checked yet joins
a stub's group where every property its message waits on is in a group already: its own first
function's, where that is a stub, else the group of the first property it waits on.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from gradekit.course_terms import counted
from gradekit.result import FAULTS, GradeResult, PropertyResult, Status

NOT_IMPLEMENTED = "is not implemented yet"  # what a call that raised NotImplementedError raised
NAMED = re.compile(r"`([^`]+)`")  # a property or function a message names


@dataclass(frozen=True)
class Stub:
    """A function not implemented yet: the properties that found it, and those left waiting on them."""

    function: str
    tests: tuple[PropertyResult, ...]

    def line(self) -> str:
        """The one line a report gives it: "`f`: not implemented yet (4 properties, 10 points)"."""
        own = [t for t in self.tests if t.functions[0] == self.function]
        waiting = [t for t in self.tests if t.functions[0] != self.function]
        said = f"`{self.function}`: not implemented yet ({_worth(own)}"
        return said + (f"; {_worth(waiting, 'more ')}, wait on it)" if waiting else ")")


def stubs(result: GradeResult) -> tuple[tuple[Stub, ...], tuple[PropertyResult, ...]]:
    """The stubs of `result`, in the order their properties come, and its other tests, in theirs."""
    group = {t.name: function for t in result.tests if (function := _stubbed(t)) is not None}
    names = {t.name for t in result.tests}
    grown = True
    while grown:
        grown = False
        for test in result.tests:
            if test.name in group or test.status is not Status.UNCHECKED:
                continue
            waits_on = [name for name in NAMED.findall(test.message) if name in names]
            if waits_on and all(name in group for name in waits_on):
                own = test.functions[0]
                group[test.name] = own if own in group.values() else group[waits_on[0]]
                grown = True
    found: dict[str, list[PropertyResult]] = {}
    for test in result.tests:
        if test.name in group:
            found.setdefault(group[test.name], []).append(test)
    grouped = tuple(Stub(function, tuple(tests)) for function, tests in found.items())
    return grouped, tuple(t for t in result.tests if t.name not in group)


def _stubbed(test: PropertyResult) -> str | None:
    """The function whose stub `test` found, where its last call raised NotImplementedError."""
    if test.status not in FAULTS or test.counterexample is None or not test.counterexample.calls:
        return None
    last = test.counterexample.calls[-1]
    if last.raised != NOT_IMPLEMENTED:
        return None
    return last.function if last.function in test.functions else test.functions[0]


def _worth(tests: list[PropertyResult], more: str = "") -> str:
    """'4 properties, 10 points'; with `more`, '12 more properties, 56 points'."""
    points = sum(t.max_score for t in tests)
    return f"{counted(len(tests), more + 'property', more + 'properties')}, {counted(points, 'point')}"
