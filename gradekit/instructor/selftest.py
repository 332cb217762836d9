"""`gradekit selftest NAME`: does the assignment grade well, before a single student depends on it?

The assignment's own banks are the evidence. It grades well when
    - the reference and every file in known_right/ get full marks: a right answer in any style pays;
    - every file in known_slow/ (right, but slow on large inputs) gets every correctness point and
      loses points on a scale property that blames the function its docstring names: slow is not
      wrong, and the scale properties see it;
    - every file in known_wrong/ loses points on a property that blames the function its docstring
      names (see `blames`): the mistake is caught, and the student is sent to the right place;
    - every file gets the same result on a second grade, timings aside: a grade that changes when it
      is run again cannot be defended to a student (`repeat=False`, `--once`, grades each file once:
      half the time, for an instructor at work on a bank, without this proof);
    - every known-wrong file is diagnosed as itself (gradekit.diagnosis.diagnose; a function that calls the
      faulty one may be diagnosed with that function's mistake too), and no other file is diagnosed
      at all: the report names a student's mistake only where the bank tells it apart. A
      known-wrong file whose answers cannot tell its mistake (see gradekit.diagnosis.mistakes: it is in
      what the function does to its arguments, or rounding-deep) must not be diagnosed as any, and
      is listed; one that answers exactly as another does is a problem, as neither can be named.

Beside the verdict it measures the properties: how many known-wrong files each catches, how many it
alone catches (the properties that could all go with every known-wrong file still caught are
candidates to drop, or ask for the known-wrong files they were written for), and how long each
takes. Files are graded by the batch grader pool, so a file that hangs or crashes its grader still
gets a verdict.
"""

from __future__ import annotations

import io
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO

from gradekit.assignment import BANKS, Assignment, blamed_function
from gradekit.batch.pool import run_pool
from gradekit.batch.progress import Progress
from gradekit.batch.roster import Student
from gradekit.config import GradeConfig
from gradekit.course_terms import counted
from gradekit.diagnosis.mistakes import Bank, KnownWrong, agree, bank
from gradekit.diagnosis.models import covered, declared, unproven
from gradekit.engine.runner import TRIPPED
from gradekit.errors import UsageError
from gradekit.known_mistakes import KnownMistake
from gradekit.result import FAULTS, GradeResult, PropertyResult, Status

SLOWEST = 3


@dataclass(frozen=True)
class FileVerdict:
    """One file of the banks: what its folder promises, and what grading it showed."""

    kind: str  # "reference", "known_right", "known_slow" or "known_wrong"
    path: Path
    score: float
    max_score: float
    caught_by: tuple[str, ...] = ()  # known_wrong, known_slow: the properties that blame the right function
    problems: tuple[str, ...] = ()  # one line each; none when the file does what its folder promises
    diagnosed: bool = False  # known_wrong: diagnosed as its own mistake
    untold: str = ""  # known_wrong: why its answers cannot tell its mistake, when they cannot
    outcomes: tuple[tuple[str, str, float], ...] = ()  # each property's name, status and points on the first grade
    named: tuple[str, ...] = ()  # the functions its diagnosis names, each once

    @property
    def label(self) -> str:
        return self.kind if self.kind == "reference" else f"{self.kind}/{self.path.name}"


@dataclass(frozen=True)
class PropertyStats:
    name: str
    points: float
    caught: int  # known-wrong files it catches
    unique: int  # known-wrong files no other property catches
    mean_seconds: float  # per grade, over every grade of every file
    max_seconds: float
    gates: bool = False  # another property requires it: dropping it would let that one pay for constants
    scale: bool = False  # about speed, which known_slow/ shows, not known_wrong/


@dataclass(frozen=True)
class SelfTest:
    assignment: str
    seed: int
    files: tuple[FileVerdict, ...]
    properties: tuple[PropertyStats, ...]
    seconds: float
    repeated: bool = True  # every file graded a second time, which had to repeat the first

    @property
    def problems(self) -> list[str]:
        """Every reason the assignment does not grade well, one line each, naming the file."""
        lines = [f"{f.label}: {problem}" for f in self.files for problem in f.problems]
        if not any(f.kind == "known_wrong" for f in self.files):
            lines.append("known_wrong/ is empty: nothing shows that the properties catch a mistake")
        return lines

    @property
    def ok(self) -> bool:
        return not self.problems

    @property
    def candidates_to_drop(self) -> list[str]:
        """Properties that could all go together with every known-wrong file still caught: taken slowest
        first, each one that a file it catches would be left to alone is kept. Properties that each
        catch only files the others catch too are not all offered: one of them stays. Never those
        another property requires (they keep constant answers from scoring) nor the scale ones
        (known-wrong files are about values, not speed)."""
        catching = [set(f.caught_by) for f in self.files if f.kind == "known_wrong"]
        dropped: set[str] = set()
        for p in sorted(self.properties, key=lambda p: -p.mean_seconds):
            if not p.gates and not p.scale and all(by - dropped - {p.name} for by in catching if p.name in by):
                dropped.add(p.name)
        return [p.name for p in self.properties if p.name in dropped]

    @property
    def slowest(self) -> list[PropertyStats]:
        return sorted(self.properties, key=lambda p: (-p.mean_seconds, -p.max_seconds))[:SLOWEST]

    def to_dict(self) -> dict[str, Any]:
        return {
            "assignment": self.assignment,
            "seed": self.seed,
            "ok": self.ok,
            "problems": self.problems,
            "seconds": round(self.seconds, 3),
            "repeated": self.repeated,
            "files": [
                {
                    "file": f.label,
                    "kind": f.kind,
                    "path": str(f.path),
                    "score": f.score,
                    "max_score": f.max_score,
                    "caught_by": list(f.caught_by),
                    "problems": list(f.problems),
                    "diagnosed": f.diagnosed,
                    "untold": f.untold,
                    "named": list(f.named),
                }
                for f in self.files
            ],
            "properties": [
                {
                    "name": p.name,
                    "points": p.points,
                    "caught": p.caught,
                    "unique": p.unique,
                    "mean_seconds": round(p.mean_seconds, 3),
                    "max_seconds": round(p.max_seconds, 3),
                }
                for p in self.properties
            ],
            "candidates_to_drop": self.candidates_to_drop,
            "slowest": [p.name for p in self.slowest],
        }


def blames(test: PropertyResult, function: str) -> bool:
    """Whether a property holds `function` to blame, so the student looks where the mistake is: it
    lost its points (failed, errored or timed out, scoring 0), it exercises the function, and its
    message or a call in its counterexample names it."""
    if test.status not in FAULTS or test.score != 0 or function not in test.functions:
        return False
    if f"`{function}`" in test.message:
        return True
    return test.counterexample is not None and any(call.function == function for call in test.counterexample.calls)


def selftest(
    assignment: Assignment,
    config: GradeConfig = GradeConfig(),
    jobs: int | None = None,
    assignment_dirs: list[str] | None = None,
    progress: TextIO | None = None,
    repeat: bool = True,
) -> SelfTest:
    """Grade the reference and the banks twice each (once if not `repeat`), in `jobs` grader processes
    (default: one more than the cores), and judge them. The graders load the assignment by name, through
    `assignment_dirs`."""
    if assignment.solution is None:
        raise UsageError(
            f"{assignment.folder} is a student build of {assignment.name}, without its solution or banks: "
            "self-test the instructor's folder"
        )
    started = time.monotonic()
    seed = config.seed_or(assignment.default_seed)
    files_graded = [("reference", assignment.solution)]
    files_graded += [(kind, path) for kind in BANKS for path in assignment.known(kind)]
    runs = (1, 2) if repeat else (1,)
    students = [Student(f"{kind}/{path.name}#{run}", path) for run in runs for kind, path in files_graded]
    results: dict[str, GradeResult] = {}
    known = bank(assignment, config.limits, assignment_dirs) if config.diagnose else None
    models = declared(assignment) if known is not None else ()
    bar = Progress(len(students), 0, progress or io.StringIO(), unit="grade")

    def record(student: Student, result: GradeResult) -> None:
        results[student.name] = result
        bar.advance()

    # Nothing remembered between grades: the second run must work everything out again to prove it.
    try:
        run_pool(students, assignment, config, assignment_dirs, jobs, record, remember=False, grading=bar.grading)
    finally:
        bar.finish()
    files = tuple(
        _verdict(assignment, known, models, kind, path, *(results[f"{kind}/{path.name}#{run}"] for run in runs))
        for kind, path in files_graded
    )
    stats = _stats(assignment, files, list(results.values()))
    return SelfTest(assignment.name, seed, files, stats, time.monotonic() - started, repeat)


def _verdict(
    assignment: Assignment,
    known: Bank | None,
    models: tuple[KnownMistake, ...],
    kind: str,
    path: Path,
    result: GradeResult,
    again: GradeResult | None = None,
) -> FileVerdict:
    """Judged on the first grade; the second, if any, only has to repeat it. A known-wrong file a
    model in mistakes.py describes must also be answered by that model as it answers its probes."""
    caught_by: tuple[str, ...] = ()
    if result.error is not None:
        problem: str | None = f"could not be graded: {_line(result.error)}"
    elif kind == "known_wrong":
        caught_by, problem = _caught(assignment, path, result)
    elif kind == "known_slow":
        caught_by, problem = _slow(assignment, path, result)
    else:
        problem = _short_of_full_marks(result)
    label = f"{kind}/{path.name}"
    mistake = next((m for m in known.mistakes if m.source == label), None) if known else None
    stands_for = covered(models)
    told = {f for d in result.diagnosis for f in stands_for.get(d.source, {d.source})}
    diagnosis = _misdiagnosed(known, label, mistake, result, told)
    modelled = [m for m in models if f"known_wrong/{path.name}" in stands_for.get(f"known_wrong/{m.file}", ())]
    described = unproven(modelled, known) if known is not None and kind == "known_wrong" else []
    changed = again and _change(result, again)
    problems = tuple(p for p in (problem, diagnosis, changed, *described, *_tripped(result)) if p)
    diagnosed = mistake is not None and label in told
    untold = mistake.untold if mistake is not None else ""
    named = tuple(sorted({d.function for d in result.diagnosis}))
    return FileVerdict(
        kind, path, result.score, result.max_score, caught_by, problems, diagnosed, untold, outcomes(result), named
    )


def _tripped(result: GradeResult) -> list[str]:
    """The properties whose own code raised on the file: a fault of the assignment, whatever the file."""
    return [
        f"`{t.name}`'s own code raised {_line(t.message)[len(TRIPPED) + 1 :]}"
        for t in result.tests
        if t.message.startswith(TRIPPED)
    ]


def outcomes(result: GradeResult) -> tuple[tuple[str, str, float], ...]:
    """Each property's name, status and points in a grade: what two grades of one file compare."""
    return tuple((test.name, test.status.value, test.score) for test in result.tests)


def _misdiagnosed(
    known: Bank | None, label: str, mistake: KnownWrong | None, result: GradeResult, told: set[str]
) -> str | None:
    """Why the file's diagnosis is not what its folder promises, if it is not: a known-wrong file
    whose answers tell its mistake is diagnosed as that (among others, in functions that call the
    faulty one; `told` holds every file a diagnosis stands for), any other file as nothing."""
    if known is None:
        return None
    named = [d.source for d in result.diagnosis]
    if label in told:
        return None
    if mistake is None or mistake.untold:
        return f"diagnosed as {', '.join(named)}, which it does not make" if named else None
    twins = [m.source for m in known.mistakes if m is not mistake and _twins(m, mistake)]
    if twins:
        return f"answers every probe exactly as {', '.join(twins)} does: keep one, or neither can be named"
    said = f"diagnosed as {', '.join(named)}" if named else "not diagnosed"
    return f"{said}, though its answers tell its own mistake in `{mistake.function}`"


def _twins(one: KnownWrong, other: KnownWrong) -> bool:
    both = bool(one.answers) and len(one.answers) == len(other.answers)
    return (
        one.function == other.function
        and both
        and all(agree(a, b, styles=False) for a, b in zip(one.answers, other.answers))
    )


def _short_of_full_marks(result: GradeResult, graded: set[str] | None = None) -> str | None:
    """Why the file is short of full marks on the properties in `graded` (all when None), if it is."""
    lost = [
        t
        for t in result.tests
        if (graded is None or t.name in graded) and (t.status is not Status.PASSED or t.score < t.max_score)
    ]
    if not lost:
        return None
    first = lost[0]
    more = f" (and {len(lost) - 1} more)" if len(lost) > 1 else ""
    short = "not full marks" if graded is None else "not every correctness point"
    return (
        f"scores {result.score:g}/{result.max_score:g}, {short}: {first.name} {first.status.value}: "
        f"{_line(first.message)}{more}"
    )


def _slow(assignment: Assignment, path: Path, result: GradeResult) -> tuple[tuple[str, ...], str | None]:
    """The scale properties that blame the slow function, or why the file proves nothing."""
    correctness = {p.name for p in assignment.properties if not p.scale}
    lost = _short_of_full_marks(result, correctness)
    if lost:
        return (), lost
    blamed = blamed_function(path)
    caught_by = tuple(t.name for t in result.tests if t.name not in correctness and blames(t, blamed))
    if not caught_by:
        return (), f"keeps every scale point: no scale property finds `{blamed}` slow"
    return caught_by, None


def _caught(assignment: Assignment, path: Path, result: GradeResult) -> tuple[tuple[str, ...], str | None]:
    """The properties that blame the function the docstring names, or why the file proves nothing."""
    try:
        blamed = blamed_function(path)
    except (OSError, SyntaxError, ValueError) as error:
        return (), f"its docstring cannot be read: {type(error).__name__}: {error}"
    if blamed not in assignment.functions:
        return (), (
            f"its docstring blames {blamed!r}, not one of {', '.join(assignment.functions)}: "
            f"start it with 'FUNCTION: what is wrong.'"
        )
    caught_by = tuple(t.name for t in result.tests if blames(t, blamed))
    if caught_by:
        return caught_by, None
    if result.score >= result.max_score:
        return (), f"scores full marks: no property catches the mistake in `{blamed}`"
    lost = ", ".join(t.name for t in result.tests if t.score < t.max_score)
    return (), f"loses points, but no failing property names `{blamed}`, which its docstring blames (lost on {lost})"


def _change(first: GradeResult, second: GradeResult) -> str | None:
    """What a second grade changed, timings aside; repr compares, so a NaN equals a NaN."""
    if first.error != second.error:
        errors = [_line(error) if error else "none" for error in (first.error, second.error)]
        return f"not deterministic: its error was {errors[0]!r}, then {errors[1]!r} on the second grade"
    for a, b in zip(first.tests, second.tests):
        changed = [
            field
            for field in ("status", "score", "message", "counterexample")
            if repr(getattr(a, field)) != repr(getattr(b, field))
        ]
        if changed:
            return f"not deterministic: {a.name} gave another {' and '.join(changed)} on the second grade"
    return None


def _stats(
    assignment: Assignment, files: tuple[FileVerdict, ...], results: list[GradeResult]
) -> tuple[PropertyStats, ...]:
    wrong = [f for f in files if f.kind == "known_wrong"]
    required = {name for prop in assignment.properties for name in prop.requires}
    stats = []
    for prop in assignment.properties:
        seconds = [t.seconds for r in results for t in r.tests if t.name == prop.name]
        stats.append(
            PropertyStats(
                name=prop.name,
                points=prop.points,
                caught=sum(prop.name in f.caught_by for f in wrong),
                unique=sum(f.caught_by == (prop.name,) for f in wrong),
                mean_seconds=sum(seconds) / len(seconds) if seconds else 0.0,
                max_seconds=max(seconds, default=0.0),
                gates=prop.name in required,
                scale=prop.scale,
            )
        )
    return tuple(stats)


def _line(text: str) -> str:
    return text.strip().splitlines()[0] if text.strip() else "(no message)"


def render(report: SelfTest) -> str:
    """The table a course reads in its CI log, with the verdict last, where a log is read first."""
    right = sum(f.kind == "known_right" for f in report.files)
    slow = sum(f.kind == "known_slow" for f in report.files)
    wrong = sum(f.kind == "known_wrong" for f in report.files)
    kinds = [counted(right, "known-right file")] + ([counted(slow, "known-slow file")] if slow else [])
    banks = f"{', '.join(kinds)} and {counted(wrong, 'known-wrong file')}"
    header = (
        f"Self-test of {report.assignment} (seed {report.seed}): the reference, {banks}, "
        f"each graded {'twice' if report.repeated else 'once'}, "
        f"in {report.seconds:.1f} s"
    )
    lines = [header, ""]
    width = max([len("property")] + [len(p.name) for p in report.properties])
    lines.append(f"{'property':<{width}}  points  caught  unique  mean s   max s")
    for p in report.properties:
        lines.append(
            f"{p.name:<{width}}  {p.points:>6g}  {p.caught:>6}  {p.unique:>6}  "
            f"{p.mean_seconds:>6.2f}  {p.max_seconds:>6.2f}"
        )
    lines.append("")
    lines.append(
        "caught: known-wrong files the property blames on the right function; unique: of those, "
        "the ones no other property catches"
    )
    if report.candidates_to_drop:
        lines.append(
            "Could all be dropped with every known-wrong file still caught (or each given a known-wrong "
            "file of its own): " + ", ".join(report.candidates_to_drop)
        )
    told = [f for f in report.files if f.kind == "known_wrong" and not f.untold]
    untold = [f for f in report.files if f.kind == "known_wrong" and f.untold]
    if told or untold:
        lines.append(
            f"Diagnosis: {sum(f.diagnosed for f in told)} of {counted(len(told), 'known-wrong file')} whose answers "
            "tell their mistake diagnosed as it"
            + (f"; told by no answer: {', '.join(f'{f.path.name} ({f.untold})' for f in untold)}" if untold else "")
        )
    lines.append(
        "Slowest: "
        + ", ".join(f"{p.name} ({p.mean_seconds:.2f} s mean, {p.max_seconds:.2f} s max)" for p in report.slowest)
    )
    lines.append("")
    problems = report.problems
    diagnosed = any(f.diagnosed for f in report.files)
    if problems:
        lines.append(f"Does not grade well: {counted(len(problems), 'problem')}")
        lines += [f"  {problem}" for problem in problems]
    else:
        lines.append(
            "Grades well: full marks for the reference and every known-right file, "
            + (
                "every correctness point for every known-slow file and a scale property that finds it slow, "
                if slow
                else ""
            )
            + "every known-wrong file caught on the function it blames"
            + (" and diagnosed as its own mistake where its answers tell it" if diagnosed else "")
            + (", and each second grade the same as the first" if report.repeated else "")
        )
    return "\n".join(lines) + "\n"
