"""Outcomes to points: the one place a score is given.

A property pays its points only if it passed and every property it `requires` passed too: a
metamorphic property (shift invariance, non-negativity, ...) is also satisfied by a function that
returns a constant, so it pays only once the function's values are known to be right.
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
        held = [r for r in prop.requires if r not in passed]
        message = outcome.message
        if outcome.status is Status.PASSED and held:
            names = " and ".join(f"`{r}`" for r in held)
            verb = "passes" if len(held) == 1 else "pass"
            message = f"passed, but pays only once {names} {verb}: a constant could pass this alone"
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
