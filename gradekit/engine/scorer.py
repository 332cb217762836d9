"""Outcomes to points: the one place a score is given.

A property pays its points only if it passed and every property it `requires` passed too: a
metamorphic property (shift invariance, non-negativity, ...) is also satisfied by a function that
returns a constant, so it pays only once the function's values are known to be right (the runner
does not even run it before: gradekit.engine.runner, "not checked yet").
"""

from __future__ import annotations

from gradekit.assignment import Assignment
from gradekit.engine.outcome import Outcome
from gradekit.result import PropertyResult, Status


def score(assignment: Assignment, outcomes: dict[str, Outcome]) -> tuple[PropertyResult, ...]:
    """Points per property, in the assignment's order, each with the outcome that earned them."""
    passed = {name for name, outcome in outcomes.items() if outcome.status is Status.PASSED}
    results = []
    for prop in assignment.properties:
        outcome = outcomes[prop.name]
        pays = outcome.status is Status.PASSED and passed.issuperset(prop.requires)
        results.append(
            PropertyResult(
                name=prop.name,
                functions=prop.functions,
                status=outcome.status,
                score=prop.points if pays else 0.0,
                max_score=prop.points,
                hint=prop.hint,
                message=outcome.message,
                counterexample=outcome.counterexample,
                examples=outcome.examples,
                seconds=outcome.seconds,
                note=outcome.note,
            )
        )
    return tuple(results)
