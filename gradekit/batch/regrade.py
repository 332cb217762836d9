"""Why a result must be made again, and what changed when it was: the questions a regrade answers.

A class graded again keeps an earlier result only while everything it was made from is as it is now
(`stale` says what is not). A result made again is compared with the one before (`compare`): for each
property whose outcome or points changed, the old and new outcome and the causes, read from the two
results' provenance (gradekit.engine.provenance): the submission itself, the property's code, its strategy,
its tolerance, its points, its requirements or its number of examples, a property it requires, the
seed, the solution, the assignment's other files, gradekit or a library, the grade's options, the
isolation; and where none of these changed, only timing (a budget that ran out sooner or later). An
adjustment by hand the course staff changed (gradekit.result.Adjustment) is a cause too, on its
property or on the whole score.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from gradekit.course_terms import counted
from gradekit.result import Adjustment, GradeResult, PropertyResult, Provenance

__all__ = ["Cause", "Change", "Regrade", "compare", "stale"]

DIGESTS = (("code", "the property's code"), ("strategy", "the property's strategy"))  # shown as digests
PARTS = (  # a property's parts (gradekit.engine.provenance.property_parts) shown by value, with the cause each names
    ("tolerance", "the tolerance"),
    ("points", "its points"),
    ("requires", "its requirements"),
    ("after", "the properties it is checked after"),
    ("examples", "its number of examples"),
)
TIMING = "only timing"
ADJUSTED = "the course staff's adjustment"
WHOLE = "the whole score"  # the change an adjustment of the whole score makes
UNKNOWN = "unknown: the earlier result does not say what it was made from"
SHOWN_CHANGES = 3  # properties a student's one line names before it counts the rest


@dataclass(frozen=True)
class Cause:
    """One reason an outcome changed: `label` for anyone (a student's line), `detail` for staff (the
    values before and after, where they can be shown)."""

    label: str
    detail: str = ""

    def __str__(self) -> str:
        return f"{self.label} ({self.detail})" if self.detail else self.label


@dataclass(frozen=True)
class Change:
    """A property whose outcome or points changed: how it stood before and after ("passed 5/5",
    "failed 0/8", "absent") and why."""

    property: str
    before: str
    after: str
    causes: tuple[Cause, ...]


@dataclass(frozen=True)
class Regrade:
    """A student's earlier result against the new one."""

    student: str
    before: float
    after: float
    max_before: float
    max_after: float
    changes: tuple[Change, ...]

    @property
    def changed(self) -> bool:
        return (self.before, self.max_before) != (self.after, self.max_after)

    def line(self) -> str:
        """What the student's own report says of it, in one line naming no value a student may not see."""
        shown = [f"{c.property} ({', '.join(dict.fromkeys(cause.label for cause in c.causes))})" for c in self.changes]
        more = len(shown) - SHOWN_CHANGES
        named = "; ".join(shown[:SHOWN_CHANGES]) + (f"; and {counted(more, 'property')} more" if more > 0 else "")
        return (
            f"Your score changed from {_points(self.before)}/{_points(self.max_before)} to "
            f"{_points(self.after)}/{_points(self.max_after)} when the class was graded again: {named}."
        )


def stale(before: GradeResult, now: Provenance, submission: str | None) -> str | None:
    """Why `before` cannot stand for a grade made now of the bytes whose sha256 is `submission` under
    `now`, in words that follow a count ("3 made under another assignment"); None when it can."""
    made = before.provenance
    if made is None:
        return "made before results kept what they were made from"
    if made.submission != submission:
        return "resubmitted"
    then, current = made.grading(), now.grading()
    if then == current:
        return None
    for field, why in (
        ("assignment", "made under another assignment"),
        ("properties", "made under another assignment"),
        ("solution", "made under another solution"),
        ("seed", "made with another seed"),
        ("examples", "made with another number of examples"),
        ("options", "made with other options"),
        ("gradekit", "made by another gradekit"),
        ("build", "made by another gradekit"),
    ):
        if getattr(then, field) != getattr(current, field):
            return why
    return "made with another library or Python"


def compare(student: str, before: GradeResult, after: GradeResult) -> Regrade:
    """`before` and `after`, the same student's results, property by property."""
    old = {t.name: t for t in before.tests}
    new = {t.name: t for t in after.tests}
    was = {a.property: a for a in before.adjustments}
    now = {a.property: a for a in after.adjustments}
    moved = {n for n in old.keys() | new.keys() if _standing(old.get(n)) != _standing(new.get(n))}
    adjusted = {n for n in was.keys() | now.keys() if was.get(n) != now.get(n)}
    changes = tuple(
        Change(
            name,
            _shown(old.get(name), was.get(name)),
            _shown(new.get(name), now.get(name)),
            (_causes(name, before, after, moved) if name in moved else ())
            + _adjustment(was.get(name), now.get(name), name in adjusted),
        )
        for name in [*new, *(n for n in old if n not in new)]
        if name in moved or name in adjusted
    )
    if None in adjusted:
        whole = _adjustment(was.get(None), now.get(None), True)
        changes += (Change(WHOLE, _adjusted(was.get(None)), _adjusted(now.get(None)), whole),)
    return Regrade(student, before.score, after.score, before.max_score, after.max_score, changes)


def _adjustment(before: Adjustment | None, after: Adjustment | None, changed: bool) -> tuple[Cause, ...]:
    """The staff's adjustment as a cause, where it `changed`: the adjustment before and after."""
    return (Cause(ADJUSTED, _values(_adjusted(before), _adjusted(after))),) if changed else ()


def _adjusted(adjustment: Adjustment | None) -> str:
    """An adjustment as a regrade report shows it: "set 6", "+2", "a comment", "none"."""
    if adjustment is None:
        return "none"
    if adjustment.set is not None:
        return f"set {_points(adjustment.set)}"
    return f"{adjustment.add:+g}" if adjustment.add else "a comment"


def _causes(name: str, before: GradeResult, after: GradeResult, moved: set[str]) -> tuple[Cause, ...]:
    then, now = before.provenance, after.provenance
    if then is None or now is None:
        return (Cause(UNKNOWN),)
    old, new = then.properties.get(name), now.properties.get(name)
    if old is None or new is None:
        return (Cause("a new property" if old is None else "a property removed"),)
    causes = []
    if then.submission != now.submission:
        causes.append(Cause("the submission itself"))
    for part, label in DIGESTS:
        if old.get(part) != new.get(part):
            causes.append(Cause(label))
    for part, label in PARTS:
        if old.get(part) != new.get(part):
            causes.append(Cause(label, _values(old.get(part), new.get(part))))
    required = [r for r in (*new.get("requires", ()), *new.get("after", ())) if r in moved]
    if required:
        causes.append(Cause("a property it requires", ", ".join(required)))
    causes += _grade_causes(then, now, bool(causes))
    return tuple(causes) or (Cause(TIMING),)


def _grade_causes(then: Provenance, now: Provenance, named: bool) -> list[Cause]:
    """What changed for the whole grade: the seed, the solution, the rest of the assignment (named only
    where nothing of the property itself changed), gradekit, the libraries, the options, the wall."""
    causes = []
    if then.seed != now.seed:
        causes.append(Cause("the seed"))
    if then.solution != now.solution:
        causes.append(Cause("the solution"))
    if then.assignment != now.assignment and not named:
        causes.append(Cause("the assignment's other files", "its contract, public.py or the helpers it imports"))
    if then.gradekit != now.gradekit:
        causes.append(Cause("gradekit", _values(then.gradekit, now.gradekit)))
    elif then.build != now.build:
        causes.append(Cause("gradekit", "its code, within one version"))
    libraries = {**{"python": then.python}, **then.libraries}
    current = {**{"python": now.python}, **now.libraries}
    for library in sorted(libraries.keys() | current.keys()):
        if libraries.get(library) != current.get(library):
            causes.append(Cause(library, _values(libraries.get(library), current.get(library))))
    if (then.examples, then.options) != (now.examples, now.options):
        causes.append(Cause("the grade's options"))
    if then.isolation != now.isolation:
        causes.append(Cause("the isolation", _values(then.isolation, now.isolation)))
    return causes


def _standing(test: PropertyResult | None) -> tuple[Any, ...]:
    return (None,) if test is None else (test.status, test.score, test.max_score)


def _shown(test: PropertyResult | None, adjustment: Adjustment | None = None) -> str:
    if test is None:
        return "absent"
    shown = f"{test.status.value} {_points(test.score)}/{_points(test.max_score)}"
    return shown + (f", adjusted {_adjusted(adjustment)}" if adjustment is not None else "")


def _values(before: Any, after: Any) -> str:
    return f"{_value(before)} → {_value(after)}"


def _value(value: Any) -> str:
    if isinstance(value, list):
        return ", ".join(map(str, value)) or "none"
    if isinstance(value, float):
        return _points(value)
    return "none" if value is None else str(value)


def _points(value: float) -> str:
    return f"{value:g}"
