"""The assignment's banks of known submissions, graded for real.

The reference and every file in known_right/ must get full marks; every file in known_wrong/ must
lose points, and lose them on a property that exercises the function its docstring blames and whose
report names that function, so the student is pointed at the right place.
"""
from __future__ import annotations

from pathlib import Path

import pytest

from gradekit import assignment
from gradekit.config import GradeConfig
from gradekit.grader import grade
from gradekit.result import GradeResult, PropertyResult, Status

MIN_RIGHT = 12
MIN_WRONG = 35
FAILING = (Status.FAILED, Status.ERROR, Status.TIMEOUT)

_ASSIGNMENT = assignment.load("cross_entropy")
KNOWN_RIGHT = _ASSIGNMENT.known("known_right")
KNOWN_WRONG = _ASSIGNMENT.known("known_wrong")


def _grade(path: Path, cross_entropy: assignment.Assignment) -> GradeResult:
    return grade(path, cross_entropy, GradeConfig())


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


def test_banks_are_large_enough(cross_entropy):
    assert len(cross_entropy.known("known_right")) >= MIN_RIGHT
    assert len(cross_entropy.known("known_wrong")) >= MIN_WRONG


@pytest.mark.parametrize("path", KNOWN_WRONG, ids=[p.stem for p in KNOWN_WRONG])
def test_known_wrong_docstring_blames_a_function(path, cross_entropy):
    blamed = assignment.blamed_function(path)
    assert blamed in cross_entropy.functions, (
        f"{path.name}: the docstring must start with 'FUNCTION: what is wrong.', naming one of "
        f"{sorted(cross_entropy.functions)}; it blames {blamed!r}"
    )


@pytest.mark.parametrize("path", KNOWN_RIGHT + KNOWN_WRONG, ids=[p.stem for p in KNOWN_RIGHT + KNOWN_WRONG])
def test_bank_files_are_self_contained(path):
    source = path.read_text()
    assert "gradekit" not in source, f"{path.name} must not import gradekit: the worker refuses it"


# --- grading --------------------------------------------------------------------------------------


FULL_MARKS = [_ASSIGNMENT.solution] + KNOWN_RIGHT


@pytest.mark.parametrize("path", FULL_MARKS, ids=["reference"] + [p.stem for p in KNOWN_RIGHT])
def test_reference_and_known_right_get_full_marks(path, cross_entropy):
    result = _grade(path, cross_entropy)
    assert result.error is None, _summary(result)
    assert result.max_score == 100
    assert result.score == result.max_score, _summary(result)
    assert all(t.status is Status.PASSED for t in result.tests), _summary(result)


@pytest.mark.parametrize("path", KNOWN_WRONG, ids=[p.stem for p in KNOWN_WRONG])
def test_known_wrong_loses_points_on_the_blamed_function(path, cross_entropy):
    blamed = assignment.blamed_function(path)
    result = _grade(path, cross_entropy)
    assert result.error is None, _summary(result)
    assert result.score < result.max_score, f"the bug in {blamed} went unnoticed:\n{_summary(result, False)}"
    blaming = [
        t for t in result.tests
        if t.status in FAILING and t.score == 0 and blamed in t.functions and _names(t, blamed)
    ]
    assert blaming, f"no failing property exercises and names `{blamed}`:\n{_summary(result)}"
