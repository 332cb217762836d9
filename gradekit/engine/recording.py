"""The examples a property runs, recorded once against the solution and replayed for every submission.

Recording runs each property under Hypothesis against the solution in this process (the trusted
stand-in of gradekit.engine.session), with every shortcut off but the answers it learns; a class grade and a
Gradescope bundle ask for the recording ahead, so no grader records it itself, and `ship` writes it
into a built-in assignment's folder (see gradekit.engine.speed.recorded for what keys and holds it).
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

from gradekit.assignment import Assignment
from gradekit.authoring import Property
from gradekit.config import GradeConfig
from gradekit.engine import speed
from gradekit.engine.calls import Calls, FirstAnswers
from gradekit.engine.runner import calls_for, examples_for, run_property
from gradekit.engine.session import Session, Trusted
from gradekit.result import Status
from gradekit.sandbox.replies import decode, encode

__all__ = ["record", "recorded", "recorded_if_kept", "ship", "shipped"]


def record(assignment: Assignment, seed: int, max_examples: int) -> speed.Recorded:
    """Run every property under Hypothesis against the solution, in this process; keep the inputs and
    calls of those it passes (see gradekit.engine.speed.recorded). A student build, without a solution,
    records nothing."""
    if assignment.solution is None:
        return {}
    session = Session(Trusted(assignment.solution, assignment.harness), "", assignment.solution.name)
    session.defined = dict.fromkeys([*assignment.functions, *assignment.harness_functions])
    answers = FirstAnswers()
    shortcuts = speed.Shortcuts(session, answers)
    calls = calls_for(assignment, session, shortcuts.replies, answers)
    properties: speed.Recorded = {}
    named = {prop.name: prop for prop in assignment.properties}
    for prop in assignment.properties:
        count = examples_for(prop, max_examples)
        outcome, trial = run_property(prop, calls, shortcuts, seed, count, float("inf"))
        if outcome.status is Status.PASSED:
            try:
                inputs = decode(encode(trial.seen))  # as a replay will read them back
            except TypeError:
                continue  # inputs that are not plain data (st.data(), objects) are drawn live
            made = [list(e[:3]) for e in calls.transcript]
            without = _without(prop, [named[w] for w in prop.without], calls, shortcuts, seed, count, inputs)
            properties[prop.name] = {"inputs": inputs, "calls": made, "without": without}
    return properties


def _without(
    prop: Property, others: list[Property], calls: Calls, shortcuts: speed.Shortcuts, seed: int, count: int, inputs: Any
) -> dict[str, list[Any]]:
    """The calls `prop` makes judged without the functions of each property in its `without` alone
    (gradekit.authoring.left_out: one that did not pass in a grade), by `speed.without_key`, where
    the same inputs pass: a grade whose one operation is wrong replays those instead of asking the
    worker for every call as it comes. The facts the property keeps are left as they were."""
    kept = copy.deepcopy(calls.kept)
    recorded: dict[str, list[Any]] = {}
    for other in others:
        left_out = tuple(dict.fromkeys(other.functions))
        outcome, trial = run_property(prop, calls, shortcuts, seed, count, float("inf"), left_out=left_out)
        if outcome.status is Status.PASSED and decode(encode(trial.seen)) == inputs:
            recorded[speed.without_key(left_out)] = [list(e[:3]) for e in calls.transcript]
        calls.kept = copy.deepcopy(kept)
    return recorded


def recorded(assignment: Assignment, seed: int, max_examples: int) -> speed.Recorded:
    """The recorded inputs of the assignment's properties, from the cache or recorded now: a class grade
    and a Gradescope bundle ask for them ahead, so no grader records them itself."""
    return speed.recorded_inputs(assignment, seed, max_examples, record)


def recorded_if_kept(assignment: Assignment, seed: int, max_examples: int) -> speed.Recorded | None:
    """`recorded`'s inputs where the cache or the assignment holds them, read into this process's
    memory, where a later `recorded` finds them; None where they are still to be recorded."""
    return speed.kept_inputs(assignment, seed, max_examples)


def ship(assignment: Assignment) -> list[Path]:
    """Record the assignment's inputs at its default seed and example count into the assignment's own
    folder (gradekit.engine.speed.recorded), so a machine with the same versions never records them, and
    the reference's exact answers for them (gradekit.engine.speed.exact); return the files written."""
    return speed.ship(assignment, assignment.default_seed, GradeConfig().max_examples, record)


def shipped(assignment: Assignment) -> Path:
    """Where `ship` writes the assignment's recording for this machine's versions."""
    return speed.shipped_path(assignment, assignment.default_seed, GradeConfig().max_examples)
