"""The course staff's adjustments by hand, as each report of a class shows them: a section after the
student's report (text or Markdown), lines of Gradescope's output, and the gradebook's two columns.

Pure functions of the result: the adjustments are data in it (gradekit.result.Adjustment), and its
score already holds them; these only say what was changed, by how much and why. A comment is the
staff's words, shown as inert text all the same (gradekit.reports.inert): Markdown text in Markdown,
console text in text.
"""

from __future__ import annotations

from collections.abc import Callable

from gradekit.course_terms import counted
from gradekit.reports import WRITERS
from gradekit.reports.inert import console, markdown_code, markdown_text
from gradekit.result import Adjustment, GradeResult

__all__ = ["change", "comments", "feedback", "lines", "markdown"]

WHOLE = "the whole score"


def feedback(result: GradeResult, form: str) -> str:
    """The student's feedback file: their report in `form` ("markdown" or "text"), then the staff's
    adjustments and comments, where there are any."""
    section = markdown(result) if form == "markdown" else lines(result)
    report = WRITERS[form](result)
    return report + "\n" + "\n".join(section) + "\n" if section else report


def lines(result: GradeResult) -> list[str]:
    """The adjustments as plain text: a line with the score they make, then one per adjustment."""
    if not result.adjustments:
        return []
    return [
        f"From the course staff: {_score(result)}",
        *(f"  {_item(result, a, str, console)}" for a in result.adjustments),
    ]


def markdown(result: GradeResult) -> list[str]:
    if not result.adjustments:
        return []
    score = _score(result)
    out = ["## From the course staff", "", markdown_text(score[:1].upper() + score[1:]), ""]
    return out + [f"- {_item(result, a, markdown_code, markdown_text)}" for a in result.adjustments]


def change(result: GradeResult) -> str:
    """The gradebook's adjustment column: the points the adjustments moved the score by ("" for none)."""
    return f"{round(result.score - result.found, 6):g}" if result.adjustments else ""


def comments(result: GradeResult) -> str:
    """The gradebook's comment column: every comment, in order."""
    return "; ".join(a.comment for a in result.adjustments if a.comment)


def _score(result: GradeResult) -> str:
    if result.score == result.found:
        return f"your score is {result.score:g} / {result.max_score:g}."
    return (
        f"your score is {result.score:g} / {result.max_score:g}; the properties found {result.found:g}, "
        "adjusted by hand as below."
    )


def _item(
    result: GradeResult, adjustment: Adjustment, code: Callable[[str], str] = str, text: Callable[[str], str] = str
) -> str:
    """One adjustment: "loss_matches_reference: set to 6 of 8. COMMENT", "the whole score: 2 points
    added. COMMENT"; a comment alone is itself, after its property where it names one. `code` marks a
    property's name up, `text` the words (Markdown's escapes)."""
    where = code(adjustment.property) if adjustment.property else WHOLE
    out_of = {t.name: t.max_score for t in result.tests}.get(adjustment.property or "", result.max_score)
    if adjustment.set is not None:
        done = f"set to {adjustment.set:g} of {out_of:g}"
    elif adjustment.add:
        done = f"{counted(abs(adjustment.add), 'point')} {'added' if adjustment.add > 0 else 'taken off'}"
    else:
        return f"{where}: {text(adjustment.comment)}" if adjustment.property else text(adjustment.comment)
    return f"{where}: {done}" + (f". {text(adjustment.comment)}" if adjustment.comment else "")
