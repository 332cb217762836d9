"""Every built-in assignment's banks of known submissions: kept large, well formed, and graded for real.

The grading is `gradekit selftest` itself (gradekit/instructor/selftest.py): the reference and every file in
known_right/ get full marks, every file in known_wrong/ loses points on a property that blames the
function its docstring names (a second grade of every file repeats the first: tests/engine/test_speed_off.py).
The self-test runs behind bubblewrap once per session (`selftested`, tests/conftest.py): its known-right
grades are the bubblewrap leg of the comparison of every wall, and its known-wrong grades' diagnoses
are those tests/diagnosis/test_autograd_diagnosis.py reads.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import outcome

from gradekit import assignment
from gradekit.batch import pool, roster
from gradekit.config import GradeConfig, Limits
from gradekit.instructor.selftest import outcomes

# The smallest banks each assignment must keep: (known_right, known_wrong).
MIN_BANKS = {"cross_entropy": (12, 35), "training_step": (8, 25), "autograd": (7, 18)}

ASSIGNMENTS = {name: assignment.load(name) for name in MIN_BANKS}
KNOWN_RIGHT = [(name, path) for name, a in ASSIGNMENTS.items() for path in a.known("known_right")]
KNOWN_WRONG = [(name, path) for name, a in ASSIGNMENTS.items() for path in a.known("known_wrong")]


def _id(case: tuple[str, Path]) -> str:
    name, path = case
    return f"{name}/{path.stem}"


# --- grading, by the self-test (`selftested`, tests/conftest.py) ---------------------------------


# Among the longest tests of the suite, run first; two graders each, as pytest-xdist already runs two
# test processes. Each file is graded once here: tests/engine/test_speed_off.py grades every bank file twice,
# with the shortcuts on and off, and asks the two grades to agree.
@pytest.mark.longest
@pytest.mark.parametrize("name", MIN_BANKS)
def test_the_assignment_grades_well(name, selftested):
    report = selftested(name)
    assert report["problems"] == [], f"{name} does not grade well:\n" + "\n".join(report["problems"])
    assert report["full_marks"] == [100]


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


# --- the same grades behind every wall ------------------------------------------------------------


@pytest.mark.longest
@pytest.mark.parametrize("name", MIN_BANKS)
def test_the_known_right_bank_grades_alike_behind_every_wall(name, selftested):
    """Every known-right file gets the same grade, property by property, behind bubblewrap, behind
    Landlock and behind the guard alone: the wall changes what a submission can reach, never what a
    right one earns (a sandbox's grades are checked against the unsandboxed run, as gVisor's are).
    The bubblewrap grades are the self-test's (`selftested`), made with the same settings but the wall."""
    chosen = ASSIGNMENTS[name]
    students = [roster.Student(path.stem, path) for path in chosen.known("known_right")]
    graded: dict[str, dict[str, list]] = {}
    for wall in ("landlock", "off"):
        found: dict[str, list] = {}
        config = GradeConfig(limits=Limits(isolation=wall))
        record = lambda student, result, found=found: found.update(
            {student.name: outcome(result.score, outcomes(result))}
        )
        pool.run_pool(students, chosen, config, None, 2, record, remember=False)
        graded[wall] = found
    graded["bubblewrap"] = selftested(name)["right"]  # asked for last: another test process may be making it
    assert sorted(graded["bubblewrap"]) == sorted(student.name for student in students)
    assert graded["bubblewrap"] == graded["landlock"] == graded["off"]
    assert all(score == 100 for score, _ in graded["bubblewrap"].values())
