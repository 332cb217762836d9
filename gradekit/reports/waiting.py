"""The properties not checked yet, as the human reports give them: one line per function and what it
waits on (its speed on the same line where it waits on the same properties), or per group of
functions that wait on the same properties or are not judged for the same reasons, never a line per
property.

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
    lines: list[str | list[PropertyResult]] = []
    shared: dict[tuple[str, ...], list[PropertyResult]] = {}  # groups of functions that wait alike

    def add(key: tuple[str, ...], group: list[PropertyResult]) -> None:
        if key not in shared:
            shared[key] = []
            lines.append(shared[key])
        shared[key].extend(group)

    for function in dict.fromkeys(test.functions[0] for test in tests):
        own = [t for t in tests if t.functions[0] == function]
        held = [t for t in own if t.message.startswith(UNJUDGED)]
        values = [t for t in own if t not in held and not t.message.startswith(TIMED)]
        speed = [t for t in own if t not in held and t.message.startswith(TIMED)]
        if values and speed and _waits_on(values) == _waits_on(speed):
            lines.append(_line([function], False, values, speed))
        else:
            if values:
                add(("values", *_waits_on(values)), values)
            lines += [_line([function], True, speed)] if speed else []
        if held:
            add(("unjudged", _reasons(held)), held)
    return [line if isinstance(line, str) else _shared(line) for line in lines]


def _shared(group: list[PropertyResult]) -> str:
    """One line for the properties of every function that waits on the same properties, or is not
    judged for the same reasons: a broken backward leaves a dozen operations so, and a line says it once."""
    functions = list(dict.fromkeys(t.functions[0] for t in group))
    if group[0].message.startswith(UNJUDGED):
        return _unjudged(functions, group)
    return _line(functions, False, group)


def _named(functions: list[str]) -> str:
    """Functions as a line names them: "`a`", "`a` and `b`", "`a`, `b` and `c`"."""
    quoted = [f"`{function}`" for function in functions]
    return quoted[0] if len(quoted) == 1 else f"{', '.join(quoted[:-1])} and {quoted[-1]}"


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


def _reasons(group: list[PropertyResult]) -> str:
    """Why a function's properties could not be told right or wrong, each reason once."""
    return "; ".join(dict.fromkeys(t.message.removeprefix(UNJUDGED) for t in group))


def _unjudged(functions: list[str], group: list[PropertyResult]) -> str:
    """One line for the properties that could not be told right or wrong, since what they build on is
    wrong (gradekit.authoring.expect_built_on) or fails alike, of the functions held back alike."""
    points = counted(sum(t.max_score for t in group), "point")
    return f"{_named(functions)}: {counted(len(group), 'property')} ({points}) not judged: {_reasons(group)}"


def _line(
    functions: list[str], timed: bool, group: list[PropertyResult], speed: list[PropertyResult] | None = None
) -> str:
    """One group's line, of one function or of several waiting alike; with `speed`, the function's speed
    waiting on the same properties joins it."""
    named = _named(functions)
    on = _waits_on(group)
    names = _named(on) if on else "the properties it requires"
    once = f"once {names} {'passes' if len(on) == 1 else 'pass'}"
    points = counted(sum(t.max_score for t in group), "point")
    if timed:
        return f"{named}: its speed ({points}) is timed {once}"
    if speed:
        timed_points = counted(sum(t.max_score for t in speed), "point")
        return f"{named}: {counted(len(group), 'property')} ({points}) and its speed ({timed_points}) count {once}"
    verb = "counts" if len(group) == 1 else "count"
    return f"{named}: {counted(len(group), 'property')} ({points}) {verb} {once}"
