"""The regrade report of a class graded again: regrade.md for the instructor, regrade.csv and
regrade.json for tools.

Pure functions of the comparisons (gradekit.regrade) of every student graded again: each student whose
score changed is listed, with the old and new score and, for each property whose outcome or points
changed, the old and new outcome and the causes; the students whose scores did not change are counted.
"""

from __future__ import annotations

import csv
import io
import json

from gradekit.course_terms import counted
from gradekit.regrade import Regrade
from gradekit.reports.gradebook import as_text

__all__ = ["csv_text", "json_text", "markdown"]


def markdown(title: str, regrades: list[Regrade]) -> str:
    changed = [r for r in regrades if r.changed]
    lines = [
        f"# Regrade of {title}",
        "",
        f"{counted(len(regrades), 'student')} graded again: {len(changed)} with a new score, "
        f"{len(regrades) - len(changed)} with the score they had.",
    ]
    for regrade in changed:
        lines += [
            "",
            f"## {regrade.student}: {regrade.before:g}/{regrade.max_before:g} → "
            f"{regrade.after:g}/{regrade.max_after:g}",
            "",
            "| property | before | after | why |",
            "|---|---|---|---|",
        ]
        lines += [
            f"| {c.property} | {c.before} | {c.after} | {'; '.join(map(str, c.causes))} |" for c in regrade.changes
        ]
    return "\n".join(lines) + "\n"


def csv_text(regrades: list[Regrade]) -> str:
    """One row per property whose outcome or points changed, of each student whose score changed."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["student", "score_before", "score_after", "property", "before", "after", "causes"])
    for regrade in (r for r in regrades if r.changed):
        for change in regrade.changes:
            writer.writerow(
                [
                    as_text(regrade.student),
                    f"{regrade.before:g}",
                    f"{regrade.after:g}",
                    change.property,
                    change.before,
                    change.after,
                    "; ".join(map(str, change.causes)),
                ]
            )
    return buffer.getvalue()


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
    return json.dumps(document, indent=2) + "\n"
