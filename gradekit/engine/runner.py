"""A property to an outcome: where a property runs.

Running one property is: ask the shortcuts (gradekit.engine.speed: recorded inputs, remembered verdicts)
whether they settle it; else run it under Hypothesis, derandomized by the seed, with no example
database, every call going to the worker. A property that hangs, crashes the worker or runs out of
time is stopped without shrinking. Correctness properties run before the scale ones (slow is not
wrong: a function that times out on a vocabulary of 10,000 has had its correctness graded by then),
and a scale property whose required properties did not pass is not run: its points could not be paid.
A property's budget counts the grader's CPU time and the worker's time computing or blocked, as the
kernel counts them, so a busy machine does not end it sooner; a wall-clock backstop WALL_FACTOR times
as long catches the rest. The whole grade's budget (gradekit.engine.budget) counts the same way and leaves
out recording the examples (the first check on a machine): that is the grader's work, not the
submission's. Outcomes carry no points: gradekit.engine.scorer gives those.
"""

from __future__ import annotations

import time
import warnings
from collections.abc import Callable, Collection, Iterable
from dataclasses import dataclass, field, replace
from typing import Any

import hypothesis
import numpy as np
from hypothesis import HealthCheck, Phase, Verbosity
from hypothesis.errors import Flaky, HypothesisException, HypothesisWarning

from gradekit.assignment import Assignment
from gradekit.authoring import JUDGED, LEFT_OUT, Property
from gradekit.config import GradeConfig
from gradekit.course_terms import seconds
from gradekit.engine import speed
from gradekit.engine.budget import Budget
from gradekit.engine.calls import Calls, FirstAnswers, Replies, accused, retold
from gradekit.engine.outcome import Outcome
from gradekit.engine.proxy import StudentFunctions
from gradekit.engine.session import Session
from gradekit.errors import (
    BudgetExhausted,
    CallTimedOut,
    FunctionMissing,
    PropertyAborted,
    PropertyFailure,
    TooSlow,
    Unrepeatable,
)
from gradekit.hypothesis_pins import set_run_settings, stop_collecting_local_constants
from gradekit.result import FAULTS, Call, Counterexample, Status

__all__ = ["Example", "Trial", "VerdictMemory", "calls_for", "examples_for", "left_out_by", "run_all", "run_property"]

VerdictMemory = speed.Memory  # what a class grader hands each grade, so answers alike are graded once
WALL_FACTOR = 5.0  # a property's wall-clock backstop, in CPU budgets
# How often, on the wall clock, an example looks at the property's budget before it runs: a look reads
# the worker's clocks from /proc and this process's CPU time, and hundreds of examples run in a tenth
# of a second. A property overruns its budget by no more than its processes compute in one such while.
LOOK_SECONDS = 0.01

stop_collecting_local_constants()


RIGHT_AGAINST = "right against your own "  # how a note of a pass against the submission's own function starts
TRIPPED = "the property stopped with"  # how a property whose own code raised says so: the property's fault


@dataclass
class Example:
    """What one example did: the inputs it was given and the calls it made, in order."""

    inputs: dict[str, Any]
    calls: list[Call] = field(default_factory=list)


class Trial:
    """The examples of one run of a property, each kept as an Example as it runs: the verdict is made
    from the last one, or from the last one that failed. It has `budget` seconds of CPU time (see
    `spent`), looked at every LOOK_SECONDS, and WALL_FACTOR times as many on the clock."""

    def __init__(self, prop: Property, calls: Calls, budget: float) -> None:
        self._prop = prop
        self._calls = calls
        self._spent = spent(calls)
        self._budget = budget
        self._deadline = self._spent() + budget
        self._backstop = time.monotonic() + budget * WALL_FACTOR
        self._next_look = 0.0  # the first example looks
        self.examples = 0
        self.seen: list[dict[str, Any]] = []
        self.current = Example({})
        self.failed: tuple[PropertyFailure, Example] | None = None

    def run_example(self, inputs: dict[str, Any]) -> None:
        """Run the property once on `inputs`; raises what the property raised."""
        if self._out_of_time():
            raise BudgetExhausted("the property's time budget ran out")
        self.examples += 1
        self.seen.append(inputs)
        self.current = example = Example(inputs)
        try:
            self._prop.body(StudentFunctions(self._calls, example.calls), **inputs)
        except PropertyFailure as failure:
            self.failed = (failure, example)
            raise

    def _out_of_time(self) -> bool:
        """Past the wall-clock backstop, or past the budget when it is time to look."""
        now = time.monotonic()
        if now > self._backstop:
            return True
        if now < self._next_look:
            return False
        self._next_look = now + LOOK_SECONDS
        return self._spent() > self._deadline


def run_all(
    assignment: Assignment,
    session: Session,
    config: GradeConfig,
    seed: int,
    budget: Budget,
    memory: VerdictMemory | None = None,
    replay: speed.Recorded | None = None,
) -> dict[str, Outcome]:
    """The outcome of every property of `assignment` for the submission loaded in `session`, within
    what is left of the grade's `budget`; `replay` holds the examples recorded against the solution
    (gradekit.engine.recording), None when shortcuts are off."""
    if config.shortcuts:
        speed.settle()
    answers = FirstAnswers()
    shortcuts = speed.Shortcuts(session, answers, replay, memory if config.shortcuts else None)
    calls = calls_for(assignment, session, shortcuts.replies, answers)
    outcomes: dict[str, Outcome] = {}
    named = {prop.name: prop for prop in assignment.properties}
    ordered = sorted(assignment.properties, key=lambda p: p.scale)  # stable: correctness first
    for index, prop in enumerate(ordered):
        remaining = budget.left()
        outcome = _not_run(prop, outcomes, session)
        if outcome is None and remaining <= 0:
            outcome = Outcome(Status.TIMEOUT, f"not run: the whole check ran past its {budget.seconds:g} s budget")
        elif outcome is None:
            allowed = min(config.property_budget, remaining)
            count = examples_for(prop, config.max_examples)
            # Only what a grade reads ahead depends on the property expected next, never a verdict.
            following = _following(ordered[index + 1 :], outcomes, session)
            # A fault it finds is not shown where another property's holds it back: not shrunk either.
            failed = _failed_after(prop, outcomes)
            shrink = not _held_back(prop, outcomes, failed)
            left_out = _left_out(prop, outcomes, named)
            outcome, _ = run_property(prop, calls, shortcuts, seed, count, allowed, following, shrink, left_out)
            outcome = replace(outcome, message=retold(outcome.message, assignment.harness_functions, prop.functions))
            outcome = _unblamed(prop, outcome, outcomes, assignment.functions, failed)
        outcomes[prop.name] = outcome
    return {prop.name: outcomes[prop.name] for prop in assignment.properties}


def _following(rest: list[Property], outcomes: dict[str, Outcome], session: Session) -> Property | None:
    """The property expected next, where it runs whatever the one before finds: every property it
    requires has passed already. One that waits on a property still to run may be left unchecked, and
    calls it never makes must not reach the worker, whose output and state they would change."""
    upcoming = next((p for p in rest if _not_run(p, outcomes, session) is None), None)
    if upcoming is None or not all(r in outcomes for r in upcoming.requires):
        return None
    return upcoming


def _not_run(prop: Property, outcomes: dict[str, Outcome], session: Session) -> Outcome | None:
    """The outcome of a property settled without running it, as far as `outcomes` tell: a function it
    calls is not defined; a property it requires ran out of its budget before any example failed, so
    that it could not pay whatever it found and would only spend the grade's budget again on the same
    slow function (as a function that timed out is not called again); or a property it requires did
    not pass, so it is not checked yet: it could pay nothing, and what it found would blame its
    functions for the required property's mistake. None for a property that runs."""
    missing = [f for f in prop.functions if f not in session.defined]
    if missing:
        return Outcome(Status.ERROR, "; ".join(f"`{f}` is not defined" for f in missing))
    failed = [r for r in prop.requires if r in outcomes and outcomes[r].status is not Status.PASSED]
    if prop.scale and failed:
        return Outcome(Status.UNCHECKED, _not_timed(failed))
    slow = [r for r in failed if outcomes[r].spent]
    if slow:
        names = ", ".join(f"`{name}`" for name in slow)
        return Outcome(Status.TIMEOUT, f"not run: {names} ran out of time, and this property pays only once it passes")
    if failed:
        return Outcome(Status.UNCHECKED, _not_checked(failed))
    return None


def _unblamed(
    prop: Property, outcome: Outcome, outcomes: dict[str, Outcome], functions: Collection[str], failed: list[str]
) -> Outcome:
    """`outcome`, or "not checked yet" where it found a fault while a property it is checked `after`
    failed too (`failed`): the fault may be in the functions that one exercises, which this one's are built from;
    or "not judged" where a property it requires passed only against the submission's own wrong
    function (gradekit.authoring.expect_built_on), whose mistake this one would see again, or where
    the watch of every call caught another of the submission's `functions` than its own (the loss a
    sequence loss is checked against answering one input two ways). One the grade did not run (an
    assignment narrowed to some properties) blames nothing."""
    if outcome.status not in FAULTS:
        return outcome
    other = accused(outcome.message)
    built = _built_on(prop, outcomes)
    if other in functions and other not in prop.functions:
        message = f"not judged: {outcome.message}"
    elif failed:
        names = " and ".join(f"`{name}`" for name in failed)
        message = f"not checked yet: {names} did not pass, and what this checks may be built on it: fix that first"
    elif built:
        message = f"not judged: it builds on {outcomes[built[0]].note.removeprefix('right against ')}"
    else:
        return outcome
    return Outcome(Status.UNCHECKED, message, examples=outcome.examples, seconds=outcome.seconds)


def _left_out(prop: Property, outcomes: dict[str, Outcome], named: dict[str, Property]) -> tuple[str, ...]:
    """The functions `prop` leaves out of its inputs: those of the properties in its `without` that did
    not pass (see gradekit.authoring.prop)."""
    failed = [w for w in prop.without if w in outcomes and outcomes[w].status is not Status.PASSED]
    return left_out_by([named[w] for w in failed])


def left_out_by(failed: Iterable[Property]) -> tuple[str, ...]:
    """The functions a property leaves out of its inputs where the properties `failed`, named in its
    `without`, did not pass: theirs, in order, each once (the recording keeps a replay so judged)."""
    return tuple(dict.fromkeys(f for prop in failed for f in prop.functions))


def _held_back(prop: Property, outcomes: dict[str, Outcome], failed: list[str]) -> bool:
    """Whether any fault `prop` finds is held back by `_unblamed`, given the properties it is checked
    after that `failed`: its counterexample is then unshown."""
    return bool(failed or _built_on(prop, outcomes))


def _failed_after(prop: Property, outcomes: dict[str, Outcome]) -> list[str]:
    """The properties `prop` is checked after that did not pass."""
    return [a for a in prop.after if a in outcomes and outcomes[a].status is not Status.PASSED]


def _built_on(prop: Property, outcomes: dict[str, Outcome]) -> list[str]:
    """The properties `prop` requires that passed only against the submission's own wrong function."""
    return [r for r in prop.requires if r in outcomes and outcomes[r].note.startswith(RIGHT_AGAINST)]


def _not_checked(failed: list[str]) -> str:
    names = " and ".join(f"`{name}`" for name in failed)
    verb = "passes" if len(failed) == 1 else "pass"
    return f"not checked yet: it counts once {names} {verb}"


def _not_timed(wrong: list[str]) -> str:
    names = ", ".join(f"`{name}`" for name in wrong)
    return f"not timed: speed counts once the values are right, and {names} did not pass"


def spent(calls: Calls) -> Callable[[], float]:
    """A clock of the seconds a grade spends: the worker's computing or blocked, as the kernel counts
    them, and this process's CPU time. Unlike the wall clock, it does not run faster when other work
    shares the machine."""
    return lambda: calls.spent() + time.process_time()


def run_property(
    prop: Property,
    calls: Calls,
    shortcuts: speed.Shortcuts,
    seed: int,
    count: int,
    budget: float,
    following: Property | None = None,
    shrink: bool = True,
    left_out: tuple[str, ...] = (),
) -> tuple[Outcome, Trial]:
    """Run one property to a verdict: passed, or the smallest failing input Hypothesis could find
    (without `shrink`, the first: for a fault no report shows); with the trial that reached it
    (recording keeps the inputs it saw). `following` is the property expected to run next, which the
    shortcuts may prepare for; `left_out`, the functions the property leaves out of its inputs
    (gradekit.authoring.left_out), a fact it starts from as the ones properties keep."""
    started = time.monotonic()
    calls.begin_property()
    calls.kept.pop(JUDGED, None)
    calls.kept.pop(LEFT_OUT, None)
    if left_out:
        calls.kept[LEFT_OUT] = list(left_out)
    restarts = calls.session.restarts
    shortcuts.prepare(prop, calls, following)
    trial = Trial(prop, calls, budget)
    attempt = speed.Attempt()
    # A property's own arithmetic on a submission's answers (inf - inf, an overflowing reference on a
    # table it returned) is judged by the property's checks; NumPy's warnings about it would only reach
    # the student's or the instructor's terminal, naming a file of the grader's.
    with np.errstate(all="ignore"):
        try:
            key = (prop.test.__module__, prop.name, seed, count, shrink)  # a run not shrunk ends elsewhere
            attempt = shortcuts.attempt(prop, calls, trial.run_example, key)
            if attempt.outcome is not None:
                outcome = replace(attempt.outcome, seconds=time.monotonic() - started)
                return _judged(outcome, calls.kept.pop(JUDGED, None), calls.kept.pop(LEFT_OUT, ())), trial
            trial = Trial(prop, calls, budget)
            _configure(prop, count, seed, shrink)
            with warnings.catch_warnings():  # a large input's repr is built for a report nobody prints
                warnings.simplefilter("ignore", HypothesisWarning)
                prop.test(trial.run_example)
            outcome, settled = Outcome(Status.PASSED, examples=trial.examples), True
        except BaseException as error:
            outcome, settled = _verdict(error, trial, budget, count)
    outcome = replace(outcome, seconds=time.monotonic() - started)
    if settled and calls.session.restarts == restarts:
        shortcuts.learn(attempt, calls, outcome)
    return _judged(outcome, calls.kept.pop(JUDGED, None), calls.kept.pop(LEFT_OUT, ())), trial


def _judged(outcome: Outcome, judged: dict[str, list[str]] | None, left_out: list[str]) -> Outcome:
    """A passed property as `expect_built_on` found it: "not judged" where some example could not be
    told right or wrong, since the function it is built on could not answer either, or where it was
    right only against that function giving one answer to every input (a constant, which a function
    built on it matches whatever it is); passed with a note where an answer was right only against
    the submission's own, wrong function, or judged with the functions `left_out` of its inputs. A
    property that failed on another example is FAILED all the same: that mistake is its function's own."""
    if outcome.status is not Status.PASSED:
        return outcome
    if not judged:
        return _without(outcome, left_out)
    named = " and ".join(f"`{on}`" for on in judged.get("own", []))
    constant = named and len(judged.get("examples", [])) > 1 and len(judged.get("answers", [])) < 2
    if judged.get("unjudged") or constant:
        why = (
            judged["unjudged"][0]
            if judged.get("unjudged")
            else f"it answers every input tried alike, and so does your own {named} where it was asked"
        )
        return replace(outcome, status=Status.UNCHECKED, message=f"not judged: {why}")
    if not named:
        return _without(outcome, left_out)
    return replace(outcome, note=f"{RIGHT_AGAINST}{named}, which is wrong")


def _without(outcome: Outcome, left_out: list[str]) -> Outcome:
    """A passed property with a note naming the functions it was judged without, where there were any."""
    if not left_out:
        return outcome
    named = " and ".join(f"`{function}`" for function in left_out)
    return replace(outcome, note=f"right without your own {named}")


def calls_for(assignment: Assignment, session: Session, replies: Replies, answers: FirstAnswers) -> Calls:
    """The calls of a grade of `assignment`, told what each function a property may call (the
    submission's, and the harness's: see gradekit.assignment) returns, names its parameters, and may
    change in place or set to zeros."""
    specs = {**assignment.functions, **assignment.harness_functions}
    return Calls(
        session,
        replies,
        answers,
        {name: spec.returns for name, spec in specs.items()},
        {name: spec.parameters for name, spec in specs.items()},
        {name: (spec.updates, spec.zeroes) for name, spec in specs.items() if spec.updates or spec.zeroes},
    )


def examples_for(prop: Property, max_examples: int) -> int:
    return min(max_examples, prop.max_examples or max_examples)


def _configure(prop: Property, max_examples: int, seed: int, shrink: bool = True) -> None:
    """Hypothesis's settings for `prop`: a scale property is not shrunk, since its point is the size
    of its input, and shrinking a vocabulary of 10,000 would cost more than the grade; nor is one
    whose fault no report shows."""
    shrunk = shrink and not prop.scale
    phases = (Phase.explicit, Phase.generate, Phase.shrink) if shrunk else (Phase.explicit, Phase.generate)
    set_run_settings(prop.test, quiet(max_examples, phases))
    hypothesis.seed(seed)(prop.test)


def quiet(max_examples: int, phases: tuple[Phase, ...]) -> hypothesis.settings:
    """Settings for a run read from what it raises, never from what it prints: the same draws on
    every machine (no database, no deadline, no health check), and no failure report or blob."""
    return hypothesis.settings(
        max_examples=max_examples,
        deadline=None,
        database=None,
        derandomize=False,
        phases=phases,
        suppress_health_check=list(HealthCheck),
        report_multiple_bugs=False,
        print_blob=False,
        verbosity=Verbosity.quiet,
    )


def _verdict(error: BaseException, trial: Trial, budget: float, wanted: int) -> tuple[Outcome, bool]:
    """What a property that stopped with `error` concluded, and whether that follows from the
    submission's answers alone (not from a clock, a restart or a missing function).

    A property whose budget ran out before any example failed is not passed: it pays nothing, since
    a function slow on purpose would otherwise keep the points of every example it never faced."""
    examples = trial.examples
    if isinstance(error, PropertyFailure):
        return Outcome(Status.FAILED, error.message, _last_failure(trial, error), examples), True
    if isinstance(error, BudgetExhausted):
        if trial.failed is not None:
            failure = trial.failed[0]
            message = failure.message + " (stopped shrinking at the time budget)"
            return Outcome(Status.FAILED, message, _last_failure(trial, failure), examples), False
        message = (
            f"not graded: the property's budget of {seconds(budget)} s of CPU time ran out after {examples} of "
            f"its {wanted} examples, none of which failed"
        )
        return Outcome(Status.TIMEOUT, message, None, examples, spent=True), False
    if isinstance(error, TooSlow):
        return Outcome(Status.FAILED, error.message, _shown(trial.current), examples), False
    if isinstance(error, CallTimedOut):
        return Outcome(Status.TIMEOUT, error.message, _shown(trial.current), examples), False
    if isinstance(error, Unrepeatable):
        counterexample = _shown(trial.current, error.returned, error.expected)
        return Outcome(Status.FAILED, error.message, counterexample, examples), True
    if isinstance(error, FunctionMissing):
        return Outcome(Status.ERROR, error.message, None, examples), False
    if isinstance(error, PropertyAborted):
        return Outcome(Status.ERROR, error.message, _shown(trial.current), examples), False
    if isinstance(error, Flaky):
        message = "the submission gave different results when the same input was tried again"
        return Outcome(Status.FAILED, message, _last_failure(trial, None), examples), True
    if isinstance(error, HypothesisException):
        message = f"the property could not run: {type(error).__name__}: {error}"
        return Outcome(Status.ERROR, message, None, examples), False
    if isinstance(error, Exception):  # the property's own code tripped over something the submission returned
        message = f"{TRIPPED} {type(error).__name__}: {error}"
        return Outcome(Status.FAILED, message, _shown(trial.current), examples), True
    raise error


def _last_failure(trial: Trial, failure: PropertyFailure | None) -> Counterexample:
    """The last failing example the run saw: Hypothesis replays the shrunk one last."""
    if trial.failed is None:
        return _shown(trial.current)
    recorded, example = trial.failed
    failure = failure or recorded
    return _shown(example, failure.returned, failure.expected)


def _shown(example: Example, returned: Any = None, expected: Any = None) -> Counterexample:
    return Counterexample(_plain(example.inputs), tuple(example.calls), returned, expected)


def _plain(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return value
