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

import numpy as np

from gradekit.assignment import Assignment
from gradekit.authoring import LEFT_OUT, Property
from gradekit.config import GradeConfig
from gradekit.engine import speed
from gradekit.engine.calls import Calls, FirstAnswers
from gradekit.engine.runner import Trial, calls_for, examples_for, left_out_by, run_property
from gradekit.engine.session import Session, Trusted
from gradekit.result import Status
from gradekit.sandbox.replies import decode, encode

__all__ = ["record", "recorded", "recorded_if_kept", "ship", "shipped"]


def record(assignment: Assignment, seed: int, max_examples: int) -> speed.Recorded:
    """Run every property under Hypothesis against the solution, in this process; keep the inputs and
    calls of those it passes, and of each the calls its inputs make judged without each property in
    its `without` (see gradekit.engine.speed.recorded). A student build, without a solution, records
    nothing."""
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
            without = _without(prop, [named[w] for w in prop.without], calls, inputs)
            properties[prop.name] = {"inputs": inputs, "calls": made, "without": without}
    return properties


def _without(
    prop: Property, others: list[Property], calls: Calls, inputs: list[dict[str, Any]]
) -> dict[str, list[Any]]:
    """The calls a replay of `prop`'s `inputs` makes judged without the functions of each property of
    `others` (its `without`) alone, by `speed.without_key`, where every example passes so."""
    recorded = {}
    for other in others:
        left_out = left_out_by([other])
        made = _replayed(prop, calls, inputs, left_out)
        if made is not None:
            recorded[speed.without_key(left_out)] = made
    return recorded


def _replayed(
    prop: Property, calls: Calls, inputs: list[dict[str, Any]], left_out: tuple[str, ...]
) -> list[Any] | None:
    """The calls a replay of `inputs` makes judged without the functions `left_out` (gradekit.
    authoring.left_out: those of a property in `prop`'s `without` that did not pass), where every
    example passes so: a grade whose one operation is wrong replays them, read ahead, instead of
    asking the worker for each call as it comes. The facts the properties keep are left as they were."""
    kept = copy.deepcopy(calls.kept)
    calls.begin_property()
    calls.kept[LEFT_OUT] = list(left_out)
    try:
        with np.errstate(all="ignore"):
            passed = speed.replays(inputs, Trial(prop, calls, float("inf")).run_example)
    finally:
        calls.kept = kept
    return [list(e[:3]) for e in calls.transcript] if passed else None


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
