"""The grader's heap is settled once per process, and only with the shortcuts on
(gradekit/engine/speed/heap.py): a check keeps what it loaded before its first property out of the
garbage collector's way, a class grader does so at its first student and never again (a freeze at
every student would keep each grade's garbage for good), and a grade with the shortcuts off leaves
the collector as it found it. Each case runs in a process of its own, as another test may already
have settled this one."""

from __future__ import annotations

import subprocess
import sys

from conftest import ROOT

GRADES = """
import gc, sys
from gradekit import assignment
from gradekit.config import GradeConfig
from gradekit.grader import grade

config = GradeConfig(max_examples=3, diagnose=False, shortcuts=sys.argv[1] == "on")
chosen = assignment.load("cross_entropy")
counts = [gc.get_freeze_count()]
for name in ("submission.py", "buggy_submission.py"):
    grade(sys.argv[2] + "/" + name, chosen, config)
    counts.append(gc.get_freeze_count())
print(*counts)
"""


def _freeze_counts(shortcuts: str) -> list[int]:
    """The objects frozen before any grade, after a first and after a second grade in one process."""
    done = subprocess.run(
        [sys.executable, "-c", GRADES, shortcuts, str(ROOT / "examples")],
        capture_output=True,
        text=True,
        check=True,
        cwd=ROOT,
    )
    return [int(count) for count in done.stdout.split()]


def test_the_first_grade_of_a_process_settles_its_heap_and_no_later_one_does():
    before, first, second = _freeze_counts("on")
    assert before == 0
    assert first > 0, "the first grade froze nothing"
    # Frozen objects are still freed when nothing refers to them: the count may fall, never grow.
    assert second <= first, "a second grade froze what the first one left"


def test_a_grade_with_the_shortcuts_off_leaves_the_collector_as_it_found_it():
    assert _freeze_counts("off") == [0, 0, 0]
