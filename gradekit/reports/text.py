"""The student's report: a score line, the wall the code ran behind, the known mistakes made, a line
per function not implemented yet (gradekit.reports.stubs), one block per other failed property, then a
line per property not checked yet. A check narrowed to some functions says so on its score line.

The report is read in a terminal and printed in CI jobs, so it is written as gradekit.reports.inert's
console text: what the submission printed, raised or returned, and its file's name, can neither send
a terminal an escape sequence nor start a line GitHub would run as a workflow command."""

from __future__ import annotations

import re
import textwrap
from typing import Any

from gradekit import course_terms
from gradekit.course_terms import counted
from gradekit.reports.inert import console
from gradekit.reports.stubs import stubs
from gradekit.reports.waiting import waiting as held_back
from gradekit.result import FAULTS, Call, Counterexample, Diagnosis, GradeResult, PropertyResult, Status

MARKS = {Status.FAILED: "FAILED", Status.ERROR: "ERROR", Status.TIMEOUT: "TIMEOUT"}
UNCHECKED = "Not checked yet:"  # each line under it says what it waits on


def render(result: GradeResult) -> str:
    score = [f"Score: {_points(result.score)} / {_points(result.max_score)}{partial(result)}"]
    if result.error:
        score.append(f"Could not grade: {result.error}")
        score.append(f"Every property scores 0 until the file loads ({_properties(len(result.tests))}).")
    else:
        passed = sum(t.status is Status.PASSED for t in result.tests)
        score.append(f"{passed} of {_properties(len(result.tests))} passed ({named_seed(result)})")
    wall = isolation(result)
    lines = walled(result, [f"gradekit: {result.submission} ({result.assignment})"], score, [wall] if wall else [])
    lines += [result.regraded] if result.regraded else []
    lines += _notes(result)
    if result.error:
        return console("\n".join(lines) + "\n")
    for diagnosis in result.diagnosis:
        lines.append("")
        lines += diagnosed(diagnosis)
    stubbed, rest = stubs(result)
    lines += [""] if stubbed else []
    lines += [stub.line() for stub in stubbed]
    for test in rest:
        if test.status in FAULTS:
            lines.append("")
            lines.extend(block(test))
    waiting = [t for t in rest if t.status is Status.UNCHECKED]
    if waiting:
        lines += ["", UNCHECKED]
        lines += [f"  {line}" for line in held_back(waiting, result.tests)]
    if result.output.strip():
        lines += ["", "Your code printed (first lines):"]
        lines += ["  " + line for line in result.output.strip().splitlines()[:10]]
    return console("\n".join(lines) + "\n")


def partial(result: GradeResult) -> str:
    """What follows the score of a check narrowed to some functions, as every format says it: whose
    score it is, and that it is not the assignment's; nothing for a whole grade."""
    if not result.checked:
        return ""
    names = [f"`{f}`" for f in result.checked]
    named = " and ".join([", ".join(names[:-1]), names[-1]] if len(names) > 1 else names)
    return f" for {named} (a partial check: the assignment's other functions are not graded)"


GUARD = "guard"  # the wall that is no security boundary (gradekit.sandbox.isolation)
WALLS = {  # what each wall is, after its name, where a report names it
    "landlock": "Landlock and seccomp, without namespaces",
    GUARD: "the submission ran without OS isolation, behind the Python guard alone: no security boundary",
}


def isolation(result: GradeResult) -> str | None:
    """The line naming the wall the submission's code ran behind, as every format says it: what the
    code could reach depends on it. None where the result names none (no code ran, or the result was
    written before results named it), so such a report reads as it always did."""
    if result.isolation is None:
        return None
    what = WALLS.get(result.isolation)
    return f"Isolation: {result.isolation}" + (f" ({what})" if what else "")


def made_from(result: GradeResult) -> list[tuple[str, str]]:
    """What the result was made from (gradekit.engine.provenance), as (name, value) pairs for formats that
    list them: nothing for a result written before results kept it."""
    made = result.provenance
    if made is None:
        return []
    pairs = [("gradekit", f"{made.gradekit} (build {made.build})"), ("python", made.python)]
    pairs += sorted(made.libraries.items())
    pairs += [("assignment_digest", made.assignment), ("solution_digest", made.solution or "none")]
    pairs += [("examples", str(made.examples)), ("options_digest", made.options)]
    return pairs + ([("submission_sha256", made.submission)] if made.submission else [])


def walled(result: GradeResult, title: list[str], score: list[str], wall: list[str]) -> list[str]:
    """The top of a report: its title, then the score and the isolation lines `wall` under it; for the
    guard, `wall` first after the title, where a student's check that fell back to it cannot miss it."""
    if result.isolation == GUARD:
        return [*title, *wall, *score]
    return [*title, *score, *wall]


def named_seed(result: GradeResult) -> str:
    """The seed as every format names it: a public seed by its number, the course's own by its digest
    alone, as the result holds it (gradekit.course_seed)."""
    if result.seed_digest is not None:
        return f"course seed, digest {result.seed_digest}"
    return f"seed {result.seed}"


def diagnosed(diagnosis: Diagnosis) -> list[str]:
    """A known mistake the submission makes, as every format says it: which, and how to fix it."""
    return [
        f"KNOWN MISTAKE  {diagnosis.function}: {diagnosis.misconception}",
        f"  {alike(diagnosis)}",
        *("  " + line for line in textwrap.wrap(diagnosis.explanation, 98)),
    ]


def alike(diagnosis: Diagnosis) -> str:
    """How the submission showed the mistake: its answers to the probes, or (agreement (0, 0)) what its
    calls did, which the watch of every call found."""
    matched, probes = diagnosis.agreement
    if probes == 0:
        return f"Your `{diagnosis.function}` does to its arguments or answers what this known mistake does."
    agreement = f"all {probes} probes" if matched == probes else f"{matched} of {probes} probes"
    return f"Your `{diagnosis.function}` behaves exactly like this known mistake on {agreement}."


def block(test: PropertyResult) -> list[str]:
    """A property that did not pass, as the text report shows it; other writers reuse its details. The
    functions it exercises follow its name, unless the name starts with the one it exercises."""
    functions = ", ".join(test.functions)
    named = len(test.functions) == 1 and test.name.startswith(f"{functions}_")
    points = f"{_points(test.score)}/{_points(test.max_score)}"
    heading = f"{MARKS.get(test.status, 'PASSED')}  {test.name}{'' if named else f' [{functions}]'}  {points}"
    return [heading] + ["  " + line for line in details(test)]


def details(test: PropertyResult) -> list[str]:
    """What happened, the counterexample and the hint: the same lines in every format."""
    lines = [test.message] if test.message else []
    if test.counterexample is not None:
        lines += story(test.counterexample, test.message)
    if test.hint:
        lines.append(f"hint: {test.hint}")
    return lines


def story(example: Counterexample, message: str = "") -> list[str]:
    """The calls that decided the verdict, what came back, what was expected and where they
    differ, each value shown the way the course writes it."""
    returned, expected = example.returned, example.expected
    calls = _deciding(example.calls, [v for v in (returned, expected) if v is not None])
    hidden = [c for c in example.calls if c not in calls and not _repeat(c, example.calls[-1])]
    lines = ["(earlier calls not shown)"] if hidden else []
    answering = next((c for c in reversed(calls) if returned is not None and _gave(c, returned)), None)
    others = [c.returned for c in calls if c.raised is None and c is not answering]
    before: list[tuple[str, str]] = []
    for call in calls:
        arguments = _arguments(call)
        lines += _call(call, arguments, _answer(call, call is answering, returned, expected, message), before)
        before = arguments
    by_tokens = any(_given_a_bigram_table(c) for c in calls)
    parts = _tables_named(calls[-1], returned) if calls else {}
    where = "" if course_terms.whole(returned) else course_terms.differences(returned, expected, by_tokens, parts)
    if where:
        return [*lines, f"you returned vs expected, most different at {where}"]
    if _said(message, returned, expected):
        return lines
    if returned is not None:
        lines.append(f"you returned: {_shown(returned, expected)}")
    if expected is not None and not any(_same(expected, other) for other in others):
        lines.append(f"expected:     {_shown(expected, returned)}")
    return lines


def _given_a_bigram_table(call: Call) -> bool:
    """Whether the call was given a bigram table (or a moment of one): its answer's tables are then
    indexed by tokens, as the table it was given is."""
    return any(name in course_terms.BIGRAM_TABLES and course_terms.bigram(a) for a, name in zip(call.args, call.names))


def _tables_named(call: Call, answer: Any) -> dict[int, str]:
    """The bigram tables of an answer by the names of the tables the call was given, in their order,
    where it gives back as many as it was given (a step's (loss, W, m, v) for its W, m and v): the
    course's name for a table reads better than its place in the answer."""
    given = [
        name for a, name in zip(call.args, call.names) if name in course_terms.BIGRAM_TABLES and course_terms.bigram(a)
    ]
    at = [i for i, part in enumerate(answer) if course_terms.bigram(part)] if isinstance(answer, (list, tuple)) else []
    return dict(zip(at, given)) if given and len(at) == len(given) else {}


def _said(message: str, returned: Any, expected: Any) -> bool:
    """Whether the message states already each entry where the answer differs from the expected one,
    as "X where Y" with the digits the lines below would show (autograd's "b.grad is 1.00 where -1.00
    was expected"), for a number or a list of numbers: those lines would only repeat it."""
    answers, wanted = (returned, expected) if isinstance(returned, list) else ([returned], [expected])
    numbers = [*answers, *wanted] if isinstance(wanted, list) and len(answers) == len(wanted) else [None]
    if not all(map(course_terms.is_number, numbers)):
        return False
    differ = [course_terms.pair(a, e) for a, e in zip(answers, wanted) if not _same(a, e)]
    return bool(differ) and all(_shows(message, f"{a} where {e}") for a, e in differ)


def _shows(message: str, text: str) -> bool:
    """Whether `text` stands in the message on its own, not inside other numbers (4.00 in 14.00)."""
    return re.search(rf"(?<![\w.-]){re.escape(text)}(?![\w.])", message) is not None


def _deciding(calls: tuple[Call, ...], values: list[Any]) -> list[Call]:
    """The last call, and the latest earlier one that asked the same and was answered otherwise (an
    answer that changed), or else whose answer is (or holds) a value the verdict compared; a call the
    last one repeats, answered alike (a property asking once more), is one call."""
    if not calls:
        return []
    last = calls[-1]
    answered = [c for c in calls[:-1] if c.raised is None and not _repeat(c, last)]
    asked = [c for c in answered if (c.function, c.args) == (last.function, last.args)]
    earlier = asked or [c for c in answered if any(_gave(c, v) for v in values)]
    return [*earlier[-1:], last]


def _repeat(call: Call, last: Call) -> bool:
    """Whether `last` is `call` asked again and answered alike."""
    return (call.function, call.args, call.returned, call.raised) == (
        last.function,
        last.args,
        last.returned,
        last.raised,
    )


def _gave(call: Call, value: Any) -> bool:
    """Whether the call's answer is `value`, or holds it (one of the tables a step returns)."""
    answer = call.returned
    return _same(answer, value) or (isinstance(answer, list) and any(_same(part, value) for part in answer))


INLINE = 72  # characters a call may take on one line, when every argument is shown whole
SIDE_BY_SIDE = 32  # characters an argument may take and still share a line with the one before


def _call(call: Call, arguments: list[tuple[str, str]], answer: str, before: list[tuple[str, str]]) -> list[str]:
    """A call on one line when its arguments are short; else its parameters, then one line per
    argument (short ones side by side), leaving out those the call before showed alike."""
    inline = f"call: {call.function}({', '.join(shown for _, shown in arguments)})"
    if len(inline) <= INLINE and all(map(course_terms.whole, call.args)):
        return [f"{inline} {answer}".rstrip()]
    heading = f"call: {call.function}({', '.join(name for name, _ in arguments)}) {answer}".rstrip()
    changed = [argument for argument in arguments if argument not in before]
    if not changed:
        return [f"{heading} (the same arguments)"]
    lines = [heading]
    for argument in _alike(changed):
        if len(argument) <= SIDE_BY_SIDE and len(lines) > 1 and len(lines[-1]) + len(argument) <= 60:
            lines[-1] += f"; {argument}"
        else:
            lines.append(f"  {argument}")
    return lines


def _alike(arguments: list[tuple[str, str]]) -> list[str]:
    """Arguments shown alike as one: m and v both "27 x 27 zeros" read "m = v = 27 x 27 zeros"."""
    names: dict[str, list[str]] = {}
    for name, shown in arguments:
        names.setdefault(shown, []).append(name)
    return [" = ".join([*together, shown]) for shown, together in names.items()]


def _arguments(call: Call) -> list[tuple[str, str]]:
    """Each argument as (its parameter's name, how it reads); 'argument 3' where no name is known."""
    names = call.names + tuple(f"argument {i + 1}" for i in range(len(call.names), len(call.args)))
    return [(name, course_terms.value(a, name)) for a, name in zip(call.args, names)]


def _answer(call: Call, answering: bool, returned: Any, expected: Any, message: str) -> str:
    """How a call's line ends: what it raised or returned, unless the message or the lines below
    show that already (it gave the answer judged), or it is too large to show."""
    if call.raised is not None:
        return "" if call.raised in message else call.raised
    if answering or not course_terms.whole(call.returned):
        return ""
    return f"returned {_shown(call.returned, returned if returned is not None else expected)}"


def _shown(value: Any, other: Any) -> str:
    """`value` with, when both are numbers or short vectors of one length, the digits that tell it
    from `other`."""
    if value is not None and other is not None and not _same(value, other):
        return course_terms.pair(value, other)[0]
    return course_terms.value(value)


def _same(value: Any, other: Any) -> bool:
    return repr(value) == repr(other)  # repr: a NaN matches itself, 1 does not match 1.0


def _notes(result: GradeResult) -> list[str]:
    if not result.notes:
        return []
    return ["", "Notes:"] + [f"  {note}" for note in result.notes]


def _points(value: float) -> str:
    return f"{value:g}"


def _properties(count: int) -> str:
    """'1 property', '5 properties': "1 of 1 property passed" agrees with the total, as it is read."""
    return counted(count, "property", "properties")
