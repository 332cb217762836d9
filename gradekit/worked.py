"""Worked examples: fixed inputs whose expected answers a student build carries as numbers.

A property that compares with the solution needs the solution, which the students of an instructor's
own assignment must not have. For the check students run themselves, `public.py` names a few inputs
per function, smallest first (a failure shows the first one that fails):

    log_softmax_on_worked_examples = worked_examples(
        "log_softmax", [([0.0],), ([1.0, 2.0, 3.0],)], points=2, hint="log_softmax(z) = z - logsumexp(z)."
    )

Where the solution is at hand (the instructor's folder, the autograder, a class grade) the expected
answers are the solution's, worked out when the assignment is loaded. `gradekit release` writes them
into the student build's answers.json: the inputs and what the solution returned, nothing of how.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from types import ModuleType
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from gradekit.authoring import Property, expect_close, magnitude, prop
from gradekit.declared_types import coerce
from gradekit.errors import AssignmentError, InvalidProperty, PropertyFailure

__all__ = [
    "ANSWERS",
    "Answers",
    "WorkedExamples",
    "answers_file",
    "as_property",
    "read_answers",
    "solution_answers",
    "worked_examples",
]

ANSWERS = "answers.json"  # beside public.py in a student build

Answers = dict[str, list[Any]]  # property name -> the expected answer to each case, in order


@dataclass(frozen=True)
class WorkedExamples:
    """Fixed inputs for one function, graded against answers known ahead: a property once answered."""

    function: str
    cases: tuple[tuple[Any, ...], ...]
    points: float
    hint: str
    requires: tuple[str, ...]
    rtol: float
    atol: float


def worked_examples(
    function: str,
    cases: Sequence[Sequence[Any]],
    *,
    points: float,
    hint: str,
    requires: Sequence[str] = (),
    rtol: float = 1e-9,
    atol: float = 1e-12,
) -> WorkedExamples:
    """A public property: `function(*case)` must return the solution's answer for every case (plain
    numbers and lists, as JSON holds them), within `expect_close`'s tolerance. It is named after the
    variable it is assigned to in public.py."""
    prop(points=points, functions=[function], hint=hint, requires=requires)  # the same checks as any property
    if isinstance(cases, (str, bytes)) or not cases:
        raise InvalidProperty(f"worked examples of {function!r} need at least one case: a list of argument tuples")
    plain = []
    for case in cases:
        if isinstance(case, (str, bytes)) or not isinstance(case, Sequence):
            raise InvalidProperty(f"each worked example of {function!r} is a tuple of arguments, not {case!r}")
        try:
            plain.append(tuple(json.loads(json.dumps(list(case), allow_nan=False))))
        except (TypeError, ValueError):
            raise InvalidProperty(
                f"the worked example {case!r} of {function!r} must be plain data (finite numbers, strings, lists)"
            ) from None
    return WorkedExamples(function, tuple(plain), float(points), hint.strip(), tuple(requires), rtol, atol)


def solution_answers(
    examples: Mapping[str, WorkedExamples], solution: ModuleType, returns: Mapping[str, Any]
) -> Answers:
    """What the solution answers to every case, read as each function's declared return type."""
    answers: Answers = {}
    for name, worked in examples.items():
        function = getattr(solution, worked.function, None)
        if not callable(function):
            raise AssignmentError(f"the solution has no function {worked.function!r} for {name!r}")
        answers[name] = [_answer(function, worked, case, returns[worked.function]) for case in worked.cases]
    return answers


def _answer(function: Callable[..., Any], worked: WorkedExamples, case: tuple[Any, ...], declared: Any) -> Any:
    where = f"worked example {list(case)!r} of {worked.function!r}"
    try:
        answer = coerce(_plain(function(*copy.deepcopy(case))), declared, worked.function)
        return json.loads(json.dumps(answer))  # as answers.json holds it: a tuple is a list there
    except PropertyFailure as error:
        raise AssignmentError(
            f"the solution's answer to the {where} is not what functions.py declares: {error}"
        ) from None
    except Exception as error:
        raise AssignmentError(f"the solution raised {type(error).__name__} on the {where}: {error}") from None


def _plain(value: Any) -> Any:
    """A NumPy array or number as the list or number it holds; lists and tuples entry by entry."""
    tolist = getattr(value, "tolist", None)
    if callable(tolist):
        return tolist()
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return value


def answers_file(examples: Mapping[str, WorkedExamples], answers: Answers) -> str:
    """answers.json: each property's cases and their answers, the cases kept so a build can tell
    that its public.py changed since."""
    entries = [
        f" {json.dumps(name)}: {json.dumps({'cases': _stored(w.cases), 'answers': answers[name]})}"
        for name, w in examples.items()
    ]
    return "{\n" + ",\n".join(entries) + "\n}\n"


def _stored(cases: tuple[tuple[Any, ...], ...]) -> list[list[Any]]:
    """The cases as answers.json holds them, so what is read back is compared with what was written."""
    return [list(case) for case in cases]


def read_answers(text: str, examples: Mapping[str, WorkedExamples], where: str) -> Answers:
    """The answers a student build carries, or an AssignmentError when they are not those of its public.py."""
    try:
        document = json.loads(text)
    except ValueError:
        raise AssignmentError(f"{where} is not JSON: release the assignment again") from None
    answers: Answers = {}
    for name, worked in examples.items():
        entry = document.get(name) if isinstance(document, dict) else None
        entry = entry if isinstance(entry, dict) else {}
        given = entry.get("answers")
        fits = entry.get("cases") == _stored(worked.cases)
        if not fits or not isinstance(given, list) or len(given) != len(worked.cases):
            raise AssignmentError(
                f"{where} does not hold the answers to {name!r} as public.py states it: release again"
            )
        answers[name] = given
    return answers


def as_property(
    name: str, worked: WorkedExamples, answers: Sequence[Any], parameters: Sequence[str], module: str
) -> Property:
    """The graded property: each case drawn by Hypothesis (shrinking to the first), given to the
    student's function by its parameter names, so a failure shows its inputs as any other does."""
    wrong = [list(case) for case in worked.cases if len(case) != len(parameters)]
    if wrong:
        raise AssignmentError(
            f"{name!r}: the worked example {wrong[0]!r} does not give {worked.function}'s {len(parameters)} "
            f"argument(s) ({', '.join(parameters)})"
        )
    cases = [dict(zip(parameters, case)) for case in worked.cases]
    expected = {_key(case): answer for case, answer in zip(cases, answers)}

    def body(sub: Any, **inputs: Any) -> None:
        returned = getattr(sub, worked.function)(*inputs.values())
        message = f"`{worked.function}` differs from the solution's answer"
        scale = magnitude(v for v in inputs.values() if not isinstance(v, str))
        expect_close(returned, expected[_key(inputs)], message, rtol=worked.rtol, atol=worked.atol, scale=scale)

    body.__name__ = body.__qualname__ = name
    body.__doc__ = f"`{worked.function}` returns the solution's answer on {len(cases)} fixed inputs."

    @given(case=st.sampled_from(cases))
    def test(run_example: Callable[[dict[str, Any]], None], case: dict[str, Any]) -> None:
        run_example(dict(case))

    test.__module__ = module  # the property's home, as for any other: the speed shortcuts key on it
    return Property(
        name=name,
        points=worked.points,
        functions=(worked.function,),
        hint=worked.hint,
        requires=worked.requires,
        test=test,
        body=body,
        description=body.__doc__,
        public=True,
    )


def _key(inputs: Mapping[str, Any]) -> str:
    return json.dumps(list(inputs.values()))
