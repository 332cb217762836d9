"""The course staff's overrides file: adjustments by hand and comments, per student.

A CSV, so a TA edits it in the spreadsheet they read gradebook.csv in, or in any text editor, and a
course keeps it in git with one line per change; Python reads it without a library. Its header names
the columns (in any order and case; others are ignored):

    student    the student, as the gradebook names them (the roster's id, else the file's name)
    property   a property of the assignment, or blank for the whole score
    add        points added (negative to take some off)
    set        the points given instead (for a property, in place of what it paid)
    comment    what the student reads about it

One row per student and property (blank: the whole score), with `add` or `set` or neither (a comment
alone), never both. The adjustments are applied after the grade is made (gradekit.result.Adjustment):
each property's, then the whole score's. A student or property the class does not have, a number that
is not one, or two rows for one student and property, is a usage error naming the row, so no
adjustment is dropped unseen.
"""

from __future__ import annotations

import math
from collections.abc import Collection
from pathlib import Path

from gradekit.batch.spreadsheet import table
from gradekit.errors import UsageError
from gradekit.result import Adjustment, GradeResult

__all__ = ["COLUMNS", "FILE_NAME", "past_bounds", "read_overrides"]

FILE_NAME = "overrides.csv"  # in RESULTS_DIR, read by every grade into it
COLUMNS = ("student", "property", "add", "set", "comment")


def read_overrides(
    path: Path, students: Collection[str], properties: Collection[str]
) -> dict[str, tuple[Adjustment, ...]]:
    """Each student's adjustments, in the file's order, from the overrides CSV at `path`."""
    header, rows = table(path, f"the overrides {path}")
    if "student" not in header:
        raise UsageError(f"the overrides {path} have no student column; its header must name {', '.join(COLUMNS)}")
    found: dict[str, list[Adjustment]] = {}
    seen: dict[tuple[str, str], int] = {}
    for number, row in enumerate(rows, start=2):
        cells = {h: (row[i].strip() if i < len(row) else "") for i, h in enumerate(header)}
        if not any(cells.values()):
            continue
        where = f"the overrides {path}, row {number}"
        student, prop = cells["student"], cells.get("property", "")
        if student not in students:
            raise UsageError(f"{where}: there is no student {student!r} in this class")
        if prop and prop not in properties:
            raise UsageError(f"{where}: the assignment has no property {prop!r}")
        if (student, prop) in seen:
            what = f"property {prop}" if prop else "the whole score"
            raise UsageError(f"{where}: {student}'s {what} is adjusted on row {seen[student, prop]} too; keep one")
        seen[student, prop] = number
        add, points = _number(where, cells, "add"), _number(where, cells, "set")
        if add is not None and points is not None:
            raise UsageError(f"{where}: give add or set, not both")
        found.setdefault(student, []).append(Adjustment(prop or None, add, points, cells.get("comment", "")))
    return {student: tuple(adjustments) for student, adjustments in found.items()}


def past_bounds(graded: list[tuple[str, GradeResult]], maximum: float) -> list[str]:
    """Each student whose adjustments take their score above the assignment's maximum or below 0, with
    that score: written as the staff asked (extra credit is theirs to give), and said, since a typo in
    the file does the same."""
    return [
        f"{name} ({result.score:g})"
        for name, result in graded
        if result.adjustments and not 0 <= result.score <= maximum
    ]


def _number(where: str, cells: dict[str, str], column: str) -> float | None:
    text = cells.get(column, "")
    if not text:
        return None
    try:
        value = float(text)
    except ValueError:
        raise UsageError(f"{where}: {column} is {text!r}, not a number of points") from None
    if not math.isfinite(value):
        raise UsageError(f"{where}: {column} is {text!r}, not a number of points")
    return value
