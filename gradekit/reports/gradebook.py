"""The gradebook of a class grade: gradebook.csv, one row per student.

A pure function of the students' results: the columns are student, score, max_score, one per
property of the assignment (the points it paid, 0 when the result has no such test), error, and
misconceptions: the known mistakes the student's failing functions were diagnosed with
(gradekit.diagnosis.diagnose), as "function: mistake", separated by "; ". The
scores were made by the grader; this module only lays them out. A student's name or error that a
spreadsheet would read as a formula (a leading = + - @) is written with a leading quote.
"""

from __future__ import annotations

import csv
import io

from gradekit.assignment import Assignment
from gradekit.result import GradeResult


def render(assignment: Assignment, graded: list[tuple[str, GradeResult]]) -> str:
    """The CSV text of `graded`, (student's name, result) pairs, in the order given."""
    names = [p.name for p in assignment.properties]
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["student", "score", "max_score", *names, "error", "misconceptions"])
    for student, result in graded:
        points = {t.name: t.score for t in result.tests}
        writer.writerow(
            [
                as_text(student),
                f"{result.score:g}",
                f"{result.max_score:g}",
                *(f"{points.get(n, 0):g}" for n in names),
                as_text(result.error or ""),
                as_text("; ".join(f"{d.function}: {d.misconception}" for d in result.diagnosis)),
            ]
        )
    return buffer.getvalue()


def as_text(text: str) -> str:
    """Text a spreadsheet shows as text: a leading = + - @ would make it a formula."""
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text
