"""Grade one file as a command asks for it: by its path, an assignment's name and the functions to check.

The one place that starts a worker ahead of the grade. Importing the grader imports Hypothesis and
the assignments, which takes as long as a worker's start; so the file is read and its worker started
first (preloading NumPy where the file names it), and the grader is imported while the worker boots.
The grade itself is gradekit.grader.grade's, given the worker and the file it read.
"""

from __future__ import annotations

from pathlib import Path

from gradekit.config import GradeConfig
from gradekit.engine.source import read
from gradekit.result import GradeResult
from gradekit.sandbox import Worker

__all__ = ["grade_one"]


def grade_one(
    path: Path,
    assignment_name: str | None,
    config: GradeConfig,
    assignment_dirs: list[str] | None = None,
    functions: tuple[str, ...] = (),
) -> GradeResult:
    """Grade the submission at `path` against the assignment named (inferred where None), narrowed to
    `functions` where given; a function the assignment lacks is refused (UsageError) before any of
    the file's code runs."""
    submission = read(path, assignment_name)
    worker = Worker.started(config.limits, assignment_dirs, submission.preload)
    try:
        from gradekit import assignment
        from gradekit.grader import Grading, grade, selected

        chosen = assignment.load(assignment_name, assignment_dirs) if assignment_name else None
        if chosen is not None:
            selected(chosen, functions)
        return grade(path, chosen, config, Grading(assignment_dirs, functions, worker, submission))
    finally:
        worker.stop()
