"""Which known mistake a failing submission made, function by function.

A failed property says where the code is wrong, not which mistake it is. After grading, each function
of a failed property (one that did not time out) answers its probes (gradekit.diagnosis.mistakes) and the
calls in the failed properties' counterexamples that exercise it (for an assignment whose properties
call a harness, the harness calls of the properties that name it), its file loaded afresh for each
function so that nothing grading (or another function's probes) left behind weighs on the answers.
The models of the assignment's mistakes.py are asked first (gradekit.diagnosis.models): the one that
explains every answer is told. A model that is a class, standing in for the student's (autograd's
`Value` with one method wrong), answers any harness call, so a mistake in a method a failed property
names is told wherever it shows: in that method's probes, or in backward's graphs; each mistake once.
Where no model explains them, and the answers to the probes disagree with the reference's and agree
with exactly one other known mistake's, that mistake's file is loaded in the same worker and asked
the same calls in the same order; when it answers the counterexamples' alike as well, the function
is diagnosed with that mistake. Two mistakes made together in one function agree with neither (or
part on the inputs the grade found them on), and one the bank does not know agrees with none: then
nothing is said, rather than a guess.

Answers are compared as `mistakes.agree` compares them. Nothing here changes a score: the grade
is made before a diagnosis is asked for.
"""

from __future__ import annotations

import hashlib
import json
import math
from contextlib import suppress
from pathlib import Path
from typing import Any

from gradekit.assignment import Assignment
from gradekit.diagnosis.behaviour import behaving, declared_behaviours
from gradekit.diagnosis.mistakes import Answer, Bank, KnownWrong, Probe, agree, ask, exercised, loaded, trusted_answer
from gradekit.diagnosis.models import Asked, declared, explaining, explains_all
from gradekit.engine.budget import Budget
from gradekit.engine.outcome import Outcome
from gradekit.engine.session import Session, Trusted
from gradekit.known_mistakes import KnownMistake
from gradekit.result import FAULTS, Diagnosis, Status
from gradekit.sandbox.replies import decode, encode

__all__ = ["diagnose", "digest", "match"]

SHRUNK = 8  # counterexample calls a function is asked, besides its probes
DIGEST_DIGITS = 6  # significant digits two students' answers must share to be grouped as one


def diagnose(
    assignment: Assignment, session: Session, outcomes: dict[str, Outcome], bank: Bank, budget: Budget
) -> tuple[tuple[Diagnosis, ...], dict[str, str]]:
    """The known mistakes the submission loaded in `session` makes, in the functions its failed
    properties exercise, and for each such function whose answers to its probes no known mistake
    explains, a digest of them (see `digest`); the session's file is loaded afresh first. It stops
    where the grade's `budget` is spent: a diagnosis is worth no more time than the grade gives the
    submission."""
    failed = [p for p in assignment.properties if outcomes[p.name].status in FAULTS]
    stopped = {f for p in failed if outcomes[p.name].status is Status.TIMEOUT for f in p.functions}
    blamed = {f for p in failed for f in p.functions}
    suspects = [f for f in assignment.functions if f in blamed and f not in stopped and f in bank.probes]
    described = declared(assignment)
    solution = Trusted(assignment.solution, assignment.harness) if assignment.solution else None
    alike: list[tuple[KnownWrong, tuple[Probe, ...], int, tuple[Answer, ...]]] = []
    found: dict[tuple[str, str, str], Diagnosis] = {}  # each mistake told once, however many functions show it
    standing_in: list[KnownMistake] = []  # the class models told
    untold: dict[str, tuple[list[Asked], tuple[Answer, ...], int]] = {}  # each call, its answer, how many probes
    unexplained: dict[str, str] = {}
    for function in suspects:
        # Loaded afresh for each function, as each known mistake answered.
        if budget.left() <= 0 or session.load() is not None:
            break
        if function not in session.defined and not any(m.stands_in for m in described):
            continue  # a class standing in still answers for a missing method (`2 * a` without `__rmul__` raises)
        probes, shrunk = bank.probes[function], _shrunk(assignment, outcomes, function)
        calls = probes + shrunk
        answers = ask(session.worker, calls)
        if answers is None:
            break  # the worker timed out or died: what it answers next is not to be trusted
        shown = tuple(trusted_answer(solution, *c) for c in shrunk) if solution else ()
        right = list(map(agree, answers, bank.reference[function] + shown))
        if all(right):
            continue  # right on every call: its fault is in what it does to its arguments, or across calls
        # A class standing in for the student's answers any harness call: a mistake in a method a
        # failed property names may show in another method's probes (a wrong * in backward's graphs).
        models = [m for m in described if m.function == function or (m.stands_in and m.function in blamed)]
        decoded = [(c, tuple(decode(e))) for c, e in calls]
        named = explaining(models, *_wrong_first(decoded, answers, right))
        for model, parameter in named:
            told = _told(bank, model, parameter, len(answers))
            found.setdefault((told.function, told.misconception, told.source), told)
            standing_in += [model] if model.stands_in else []
        sources = frozenset(f"known_wrong/{file}" for m in models for file in m.files)
        mistake = None if named else match(bank, function, answers[: len(probes)], sources)
        if mistake is not None:
            alike.append((mistake, calls, len(probes), answers))
        elif not named:
            untold[function] = (decoded, answers, len(probes))
    # A function whose answers a mistake told elsewhere explains too (backward's and another's alike
    # on + 's probes) is explained, though not told there.
    for function, (decoded, answers, probed) in untold.items():
        if not any(explains_all(m, decoded, answers) for m in standing_in):
            unexplained[function] = digest(answers[:probed])
    for mistake, calls, probed, answers in alike:  # the submission is done with: the worker loads known mistakes
        if budget.left() > 0 and _confirmed(session.worker, assignment, mistake, calls, probed, answers):
            told = Diagnosis(mistake.function, mistake.name, mistake.explanation, (len(answers),) * 2, mistake.source)
            found.setdefault((told.function, told.misconception, told.source), told)
        else:
            unexplained[mistake.function] = digest(answers[:probed])
    for told in behaving(declared_behaviours(assignment), outcomes, list(assignment.functions)):
        found.setdefault((told.function, told.misconception, told.source), told)
    return tuple(found.values()), unexplained


def digest(answers: tuple[Answer, ...]) -> str:
    """A short name for a function's answers to its probes, the same for two students whose answers
    agree to DIGEST_DIGITS significant digits: a class summary groups the students no known mistake
    explains by it."""
    text = json.dumps([_rounded(a) for a in answers], separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()[:12]


def _rounded(value: Any) -> Any:
    """An answer with every float rounded to DIGEST_DIGITS significant digits (inf and NaN as text)."""
    if isinstance(value, float):
        return float(f"{value:.{DIGEST_DIGITS}g}") if math.isfinite(value) else str(value)
    if isinstance(value, (list, tuple)):
        return [_rounded(v) for v in value]
    return value


def _wrong_first(
    calls: list[Asked], answers: tuple[Answer, ...], right: list[bool]
) -> tuple[list[Asked], list[Answer]]:
    """The calls and their answers, those the function got wrong first (`right` holds whether each
    answer is the reference's, where one is known). `explaining` tells the same whatever the order,
    and asks each model only up to the first answer it does not explain: most models answer as the
    reference does, so a wrong answer first is where they stop."""
    order = sorted(range(len(calls)), key=lambda i: i >= len(right) or right[i])
    return [calls[i] for i in order], [answers[i] for i in order]


def _told(bank: Bank, model: KnownMistake, parameter: Any, calls: int) -> Diagnosis:
    """The diagnosis a model that explains all `calls` answers makes: in its own words where it has a
    docstring (its first line naming the mistake, `{}` standing for the parameter found), else in its
    file's."""
    source = f"known_wrong/{model.file}"
    name, explanation = model.told(parameter)
    if not name:
        mistake = next(m for m in bank.mistakes if m.source == source)
        name, explanation = mistake.name, mistake.explanation
    return Diagnosis(model.function, name, explanation, (calls, calls), source)


def match(
    bank: Bank, function: str, answers: tuple[Answer, ...], modelled: frozenset[str] = frozenset()
) -> KnownWrong | None:
    """The one known mistake in `function` that `answers` (to its probes) agree with everywhere,
    where they do not agree with the reference's everywhere; None for none, or for more than one.
    A mistake the bank holds in two styles (the max shift left out with math.exp, and with np.exp) is
    told by the style the answers share with one of them, overflow for overflow. Mistakes with a model
    (their files' sources in `modelled`) are told by their models, not here."""
    reference = bank.reference[function]
    if all(map(agree, answers, reference)):
        return None
    if any(a == ("returned", None) != r for a, r in zip(answers, reference)):
        return None  # it updates its arguments in place, and answers None: that tells no mistake
    known = [m for m in bank.mistakes if m.function == function and m.answers and m.source not in modelled]
    alike = [m for m in known if all(agree(a, b, styles=False) for a, b in zip(answers, m.answers))]
    if not alike:  # the same mistake written in another style: Python's math where the bank has NumPy
        alike = [m for m in known if all(map(agree, answers, m.answers))]
    return alike[0] if len(alike) == 1 else None


def _shrunk(assignment: Assignment, outcomes: dict[str, Outcome], function: str) -> tuple[Probe, ...]:
    """The calls in the failed properties' counterexamples that exercise `function` (see
    `mistakes.exercised`), each once, SHRUNK at most: the inputs on which this submission was found wrong."""
    named = {p.name: p.functions for p in assignment.properties}
    calls: dict[Probe, None] = {}
    for name, outcome in outcomes.items():
        example = outcome.counterexample
        for call in example.calls if example is not None and outcome.status is not Status.PASSED else ():
            if function in exercised(assignment, named.get(name, ()), call.function) and len(calls) < SHRUNK:
                with suppress(TypeError):
                    calls[(call.function, encode(list(call.args)))] = None
    return tuple(calls)


def _confirmed(
    worker: Any,
    assignment: Assignment,
    mistake: KnownWrong,
    calls: tuple[Probe, ...],
    probed: int,
    answers: tuple[Answer, ...],
) -> bool:
    """Whether the known mistake answers the counterexamples' calls (those after the first `probed`)
    as the submission did: its file loaded in the same sandboxed worker, in place of the submission,
    like any submission, and asked every call in the same order, so that a mistake answering from
    what earlier calls left behind (a memo, a counter) has had the same history."""
    if len(calls) == probed:
        return True
    try:
        source = (assignment.folder / mistake.source).read_text()
    except OSError:
        return False
    theirs = ask(worker, calls) if loaded(worker, assignment, source, Path(mistake.source).name) else None
    return theirs is not None and all(map(agree, answers[probed:], theirs[probed:]))
