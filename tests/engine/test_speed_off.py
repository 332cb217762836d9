"""Speed never changes a grade: every file of both banks, the reference and the examples, graded with
every shortcut of gradekit.engine.speed on (recorded inputs, read-ahead, the verdict memory of a class grade)
and with every one off, get the same result, timings aside: status, points, message, counterexample,
example count. So every bank file is also graded twice and shown to repeat its grade, which the banks'
self-test (tests/batch/test_banks.py, which grades each file once) leaves to this test.

Few examples keep it quick; every path still runs: replays that pass (the reference, the correct
examples) and fail, Hypothesis searching and shrinking, remembered passes, runs between files that
answer alike, and calls that run out of time (the known-slow files).

The exception is pinned below, file by file: a submission whose answers depend on the calls made
before (a memo it corrupts, a step counter of its own, random noise, a random summation order, NumPy
warnings shown once per place). Its grade follows the order in which calls reach its worker, and the
shortcuts change that order: calls are sent ahead, the first examples of a replay that fails are made
again under Hypothesis, an answer given before is not asked for again. Such a file is wrong by the
course's rules (a function gives one answer to one input) and is caught with the shortcuts on (the
banks' self-test), but how it is caught can differ. Every other file must match exactly.

Each assignment's files are graded with the shortcuts on once, in one pool, as a class is graded (the
verdict memory only works across files), and that grade is shared by every test process of the session
(`once_per_session`). Graded one file at a time with the shortcuts off, which nothing carries from file
to file, they are split into tests of CHUNK files, which pytest-xdist spreads over every core.
"""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pytest

from gradekit import assignment
from gradekit.assignment import BANKS
from gradekit.batch.pool import run_pool
from gradekit.batch.roster import Student
from gradekit.config import GradeConfig
from gradekit.result import GradeResult

ROOT = Path(__file__).resolve().parents[2]
# Few examples, and a property budget no busy machine reaches: a clock must not decide what is compared
# here. The per-call limits stay as they are, as they count the worker's CPU time, which a busy machine
# does not change: the known-slow files run out of it alike with the shortcuts on and off. No
# diagnosis: it is made from the outcomes compared here and the file alone, after the grade
# (tests/diagnosis/test_diagnosis.py), and is no shortcut.
FEW = GradeConfig(max_examples=3, property_budget=600.0, diagnose=False)
EXAMPLES = {
    "cross_entropy": ["submission.py", "buggy_submission.py"],
    "training_step": ["training_step_submission.py", "training_step_buggy.py"],
    "autograd": ["autograd_submission.py", "autograd_buggy.py"],
}
# Files graded with the shortcuts off per test: a test of about half a minute, so none runs alone at the end.
CHUNK = 12


# Files whose answers depend on their history, with what keeps it: exact equality is not asked of them.
HISTORY_DEPENDENT = {
    "cross_entropy": {
        "known_wrong/grad_corrupts_memoised_softmax.py": "a memo the gradient writes into",
        "known_wrong/grad_random_noise.py": "random noise",
        "known_wrong/grad_returns_shared_buffer.py": "a list it keeps and fills again at every call",
        "known_wrong/loss_memo_keyed_by_sum.py": "a memo that answers one input with another's loss",
        "known_wrong/perplexity_memo_rounded_key.py": "a memo keyed by a rounded loss",
        "known_wrong/sequence_running_history.py": "every loss it has seen, in a global list",
        "known_wrong/sequence_shuffled_summation.py": "a random summation order",
        "known_wrong/softmax_no_max_shift_numpy.py": "NumPy's warnings, shown once per place",
        "known_wrong/softmax_returns_shared_buffer.py": "a list it keeps and fills again at every call",
    },
    "training_step": {
        "known_wrong/train_step_counts_steps_itself.py": "a step counter of its own",
        "known_wrong/train_step_gradient_buffer_never_reset.py": "a gradient buffer kept between calls",
    },
    "autograd": {},
}


def _students(name: str) -> list[Student]:
    """The reference, the examples and every bank file of the assignment, named by folder and file."""
    chosen = assignment.load(name)
    examples = [ROOT / "examples" / example for example in EXAMPLES[name]]
    files = [chosen.solution, *examples, *(path for kind in BANKS for path in chosen.known(kind))]
    return [Student(f"{path.parent.name}/{path.name}", path) for path in files]


STUDENTS = {name: _students(name) for name in EXAMPLES}
CHUNKS = [
    pytest.param(name, first, id=f"{name}-{first}")
    for name, students in STUDENTS.items()
    for first in range(0, len(students), CHUNK)
]


def _without_timings(result: GradeResult) -> str:
    """The result but for its timings and what the submission printed: a replay asks the recorded
    inputs first, so a file that prints (a NumPy warning on one of them) may print what a run under
    Hypothesis alone, failing at another input, never asked; every verdict, point and counterexample
    is compared."""
    data = result.to_dict()
    data.pop("seconds")
    data.pop("output")
    for test in data["tests"]:
        test.pop("seconds")
    return json.dumps(data, sort_keys=True)


def _graded(
    students: list[Student], chosen: assignment.Assignment, config: GradeConfig, remember: bool
) -> dict[str, str]:
    results: dict[str, str] = {}
    run_pool(
        students,
        chosen,
        config,
        None,
        2,
        lambda s, r: results.setdefault(s.name, _without_timings(r)),
        remember=remember,
    )
    return results


@pytest.fixture(scope="session")
def graded_on(once_per_session):
    """graded_on(name) -> every file's grade with every shortcut on, the verdict memory included."""
    return lambda name: once_per_session(
        f"speed-on-{name}", lambda: _graded(STUDENTS[name], assignment.load(name), FEW, remember=True)
    )


# Run first: every test of the assignment's files with the shortcuts off waits for this grade.
@pytest.mark.longest
@pytest.mark.parametrize("name", EXAMPLES)
def test_every_bank_file_is_graded_with_every_shortcut_on(name, graded_on):
    on = graded_on(name)
    assert sorted(on) == sorted(s.name for s in STUDENTS[name])
    assert set(HISTORY_DEPENDENT[name]) <= set(on), "a file pinned as history-dependent is no longer in the bank"
    assert any('"status": "failed"' in grade for grade in on.values()), "no file failed: nothing was compared"


@pytest.mark.parametrize(("name", "first"), CHUNKS)
def test_every_shortcut_off_gives_every_bank_file_the_same_grade(name, first, graded_on):
    students = STUDENTS[name][first : first + CHUNK]
    off = _graded(students, assignment.load(name), replace(FEW, shortcuts=False), remember=False)
    on = graded_on(name)
    assert sorted(off) == sorted(s.name for s in students)
    pinned = HISTORY_DEPENDENT[name]
    changed = [student for student in off if on[student] != off[student] and student not in pinned]
    assert changed == [], f"speed changed the grade of {changed}: " + "".join(
        f"\n{student}\n on:  {on[student]}\n off: {off[student]}" for student in changed[:1]
    )
