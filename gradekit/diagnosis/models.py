"""Known mistakes as models: which of them explains every answer a failing function gave.

An assignment's `mistakes.py` describes each known mistake by what it answers (see
gradekit.known_mistakes). A model explains a function's answers when, its free parameter found from
those answers, it answers every call (the probes and the counterexamples' calls) as the function did,
as `mistakes.agree` compares answers. The models run here, in the grader's process: they are the
assignment's own code, like its properties, and the student's answers are only data. A model that is
a class (an autograd `Value` with one method wrong) answers a call to the harness as the harness beside
its mistakes.py answers it, with the class standing in for the student's.

A function is told one mistake when exactly one model explains every answer: first counting an
overflow only as the same overflow (math's OverflowError for math's, NumPy's inf for NumPy's), then
as any overflow. Students often make two at once, most often a wrong formula computed without the max
shift: where no one model explains every answer, two are told together when one explains every
finite answer and the other every answer that overflowed. Anything else is told nothing: a name is
given only where it explains every answer seen.
"""

from __future__ import annotations

import functools
import importlib
import importlib.util
import inspect
import math
import statistics
import warnings
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from itertools import permutations
from pathlib import Path
from types import ModuleType, SimpleNamespace
from typing import Any

import numpy as np

from gradekit.assignment import HARNESS, MISTAKES, Assignment
from gradekit.diagnosis.mistakes import RIGHT_ON_PROBES, Answer, Bank, agree
from gradekit.errors import AssignmentError
from gradekit.known_mistakes import KnownMistake
from gradekit.precision import floats
from gradekit.sandbox.replies import decode, encode, to_plain

__all__ = ["Asked", "covered", "declared", "explaining", "explains", "explains_all", "unproven"]

Asked = tuple[
    str, tuple[Any, ...]
]  # a call as a model is asked it: the function (the graded one, or a harness function), its arguments decoded


def mistakes_module(assignment: Assignment) -> ModuleType | None:
    """The assignment's mistakes.py, imported beside its properties; None without one."""
    if not (assignment.folder / MISTAKES).is_file():
        return None
    hidden = next((p for p in assignment.properties if not p.public), None)
    if hidden is None:
        return None
    package = hidden.body.__module__.rpartition(".")[0]
    path = assignment.folder / MISTAKES
    try:
        return importlib.import_module(f"{package}.{path.stem}")
    except Exception as error:
        raise AssignmentError(f"{path} could not be loaded: {type(error).__name__}: {error}") from None


def declared(assignment: Assignment) -> tuple[KnownMistake, ...]:
    """The models of the assignment's mistakes.py; () without one."""
    module = mistakes_module(assignment)
    if module is None:
        return ()
    path = assignment.folder / MISTAKES
    models = tuple(v for v in vars(module).values() if isinstance(v, KnownMistake))
    for model in models:
        if model.function not in assignment.functions:
            raise AssignmentError(f"{path}: `{model.name}` describes `{model.function}`, which functions.py lacks")
        if model.stands_in and assignment.harness is None:
            raise AssignmentError(f"{path}: `{model.name}` is a class, which answers only through a {HARNESS}")
        for file in model.files:
            if not (assignment.folder / "known_wrong" / file).is_file():
                raise AssignmentError(f"{path}: `{model.name}` names known_wrong/{file}, which does not exist")
    return models


def covered(models: Sequence[KnownMistake]) -> dict[str, frozenset[str]]:
    """The known-wrong files each model's diagnosis stands for, by the file it is told with."""
    return {f"known_wrong/{m.file}": frozenset(f"known_wrong/{f}" for f in m.files) for m in models}


Told = tuple[KnownMistake, Any]  # a model that explains the answers, with its parameter (None without one)


def explaining(models: Sequence[KnownMistake], calls: Sequence[Asked], answers: Sequence[Answer]) -> tuple[Told, ...]:
    """The one model that explains every answer, or the two that do together (one every finite answer,
    the other every overflow), each with its parameter; () where none does, or where two or more
    explain them alike."""
    # Each model is asked up to the first answer it does not explain: that settles whether it explains
    # them all. Only where none does, and the answers are part finite and part overflowed, is every
    # model asked every call, to find two that share them out.
    said = [_said(m, calls, answers, whole=True) for m in models]
    for styles in (False, True):
        alone = [(m, *_best(tried, answers, styles)) for m, tried in zip(models, said)]
        whole = [(m, parameter) for m, found, parameter in alone if all(found)]
        if whole:
            return (whole[0],) if len(whole) == 1 else ()
    finite = [_finite(a) for a in answers]
    if all(finite) or not any(finite):  # no two models can share the answers out between them
        return ()
    alone = [(m, *_best(_said(m, calls, answers), answers, True)) for m in models]
    overflowed = [not f for f in finite]
    pairs = [
        ((a, pa), (b, pb))
        for (a, found_a, pa), (b, found_b, pb) in permutations(alone, 2)
        if _covers(found_a, finite) and _covers(found_b, overflowed)
    ]
    return pairs[0] if len(pairs) == 1 else ()


def _covers(explained: tuple[bool, ...], wanted: list[bool]) -> bool:
    """Whether every call `wanted` marks is explained."""
    return all(ok for ok, want in zip(explained, wanted) if want)


def explains(
    model: KnownMistake, calls: Sequence[Asked], answers: Sequence[Answer], styles: bool = True
) -> tuple[tuple[bool, ...], Any]:
    """For each call, whether the model answers it as the function did, with the parameter found from
    `answers` that explains most of them, and that parameter (None for a model without one; all False
    where no parameter within its bounds is found)."""
    return _best(_said(model, calls, answers), answers, styles)


def explains_all(model: KnownMistake, calls: Sequence[Asked], answers: Sequence[Answer]) -> bool:
    """Whether the model, with some parameter, answers every call as the function did: `explains`
    finding every call explained, each parameter tried only up to its first unexplained call."""
    return all(_best(_said(model, calls, answers, whole=True), answers, True)[0])


# Each parameter tried, with the model's answers and whether each agrees with the function's, styles
# aside (`agree`).
Said = list[tuple[Any, list[Answer], list[bool]]]


def _said(model: KnownMistake, calls: Sequence[Asked], answers: Sequence[Answer], whole: bool = False) -> Said:
    """What the model answers the calls, with each parameter worth trying; where only a model that
    explains every answer counts (`whole`), up to the first answer it does not explain, and up to the
    first parameter that explains every answer, each returned or raised as the function's was: the
    one `_best` takes, with or without styles."""
    said = []
    for parameter in _parameters(model, calls, answers):
        theirs: list[Answer] = []
        agreed: list[bool] = []
        for call, answer in zip(calls, answers):
            theirs.append(_answer(model, call, parameter))
            agreed.append(agree(answer, theirs[-1]))
            if whole and not agreed[-1]:
                break
        said.append((parameter, theirs, agreed))
        if whole and all(_best(said[-1:], answers, styles=False)[0]):
            break
    return said


def _best(said: Said, answers: Sequence[Answer], styles: bool) -> tuple[tuple[bool, ...], Any]:
    """See `explains`; a call the model was not asked is one it does not explain. Two answers that
    agree styles aside agree in style too where both returned or both raised: `agree` tells the
    styles apart only between a raise and a return (see its docstring)."""
    best: tuple[tuple[bool, ...], Any] = ((False,) * len(answers), None)
    for parameter, theirs, agreed in said:
        asked = tuple(ok and (styles or a[0] == t[0]) for ok, a, t in zip(agreed, answers, theirs))
        found = asked + (False,) * (len(answers) - len(asked))
        shown = None if parameter is _NONE else parameter
        if all(found):
            return found, shown
        if sum(found) > sum(best[0]):
            best = (found, shown)
    return best


_NONE = object()  # the parameter of a model without one
PLAIN_NUMBERS = frozenset({float, int, bool})  # what a list of a worker's answer holds as it is


def unproven(models: Sequence[KnownMistake], bank: Bank) -> list[str]:
    """What keeps each model from being proven by its files: each file's answers to its function's
    probes must be answers the model explains (the reference's, for a file right on every probe,
    whose mistake only counterexamples show)."""
    problems = []
    for model, file in ((m, f) for m in models for f in m.files):
        mistake = next((m for m in bank.mistakes if m.source == f"known_wrong/{file}"), None)
        if mistake is None or not (mistake.answers or mistake.untold == RIGHT_ON_PROBES):
            why = mistake.untold if mistake is not None else "it is not in the bank"
            problems.append(f"`{model.name}` in mistakes.py is not proven by known_wrong/{file}: {why}")
            continue
        calls = [(called, tuple(decode(encoded))) for called, encoded in bank.probes[model.function]]
        found, _ = explains(model, calls, mistake.answers or bank.reference[model.function])
        if not all(found):
            problems.append(
                f"`{model.name}` in mistakes.py answers {len(found) - sum(found)} of {len(found)} probes "
                f"otherwise than known_wrong/{file}"
            )
    return problems


def _parameters(model: KnownMistake, calls: Sequence[Asked], answers: Sequence[Answer]) -> list[Any]:
    """The parameter values to try: none for a model without one; `among`'s values; or the value
    `fit` works out from the answers (the median of what each answer tells)."""
    if model.among:
        return [p for p in model.among if _within(model, p)]
    if model.fit is None:
        return [_NONE]
    told = []
    for (called, args), (kind, value) in zip(calls, answers):
        if kind != "returned" or called != model.function:  # a harness call's answer is not what `fit` reads
            continue
        with _quiet():
            try:
                found = model.fit(*args, value)
            except Exception:  # an answer the fit cannot read tells nothing
                continue
        if isinstance(found, (int, float)) and math.isfinite(found) and _within(model, found):
            told.append(float(found))
    return [statistics.median(told)] if told else []


def _within(model: KnownMistake, parameter: Any) -> bool:
    if model.within is None:
        return True
    low, high = model.within
    return bool(low <= parameter <= high)


def _answer(model: KnownMistake, call: Asked, parameter: Any) -> Answer:
    """What the model answers one call: its value as plain data, or the exception it raised."""
    called, args = call
    harness = _through(model, called, parameter)
    with _quiet():
        try:
            if harness is not None:  # as a worker answers: plain data, encoded and decoded
                return ("returned", decode(encode(to_plain(getattr(harness, called)(*args)))))
            value = model.answers(*args) if parameter is _NONE else model.answers(*args, parameter)
        except Exception as error:
            return ("raised", type(error).__name__)
    return ("returned", _plain(value))


@functools.cache
def _styled(model: type, style: Any) -> type:
    """The class model written in `style` (one of its `among`): the model's own methods first, then the
    style's."""
    return model if style is _NONE else type(model.__name__, (model, style), {"__module__": model.__module__})


def _through(model: KnownMistake, called: str, parameter: Any) -> ModuleType | None:
    """The harness that answers the call with the model standing in for the student's code: a class
    for the student's class, whatever is called; a function for the student's function, where the
    call is the harness's own. None where the model answers the call itself."""
    beside = _beside(model.answers)
    if model.stands_in:
        return _harness(beside, _styled(model.answers, parameter), model.function.partition(".")[0])
    if called == model.function:
        return None
    answers = model.answers if parameter is _NONE else _bound(model.answers, parameter)
    return _harness(beside, answers, model.function)


@functools.cache
def _beside(answers: Any) -> Path:
    """The harness beside the mistakes.py that defines a model."""
    return Path(inspect.getfile(answers)).with_name(HARNESS)


@functools.lru_cache(maxsize=64)
def _bound(answers: Any, parameter: Any) -> Any:
    """A function model with its parameter found, called as the student's function is."""

    def answer(*args: Any) -> Any:
        return answers(*args, parameter)

    return answer


@functools.lru_cache(maxsize=64)
def _harness(path: Path, stand_in: Any, name: str) -> ModuleType:
    """The harness at `path`, beside the mistakes.py of the model, loaded on its own with the model as
    the submission's `name` (its `Value`, or the function the harness calls), as a worker loads it
    beside a student's file."""
    spec = importlib.util.spec_from_file_location(f"gradekit_harness_{name}", path)
    if spec is None or spec.loader is None:
        raise AssignmentError(f"{path} could not be loaded for `{name}`")
    harness = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(harness)
    harness.submission = SimpleNamespace(**{name: stand_in})  # type: ignore[attr-defined]
    return harness


def _plain(value: Any) -> Any:
    """A model's answer as a worker sends one: lists of Python floats and ints."""
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, (list, tuple)):
        if set(map(type, value)) <= PLAIN_NUMBERS:  # a row of a table: nothing in it to make plain
            return list(value)
        return [_plain(v) for v in value]
    return value


def _finite(answer: Answer) -> bool:
    kind, value = answer
    return kind == "returned" and all(map(math.isfinite, floats(value)))


@contextmanager
def _quiet() -> Iterator[None]:
    """NumPy's and Python's warnings silenced: a model that overflows answers inf, as NumPy does."""
    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        yield
