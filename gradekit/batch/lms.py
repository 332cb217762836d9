"""The gradebook as a learning management system imports it: canvas.csv and moodle.csv.

Pure functions of the students' results and the roster (`gradebook.Listing`): one row per student on
the roster, in its order, with the score (the staff's adjustments included) out of the assignment's
points; a student with nothing submitted scores 0. Students not on the roster are left out: the LMS
knows them by no id.

Canvas (Grades > Import, "How do I import grades in the Gradebook?"): the columns Student, ID, SIS User
ID, SIS Login ID and Section, in that order, then one column per assignment, titled with its name;
Canvas matches a student by ID (its own user id, left blank here), else SIS User ID (the roster's id),
else SIS Login ID (the roster's `login` column), else the name. A second row whose Student cell is
"Points Possible" gives a new assignment its points. Rename the assignment column to the title Canvas
exports ("NAME (1234)") to fill an assignment Canvas already has rather than make a new one.

Moodle (Grades > Import > CSV file, "Grade import"): a header row, then one row per student; on import
the teacher maps a column to a user field ("Map from" ID number to "Map to" useridnumber, or Email
address to useremail, Username to username) and each other column to a grade item or its feedback.
The columns: ID number (the roster's id), Username (`login`), Email address (`email`), Full name, the
assignment's grade, and Feedback (the staff's comments), mapped to that item's feedback: Moodle asks
for a grade and its feedback to be imported together.

Every cell is a CSV cell of gradekit.reports.inert, as the gradebook's are: a roster's name, login or
section (or an id) a spreadsheet would read as a formula starts with a quote, so opening the export
in a spreadsheet before importing it runs nothing. An id so quoted no longer matches the LMS's: give
students ids that start with a letter or a digit.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

from gradekit.assignment import Assignment
from gradekit.batch.gradebook import UNLISTED, Listing
from gradekit.reports import adjustments
from gradekit.reports.inert import csv_text
from gradekit.result import GradeResult

__all__ = ["CANVAS", "EXPORTS", "MOODLE", "canvas", "moodle"]

CANVAS = ("Student", "ID", "SIS User ID", "SIS Login ID", "Section")
MOODLE = ("ID number", "Username", "Email address", "Full name")
POINTS_POSSIBLE = "Points Possible"
FEEDBACK = "Feedback"

Export = Callable[[Assignment, list[tuple[str, GradeResult]], Mapping[str, Listing]], str]


def canvas(assignment: Assignment, graded: list[tuple[str, GradeResult]], roster: Mapping[str, Listing]) -> str:
    """canvas.csv: Canvas's gradebook import."""
    rows = [[*CANVAS, assignment.name], [POINTS_POSSIBLE, "", "", "", "", f"{assignment.max_score:g}"]]
    for student, result, listing in _listed(graded, roster):
        login, section = listing.columns.get("login", ""), listing.columns.get("section", "")
        rows.append([listing.name, "", student, login, section, f"{result.score:g}"])
    return csv_text(rows)


def moodle(assignment: Assignment, graded: list[tuple[str, GradeResult]], roster: Mapping[str, Listing]) -> str:
    """moodle.csv: Moodle's CSV grade import."""
    rows = [[*MOODLE, assignment.name, FEEDBACK]]
    for student, result, listing in _listed(graded, roster):
        ids = [listing.columns.get("login", ""), listing.columns.get("email", ""), listing.name]
        rows.append([student, *ids, f"{result.score:g}", adjustments.comments(result)])
    return csv_text(rows)


EXPORTS: Mapping[str, Export] = {"canvas": canvas, "moodle": moodle}


def _listed(
    graded: list[tuple[str, GradeResult]], roster: Mapping[str, Listing]
) -> list[tuple[str, GradeResult, Listing]]:
    """The students on the roster, with their listing."""
    return [(s, r, roster[s]) for s, r in graded if s in roster and roster[s].status != UNLISTED]
