"""The examples a property runs, recorded once against the solution and replayed for every submission.

Recording runs each property under Hypothesis against the solution in this process (the trusted
stand-in of gradekit.engine.session), with every shortcut off but the answers it learns; a class grade and a
Gradescope bundle ask for the recording ahead, so no grader records it itself, and `ship` writes it
into a built-in assignment's folder (see gradekit.engine.speed.recorded for what keys and holds it).
"""

from __future__ import annotations

from pathlib import Path

from gradekit.assignment import Assignment
from gradekit.config import GradeConfig
from gradekit.engine import speed
from gradekit.engine.calls import FirstAnswers
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
    for prop in assignment.properties:
        outcome, trial = run_property(prop, calls, shortcuts, seed, examples_for(prop, max_examples), float("inf"))
        if outcome.status is Status.PASSED:
            try:
                inputs = decode(encode(trial.seen))  # as a replay will read them back
            except TypeError:
                continue  # inputs that are not plain data (st.data(), objects) are drawn live
            properties[prop.name] = {"inputs": inputs, "calls": [list(e[:3]) for e in calls.transcript]}
    return properties


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
