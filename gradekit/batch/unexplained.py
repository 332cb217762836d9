"""The failures no known mistake explains, across a class: which an instructor is shown, grouped by
how the students answered, and which are left out because no known mistake could explain them.

A failure is one student's function with a property of its own (one that names it first) that found a
fault, where no diagnosis names that function. Some say nothing about a mistake, and are left out,
each counted under its reason: a stub (`gradekit.reports.stubs`), a function that ran out of time, one
not defined, and a knock-on failure: a function one of whose properties requires (or is checked after)
a property of another function that did not pass, so what it answers may be that function's mistake.
A property not checked yet is no failure.

The rest are grouped by function and by the digest of the function's answers to its probes (the
result's `unexplained`, made by gradekit.diagnosis.diagnose): the students of one group answered alike,
which is one mistake the bank lacks. A failure without a digest (the diagnosis was off or out of time,
the function has no probes, or it answers every probe right and is wrong in what it does to its
arguments) is grouped by the properties it failed instead. Pure functions of the results.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from gradekit.assignment import Assignment
from gradekit.reports.stubs import stubs
from gradekit.result import FAULTS, GradeResult, PropertyResult, Status

STUB = "stub"
HANG = "hang"
UNDEFINED = "undefined"
KNOCK_ON = "knock-on"
REASONS = (STUB, HANG, UNDEFINED, KNOCK_ON)  # why a failure is left out, in the order they are told


@dataclass(frozen=True)
class Failure:
    """One student's function that failed with no known mistake to explain it: the digest of its
    answers to its probes (None where none was made), the names of its own properties that failed, and
    the first of them, whose counterexample shows the mistake."""

    student: str
    function: str
    digest: str | None
    failed: tuple[str, ...]
    test: PropertyResult

    @property
    def alike(self) -> tuple[str, str | None, tuple[str, ...]]:
        """What two failures share when they are alike: the function and the answers, else, with no
        answers to compare, the function and the properties failed."""
        return (self.function, self.digest, () if self.digest is not None else self.failed)


@dataclass(frozen=True)
class Group:
    """The failures of one function that are alike, in the students' order."""

    failures: tuple[Failure, ...]

    @property
    def function(self) -> str:
        return self.failures[0].function

    @property
    def answered(self) -> bool:
        """Whether its students answered alike, rather than failed the same properties."""
        return self.failures[0].digest is not None

    @property
    def example(self) -> Failure:
        """The member whose counterexample is smallest, the easiest to read; by name where two tie."""
        return min(self.failures, key=lambda f: (_size(f.test), f.student))


def failures(assignment: Assignment, graded: list[tuple[str, GradeResult]]) -> tuple[list[Failure], Counter[str]]:
    """Every failure no known mistake explains, student by student in the assignment's order of
    functions, and how many were left out for each reason of REASONS."""
    kept: list[Failure] = []
    left_out: Counter[str] = Counter()
    for student, result in graded:
        if result.error:
            continue
        for function, tests in _failing(assignment, result).items():
            reason = _left_out(assignment, result, function, tests)
            if reason is not None:
                left_out[reason] += 1
                continue
            failed = tuple(t.name for t in tests)
            kept.append(Failure(student, function, result.unexplained.get(function), failed, tests[0]))
    return kept, left_out


def groups(assignment: Assignment, found: list[Failure]) -> list[Group]:
    """The failures grouped by function and what they are alike in, largest first, then in the
    assignment's order of functions."""
    together: dict[tuple[str, str | None, tuple[str, ...]], list[Failure]] = {}
    for failure in found:
        together.setdefault(failure.alike, []).append(failure)
    order = {f: i for i, f in enumerate(assignment.functions)}
    ranked = sorted(together.values(), key=lambda g: (-len(g), order.get(g[0].function, len(order)), g[0].student))
    return [Group(tuple(members)) for members in ranked]


def _failing(assignment: Assignment, result: GradeResult) -> dict[str, list[PropertyResult]]:
    """Each function no diagnosis names that has a property of its own that found a fault, with those
    properties in the result's order."""
    diagnosed = {d.function for d in result.diagnosis}
    owner = {p.name: p.functions[0] for p in assignment.properties}
    found: dict[str, list[PropertyResult]] = {}
    for test in result.tests:
        function = owner.get(test.name, test.functions[0])
        if test.status in FAULTS and function not in diagnosed:
            found.setdefault(function, []).append(test)
    return found


def _left_out(assignment: Assignment, result: GradeResult, function: str, tests: list[PropertyResult]) -> str | None:
    """Why no known mistake could explain `function`'s failing `tests`, one of REASONS; None where one could."""
    if function in {stub.function for stub in stubs(result)[0]}:
        return STUB
    if any(t.status is Status.TIMEOUT for t in tests):
        return HANG
    if any(f"`{f}` is not defined" in t.message for t in tests for f in t.functions):
        return UNDEFINED
    status = {t.name: t.status for t in result.tests}
    owner = {p.name: p.functions[0] for p in assignment.properties}
    built_on = [r for p in assignment.properties if p.functions[0] == function for r in (*p.requires, *p.after)]
    if any(owner.get(r) != function and status.get(r, Status.PASSED) is not Status.PASSED for r in built_on):
        return KNOCK_ON
    return None


def _size(test: PropertyResult) -> int:
    """How many numbers a counterexample's inputs hold; no counterexample counts as largest."""
    if test.counterexample is None:
        return 1 << 62
    return _numbers(test.counterexample.inputs)


def _numbers(value: object) -> int:
    if isinstance(value, dict):
        return sum(_numbers(v) for v in value.values())
    if isinstance(value, list):
        return sum(_numbers(v) for v in value)
    return 1
