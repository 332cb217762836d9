"""The student's report: a score line, one block per failed property, then what is held back."""

from __future__ import annotations

from gradekit.result import GradeResult, PropertyResult, Status, short_repr

MARKS = {Status.FAILED: "FAILED", Status.ERROR: "ERROR", Status.TIMEOUT: "TIMEOUT"}


def render(result: GradeResult) -> str:
    lines = [
        f"gradekit: {result.submission} ({result.assignment})",
        f"Score: {_points(result.score)} / {_points(result.max_score)}",
    ]
    if result.error:
        lines.append(f"Could not grade: {result.error}")
        lines.append(f"Every property scores 0 until the file loads ({len(result.tests)} properties).")
        return "\n".join(lines + _notes(result)) + "\n"
    passed = sum(t.status is Status.PASSED for t in result.tests)
    lines.append(f"{passed} of {len(result.tests)} properties passed (seed {result.seed})")
    lines += _notes(result)
    for test in result.tests:
        if test.status is not Status.PASSED:
            lines.append("")
            lines.extend(block(test))
    held = [t for t in result.tests if t.status is Status.PASSED and t.score < t.max_score]
    if held:
        lines += ["", "Passed, but held back until the function's values are right:"]
        lines += [f"  {t.name} ({_points(t.max_score)} point{'' if t.max_score == 1 else 's'})" for t in held]
    if result.output.strip():
        lines += ["", "Your code printed (first lines):"]
        lines += ["  " + line for line in result.output.strip().splitlines()[:10]]
    return "\n".join(lines) + "\n"


def block(test: PropertyResult) -> list[str]:
    """A property that did not pass, as the text report shows it; other writers reuse its details."""
    functions = ", ".join(test.functions)
    points = f"{_points(test.score)}/{_points(test.max_score)}"
    heading = f"{MARKS.get(test.status, 'PASSED')}  {test.name} [{functions}]  {points}"
    return [heading] + ["  " + line for line in details(test)]


def details(test: PropertyResult) -> list[str]:
    """What happened, the counterexample and the hint: the same lines in every format."""
    lines = [test.message] if test.message else []
    example = test.counterexample
    if example is not None:
        lines += [f"call: {call.render()}" for call in example.calls]
        if example.returned is not None:
            lines.append(f"you returned: {short_repr(example.returned)}")
        if example.expected is not None:
            lines.append(f"expected:     {short_repr(example.expected)}")
    if test.hint:
        lines.append(f"hint: {test.hint}")
    return lines


def _notes(result: GradeResult) -> list[str]:
    if not result.notes:
        return []
    return ["", "Notes:"] + [f"  {note}" for note in result.notes]


def _points(value: float) -> str:
    return f"{value:g}"
