"""Every built-in assignment's banks of known submissions, graded for real.

The reference and every file in known_right/ must get full marks; every file in known_wrong/ must
lose points, and lose them on a property that exercises the function its docstring blames and whose
report names that function, so the student is pointed at the right place.

A known-wrong file is graded on the properties up to the last one that exercises the blamed
function. Properties run in order, in one worker, and only what came before can change a property's
verdict, so each of those gets exactly the verdict a full grade gives it; the properties after it
cannot hold the blame. That keeps the banks of every assignment within the suite's time.
"""
from __future__ import annotations

import functools
from dataclasses import replace
from pathlib import Path

import pytest

from gradekit import assignment, examples
from gradekit.config import GradeConfig
from gradekit.grader import grade
from gradekit.result import GradeResult, PropertyResult, Status

# The smallest banks each assignment must keep: (known_right, known_wrong).
MIN_BANKS = {"cross_entropy": (12, 35), "training_step": (8, 25)}
FAILING = (Status.FAILED, Status.ERROR, Status.TIMEOUT)

ASSIGNMENTS = {name: assignment.load(name) for name in MIN_BANKS}
KNOWN_RIGHT = [(name, path) for name, a in ASSIGNMENTS.items() for path in a.known("known_right")]
KNOWN_WRONG = [(name, path) for name, a in ASSIGNMENTS.items() for path in a.known("known_wrong")]
FULL_MARKS = [(name, a.solution) for name, a in ASSIGNMENTS.items()] + KNOWN_RIGHT


def _id(case: tuple[str, Path]) -> str:
    name, path = case
    return f"{name}/{'reference' if path == ASSIGNMENTS[name].solution else path.stem}"


@functools.cache
def _recorded(name: str) -> None:
    """Record the whole assignment's examples before a part of it is graded (a part records only itself)."""
    a = ASSIGNMENTS[name]
    examples.recorded(a, a.default_seed, GradeConfig().max_examples)


def _up_to(a: assignment.Assignment, function: str) -> assignment.Assignment:
    """The assignment with its properties up to the last one that exercises `function`."""
    last = max((i for i, p in enumerate(a.properties) if function in p.functions), default=len(a.properties) - 1)
    return replace(a, properties=a.properties[: last + 1])


def _summary(result: GradeResult, only_lost: bool = True) -> str:
    """One line per property (by default only those that did not pay in full), for assertion messages."""
    lines = [f"{Path(result.submission).name}: {result.score:g}/{result.max_score:g}"]
    if result.error:
        lines.append(f"  error: {result.error}")
    for test in result.tests:
        if only_lost and test.status is Status.PASSED and test.score == test.max_score:
            continue
        calls = ""
        if test.counterexample is not None and test.counterexample.calls:
            calls = " | " + "; ".join(call.render() for call in test.counterexample.calls[:3])
        lines.append(
            f"  {test.status.value:7} {test.name} [{', '.join(test.functions)}] "
            f"{test.score:g}/{test.max_score:g}: {test.message}{calls}"
        )
    return "\n".join(lines)


def _names(test: PropertyResult, function: str) -> bool:
    """Whether the property's report points at `function`: in its message or in a counterexample call."""
    if f"`{function}`" in test.message:
        return True
    return test.counterexample is not None and any(call.function == function for call in test.counterexample.calls)


# --- the banks themselves -------------------------------------------------------------------------


@pytest.mark.parametrize("name", MIN_BANKS)
def test_banks_are_large_enough(name):
    fewest_right, fewest_wrong = MIN_BANKS[name]
    assert len(ASSIGNMENTS[name].known("known_right")) >= fewest_right
    assert len(ASSIGNMENTS[name].known("known_wrong")) >= fewest_wrong


@pytest.mark.parametrize("case", KNOWN_WRONG, ids=_id)
def test_known_wrong_docstring_blames_a_function(case):
    name, path = case
    blamed = assignment.blamed_function(path)
    functions = ASSIGNMENTS[name].functions
    assert blamed in functions, (
        f"{path.name}: the docstring must start with 'FUNCTION: what is wrong.', naming one of "
        f"{sorted(functions)}; it blames {blamed!r}"
    )


@pytest.mark.parametrize("case", KNOWN_RIGHT + KNOWN_WRONG, ids=_id)
def test_bank_files_are_self_contained(case):
    _, path = case
    source = path.read_text()
    assert "gradekit" not in source, f"{path.name} must not import gradekit: the worker refuses it"


# --- grading --------------------------------------------------------------------------------------


@pytest.mark.parametrize("case", FULL_MARKS, ids=_id)
def test_reference_and_known_right_get_full_marks(case):
    name, path = case
    result = grade(path, ASSIGNMENTS[name], GradeConfig())
    assert result.error is None, _summary(result)
    assert result.max_score == 100
    assert result.score == result.max_score, _summary(result)
    assert all(t.status is Status.PASSED for t in result.tests), _summary(result)


@pytest.mark.parametrize("case", KNOWN_WRONG, ids=_id)
def test_known_wrong_loses_points_on_the_blamed_function(case):
    name, path = case
    blamed = assignment.blamed_function(path)
    _recorded(name)
    result = grade(path, _up_to(ASSIGNMENTS[name], blamed), GradeConfig())
    assert result.error is None, _summary(result)
    assert result.score < result.max_score, f"the bug in {blamed} went unnoticed:\n{_summary(result, False)}"
    blaming = [
        t for t in result.tests
        if t.status in FAILING and t.score == 0 and blamed in t.functions and _names(t, blamed)
    ]
    assert blaming, f"no failing property exercises and names `{blamed}`:\n{_summary(result)}"
