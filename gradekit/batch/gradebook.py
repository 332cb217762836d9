"""The gradebook of a class grade: gradebook.csv, one row per student.

A pure function of the students' results: the columns are student, score, max_score, one per
property of the assignment (the points it paid, 0 when the result has no such test), error, and
misconceptions: the known mistakes the student's failing functions were diagnosed with
(gradekit.diagnosis.diagnose), as "function: mistake", separated by "; ". The
scores were made by the grader; this module only lays them out. Every cell is a CSV cell of
gradekit.reports.inert: a student's name or error that a spreadsheet would read as a formula (a
leading = + - @, tab, CR or LF) is written with a leading quote, and no control character is written
as itself.

A class graded with a roster (`roster`, each student's `Listing`) has two more columns after student:
name and status (graded, error, missing: on the roster with nothing submitted, or unlisted: graded
but not on the roster). A class with an overrides file (`adjusted`) has two more at the end:
adjustment (the points the staff's adjustments moved the score by; score holds them, the property
columns never do) and comment.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from gradekit.assignment import Assignment
from gradekit.reports import adjustments
from gradekit.reports.inert import csv_text
from gradekit.result import GradeResult

GRADED, ERROR, MISSING, UNLISTED = "graded", "error", "missing", "unlisted"


@dataclass(frozen=True)
class Listing:
    """A student as the class's roster has them: their name, their status (GRADED, ERROR, MISSING or
    UNLISTED), and the roster's other columns by header (email, section, login), for an LMS export."""

    name: str = ""
    status: str = GRADED
    columns: Mapping[str, str] = field(default_factory=dict)


def render(
    assignment: Assignment,
    graded: list[tuple[str, GradeResult]],
    roster: Mapping[str, Listing] | None = None,
    adjusted: bool = False,
) -> str:
    """The CSV text of `graded`, (student's name, result) pairs, in the order given."""
    names = [p.name for p in assignment.properties]
    listed = ["name", "status"] if roster is not None else []
    staff = ["adjustment", "comment"] if adjusted else []
    rows = [["student", *listed, "score", "max_score", *names, "error", "misconceptions", *staff]]
    for student, result in graded:
        points = {t.name: t.score for t in result.tests}
        listing = roster.get(student, Listing(status=UNLISTED)) if roster is not None else None
        rows.append(
            [
                student,
                *([listing.name, listing.status] if listing is not None else []),
                f"{result.score:g}",
                f"{result.max_score:g}",
                *(f"{points.get(n, 0):g}" for n in names),
                result.error or "",
                "; ".join(f"{d.function}: {d.misconception}" for d in result.diagnosis),
                *([adjustments.change(result), adjustments.comments(result)] if adjusted else []),
            ]
        )
    return csv_text(rows)
