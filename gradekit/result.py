"""The one result model every report is written from.

Frozen dataclasses of plain values: the grader builds them, writers only read them, so a score can
never be computed in two places. `to_dict` gives the JSON form documented in the README, and
`GradeResult.from_dict` reads it back (a class grade keeps each student's result as that JSON).
The course staff's adjustments by hand (`Adjustment`) are data in the result too: they change its
`score`, never what its properties found.
"""

from __future__ import annotations

import copy
from dataclasses import asdict, dataclass, field, fields, is_dataclass, replace
from enum import Enum
from typing import Any


class Status(str, Enum):
    PASSED = "passed"
    FAILED = "failed"
    ERROR = "error"
    TIMEOUT = "timeout"
    # Not run: a property it requires did not pass, so it could pay nothing, and a failure here would
    # blame a function for another's mistake (the gradient's slope of a wrong loss). Scores 0.
    UNCHECKED = "unchecked"


# What finds a fault in a property's functions: not passing, nor waiting on another property.
FAULTS = frozenset({Status.FAILED, Status.ERROR, Status.TIMEOUT})


@dataclass(frozen=True)
class Call:
    """One call the property made into the submission, as plain data: `names` are the function's
    parameters, so a report can show each argument by what it is (a token list as a name)."""

    function: str
    args: tuple[Any, ...]
    returned: Any = None
    raised: str | None = None
    names: tuple[str, ...] = ()


@dataclass(frozen=True)
class Counterexample:
    """The smallest failing input Hypothesis found, and what happened on it."""

    inputs: dict[str, Any]
    calls: tuple[Call, ...]
    returned: Any = None
    expected: Any = None


@dataclass(frozen=True)
class PropertyResult:
    name: str
    functions: tuple[str, ...]
    status: Status
    score: float
    max_score: float
    hint: str = ""
    message: str = ""
    counterexample: Counterexample | None = None
    examples: int = 0
    seconds: float = 0.0
    # passed against the submission's own wrong function (gradekit.authoring.expect_built_on), or
    # judged without its functions that did not pass (gradekit.authoring.left_out)
    note: str = ""


@dataclass(frozen=True)
class Diagnosis:
    """A known mistake a failing function answers exactly like (see gradekit.diagnosis.diagnose): the function,
    the mistake's name and its explanation for the student, on how many of how many probes the
    answers agreed, and the known-wrong file that makes it."""

    function: str
    misconception: str
    explanation: str
    agreement: tuple[int, int]
    source: str

    def to_dict(self) -> dict[str, Any]:
        return {
            "function": self.function,
            "misconception": self.misconception,
            "explanation": self.explanation,
            "agreement": list(self.agreement),
            "source": self.source,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Diagnosis:
        matched, probes = data["agreement"]
        return cls(data["function"], data["misconception"], data["explanation"], (matched, probes), data["source"])


@dataclass(frozen=True)
class Provenance:
    """What one result was made from (gradekit.engine.provenance makes it and says what each part is).

    `seed` is the seed as a result may show it: the number, or the digest of the course's own seed
    (gradekit.course_seed), which no result holds. `submission` is the sha256 of the bytes graded and
    `isolation` the wall they ran behind; None where there were none. `commit` names the git commit a
    collected submission was taken from (`sha`, committer `date`; gradekit.batch.collect)."""

    gradekit: str
    build: str  # digest of gradekit's own source: a change between releases shows too
    python: str
    libraries: dict[str, str]
    assignment: str  # digest of the assignment's files but its solution and recordings
    solution: str | None
    properties: dict[str, dict[str, Any]]
    seed: str
    examples: int
    options: str  # digest of the grade's other settings: budgets, limits, diagnosis
    isolation: str | None = None
    submission: str | None = None
    commit: dict[str, str] | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Provenance:
        """The provenance `to_dict` was made from; keys it does not know (a later gradekit's) are left."""
        return cls(**{f.name: data[f.name] for f in fields(cls) if f.name in data})

    def grading(self) -> Provenance:
        """This provenance less what says how a grade went rather than what it was made from: the wall
        it ran behind, which never changes a grade, and the submission and its commit, compared apart."""
        return replace(self, isolation=None, submission=None, commit=None)


@dataclass(frozen=True)
class Adjustment:
    """A change the course staff made to a grade by hand, after it was made: to one property's points
    (`property`) or to the whole score (None): `add` points (negative to take some off), or `set` them
    to these points instead; a `comment` for the student. The properties' own outcomes stay as found."""

    property: str | None = None
    add: float | None = None
    set: float | None = None
    comment: str = ""

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Adjustment:
        return cls(data.get("property"), data.get("add"), data.get("set"), data.get("comment", ""))

    def applied(self, points: float) -> float:
        """`points` as this adjustment leaves them."""
        if self.set is not None:
            return self.set
        return points + (self.add or 0.0)


@dataclass(frozen=True)
class GradeResult:
    assignment: str
    submission: str
    # The seed the inputs were drawn from; None where it was the course's own (gradekit.course_seed),
    # which a result never holds: it is sent to students, so `seed_digest` names that seed instead.
    seed: int | None
    tests: tuple[PropertyResult, ...] = ()
    error: str | None = None
    output: str = ""
    seconds: float = 0.0
    function_lines: dict[str, int] = field(default_factory=dict)
    # What went wrong before grading began that did not stop it: a notebook cell that raised, ran too
    # long or is not Python, one line each.
    notes: tuple[str, ...] = ()
    # For a notebook: the cell (counting every cell from 1) that last defined each function;
    # function_lines then counts lines within that cell.
    function_cells: dict[str, int] = field(default_factory=dict)
    # The known mistakes the failing functions answer like; never part of the score.
    diagnosis: tuple[Diagnosis, ...] = ()
    seed_digest: str | None = None
    # The wall the submission's code ran behind (gradekit.sandbox.isolation): "bubblewrap", "landlock"
    # or "guard"; None where none ran it (a file that could not be read).
    isolation: str | None = None
    # What the result was made from; None in results written before gradekit kept it.
    provenance: Provenance | None = None
    # Why the score differs from the one this submission was given before (a class regraded), in one line.
    regraded: str | None = None
    # The functions a check was narrowed to (`--function`): `tests` are their properties alone, and the
    # score theirs; empty where the whole assignment was graded.
    checked: tuple[str, ...] = ()
    # The failing functions no known mistake explains, each with a digest of its answers to its probes
    # (gradekit.diagnosis.diagnose): students whose digests agree answered alike, a mistake the bank lacks.
    unexplained: dict[str, str] = field(default_factory=dict)
    # The course staff's adjustments by hand (a class grade's overrides file), applied in this order:
    # each property's first, then the whole score's. Never part of what the properties found.
    adjustments: tuple[Adjustment, ...] = ()

    @property
    def found(self) -> float:
        """The points the properties gave, before any adjustment by hand."""
        return round(sum(t.score for t in self.tests), 6)

    @property
    def score(self) -> float:
        """The score the student gets: what the properties found, as the adjustments leave it."""
        if not self.adjustments:
            return self.found
        points = {t.name: t.score for t in self.tests}
        for adjustment in self.adjustments:
            if adjustment.property is not None:
                points[adjustment.property] = adjustment.applied(points.get(adjustment.property, 0.0))
        total = sum(points.values())
        for adjustment in self.adjustments:
            if adjustment.property is None:
                total = adjustment.applied(total)
        return round(total, 6)

    @property
    def max_score(self) -> float:
        return round(sum(t.max_score for t in self.tests), 6)

    @property
    def all_passed(self) -> bool:
        return self.error is None and all(t.status is Status.PASSED for t in self.tests)

    def to_dict(self) -> dict[str, Any]:
        return {
            "assignment": self.assignment,
            "submission": self.submission,
            "score": self.score,
            "max_score": self.max_score,
            "seed": self.seed,
            "error": self.error,
            # Seconds (here and in each test) stay rounded to the millisecond, as the report has always
            # shown them: finer digits are timer noise, not information. So `from_dict` gives back the
            # very result for one timed to the millisecond, as every result read back from JSON is.
            "seconds": round(self.seconds, 3),
            "output": self.output,
            "notes": list(self.notes),
            "function_lines": dict(self.function_lines),
            "function_cells": dict(self.function_cells),
            "tests": [_test_dict(t) for t in self.tests],
            "diagnosis": [d.to_dict() for d in self.diagnosis],
            "seed_digest": self.seed_digest,
            "isolation": self.isolation,
            "provenance": self.provenance.to_dict() if self.provenance is not None else None,
            "regraded": self.regraded,
            "checked": list(self.checked),
            "adjustments": [a.to_dict() for a in self.adjustments],
            "unexplained": dict(self.unexplained),
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> GradeResult:
        """The result `to_dict` was made from, from that dict or its JSON read back.

        `score` and `max_score` are not read (they are worked out from the tests and the adjustments),
        nor is any key `to_dict` does not write (a class grade's `batch`). Keys added to `to_dict` over time (`notes`,
        `function_lines`, `function_cells`, `diagnosis`, `seed_digest`, `isolation`, `provenance`,
        `regraded`, `checked`, `adjustments`, `unexplained`) may be missing, as in results written before them.
        """
        return cls(
            assignment=data["assignment"],
            submission=data["submission"],
            seed=data["seed"],
            tests=tuple(_test_from_dict(t) for t in data["tests"]),
            error=data.get("error"),
            output=data.get("output", ""),
            seconds=data.get("seconds", 0.0),
            function_lines=dict(data.get("function_lines", {})),
            notes=tuple(data.get("notes", ())),
            function_cells=dict(data.get("function_cells", {})),
            diagnosis=tuple(Diagnosis.from_dict(d) for d in data.get("diagnosis", ())),
            seed_digest=data.get("seed_digest"),
            isolation=data.get("isolation"),
            provenance=Provenance.from_dict(data["provenance"]) if data.get("provenance") else None,
            regraded=data.get("regraded"),
            checked=tuple(data.get("checked", ())),
            adjustments=tuple(Adjustment.from_dict(a) for a in data.get("adjustments", ())),
            unexplained=dict(data.get("unexplained", {})),
        )


def _test_dict(test: PropertyResult) -> dict[str, Any]:
    data: dict[str, Any] = _copied(test)
    data["functions"] = list(test.functions)
    data["status"] = test.status.value
    data["seconds"] = round(test.seconds, 3)
    if test.counterexample is not None:
        data["counterexample"]["calls"] = list(data["counterexample"]["calls"])
    return data


ATOMS = frozenset({int, float, str, bool, type(None)})


def _copied(value: Any) -> Any:
    """What `dataclasses.asdict` makes of `value` (a dataclass as a dict of its fields, lists, tuples
    and dicts anew, numbers and strings shared), without a Python call per number: a counterexample
    of the training step holds tables of 729 floats, and a class writes hundreds of them."""
    kind = type(value)
    if kind is list or kind is tuple:
        if set(map(type, value)) <= ATOMS:
            return kind(value)
        return kind(_copied(v) for v in value)
    if kind is dict:
        return {k: _copied(v) for k, v in value.items()}
    if kind in ATOMS:
        return value
    if is_dataclass(value) and not isinstance(value, type):
        return {f.name: _copied(getattr(value, f.name)) for f in fields(value)}
    return copy.deepcopy(value)


def _test_from_dict(data: dict[str, Any]) -> PropertyResult:
    found = data.get("counterexample")
    counterexample = (
        None
        if found is None
        else Counterexample(
            inputs=found["inputs"],
            calls=tuple(
                Call(c["function"], tuple(c["args"]), c.get("returned"), c.get("raised"), tuple(c.get("names", ())))
                for c in found["calls"]
            ),
            returned=found.get("returned"),
            expected=found.get("expected"),
        )
    )
    return PropertyResult(
        name=data["name"],
        functions=tuple(data["functions"]),
        status=Status(data["status"]),
        score=data["score"],
        max_score=data["max_score"],
        hint=data.get("hint", ""),
        message=data.get("message", ""),
        counterexample=counterexample,
        examples=data.get("examples", 0),
        seconds=data.get("seconds", 0.0),
        note=data.get("note", ""),
    )
