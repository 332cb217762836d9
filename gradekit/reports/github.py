"""GitHub Actions: workflow commands that annotate the submission, and a job summary.

`render` gives one `::error` line per property that did not pass, at the line of the function it
caught (the function of the failing call, else the property's first function), but one per function
not implemented yet (gradekit.reports.stubs), an annotation per note titled for what it says
(`about`), a `::notice` naming the wall the code ran behind (a `::warning` for the guard) and a
`::notice` with the score, saying whose it is in a check of some functions. `summary` is the Markdown report, which
the command line appends to the file named by $GITHUB_STEP_SUMMARY. In a notebook a line means
nothing to GitHub, so annotations name the file and say the cell in their title.

Escaping follows the workflow-command rules, as GitHub's toolkit escapes (gradekit.reports.inert): in
a message %, CR and LF become %25, %0D and %0A; in a property value (file, title), ':' and ',' also
become %3A and %2C. So every line is one command of gradekit's, none a student's: a line break in
what a student wrote stays inside its message. Control characters are shown as their escapes first,
since the job's log is read in a terminal too.
"""

from __future__ import annotations

from gradekit.reports import markdown
from gradekit.reports.inert import github_data, github_property, terminal
from gradekit.reports.stubs import Stub, stubs
from gradekit.reports.text import GUARD, MARKS, details, diagnosed, isolation, partial
from gradekit.result import FAULTS, GradeResult, PropertyResult

summary = markdown.render


def render(result: GradeResult) -> str:
    file = result.submission.removeprefix("./")
    lines = []
    if result.error:
        lines.append(_command("error", {"file": file, "title": "gradekit could not grade this file"}, result.error))
    sandbox, said = _sandbox(result)
    lines += sandbox
    for note in result.notes:
        if note not in said:
            kind, title = about(note)
            lines.append(_command(kind, {"file": file, "title": f"gradekit: {title}"}, note))
    if not result.error:
        stubbed, rest = stubs(result)
        lines += [_stub(result, file, stub) for stub in stubbed]
        lines += [_annotation(result, file, test) for test in rest if test.status in FAULTS]
    for diagnosis in result.diagnosis:
        where = {"file": file, "title": f"gradekit: a known mistake in {diagnosis.function}"}
        if diagnosis.function in result.function_lines and diagnosis.function not in result.function_cells:
            where["line"] = str(result.function_lines[diagnosis.function])
        lines.append(_command("notice", where, "\n".join(diagnosed(diagnosis))))
    score = f"{result.score:g} / {result.max_score:g}"
    whose = f"{result.assignment}: {score}{partial(result)}"
    lines.append(_command("notice", {"title": f"gradekit score: {score}"}, whose))
    return "\n".join(lines) + "\n"


SANDBOX = "sandbox"
NOTES = (  # a note's first words, as the grader writes them, and its annotation's command and title
    ("cell ", "warning", "a cell did not run"),
    ("the submission ran ", "notice", SANDBOX),
    ("graded ", "warning", "submission"),
    ("this is the public check ", "notice", "public check"),
)


def about(note: str) -> tuple[str, str]:
    """The command and title of a note's annotation, by what the note says: a title about something
    else (a cell, for a note on the sandbox) sends a student looking for what is not there."""
    return next(((kind, title) for start, kind, title in NOTES if note.startswith(start)), ("warning", "note"))


def _sandbox(result: GradeResult) -> tuple[list[str], list[str]]:
    """The annotation naming the wall the code ran behind, and the notes it says. A note on why the
    wall is weaker than bubblewrap is its message, so one annotation tells both; a `::warning` for the
    guard, which is no security boundary, else a `::notice`. Nothing where the result names no wall."""
    wall = isolation(result)
    if wall is None:
        return [], []
    said = [note for note in result.notes if about(note)[1] == SANDBOX]
    kind = "warning" if result.isolation == GUARD else "notice"
    return [_command(kind, {"title": f"gradekit sandbox: {result.isolation}"}, " ".join(said) or wall)], said


def _annotation(result: GradeResult, file: str, test: PropertyResult) -> str:
    function = _culprit(test)
    title = f"{MARKS[test.status]} {test.name} ({function}): {test.score:g}/{test.max_score:g}"
    return _at(result, file, function, title, "\n".join(details(test)))


def _stub(result: GradeResult, file: str, stub: Stub) -> str:
    """One annotation for a function not implemented yet, however many properties wait on it."""
    points = sum(t.max_score for t in stub.tests)
    return _at(result, file, stub.function, f"NOT IMPLEMENTED {stub.function}: 0/{points:g}", stub.line())


def _at(result: GradeResult, file: str, function: str, title: str, message: str) -> str:
    """An `::error` at the line that defines `function`; in a notebook, the file, its cell in the title."""
    where = {"file": file}
    if function in result.function_cells:
        title += f", cell {result.function_cells[function]}"
    elif function in result.function_lines:
        where["line"] = str(result.function_lines[function])
    return _command("error", {**where, "title": title}, message)


def _culprit(test: PropertyResult) -> str:
    if test.counterexample is not None and test.counterexample.calls:
        called = test.counterexample.calls[-1].function
        if called in test.functions:
            return called
    return test.functions[0] if test.functions else test.name


def _command(kind: str, properties: dict[str, str], message: str) -> str:
    shown = ",".join(f"{key}={github_property(terminal(value))}" for key, value in properties.items())
    return f"::{kind} {shown}::{github_data(terminal(message))}"
