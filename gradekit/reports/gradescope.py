"""Gradescope's results.json, as its autograder specification describes it.

https://gradescope-autograders.readthedocs.io/en/latest/specs/#output-format: a top-level `score`,
`execution_time` (seconds), `output` (which names the isolation the code ran under), visibility
settings, `extra_data` ({"isolation": WALL, "provenance": {...}}: the wall and what the result was
made from, gradekit.engine.provenance, where the result names them), and `tests`, one per
property, each with `name`, `score`, `max_score`, `status` ("passed" or "failed"), `output` and
`visibility`.
The score holds the course staff's adjustments by hand, where the result has any (a class's overrides),
and the output says what they changed and why; each test keeps the points its property paid.
Students see every test and its counterexample at once ("visible"); the autograder's own stdout,
which holds nothing of theirs, stays with the instructors ("hidden").
The file is strict JSON (gradekit.reports.inert: a float that is not finite as "NaN", "Infinity" or
"-Infinity"), and every output is terminal text, control characters shown as their escapes.
"""

from __future__ import annotations

import math
from typing import Any

from gradekit.reports import adjustments
from gradekit.reports.inert import json_text, terminal
from gradekit.reports.text import details, diagnosed, isolation, named_seed, walled
from gradekit.result import GradeResult, Status

VISIBILITY = "visible"
STDOUT_VISIBILITY = "hidden"


def render(result: GradeResult) -> str:
    return json_text(results(result))


def results(result: GradeResult) -> dict[str, Any]:
    return {
        "score": result.score,
        "execution_time": math.ceil(result.seconds),
        "output": _output(result),
        "visibility": VISIBILITY,
        "stdout_visibility": STDOUT_VISIBILITY,
        **_extra_data(result),
        "tests": [
            {
                "name": test.name,
                "score": test.score,
                "max_score": test.max_score,
                "status": "passed" if test.status is Status.PASSED else "failed",
                "output": terminal(
                    "\n".join(
                        details(test)
                        if test.status is not Status.PASSED or test.message
                        else [f"passed on {test.examples} examples"]
                    )
                ),
                "visibility": VISIBILITY,
            }
            for test in result.tests
        ],
    }


def _extra_data(result: GradeResult) -> dict[str, Any]:
    """The wall the code ran behind and what the result was made from (gradekit.engine.provenance), as data
    Gradescope stores with the submission, for a course's scripts and a regrade's explanation;
    nothing where the result names neither."""
    extra: dict[str, Any] = {}
    if result.isolation is not None:
        extra["isolation"] = result.isolation
    if result.provenance is not None:
        extra["provenance"] = result.provenance.to_dict()
    return {"extra_data": extra} if extra else {}


def _output(result: GradeResult) -> str:
    score = [f"Score: {result.score:g} / {result.max_score:g} ({result.assignment}, {named_seed(result)})"]
    if result.error:
        score.append(f"Could not grade: {result.error}")
    wall = isolation(result)
    lines = walled(result, [], score, [wall] if wall else [])
    lines += [result.regraded] if result.regraded else []
    lines += adjustments.lines(result)
    lines += [f"Note: {note}" for note in result.notes]
    for diagnosis in result.diagnosis:
        lines += ["", *diagnosed(diagnosis)]
    if result.output.strip():
        lines += ["", "Your code printed (first lines):"] + result.output.strip().splitlines()[:10]
    return terminal("\n".join(lines))
