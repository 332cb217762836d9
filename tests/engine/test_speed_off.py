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
(`graded_on`, tests/conftest.py; the seed test reads its scores as the public seed's). Graded one file
at a time with the shortcuts off, which nothing carries from file to file, they are split into tests
of CHUNK files, which pytest-xdist spreads over every core.
"""

from __future__ import annotations

from dataclasses import replace

import pytest
from conftest import EXAMPLES, FEW, bank_students, graded_alike

from gradekit import assignment

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


STUDENTS = {name: bank_students(name) for name in EXAMPLES}
CHUNKS = [
    pytest.param(name, first, id=f"{name}-{first}")
    for name, students in STUDENTS.items()
    for first in range(0, len(students), CHUNK)
]


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
    off = graded_alike(students, assignment.load(name), replace(FEW, shortcuts=False), remember=False)
    on = graded_on(name)
    assert sorted(off) == sorted(s.name for s in students)
    pinned = HISTORY_DEPENDENT[name]
    changed = [student for student in off if on[student] != off[student] and student not in pinned]
    assert changed == [], f"speed changed the grade of {changed}: " + "".join(
        f"\n{student}\n on:  {on[student]}\n off: {off[student]}" for student in changed[:1]
    )
