"""The known mistakes of an assignment, and what each answers: the evidence a diagnosis is made from.

Every file in known_wrong/ makes one named mistake. Its docstring says which: the function at fault
and the mistake's name on the first line ("cross_entropy_loss: uses log10 instead of the natural
log."), and, after a blank line, what the mistake does and how to fix it, written to the student.

The probes of a function are calls grading already makes: those the recorded examples of the
correctness properties make, at the assignment's default seed and example count, taken from each
property in turn, from both ends of its examples (so extreme logits and long sequences are among them
as well as small ones): PROBES at most, and fewer where their arguments pass PROBE_CHARS (a function
of 27 x 27 tables answers in tables, and the answers are kept). A probe is a call to the function
itself, or, where the properties call a harness (autograd's build graphs from the student's `Value`),
a call to the harness made by a property that exercises the function: a method is probed through
the graphs of the properties that name it. Each known-wrong file answers the probes of the function
it blames in a sandboxed worker, like any submission, twice, loaded afresh between; the reference
answers them too. A mistake cannot be told
by its answers, and is kept with the reason (`untold`) for the self-test, when its two rounds differ
(it answers at random, or from what earlier calls left behind) or its answers all agree with the
reference's (its mistake is in what it does to its arguments, or across calls).

Two answers agree when they raised the same exception, or returned the same structure holding the
same numbers within AGREE_RTOL and AGREE_ATOL (float32's tolerances where either is float32, as
grading judges it): two styles of one mistake differ by rounding, two mistakes by far more. One that
raised OverflowError, ZeroDivisionError or ValueError agrees with one that returned an inf or a NaN:
the same overflow, written with Python's math or with NumPy.

The answers are worked out once per version of the assignment and its bank and kept beside the
recorded examples, as gradekit.engine.kept_files keeps them; the built-in assignments carry theirs. Probes
and answers are floats worked out on the machine that made the file, so it is read only where the
floating-point results are that machine's (`kept_files.fingerprint`), as a recording is.
"""

from __future__ import annotations

import ast
import functools
import hashlib
import marshal
import math
import sys
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, replace
from itertools import chain, zip_longest
from pathlib import Path
from typing import Any

from gradekit.assignment import Assignment
from gradekit.config import GradeConfig, Limits, cache_folder
from gradekit.engine import kept_files
from gradekit.engine.recording import recorded, shipped
from gradekit.engine.session import Trusted
from gradekit.errors import CallTimedOut, WorkerDied
from gradekit.precision import close, floats, is_float32, tolerances
from gradekit.sandbox import Worker
from gradekit.sandbox.process import forked_workers, preloads
from gradekit.sandbox.replies import decode, encode

__all__ = [
    "PROBES",
    "RIGHT_ON_PROBES",
    "Answer",
    "Bank",
    "KnownWrong",
    "Probe",
    "agree",
    "answer",
    "ask",
    "bank",
    "carry",
    "described",
    "exercised",
    "loaded",
    "probe_set",
    "trusted_answer",
]

PROBES = 60  # probes per function, at most
PROBE_CHARS = 200_000  # characters of encoded arguments per function, at most: tables answer tables
PROBES_CPU = 2.0  # seconds of the worker's CPU time a function's probes may take together (see `ask`)
AGREE_RTOL = 1e-6  # how far apart two answers' numbers may be and still be one answer (see `agree`)
AGREE_ATOL = 1e-9
# What Python's math raises where NumPy gives inf or NaN: exp past its range, a division by 0, log(0).
OVERFLOWED = frozenset({"OverflowError", "ZeroDivisionError", "ValueError"})
FORMAT = 4  # bump when what is stored changes: an old file then simply misses
RIGHT_ON_PROBES = "its answers agree with the reference's on every probe"  # why a mistake is untold

# What one call came to, as plain data: ("returned", value), ("raised", exception type) or
# ("stopped", why): it timed out or ended its worker, which no diagnosis reads as an answer.
Answer = tuple[str, Any]
# One call a function is probed with: the function called (itself, or a harness function), and its
# arguments, encoded.
Probe = tuple[str, str]


@dataclass(frozen=True)
class KnownWrong:
    """One known-wrong file: the function it blames, the mistake's name and explanation, the file
    (`source`, as "known_wrong/NAME.py"), and its answers to the function's probes; no answers,
    and `untold` saying why, when its answers cannot tell it."""

    function: str
    name: str
    explanation: str
    source: str
    answers: Sequence[Answer] = ()
    untold: str = ""


class Packed(Sequence[Answer]):
    """A known mistake's answers as a kept file holds them, in marshal's form, read on first use: a
    diagnosis reads the answers of the mistakes in the functions it suspects, and training_step's
    mistakes answer in 27 x 27 tables, most of which a diagnosis never reads. Answers not laid out
    as `count` answers read as none, a mistake its answers cannot tell."""

    def __init__(self, data: bytes, count: int) -> None:
        self._data, self._count = data, count

    @functools.cached_property
    def _unpacked(self) -> tuple[Answer, ...]:
        try:
            answers = marshal.loads(self._data)
        except (ValueError, EOFError, TypeError):
            return ()
        return answers if _answers(answers, self._count) else ()

    def __getitem__(self, index: Any) -> Any:
        return self._unpacked[index]

    def __len__(self) -> int:
        return len(self._unpacked)

    def __iter__(self) -> Iterator[Answer]:
        return iter(self._unpacked)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Sequence) and tuple(self) == tuple(other)

    def __hash__(self) -> int:
        return hash(self._unpacked)

    def __repr__(self) -> str:
        return repr(self._unpacked)


@dataclass(frozen=True)
class Bank:
    """The probes of each function, the reference's answers to them, and every known mistake with its
    answers."""

    probes: dict[str, tuple[Probe, ...]]
    reference: dict[str, tuple[Answer, ...]]
    mistakes: tuple[KnownWrong, ...]


def described(path: Path) -> tuple[str, str, str]:
    """(function, mistake's name, explanation) from a known-wrong file's docstring."""
    doc = ast.get_docstring(ast.parse(path.read_text())) or ""
    first, _, rest = doc.partition("\n")
    function, _, name = first.partition(":")
    return function.strip(), name.strip().rstrip("."), " ".join(rest.split())


def probe_set(assignment: Assignment) -> dict[str, tuple[Probe, ...]]:
    """The probes of each function, from the recorded examples at the default seed and count."""
    recording = recorded(assignment, assignment.default_seed, GradeConfig().max_examples)
    per_property: dict[str, list[list[Probe]]] = {}
    for prop in assignment.properties:
        if prop.scale or prop.name not in recording:
            continue
        calls: dict[str, dict[Probe, None]] = {}  # in order, each once
        for called, encoded, _ in recording[prop.name]["calls"]:
            for function in exercised(assignment, prop.functions, called):
                calls.setdefault(function, {})[(called, encoded)] = None
        for function, made in calls.items():
            per_property.setdefault(function, []).append(_ends_first(list(made)))
    probes = {}
    for function in assignment.functions:
        chosen: dict[Probe, None] = {}
        size = 0
        for probe in chain.from_iterable(zip_longest(*per_property.get(function, []))):
            if probe is None or probe in chosen:
                continue
            if len(chosen) == PROBES or (chosen and size + len(probe[1]) > PROBE_CHARS):
                break
            chosen[probe] = None
            size += len(probe[1])
        if chosen:
            probes[function] = tuple(chosen)
    return probes


def exercised(assignment: Assignment, functions: Sequence[str], called: str) -> tuple[str, ...]:
    """The functions a call made by a property naming `functions` exercises: the function called, or,
    for a call to the harness, the property's functions, which the harness builds on."""
    return tuple(functions) if called in assignment.harness_functions else (called,)


def _ends_first(made: list[Probe]) -> list[Probe]:
    """A property's calls, the last and the first, then the last but one and the second, and so on:
    Hypothesis draws its smallest inputs first and its widest later, and a probe set wants both."""
    order = []
    for last, first in zip(reversed(made[len(made) // 2 :]), made[: len(made) // 2] + [None]):
        order += [last] if first is None else [last, first]
    return order


def answer(reply: dict[str, Any]) -> Answer:
    """What a worker's reply to a call came to."""
    if reply.get("missing"):
        return ("stopped", "not defined")
    if reply["ok"]:
        return ("returned", reply["returned"])
    return ("raised", reply["error"]["type"])


def bank(assignment: Assignment, limits: Limits, assignment_dirs: list[str] | None = None) -> Bank | None:
    """The assignment's known mistakes and their answers, worked out now if neither the cache nor
    the assignment holds them for this version; None without a solution or a known-wrong file."""
    if assignment.solution is None or not assignment.known("known_wrong"):
        return None
    key = _key(assignment)
    cache = cache_folder() / f"{_stem(assignment)}-{key[:16]}.marshal"

    def make() -> dict[str, Any]:
        print(
            f"gradekit: working out what the known mistakes of {assignment.name} answer, once per machine",
            file=sys.stderr,
            flush=True,
        )
        return _stored(_worked_out(assignment, limits, assignment_dirs))

    return kept_files.kept(cache, carried(assignment, key), key, _read, make)


def carry(assignment: Assignment, limits: Limits) -> Path:
    """Work out the known mistakes' answers now and write them into the assignment's own folder."""
    key = _key(assignment)
    path = carried(assignment, key)
    kept_files.carry(path, key, _stored(_worked_out(assignment, limits, None)))
    return path


def carried(assignment: Assignment, key: str | None = None) -> Path:
    """Where the assignment carries its known mistakes' answers for this machine's versions and
    floating-point results."""
    key = key or _key(assignment)
    return kept_files.carried(assignment.folder) / f"{_stem(assignment)}-{key[:16]}.zlib"


def _stem(assignment: Assignment) -> str:
    """What names the known mistakes' answers for one assignment and set of properties, whatever their key."""
    return f"{assignment.name}-known-mistakes-{assignment.property_set}"


def _key(assignment: Assignment) -> str:
    """The recording's key (the assignment's sources and every version, which its carried file's name
    holds), the bank's files, this format."""
    digest = hashlib.sha256(f"{FORMAT}\0{shipped(assignment).name}".encode())
    for path in assignment.known("known_wrong"):
        digest.update(f"\0{path.name}\0".encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()


def _worked_out(assignment: Assignment, limits: Limits, assignment_dirs: list[str] | None) -> Bank:
    assert assignment.solution is not None
    probes = probe_set(assignment)
    solution = Trusted(assignment.solution, assignment.harness)
    reference = {f: tuple(trusted_answer(solution, *probe) for probe in calls) for f, calls in probes.items()}
    mistakes = []
    with forked_workers(limits, assignment_dirs):
        for path in assignment.known("known_wrong"):
            function, name, explanation = described(path)
            mistake = KnownWrong(function, name, explanation, f"known_wrong/{path.name}")
            if function not in probes:
                mistakes.append(_untold(mistake, "its function has no probes"))
                continue
            rounds = _two_rounds(assignment, path, probes[function], limits, assignment_dirs)
            mistakes.append(_judged(mistake, rounds, reference[function]))
    return Bank(probes, reference, tuple(mistakes))


def trusted_answer(solution: Trusted, function: str, encoded: str) -> Answer:
    """What the assignment's solution, run in this process, answers one call."""
    try:
        reply = solution.call(function, encoded)
    except Exception as error:  # the reference raising on a probe is an answer like any other
        return ("raised", type(error).__name__)
    return ("returned", decode(encode(reply["returned"])))  # as it would cross from a worker


def _two_rounds(
    assignment: Assignment, path: Path, probes: tuple[Probe, ...], limits: Limits, assignment_dirs: list[str] | None
) -> tuple[tuple[Answer, ...], ...] | None:
    """The file's answers to the probes, loaded afresh for each of two rounds; None if it could not
    load or stopped on one."""
    source = path.read_text()
    with Worker.started(limits, assignment_dirs, preloads(source)) as worker:
        rounds = []
        for _ in range(2):
            if not loaded(worker, assignment, source, path.name):
                return None
            answers = ask(worker, probes)
            if answers is None:
                return None
            rounds.append(answers)
        return tuple(rounds)


def loaded(worker: Any, assignment: Assignment, source: str, filename: str) -> bool:
    """Whether `source` loaded in the worker, in place of what it held, with the assignment's harness
    beside it where it has one."""
    try:
        if not worker.load(source, filename)["ok"]:
            return False
        return assignment.harness is None or bool(
            worker.load_harness(assignment.harness.read_text(), assignment.harness.name)["ok"]
        )
    except (CallTimedOut, WorkerDied):
        return False


def ask(worker: Any, probes: Sequence[Probe]) -> tuple[Answer, ...] | None:
    """The answers to `probes`, all sent at once; None once one times out or ends the worker, or once
    they have taken more than PROBES_CPU seconds of the worker's CPU time together: probes are inputs
    any reasonable implementation answers at once, and a grade does not wait on a slow one for a
    diagnosis."""
    answers, cpu = [], 0.0
    try:
        for request in worker.send_calls([(called, encoded, False) for called, encoded in probes]):
            reply = worker.receive(request)
            cpu += reply["cpu"] if type(reply.get("cpu")) in (int, float) else 0.0
            if cpu > PROBES_CPU:
                return None
            answers.append(answer(reply))
    except (CallTimedOut, WorkerDied):
        return None
    return tuple(answers)


def _judged(
    mistake: KnownWrong, rounds: tuple[tuple[Answer, ...], ...] | None, reference: tuple[Answer, ...]
) -> KnownWrong:
    if rounds is None:
        return _untold(mistake, "it did not load, or stopped on a probe")
    first, second = rounds
    if not all(map(agree, first, second)):
        return _untold(mistake, "its answers change from one round of probes to the next")
    if all(map(agree, first, reference)):
        return _untold(mistake, RIGHT_ON_PROBES)
    return replace(mistake, answers=first)


def _untold(mistake: KnownWrong, why: str) -> KnownWrong:
    return replace(mistake, answers=(), untold=why)


def _stored(found: Bank) -> dict[str, Any]:
    """A Bank as the plain data the cache file holds."""
    return {
        "probes": found.probes,
        "reference": found.reference,
        "mistakes": [
            (m.function, m.name, m.explanation, m.source, marshal.dumps(tuple(m.answers)), m.untold)
            for m in found.mistakes
        ],
    }


def _read(stored: dict[str, Any]) -> Bank | None:
    """The Bank a cache file holds; None for contents not laid out as `_stored` lays them."""
    probes, reference, mistakes = stored.get("probes"), stored.get("reference"), stored.get("mistakes")
    if not (isinstance(probes, dict) and isinstance(reference, dict) and isinstance(mistakes, list)):
        return None
    if probes.keys() != reference.keys() or not all(
        type(p) is tuple and all(_probe(e) for e in p) and _answers(reference[f], len(p)) for f, p in probes.items()
    ):
        return None
    read = []
    for entry in mistakes:
        if type(entry) is not tuple or len(entry) != 6 or not all(type(e) is str for e in entry[:4] + entry[5:]):
            return None
        if type(entry[4]) is not bytes:
            return None
        function, name, explanation, source, answers, untold = entry
        packed = Packed(answers, len(probes.get(function, ())))
        read.append(KnownWrong(function, name, explanation, source, packed, untold))
    return Bank(probes, reference, tuple(read))


def _probe(probe: Any) -> bool:
    return type(probe) is tuple and len(probe) == 2 and all(type(e) is str for e in probe)


def _answers(answers: Any, count: int) -> bool:
    return (
        type(answers) is tuple
        and len(answers) == count
        and all(type(a) is tuple and len(a) == 2 and type(a[0]) is str for a in answers)
    )


def agree(one: Answer, other: Answer, styles: bool = True) -> bool:
    """Whether two answers to one call are the same answer (see the module's docstring); without
    `styles`, an overflow written with Python's math does not agree with one written with NumPy.

    Neither answer is taken as the right one (a student's against a known mistake's, a file's against
    the reference's or its own other round), so neither order decides (`symmetric`); a NaN in both
    is one answer (`nan_equal`), and an answer may be any plain value, alike where equal
    (`others_equal`)."""
    kind, value = one
    if "stopped" in (kind, other[0]):
        return False
    if kind != other[0]:
        return styles and _overflowed(one) and _overflowed(other)
    if kind == "raised":
        return bool(value == other[1])
    float32 = is_float32(value) or is_float32(other[1])
    rtol, atol = tolerances(AGREE_RTOL, AGREE_ATOL, 1.0, float32)
    return close(value, other[1], rtol, atol, nan_equal=True, symmetric=True, others_equal=True)


def _overflowed(answer: Answer) -> bool:
    """Whether an answer is how a computation that overflowed ends: Python's math raises, NumPy
    returns inf or NaN."""
    kind, value = answer
    if kind == "raised":
        return value in OVERFLOWED
    return not all(map(math.isfinite, floats(value)))
