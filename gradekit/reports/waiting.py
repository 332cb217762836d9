"""The properties not checked yet, as the human reports give them: one line per function and what it
waits on (its speed on the same line where it waits on the same properties), never a line per property.

A property waits where a property it requires (or is checked after) did not pass: its points could
not be paid, and a failure would blame its function for another's mistake. A failing loss leaves a
dozen of them, and a line each repeated the same reason a dozen times, the longest part of a failing
report. The text and Markdown reports say it once per function and reason instead: "`perplexity`: 2
properties (5 points) count once `loss_matches_reference` passes". The JSON, JUnit and Gradescope
reports keep every property as it is.

What a property waits on is read from its message, which the grader words in one place
(gradekit.engine.runner): the properties it names in backticks, and "not timed" for a speed property
that waits on its function's values; "not judged" for one built on a wrong function of the file's
own, whose reason is given as it is.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import replace

from gradekit.course_terms import counted
from gradekit.reports.stubs import NAMED
from gradekit.result import PropertyResult, Status

TIMED = "not timed"  # how the grader's message for a speed property waiting on values starts
UNJUDGED = "not judged: "  # how it starts for one built on the submission's own wrong function


def waiting(tests: Sequence[PropertyResult], every: Sequence[PropertyResult] = ()) -> list[str]:
    """A line per function for its properties waiting on values, then one for its speed, in the order
    the functions' properties come; each names the properties its group waits on that did not pass
    for a reason of their own (a property waiting itself is named by what it waits on, out of `every`
    property of the result), so a line names only what the student has to fix."""
    roots = _roots(every or tests)
    tests = [replace(t, message=roots(t.message)) for t in tests]
    lines = []
    for function in dict.fromkeys(test.functions[0] for test in tests):
        own = [t for t in tests if t.functions[0] == function]
        unjudged = [t for t in own if t.message.startswith(UNJUDGED)]
        values = [t for t in own if t not in unjudged and not t.message.startswith(TIMED)]
        speed = [t for t in own if t not in unjudged and t.message.startswith(TIMED)]
        if values and speed and _waits_on(values) == _waits_on(speed):
            lines.append(_line(function, False, values, speed))
        else:
            lines += [_line(function, False, values)] if values else []
            lines += [_line(function, True, speed)] if speed else []
        lines += [_unjudged(function, unjudged)] if unjudged else []
    return lines


def _waits_on(group: list[PropertyResult]) -> list[str]:
    """The properties a group's messages name, each once."""
    return list(dict.fromkeys(name for test in group for name in NAMED.findall(test.message)))


def _roots(every: Sequence[PropertyResult]) -> Callable[[str], str]:
    """A waiting message's named properties, each that waits itself replaced by those it waits on in
    turn; a "not judged" reason is left as it is."""
    by_name = {t.name: t for t in every}

    def found(name: str, seen: frozenset[str]) -> list[str]:
        test = by_name.get(name)
        if test is None or test.status is not Status.UNCHECKED or name in seen or test.message.startswith(UNJUDGED):
            return [name]  # a property not judged waits on nothing it names: its reason is no property
        named = NAMED.findall(test.message)
        return [root for inner in named for root in found(inner, seen | {name})] or [name]

    def rewritten(message: str) -> str:
        if message.startswith(UNJUDGED):  # its reason may quote the student's own words: given as it is
            return message
        named = NAMED.findall(message)
        if not any(by_name.get(n) is not None and by_name[n].status is Status.UNCHECKED for n in named):
            return message
        head = message.split("`", 1)[0]
        roots = list(dict.fromkeys(root for name in named for root in found(name, frozenset())))
        return head + " and ".join(f"`{root}`" for root in roots)

    return rewritten


def _unjudged(function: str, group: list[PropertyResult]) -> str:
    """One line for a function's properties that could not be told right or wrong, since what they
    build on is wrong (gradekit.authoring.expect_built_on), with each reason once."""
    reasons = "; ".join(dict.fromkeys(t.message.removeprefix(UNJUDGED) for t in group))
    points = counted(sum(t.max_score for t in group), "point")
    return f"`{function}`: {counted(len(group), 'property')} ({points}) not judged: {reasons}"


def _line(function: str, timed: bool, group: list[PropertyResult], speed: list[PropertyResult] | None = None) -> str:
    """One group's line; with `speed`, the function's speed waiting on the same properties joins it."""
    on = _waits_on(group)
    names = " and ".join(f"`{name}`" for name in on) or "the properties it requires"
    once = f"once {names} {'passes' if len(on) == 1 else 'pass'}"
    points = counted(sum(t.max_score for t in group), "point")
    if timed:
        return f"`{function}`: its speed ({points}) is timed {once}"
    if speed:
        timed_points = counted(sum(t.max_score for t in speed), "point")
        return f"`{function}`: {counted(len(group), 'property')} ({points}) and its speed ({timed_points}) count {once}"
    verb = "counts" if len(group) == 1 else "count"
    return f"`{function}`: {counted(len(group), 'property')} ({points}) {verb} {once}"
