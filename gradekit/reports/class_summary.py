"""The class summary of a batch run: what most students missed, and a histogram of the scores.

Pure functions of the students' results, (student's name, `GradeResult`) pairs: the scores in them
were made by the grader; this module only counts them. The histogram is SVG written by hand, ten
bars over the score range, so no plotting library is needed.
"""

from __future__ import annotations

import statistics
from xml.sax.saxutils import escape

from gradekit.assignment import Assignment
from gradekit.reports.markdown import escape as md_escape
from gradekit.result import GradeResult, Status

BINS = 10


def render(assignment: Assignment, graded: list[tuple[str, GradeResult]], histogram_file: str) -> str:
    """summary.md: the counts, the histogram (`histogram_file`, beside it), the properties by how many
    gradable submissions did not pass them, and who could not be graded and why."""
    loaded = [result for _, result in graded if not result.error]
    scores = [result.score for _, result in graded]
    top = assignment.max_score
    out = [f"# {assignment.name}: class summary", ""]
    if not graded:
        return "\n".join(out + ["No submissions were found."]) + "\n"
    full = sum(s >= top for s in scores)
    counts = (
        f"{len(graded)} students · mean {statistics.fmean(scores):.1f} / {top:g} · median "
        f"{statistics.median(scores):g} · {full} with full marks · {len(graded) - len(loaded)} could not be graded"
    )
    out += [counts, "", f"![Histogram of the scores out of {top:g}]({histogram_file})", ""]
    lead = (
        f"Properties by how many of the {len(loaded)} gradable submissions did not pass them, most first: "
        "the class's common misconceptions."
    )
    out += [
        "## What the class missed",
        "",
        lead,
        "",
        "| property | functions | points | did not pass | hint |",
        "| --- | --- | --- | --- | --- |",
    ]
    missed = {p.name: 0 for p in assignment.properties}
    for result in loaded:
        for test in result.tests:
            if test.status is not Status.PASSED and test.name in missed:
                missed[test.name] += 1
    order = sorted(assignment.properties, key=lambda p: -missed[p.name])
    for prop in order:
        share = f" ({missed[prop.name] / len(loaded):.0%})" if loaded else ""
        functions = ", ".join(f"`{f}`" for f in prop.functions)
        out.append(
            f"| `{prop.name}` | {functions} | {prop.points:g} | {missed[prop.name]}{share} | {md_escape(prop.hint)} |"
        )
    unloaded = [(student, result.error) for student, result in graded if result.error]
    if unloaded:
        out += ["", "## Could not be graded", ""]
        out += [f"- **{md_escape(student)}**: {md_escape(error)}" for student, error in unloaded]
    return "\n".join(out) + "\n"


def bins(scores: list[float], top: float) -> list[int]:
    """Counts of scores in ten equal bins over [0, top]; full marks fall in the last bin."""
    counts = [0] * BINS
    for score in scores:
        index = int(score / top * BINS) if top > 0 else 0
        counts[min(max(index, 0), BINS - 1)] += 1
    return counts


def histogram(scores: list[float], top: float) -> str:
    """An SVG bar chart of `bins(scores, top)`, with the count above each bar and the range below."""
    counts = bins(scores, top)
    width, height, left, bottom, bar = 640, 320, 50, 50, 52
    plot = height - bottom - 40
    tallest = max(counts) or 1
    title = f"Scores of {len(scores)} students (out of {top:g})"
    axis = left + BINS * (bar + 6)
    svg = (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" font-family="sans-serif" font-size="12">'
    )
    parts = [
        svg,
        f"<title>{escape(title)}</title>",
        f'<rect width="{width}" height="{height}" fill="white"/>',
        f'<text x="{width / 2}" y="20" text-anchor="middle" font-size="14">{escape(title)}</text>',
        f'<line x1="{left}" y1="{height - bottom}" x2="{axis}" y2="{height - bottom}" stroke="black"/>',
    ]
    for i, count in enumerate(counts):
        x = left + 3 + i * (bar + 6)
        h = round(plot * count / tallest)
        y = height - bottom - h
        low, high = top * i / BINS, top * (i + 1) / BINS
        label = f"{low:g}-{high:g}"
        parts.append(
            f'<rect class="bar" x="{x}" y="{y}" width="{bar}" height="{h}" fill="#4c72b0" '
            f'data-count="{count}"><title>{count} scored {escape(label)}</title></rect>'
        )
        parts.append(f'<text x="{x + bar / 2}" y="{y - 4}" text-anchor="middle">{count}</text>')
        parts.append(
            f'<text x="{x + bar / 2}" y="{height - bottom + 16}" text-anchor="middle" '
            f'font-size="10">{escape(label)}</text>'
        )
    parts.append(f'<text x="{width / 2}" y="{height - 12}" text-anchor="middle">score</text>')
    parts.append("</svg>")
    return "\n".join(parts) + "\n"
