"""The class summary of a batch run: the wall(s) the class's code ran behind, what most students
missed, the known mistakes they made and the failures none explains, and a histogram of the scores.

Pure functions of the students' results, (student's name, `GradeResult`) pairs: the scores in them
were made by the grader; this module only counts them. The histogram is SVG written by hand, ten
bars over the score range, so no plotting library is needed. With a roster (each student's
`gradebook.Listing`), it names who submitted nothing and who was graded without being on the roster;
with adjustments by hand, who had them. Every name, error, comment and counterexample is inert
Markdown (gradekit.reports.inert): no image, link or HTML a student's name or output holds survives.
"""

from __future__ import annotations

import statistics
from collections.abc import Mapping
from xml.sax.saxutils import escape

from gradekit.assignment import Assignment
from gradekit.batch import unexplained
from gradekit.batch.gradebook import MISSING, UNLISTED, Listing
from gradekit.course_terms import counted
from gradekit.reports import adjustments
from gradekit.reports.inert import markdown_block, markdown_text
from gradekit.reports.text import GUARD, story
from gradekit.result import FAULTS, GradeResult

BINS = 10
MOST_GROUPS = 10  # groups of students who failed alike shown, the largest
MOST_NAMED = 20  # students a line names before it counts the rest
LEFT_OUT = {  # each reason a failure is left out of the unexplained: (what is counted, why)
    unexplained.STUB: ("function", "not implemented yet"),
    unexplained.HANG: ("function", "that ran out of time"),
    unexplained.UNDEFINED: ("function", "not defined"),
    unexplained.KNOCK_ON: ("knock-on failure", "(its properties require another function's, which did not pass)"),
}


def render(
    assignment: Assignment,
    graded: list[tuple[str, GradeResult]],
    histogram_file: str,
    roster: Mapping[str, Listing] | None = None,
) -> str:
    """summary.md: the counts, the histogram (`histogram_file`, beside it), the properties by how many
    gradable submissions did not pass them, and who could not be graded and why; with a `roster`, who
    submitted nothing and who is not on it; who the staff adjusted by hand."""
    status = {s: roster.get(s, Listing(status=UNLISTED)).status for s, _ in graded} if roster is not None else {}
    missing = [s for s, _ in graded if status.get(s) == MISSING]
    loaded = [result for _, result in graded if not result.error]
    scores = [result.score for _, result in graded]
    top = assignment.max_score
    out = [f"# {assignment.name}: class summary", ""]
    if not graded:
        return "\n".join(out + ["No submissions were found."]) + "\n"
    full = sum(s >= top for s in scores)
    counts = (
        f"{len(graded)} students · mean {statistics.fmean(scores):.1f} / {top:g} · median "
        f"{statistics.median(scores):g} · {full} with full marks · "
        f"{len(graded) - len(loaded) - len(missing)} could not be graded"
    ) + (f" · {len(missing)} missing" if roster is not None else "")
    out += [counts, *_walls(graded), "", f"![Histogram of the scores out of {top:g}]({histogram_file})", ""]
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
            if test.status in FAULTS and test.name in missed:
                missed[test.name] += 1
    order = sorted(assignment.properties, key=lambda p: -missed[p.name])
    for prop in order:
        share = f" ({missed[prop.name] / len(loaded):.0%})" if loaded else ""
        functions = ", ".join(f"`{f}`" for f in prop.functions)
        hint = markdown_text(prop.hint, table=True)
        out.append(f"| `{prop.name}` | {functions} | {prop.points:g} | {missed[prop.name]}{share} | {hint} |")
    out += _known_mistakes(graded)
    out += _unexplained(assignment, graded)
    unloaded = [(student, result.error) for student, result in graded if result.error and student not in missing]
    if unloaded:
        out += ["", "## Could not be graded", ""]
        out += [f"- **{markdown_text(student)}**: {markdown_text(error)}" for student, error in unloaded]
    out += _listed("Missing", "On the roster, with nothing submitted: each scores 0.", missing, roster)
    unlisted = [s for s, _ in graded if status.get(s) == UNLISTED]
    why = "Graded, but no row of the roster claims their submission: add them to the roster, or remove it."
    out += _listed("Not on the roster", why, unlisted, roster)
    shared = [(s, roster[s].columns.get("shared", "")) for s, _ in graded if roster is not None and s in roster]
    flagged = [f"- **{markdown_text(s)}**: {markdown_text(whom)}" for s, whom in shared if whom]
    if flagged:  # the `shared` column of the roster `gradekit collect` writes
        lead = "Collected from a repository, or at a commit, that another student's was too: check whose work it is."
        out += ["", f"## Shared repositories or commits ({len(flagged)})", "", lead, "", *flagged]
    out += _adjusted(graded)
    return "\n".join(out) + "\n"


def _listed(title: str, lead: str, students: list[str], roster: Mapping[str, Listing] | None) -> list[str]:
    """A section naming `students`, each with their name on the roster where it has one."""
    if not students or roster is None:
        return []
    named = [(s, roster[s].name if s in roster else "") for s in students]
    out = ["", f"## {title} ({len(students)})", "", lead, ""]
    return out + [f"- **{markdown_text(s)}**" + (f" ({markdown_text(name)})" if name else "") for s, name in named]


def _adjusted(graded: list[tuple[str, GradeResult]]) -> list[str]:
    """Who the staff adjusted by hand: the points it moved each score by, and their comments."""
    adjusted = [(student, result) for student, result in graded if result.adjustments]
    if not adjusted:
        return []
    out = [
        "",
        "## Adjusted by hand",
        "",
        "| student | found | adjustment | score | comment |",
        "| --- | --- | --- | --- | --- |",
    ]
    for student, result in adjusted:
        out.append(
            f"| {markdown_text(student, table=True)} | {result.found:g} | {adjustments.change(result)} | "
            f"{result.score:g} | {markdown_text(adjustments.comments(result), table=True)} |"
        )
    return out


STRONGEST_FIRST = ("bubblewrap", "landlock", GUARD)  # the walls, as gradekit.sandbox.isolation orders them


def _walls(graded: list[tuple[str, GradeResult]]) -> list[str]:
    """The wall(s) the class's code ran behind, in one line, once for the class rather than a column
    per student: how many students behind each, strongest first, and who ran behind the guard, which
    is no security boundary. Nothing where no result names a wall (results written before they did)."""
    behind: dict[str, list[str]] = {}
    for student, result in graded:
        if result.isolation is not None:
            behind.setdefault(result.isolation, []).append(student)
    if not behind:
        return []
    unnamed = len(graded) - sum(map(len, behind.values()))
    if len(behind) == 1 and not unnamed:
        return ["", f"Graded behind {next(iter(behind))} (all {counted(len(graded), 'student')})."]
    order = [w for w in STRONGEST_FIRST if w in behind] + [w for w in behind if w not in STRONGEST_FIRST]
    parts = [f"{wall} ({counted(len(behind[wall]), 'student')}{_named(wall, behind[wall])})" for wall in order]
    line = "Graded behind " + ", ".join(parts)
    return ["", line + (f"; no wall named for {counted(unnamed, 'student')}." if unnamed else ".")]


def _named(wall: str, students: list[str]) -> str:
    """Who ran behind `wall`, where it is the guard: a course should know whose grade had no OS sandbox."""
    return ": " + ", ".join(markdown_text(s) for s in students) if wall == GUARD else ""


def _known_mistakes(graded: list[tuple[str, GradeResult]]) -> list[str]:
    """How many students made each known mistake, and who, most made first."""
    made: dict[tuple[str, str], list[str]] = {}
    for student, result in graded:
        for diagnosis in result.diagnosis:
            made.setdefault((diagnosis.function, diagnosis.misconception), []).append(student)
    if not made:
        return []
    out = [
        "",
        "## Known mistakes",
        "",
        "Students whose function answers exactly like a known mistake on every probe, most made first.",
        "",
        "| function | mistake | students | who |",
        "| --- | --- | --- | --- |",
    ]
    for (function, mistake), students in sorted(made.items(), key=lambda item: (-len(item[1]), item[0])):
        who = ", ".join(markdown_text(s, table=True) for s in students)
        out.append(f"| `{function}` | {markdown_text(mistake, table=True)} | {len(students)} | {who} |")
    return out


def _unexplained(assignment: Assignment, graded: list[tuple[str, GradeResult]]) -> list[str]:
    """The failures no known mistake explains (gradekit.batch.unexplained): the groups of students
    who answered alike, largest first, each with one student's counterexample, the students alone in
    one line, and in one more how many were left out, and why: mistakes worth adding to the bank."""
    found, left_out = unexplained.failures(assignment, graded)
    if not found and not left_out:
        return []
    ranked = unexplained.groups(assignment, found)
    shared = [g for g in ranked if len(g.failures) > 1]
    alone = [g.example for g in ranked if len(g.failures) == 1]
    out = [
        "",
        "## Failures no known mistake explains",
        "",
        "The students whose failing function answers every probe alike, grouped, largest group first, with one "
        "student's counterexample: mistakes the bank lacks, worth adding to it.",
    ]
    for group in shared[:MOST_GROUPS]:
        out += _group(group)
    if len(shared) > MOST_GROUPS:
        rest = sum(len(g.failures) for g in shared[MOST_GROUPS:])
        out += ["", f"And {counted(len(shared) - MOST_GROUPS, 'smaller group')} ({counted(rest, 'student')})."]
    if alone:
        named = ", ".join(f"{markdown_text(f.student)} (`{f.function}`)" for f in alone[:MOST_NAMED])
        more = f" and {len(alone) - MOST_NAMED} more" if len(alone) > MOST_NAMED else ""
        out += ["", f"And {counted(len(alone), 'student')} alone, failing like no one else: {named}{more}."]
    if left_out:
        told = ", ".join(
            f"{counted(left_out[reason], LEFT_OUT[reason][0])} {LEFT_OUT[reason][1]}"
            for reason in unexplained.REASONS
            if left_out[reason]
        )
        out += ["", f"Left out, as no known mistake could explain them: {told}."]
    return out


def _group(group: unexplained.Group) -> list[str]:
    """A group of students who failed alike: who, how they are alike, and one of them's counterexample."""
    size = counted(len(group.failures), "student")
    who = ", ".join(markdown_text(f.student) for f in group.failures[:MOST_NAMED])
    who += f" and {len(group.failures) - MOST_NAMED} more" if len(group.failures) > MOST_NAMED else ""
    example = group.example
    test = example.test
    if group.answered:
        alike = "They answer every probe alike."
    else:
        failed = ", ".join(f"`{name}`" for name in example.failed)
        alike = f"They fail {failed} (no answers to the probes to compare)."
    found = f"`{test.name}`, as {markdown_text(example.student)}'s grade found it:"
    lines = [test.message] if test.message else []
    lines += story(test.counterexample, test.message) if test.counterexample is not None else []
    return ["", f"### {size}: `{group.function}`", "", f"{who}. {alike} {found}", "", *markdown_block("\n".join(lines))]


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
