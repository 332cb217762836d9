"""`gradekit selftest NAME --mutants`: the share of small mistakes in the solution the properties catch.

The banks prove the properties catch the mistakes someone thought of; a mutation campaign asks about
the ones nobody did. cosmic-ray's operators make every small change they can to the solution
(gradekit.instructor.mutants: a `+` for a `-`, `>=` for `>`, a number moved by one, a loop that never
runs, ...), and each mutant is graded as a submission, by the batch pool, in sandboxed workers, with
the grade's own options (`--max-examples` among them). A mutant that loses points is killed.

A mutant that keeps full marks survives, and is judged by a differential run
(gradekit.instructor.differential): it and the solution answer many inputs drawn across each
function's contract, declared in the assignment's inputs.py. One that answers some input otherwise
is a blind spot of the properties, shown with that input and both answers; one that never does is
likely equivalent (a change that computes the same thing, or one in code no graded function
reaches). Without inputs.py the survivors are left unjudged, and said to be. A mutant that does not
compile is no program, and counts for nothing.

The kill rate is killed / (killed + blind spots + unjudged): the share of the mutants known to be
wrong that the properties catch. The campaign needs the solution at full marks, graded alongside.
"""

from __future__ import annotations

import io
import time
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, TextIO

from gradekit import course_terms
from gradekit.assignment import Assignment
from gradekit.batch.pool import run_pool
from gradekit.batch.progress import Progress
from gradekit.batch.roster import Student
from gradekit.config import GradeConfig
from gradekit.course_terms import counted
from gradekit.engine.source import Source
from gradekit.errors import UsageError
from gradekit.instructor import differential
from gradekit.instructor.differential import Difference, Solution
from gradekit.instructor.mutants import Mutant, make
from gradekit.result import GradeResult
from gradekit.sandbox.process import forked_workers

INPUTS = 300  # inputs drawn per function for the differential run, unless told
KILLED, BLIND_SPOT, EQUIVALENT = "killed", "blind_spot", "likely_equivalent"
UNJUDGED, INVALID = "unjudged", "invalid"
SOLUTION = "solution"  # the student name the unmutated solution is graded under


@dataclass(frozen=True)
class Verdict:
    """What became of one mutant."""

    mutant: Mutant
    status: str  # KILLED, BLIND_SPOT, EQUIVALENT, UNJUDGED or INVALID
    score: float | None = None  # None for an invalid mutant, which is not graded
    lost_on: tuple[str, ...] = ()  # killed: the properties it lost points on
    difference: Difference | None = None  # blind spot: the input it answers otherwise
    why: str = ""  # invalid: the syntax error

    def to_dict(self) -> dict[str, Any]:
        m = self.mutant
        return {
            "mutant": m.number,
            "operator": m.operator,
            "function": m.function,
            "line": m.line,
            "before": m.before,
            "after": m.after,
            "status": self.status,
            "score": self.score,
            "lost_on": list(self.lost_on),
            "difference": self.difference.to_dict() if self.difference else None,
            "why": self.why,
        }


@dataclass(frozen=True)
class Campaign:
    assignment: str
    solution: str  # the file mutated
    seed: int
    max_examples: int
    inputs: int | None  # inputs drawn per function; None without inputs.py
    verdicts: tuple[Verdict, ...]
    seconds: float
    solution_score: float
    max_score: float
    dropped: int = 0  # drawn inputs left out, as the solution itself answered none in time
    kinds: str = "all"  # the mutants made (gradekit.instructor.mutants.KINDS)

    @property
    def makers(self) -> str:
        """What made the mutants, as the report names it."""
        return {"operators": "cosmic-ray", "slips": "gradekit's slips"}.get(
            self.kinds, "cosmic-ray and gradekit's slips"
        )

    def count(self, status: str) -> int:
        return sum(v.status == status for v in self.verdicts)

    def with_status(self, status: str) -> list[Verdict]:
        return [v for v in self.verdicts if v.status == status]

    @property
    def wrong(self) -> int:
        """Mutants known or taken to be wrong: killed, blind spots and the unjudged."""
        return self.count(KILLED) + self.count(BLIND_SPOT) + self.count(UNJUDGED)

    @property
    def kill_rate(self) -> float | None:
        return self.count(KILLED) / self.wrong if self.wrong else None

    @property
    def problem(self) -> str | None:
        """Why the campaign proves nothing, if it does not: the solution short of full marks."""
        if self.solution_score < self.max_score:
            return (
                f"the solution itself scores {self.solution_score:g}/{self.max_score:g}: run "
                f"`gradekit selftest {self.assignment}` and make it grade well first"
            )
        return None

    @property
    def ok(self) -> bool:
        """Every mutant killed or likely equivalent: the properties miss nothing the campaign found."""
        return self.problem is None and self.count(BLIND_SPOT) == 0 and self.count(UNJUDGED) == 0

    def to_dict(self) -> dict[str, Any]:
        rate = self.kill_rate
        return {
            "assignment": self.assignment,
            "solution": self.solution,
            "tool": self.makers,
            "seed": self.seed,
            "max_examples": self.max_examples,
            "inputs_per_function": self.inputs,
            "dropped_inputs": self.dropped,
            "seconds": round(self.seconds, 3),
            "ok": self.ok,
            "problem": self.problem,
            "mutants": len(self.verdicts),
            "killed": self.count(KILLED),
            "blind_spots": self.count(BLIND_SPOT),
            "likely_equivalent": self.count(EQUIVALENT),
            "unjudged": self.count(UNJUDGED),
            "invalid": self.count(INVALID),
            "kill_rate": None if rate is None else round(rate, 4),
            "verdicts": [v.to_dict() for v in self.verdicts],
        }


def campaign(
    assignment: Assignment,
    config: GradeConfig = GradeConfig(),
    jobs: int | None = None,
    assignment_dirs: list[str] | None = None,
    inputs: int = INPUTS,
    progress: TextIO | None = None,
    kinds: str = "all",
) -> Campaign:
    """Mutate the assignment's solution, grade every mutant in `jobs` grader processes (default: one
    more than the cores), and judge the survivors on `inputs` inputs per function of its inputs.py. `kinds`
    narrows the mutants to cosmic-ray's operators or to the slips real code makes (see mutants.KINDS)."""
    if assignment.solution is None:
        raise UsageError(
            f"{assignment.folder} is a student build of {assignment.name}, without its solution: "
            "run the campaign in the instructor's folder"
        )
    started = time.monotonic()
    seed = config.seed_or(assignment.default_seed)
    source = assignment.solution.read_text()
    mutants = make(source, kinds)
    drawn = differential.draw(assignment, inputs, seed)  # before grading: a broken inputs.py says so at once
    stream = progress or io.StringIO()
    valid, invalid = [], []
    for mutant in mutants:
        why = _syntax_error(mutant, assignment.solution.name)
        if why:
            invalid.append(Verdict(mutant, INVALID, why=why))
        else:
            valid.append(mutant)
    results = _graded(assignment, replace(config, diagnose=False), assignment_dirs, jobs, source, valid, stream)
    solution = results[SOLUTION]
    verdicts: dict[int, Verdict] = {v.mutant.number: v for v in invalid}
    survivors = []
    for mutant in valid:
        result = results[_name(mutant)]
        if result.score < result.max_score:
            lost = tuple(t.name for t in result.tests if t.score < t.max_score)
            verdicts[mutant.number] = Verdict(mutant, KILLED, result.score, lost)
        else:
            survivors.append((mutant, result.score))
    dropped = 0
    if drawn is None or solution.score < solution.max_score:  # nothing to judge with, or nothing to trust
        verdicts.update({m.number: Verdict(m, UNJUDGED, score) for m, score in survivors})
    elif survivors:
        judged, dropped = _judged(assignment, config, assignment_dirs, drawn, survivors, stream)
        verdicts.update({v.mutant.number: v for v in judged})
    return Campaign(
        assignment=assignment.name,
        solution=assignment.solution.name,
        seed=seed,
        max_examples=config.max_examples,
        inputs=inputs if drawn is not None else None,
        verdicts=tuple(verdicts[m.number] for m in mutants),
        seconds=time.monotonic() - started,
        solution_score=solution.score,
        max_score=solution.max_score,
        dropped=dropped,
        kinds=kinds,
    )


def _syntax_error(mutant: Mutant, filename: str) -> str:
    """Why the mutant does not compile; '' when it does."""
    try:
        compile(mutant.source, filename, "exec", dont_inherit=True)
    except (SyntaxError, ValueError) as error:
        return f"{type(error).__name__}: {error}"
    return ""


def _name(mutant: Mutant) -> str:
    return f"mutant {mutant.number}"


def _graded(
    assignment: Assignment,
    config: GradeConfig,
    assignment_dirs: list[str] | None,
    jobs: int | None,
    source: str,
    mutants: list[Mutant],
    stream: TextIO,
) -> dict[str, GradeResult]:
    """The solution's grade and every mutant's, by student name, from the batch pool. Each mutant is
    graded from memory, as read: the solution's file is never written."""
    assert assignment.solution is not None
    filename = assignment.solution.name
    students = [Student(SOLUTION, assignment.solution, source=Source(source, filename))]
    students += [Student(_name(m), Path(filename), source=Source(m.source, filename)) for m in mutants]
    results: dict[str, GradeResult] = {}
    bar = Progress(len(students), 0, stream, unit="grade")

    def record(student: Student, result: GradeResult) -> None:
        results[student.name] = result
        bar.advance()

    try:
        run_pool(students, assignment, config, assignment_dirs, jobs, record, grading=bar.grading)
    finally:
        bar.finish()
    return results


def _judged(
    assignment: Assignment,
    config: GradeConfig,
    assignment_dirs: list[str] | None,
    drawn: differential.Drawn,
    survivors: list[tuple[Mutant, float]],
    stream: TextIO,
) -> tuple[list[Verdict], int]:
    """Each survivor judged against the solution on the drawn inputs, and how many drawn inputs the
    solution itself answered none of in time (left out)."""
    assert assignment.solution is not None
    bar = Progress(len(survivors), 0, stream, unit="survivor")
    verdicts = []
    try:
        with (
            forked_workers(config.limits, assignment_dirs),
            Solution(assignment, drawn, config.limits, assignment_dirs) as judge,
        ):
            for mutant, score in survivors:
                bar.grading([_name(mutant)])
                found = judge.difference(mutant.source, assignment.solution.name)
                status = EQUIVALENT if found is None else BLIND_SPOT
                verdicts.append(Verdict(mutant, status, score, difference=found))
                bar.advance()
            dropped = judge.dropped
    finally:
        bar.finish()
    return verdicts, dropped


def render(report: Campaign, parameters: dict[str, tuple[str, ...]] | None = None) -> str:
    """The campaign as a course reads it in a CI log, the verdict last. `parameters` names each
    function's arguments, so an input shows as the course writes it."""
    lines = [
        f"Mutation campaign of {report.assignment} (seed {report.seed}, {report.max_examples} examples per "
        f"property): {counted(len(report.verdicts), 'mutant')} of {report.solution} made by {report.makers}, "
        f"in {report.seconds:.0f} s",
        "",
    ]
    width = len(EQUIVALENT)  # a status as the table shows it: "likely equivalent"
    meaning = {
        KILLED: "lose points on some property",
        BLIND_SPOT: "keep full marks, yet answer some input otherwise than the solution",
        EQUIVALENT: "keep full marks and answer every drawn input as the solution does",
        UNJUDGED: "keep full marks; not judged, as the assignment has no inputs.py",
        INVALID: "do not compile, and count for nothing",
    }
    for status, said in meaning.items():
        if status in (KILLED, BLIND_SPOT, EQUIVALENT) or report.count(status):
            lines.append(f"{status.replace('_', ' '):<{width}}  {report.count(status):>4}  {said}")
    rate = report.kill_rate
    if rate is not None:
        lines.append(f"Kill rate: {report.count(KILLED)} of {report.wrong} non-equivalent mutants ({rate:.1%})")
    if report.inputs is not None:
        lines.append(
            f"Survivors were judged on {report.inputs} drawn inputs per function of inputs.py"
            + (
                f" ({counted(report.dropped, 'input')} the solution answered none of in time left out)"
                if report.dropped
                else ""
            )
        )
    for status, title in ((BLIND_SPOT, "Blind spots"), (EQUIVALENT, "Likely equivalent"), (UNJUDGED, "Unjudged")):
        chosen = report.with_status(status)
        if chosen:
            lines += ["", f"{title}:"]
            for verdict in chosen:
                lines += list(_described(verdict, parameters or {}))
    lines.append("")
    if report.problem:
        lines.append(f"Proves nothing: {report.problem}")
    elif report.count(BLIND_SPOT):
        lines.append(
            f"Blind spots: {counted(report.count(BLIND_SPOT), 'mutant')} the properties pass that answer "
            "otherwise than the solution: a property on the input shown would catch each"
        )
    elif report.count(UNJUDGED):
        lines.append(
            f"Not judged: {counted(report.count(UNJUDGED), 'survivor')}: write inputs.py (docs/mutation.md) to "
            "tell blind spots from equivalent mutants"
        )
    else:
        lines.append("No blind spot found: every mutant is killed or answers every drawn input as the solution")
    return "\n".join(lines) + "\n"


def _described(verdict: Verdict, parameters: dict[str, tuple[str, ...]]) -> Iterator[str]:
    m = verdict.mutant
    yield f"  {m.label}"
    yield f"    - {m.before}"
    yield f"    + {m.after}"
    found = verdict.difference
    if found is None:
        return
    if not found.function:
        yield f"    {differential.shown(found.got)}"
        return
    names = parameters.get(found.function, ())
    shown = ", ".join(
        course_terms.value(arg, names[i] if i < len(names) else "") for i, arg in enumerate(found.arguments)
    )
    yield f"    {found.function}({shown})"
    expected, got = differential.shown(found.expected), differential.shown(found.got)
    expected_text, got_text = (
        course_terms.value(shown) if answer[0] == "returned" else shown
        for shown, answer in ((expected, found.expected), (got, found.got))
    )
    if expected_text == got_text and course_terms.is_number(expected) and course_terms.is_number(got):
        expected_text, got_text = course_terms.pair(expected, got)  # the digits that tell them apart
    yield f"      solution: {expected_text}"
    yield f"      mutant:   {got_text}"
    where = course_terms.differences(got, expected) if found.got[0] == found.expected[0] == "returned" else ""
    if where:
        yield f"      differ at {where}"
    elif found.got[0] == found.expected[0] == "returned" and found.got[1] == found.expected[1]:
        yield "      (the same answer; what it left of its arguments differs)"
