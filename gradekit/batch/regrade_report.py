"""The regrade report of a class graded again: regrade.md for the instructor, regrade.csv and
regrade.json for tools.

Pure functions of the comparisons (gradekit.batch.regrade) of every student graded again: each student whose
score changed is listed, with the old and new score and, for each property whose outcome or points
changed, the old and new outcome and the causes; the students whose scores did not change are counted.
Each kind's text is gradekit.reports.inert's: Markdown text, CSV cells, strict JSON.
"""

from __future__ import annotations

from gradekit.batch.regrade import Change, Regrade
from gradekit.course_terms import counted
from gradekit.reports import inert

__all__ = ["csv_text", "json_text", "markdown"]


def markdown(title: str, regrades: list[Regrade]) -> str:
    changed = [r for r in regrades if r.changed]
    lines = [
        f"# Regrade of {inert.markdown_text(title)}",
        "",
        f"{counted(len(regrades), 'student')} graded again: {len(changed)} with a new score, "
        f"{len(regrades) - len(changed)} with the score they had.",
    ]
    for regrade in changed:
        lines += [
            "",
            f"## {inert.markdown_text(regrade.student)}: {regrade.before:g}/{regrade.max_before:g} → "
            f"{regrade.after:g}/{regrade.max_after:g}",
            "",
            "| property | before | after | why |",
            "|---|---|---|---|",
        ]
        lines += [
            "| " + " | ".join(inert.markdown_text(cell, table=True) for cell in _cells(c)) + " |"
            for c in regrade.changes
        ]
    return "\n".join(lines) + "\n"


def csv_text(regrades: list[Regrade]) -> str:
    """One row per property whose outcome or points changed, of each student whose score changed."""
    rows = [["student", "score_before", "score_after", "property", "before", "after", "causes"]]
    for regrade in (r for r in regrades if r.changed):
        rows += [[regrade.student, f"{regrade.before:g}", f"{regrade.after:g}", *_cells(c)] for c in regrade.changes]
    return inert.csv_text(rows)


def _cells(change: Change) -> list[str]:
    """A changed property as a row's cells: its name, its outcome before and after, and the causes."""
    return [change.property, change.before, change.after, "; ".join(map(str, change.causes))]


def json_text(regrades: list[Regrade]) -> str:
    changed = [r for r in regrades if r.changed]
    document = {
        "regraded": len(regrades),
        "unchanged": len(regrades) - len(changed),
        "changed": [
            {
                "student": r.student,
                "before": {"score": r.before, "max_score": r.max_before},
                "after": {"score": r.after, "max_score": r.max_after},
                "properties": [
                    {
                        "name": c.property,
                        "before": c.before,
                        "after": c.after,
                        "causes": [{"cause": cause.label, "detail": cause.detail} for cause in c.causes],
                    }
                    for c in r.changes
                ],
            }
            for r in changed
        ],
    }
    return inert.json_text(document)
