"""The student's report as Markdown: for a feedback file, a GitHub job summary or an LMS comment.

The same content as the text report, in the same order: score (and, for a check of some functions,
whose), isolation, notes, a line per function not implemented yet (gradekit.reports.stubs), one
section per other property that did not pass (counterexample in a code block), what is not checked
yet, a table of what passed, and what the code printed.

Every text but gradekit's own words goes through gradekit.reports.inert: inline text as Markdown text
(no image, link or HTML survives; what its writer put in backticks stays a code span), blocks fenced
longer than any run of backticks in them, control characters as their visible escapes.
"""

from __future__ import annotations

from gradekit.course_terms import counted
from gradekit.reports.inert import markdown_block, markdown_text
from gradekit.reports.stubs import stubs
from gradekit.reports.text import GUARD, MARKS, alike, details, isolation, named_seed, partial, walled
from gradekit.reports.waiting import waiting as held_back
from gradekit.result import FAULTS, GradeResult, PropertyResult, Status


def render(result: GradeResult) -> str:
    # `partial` and a stub's line name functions in code spans, and are written of identifiers alone.
    score = ["", f"**Score: {result.score:g} / {result.max_score:g}**{partial(result)}"]
    if result.error:
        score += [
            "",
            f"> **Could not grade:** {markdown_text(result.error)}",
            "",
            f"Every property scores 0 until the file loads ({counted(len(result.tests), 'property', 'properties')}).",
        ]
    else:
        passed = sum(t.status is Status.PASSED for t in result.tests)
        properties = counted(len(result.tests), "property", "properties")
        score[-1] += f" · {passed} of {properties} passed · {named_seed(result)}"
    out = walled(
        result,
        [f"# gradekit: {markdown_text(result.submission)} ({markdown_text(result.assignment)})"],
        score,
        _wall(result),
    )
    out += ["", markdown_text(result.regraded)] if result.regraded else []
    if result.notes:
        out += ["", "## Notes", ""]
        out += [f"- {markdown_text(note)}" for note in result.notes]
    if result.diagnosis:
        out += ["", "## Known mistakes", ""]
        for d in result.diagnosis:
            said = f"{markdown_text(alike(d))} {markdown_text(d.explanation)}"
            out.append(f"- **`{d.function}`: {markdown_text(d.misconception)}.** {said}")
    stubbed, rest = stubs(result)
    if stubbed and not result.error:
        out += ["", "## Not implemented yet", ""]
        out += [f"- {stub.line()}" for stub in stubbed]
    failing = [t for t in rest if t.status in FAULTS]
    if failing and not result.error:
        out += ["", "## Not passed"]
        for test in failing:
            out += ["", *_section(test)]
    waiting = [t for t in rest if t.status is Status.UNCHECKED]
    if waiting and not result.error:
        out += ["", "## Not checked yet", ""]
        out += [f"- {markdown_text(line)}" for line in held_back(waiting, result.tests)]
    paid = [t for t in result.tests if t.status is Status.PASSED]
    if paid:
        out += ["", "## Passed", "", "| property | functions | points |", "| --- | --- | --- |"]
        out += [f"| `{t.name}` | {', '.join(f'`{f}`' for f in t.functions)} | {t.score:g} |" for t in paid]
    if result.output.strip():
        printed = "\n".join(result.output.strip().splitlines()[:10])
        out += ["", "## Your code printed (first lines)", "", *markdown_block(printed)]
    return "\n".join(out) + "\n"


def _wall(result: GradeResult) -> list[str]:
    """The isolation line as its own paragraph; in bold for the guard, which a student should not miss."""
    wall = isolation(result)
    if wall is None:
        return []
    return ["", f"**{markdown_text(wall)}**" if result.isolation == GUARD else markdown_text(wall)]


def _section(test: PropertyResult) -> list[str]:
    functions = ", ".join(f"`{f}`" for f in test.functions)
    lines = details(test)
    hint = lines.pop()[len("hint: ") :] if lines and lines[-1].startswith("hint: ") else ""
    section = [f"### {MARKS[test.status]} `{test.name}` ({functions}): {test.score:g} / {test.max_score:g}", ""]
    section += markdown_block("\n".join(lines)) if lines else []
    if hint:
        section += ["", f"**Hint:** {markdown_text(hint)}"]
    return section
