"""An assignment's contract, as students read it: each function's signature, its docstring, and the
checks that grade it.

The contract is written once, in the assignment's functions.py: its module docstring says what holds
for every function, and each function's docstring what it takes, what it returns and the conventions
it is graded on. `gradekit list --details NAME` prints it (`text`), and the starter files `gradekit
release` writes carry it (the stubs keep their docstrings; the notebook gives each function a
`markdown` cell). The checks are the assignment's properties, so their names, points and hints are
the grader's own and cannot disagree with it.

Docstrings are shown as written, in a terminal and as Markdown in a notebook, so they are written to
read well both ways: code and formulas in backticks, a block of formulas indented four spaces after a
blank line. A hint is one line of plain text and is escaped for Markdown.
"""

from __future__ import annotations

import ast
import re
import textwrap

from gradekit.assignment import Assignment
from gradekit.authoring import Property
from gradekit.course_terms import counted

# What CommonMark may read as markup inside a line of prose: a backslash, a code span, emphasis (any
# `*`; an `_` not inside a word, as in m_hat), an HTML tag.
MARKDOWN_SPECIAL = re.compile(r"[\\`*<]|(?<![A-Za-z0-9])_|_(?![A-Za-z0-9])")
WIDTH = 100  # the terminal columns a check's name, terms and hint are wrapped to


def functions_doc(assignment: Assignment) -> str:
    """What holds for every function: the docstring of the assignment's functions.py ("" without one)."""
    source = (assignment.folder / "functions.py").read_text()
    return ast.get_docstring(ast.parse(source)) or ""


def checks(assignment: Assignment, name: str) -> list[Property]:
    """The properties that grade `name`: those naming it first in `functions=`, so each property is
    listed under one function, and a student sees the points that function can earn."""
    return [p for p in assignment.properties if p.functions[0] == name]


def used_by(assignment: Assignment, name: str) -> list[Property]:
    """The properties of other functions that also call `name`: a mistake in it can cost points there."""
    return [p for p in assignment.properties if name in p.functions[1:]]


def points(value: float) -> str:
    """'1 point', '6 points', '0.5 points'."""
    return counted(value, "point")


def terms(check: Property, quote: str = "") -> str:
    """What a check is worth and when it pays: '2 points, once softmax_matches_reference passes', the
    names of the checks it waits on between `quote`s (a backtick, for Markdown)."""
    parts = [points(check.points)]
    if check.scale:
        parts.append("timed on large inputs")
    if check.requires:
        verb = "passes" if len(check.requires) == 1 else "pass"
        parts.append(f"once {' and '.join(quote + name + quote for name in check.requires)} {verb}")
    return ", ".join(parts)


def text(assignment: Assignment) -> str:
    """The whole contract for a terminal: the assignment, what holds for every function, then each
    function's signature, docstring and checks."""
    lines = [
        f"{assignment.name}: {assignment.title}",
        f"{points(assignment.max_score)} in {len(assignment.properties)} checks",
    ]
    common = functions_doc(assignment)
    if common:
        lines += ["", *_indented(common, 2)]
    for name, spec in assignment.functions.items():
        lines += ["", spec.signature, ""]
        if spec.doc:
            lines += [*_indented(spec.doc, 4), ""]
        own = checks(assignment, name)
        lines.append(f"    Checks ({points(sum(p.points for p in own))}):")
        for check in own:
            lines += _wrapped(f"- {check.name} ({terms(check)})", 4, 6)
            lines += _wrapped(check.hint, 8, 8)
        others = used_by(assignment, name)
        if others:
            lines += _wrapped("Also called in: " + ", ".join(f"{p.name} ({p.functions[0]})" for p in others), 4, 6)
    return "\n".join(lines) + "\n"


def markdown(signature: str, own: list[Property], others: list[Property]) -> str:
    """One function's notebook Markdown cell: its signature, its checks (`own`) with their points and
    hints, and the checks of other functions that call it (the docstring is in the stub below it)."""
    lines = [f"## `{signature}`", "", "Its contract is the docstring in the cell below.", ""]
    lines += [f"**Checks** ({points(sum(p.points for p in own))}):", ""]
    lines += [f"- `{check.name}` ({terms(check, quote='`')}): {escape(check.hint)}" for check in own]
    if others:
        lines += ["", "Also called in: " + ", ".join(f"`{p.name}` (`{p.functions[0]}`)" for p in others)]
    return "\n".join(lines)


def escape(line: str) -> str:
    """`line` as Markdown that shows exactly `line`: `g**2` stays g**2, not an emphasis."""
    return MARKDOWN_SPECIAL.sub(lambda found: "\\" + found.group(), line)


def _wrapped(line: str, first: int, rest: int) -> list[str]:
    """`line` wrapped to a terminal's 100 columns, its first line indented by `first` spaces, the others by `rest`."""
    return textwrap.wrap(line, WIDTH, initial_indent=" " * first, subsequent_indent=" " * rest, break_on_hyphens=False)


def _indented(block: str, width: int) -> list[str]:
    """The lines of `block` indented by `width` spaces, blank lines left empty."""
    return textwrap.indent(block, " " * width).splitlines()
