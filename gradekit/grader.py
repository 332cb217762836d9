"""Properties x worker -> GradeResult. The only place a verdict or a score is made.

Each property runs as a Hypothesis test in this process, derandomized by the seed, with no example
database; every call it makes goes to the worker. A property that hangs, crashes the worker or runs
out of time is stopped without shrinking; a worker that died is replaced before the next property.
"""
from __future__ import annotations

import re
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import hypothesis
from hypothesis import HealthCheck, Phase, Verbosity
from hypothesis.errors import Flaky, HypothesisException, UnsatisfiedAssumption
from hypothesis.internal.conjecture import providers

from gradekit import assignment as assignments
from gradekit import examples, reuse
from gradekit.assignment import Assignment
from gradekit.config import GradeConfig
from gradekit.errors import (
    AssignmentError,
    BudgetExhausted,
    CallTimedOut,
    FunctionMissing,
    PropertyAborted,
    PropertyFailure,
    Unrepeatable,
)
from gradekit.authoring import Property
from gradekit.result import Counterexample, GradeResult, PropertyResult, Status
from gradekit.sandbox import Worker
from gradekit.submission import Submission, opening, stream
from gradekit.source import Source
from gradekit.source import read as read_source


# Hypothesis mixes into its draws numeric constants found in "local" source files (any outside
# site-packages), and caches them under ./.hypothesis. Which files are local depends on how gradekit
# was installed and where it runs, so one seed would draw different examples on different machines,
# and the student's folder would be written to. Grades must depend on neither: collection is off.
# Hypothesis is pinned to one release in pyproject.toml, so this private hook stays where it is.
providers._get_local_constants = providers.Constants


@dataclass(frozen=True)
class Outcome:
    """What running one property showed, before any points are given."""

    status: Status
    message: str = ""
    counterexample: Counterexample | None = None
    examples: int = 0
    seconds: float = 0.0


def grade(
    path: Path,
    assignment: Assignment | None = None,
    config: GradeConfig = GradeConfig(),
    assignment_dirs: list[str] | None = None,
    worker: Worker | None = None,
    read: Source | None = None,
) -> GradeResult:
    """Grade one submission: a .py file, a notebook, or a student's folder holding one (see
    `source.pick`). Never raises for anything the submission does.

    `worker` may be one already started (`Worker.started`), so its interpreter boots while this
    process is still importing; it is stopped here either way. `read` is the submission as already
    read from `path` (a class grade reads every file before any student's code runs): given, it is
    what is graded and `path` is never opened.
    """
    started = time.monotonic()
    if read is None:
        read = read_source(path, assignment.name if assignment else None)
    source, problem, shown = read.text, read.problem, str(read.path or path)
    with worker or Worker.started(config.limits, assignment_dirs) as worker:
        unsandboxed = (worker.note,) if worker.note else ()  # why it ran without the OS sandbox
        sub = Submission(worker, source, read.filename, read.cells)
        if problem is None:
            problem = sub.load()
        if assignment is None:
            try:
                assignment = assignments.infer(set(sub.defined) or _named_in(source), assignment_dirs)
            except AssignmentError as error:
                return GradeResult("unknown", shown, config.seed or 0, error=problem or str(error),
                                   notes=(*sub.notes, *unsandboxed))
        seed = config.seed_or(assignment.default_seed)
        sub.returns = {name: spec.returns for name, spec in assignment.functions.items()}
        if problem is not None:
            outcomes = {p.name: Outcome(Status.ERROR, problem) for p in assignment.properties}
        else:
            outcomes = _run_all(assignment, sub, config, seed, started)
        output = sub.output()
        notes = (*sub.notes, *unsandboxed)
    tests = score(assignment, outcomes)
    lines = {k: v for k, v in sub.defined.items() if type(v) is int and k in assignment.functions}
    cells = {}
    if read.cells is not None:  # script lines -> the cell and the line within it
        located = {k: read.cell_at(v) for k, v in lines.items()}
        cells = {k: cell.number for k, cell in located.items() if cell is not None}
        lines = {k: v - cell.line + 1 for k, v in lines.items() if (cell := located[k]) is not None}
    return GradeResult(
        assignment=assignment.name,
        submission=shown,
        seed=seed,
        tests=tests,
        error=problem,
        output=output,
        seconds=time.monotonic() - started,
        function_lines=lines,
        notes=notes,
        function_cells=cells,
    )


def unfinished(path: Path, assignment: Assignment, config: GradeConfig, why: str) -> GradeResult:
    """The result for a submission whose grading could not finish (its grader was stopped): every
    property an error scoring 0, so it still has a full row wherever results are collected."""
    seed = config.seed_or(assignment.default_seed)
    outcomes = {p.name: Outcome(Status.ERROR, why) for p in assignment.properties}
    return GradeResult(assignment.name, str(path), seed, tests=score(assignment, outcomes), error=why)


def _named_in(source: str) -> set[str]:
    """Function names a source defines, read from its text: enough to pick the assignment when it cannot run."""
    return set(re.findall(r"^\s*def\s+(\w+)", source, re.MULTILINE))


def score(assignment: Assignment, outcomes: dict[str, Outcome]) -> tuple[PropertyResult, ...]:
    """Points per property. A property pays only if it passed and every property it requires passed."""
    passed = {name for name, outcome in outcomes.items() if outcome.status is Status.PASSED}
    results = []
    for prop in assignment.properties:
        outcome = outcomes[prop.name]
        held = [r for r in prop.requires if r not in passed]
        message = outcome.message
        if outcome.status is Status.PASSED and held:
            names = ", ".join(f"`{r}`" for r in held)
            message = f"passed, but pays only once {names} passes: a constant could pass this alone"
        results.append(
            PropertyResult(
                name=prop.name,
                functions=prop.functions,
                status=outcome.status,
                score=prop.points if outcome.status is Status.PASSED and not held else 0.0,
                max_score=prop.points,
                hint=prop.hint,
                message=message,
                counterexample=outcome.counterexample,
                examples=outcome.examples,
                seconds=outcome.seconds,
            )
        )
    return tuple(results)


def _run_all(
    assignment: Assignment,
    sub: Submission,
    config: GradeConfig,
    seed: int,
    started: float,
) -> dict[str, Outcome]:
    replay = examples.recorded(assignment, seed, config.max_examples) if config.replay else {}
    outcomes = {}
    for prop in assignment.properties:
        remaining = config.check_budget - (time.monotonic() - started)
        missing = [f for f in prop.functions if f not in sub.defined]
        if missing:
            outcome = Outcome(Status.ERROR, "; ".join(f"`{f}` is not defined" for f in missing))
        elif remaining <= 0:
            outcome = Outcome(Status.TIMEOUT, f"not run: the whole check ran past its {config.check_budget:g} s budget")
        else:
            budget = min(config.property_budget, remaining)
            outcome = run_property(prop, sub, config, seed, budget, replay.get(prop.name))
        outcomes[prop.name] = outcome
    return outcomes


def run_property(
    prop: Property,
    sub: Submission,
    config: GradeConfig,
    seed: int,
    budget: float,
    replay: dict[str, list[Any]] | None,
) -> Outcome:
    """Run one property to a verdict: passed, or the smallest failing input Hypothesis could find.

    Recorded inputs are replayed first (see gradekit.examples); Hypothesis runs only when there are
    none or one of them fails, and then fails first on that same input. In a grader that remembers
    (see gradekit.reuse), answers exactly like an earlier submission's get its verdict again.
    """
    started = time.monotonic()
    memory = reuse.memory if reuse.memory.enabled else None
    count = _examples(prop, config)
    key = (prop.test.__module__, prop.name, seed, count)
    after = None
    sub.begin_property(budget)
    restarts = sub.restarts
    try:
        if replay is not None and _replay_passes(prop, sub, replay, key, memory):
            return Outcome(Status.PASSED, examples=sub.examples, seconds=time.monotonic() - started)
        if replay is not None and memory is not None:
            after = (key, stream(sub.transcript))
        sub.begin_property(budget)
        known = memory.runs_after(after) if after is not None else []
        found = sub.follow([calls for calls, _, _ in known]) if known else None
        if found is not None:
            _, outcome, quoted = known[found]
            return replace(reuse.relocate(outcome, quoted, sub.where), seconds=time.monotonic() - started)
        _configure(prop.test, count, seed)
        prop.test(sub)
        outcome, settled = Outcome(Status.PASSED, examples=sub.examples), True
    except BaseException as error:
        outcome, settled = _verdict(error, sub, budget, count)
    outcome = replace(outcome, seconds=time.monotonic() - started)
    if memory is not None and after is not None and settled and sub.restarts == restarts:
        memory.keep_run(after, sub.transcript, outcome, sub.quoted)
    return outcome


def _examples(prop: Property, config: GradeConfig) -> int:
    return min(config.max_examples, prop.max_examples or config.max_examples)


def _verdict(error: BaseException, sub: Submission, budget: float, wanted: int) -> tuple[Outcome, bool]:
    """What a property that stopped with `error` concluded, and whether that follows from the
    submission's answers alone (not from a clock, a restart or a missing function).

    A property whose budget ran out before any example failed is not passed: it pays nothing, since
    a function slow on purpose would otherwise keep the points of every example it never faced."""
    examples = sub.examples
    if isinstance(error, PropertyFailure):
        return Outcome(Status.FAILED, error.message, _last_counterexample(sub, error), examples), True
    if isinstance(error, BudgetExhausted):
        if sub.last_failure is not None:
            failure = sub.last_failure[0]
            message = failure.message + " (stopped shrinking at the time budget)"
            return Outcome(Status.FAILED, message, _last_counterexample(sub, failure), examples), False
        message = (f"not graded: the property's {budget:g} s budget ran out after {examples} of its "
                   f"{wanted} examples, none of which failed")
        return Outcome(Status.TIMEOUT, message, None, examples), False
    if isinstance(error, CallTimedOut):
        return Outcome(Status.TIMEOUT, error.message, _current(sub), examples), False
    if isinstance(error, Unrepeatable):
        counterexample = Counterexample(_plain(sub.inputs), tuple(sub.calls), error.returned, error.expected)
        return Outcome(Status.FAILED, error.message, counterexample, examples), True
    if isinstance(error, FunctionMissing):
        return Outcome(Status.ERROR, error.message, None, examples), False
    if isinstance(error, PropertyAborted):
        return Outcome(Status.ERROR, error.message, _current(sub), examples), False
    if isinstance(error, Flaky):
        message = "the submission gave different results when the same input was tried again"
        return Outcome(Status.FAILED, message, _last_counterexample(sub, None), examples), True
    if isinstance(error, HypothesisException):
        message = f"the property could not run: {type(error).__name__}: {error}"
        return Outcome(Status.ERROR, message, None, examples), False
    if isinstance(error, Exception):  # the property's own code tripped over something the submission returned
        message = f"the property stopped with {type(error).__name__}: {error}"
        return Outcome(Status.FAILED, message, _current(sub), examples), True
    raise error


def _replay_passes(prop: Property, sub: Submission, replay: dict[str, list[Any]], key: Any,
                   memory: reuse.Memory | None) -> bool:
    sub.prefetch(replay["calls"])
    known, openings = memory.passed(key) if memory is not None else (set(), set())
    if known and sub.read_ahead(openings) in known and sub.answers_repeat():
        sub.examples = len(replay["inputs"])
        sub.drain()
        return True
    for inputs in replay["inputs"]:
        try:
            prop.check(sub, **inputs)
        except UnsatisfiedAssumption:
            continue
        except Exception:
            return False
    sub.drain()
    # Only a replay that made exactly the calls sent: those are what a later submission's replay reads.
    if memory is not None and [e[:3] for e in sub.transcript] == [tuple(c) for c in replay["calls"]]:
        memory.keep_pass(key, stream(sub.transcript), opening(sub.transcript))
    return True


def _configure(test: Callable[..., None], max_examples: int, seed: int) -> None:
    """Per-run settings on a @given test: Hypothesis binds them at decoration, so they are set here."""
    test._hypothesis_internal_use_settings = hypothesis.settings(  # type: ignore[attr-defined]
        max_examples=max_examples,
        deadline=None,
        database=None,
        derandomize=False,
        phases=(Phase.explicit, Phase.generate, Phase.shrink),
        suppress_health_check=list(HealthCheck),
        report_multiple_bugs=False,
        print_blob=False,
        verbosity=Verbosity.quiet,
    )
    hypothesis.seed(seed)(test)


def _last_counterexample(sub: Submission, failure: PropertyFailure | None) -> Counterexample:
    """The last failing example the wrapper saw: Hypothesis replays the shrunk one last."""
    if sub.last_failure is None:
        return _current(sub)
    recorded, inputs, calls = sub.last_failure
    failure = failure or recorded
    return Counterexample(_plain(inputs), tuple(calls), failure.returned, failure.expected)


def _current(sub: Submission) -> Counterexample:
    return Counterexample(_plain(sub.inputs), tuple(sub.calls))


def _plain(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return value

