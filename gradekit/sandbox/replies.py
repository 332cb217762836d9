"""What a worker sends back, read as hostile data: parsed, checked whole, and only then believed.

The submission can write to the reply pipe as well as the worker can, so a reply is whatever a
student chose to send: any depth, any size up to the reply cap, any number form, any type. A reply
is read here and nowhere else, and it is either a reply the worker could have sent (`read`, `head`)
or a breach of the protocol (WorkerDied), which costs the worker's own grade and nothing else. What
passes holds only what the grader's writers, comparisons and diagnosis can take: numbers a float
can hold, None, bools, and lists of them nested no deeper than a worker nests an answer.

This module is also the grader's one door to the wire format. `worker.py` runs in the child and
imports nothing of gradekit, so the encoding is defined there, once, and imported here alone: every
other module of the grader takes `encode`, `decode`, `to_plain` and the separators from this one, and
reads a reply as the `LoadReply` or `CallReply` that `read` checked it to be. A change to what crosses
the pipe then has one place on each side to be made.
"""

from __future__ import annotations

import math
import sys
from itertools import chain
from pathlib import Path
from types import ModuleType
from typing import Any, Literal, TypedDict, cast, overload

from gradekit.errors import WorkerDied
from gradekit.sandbox import worker
from gradekit.sandbox.worker import (
    CALL_SEPARATOR,
    MAX_DEPTH,
    SEPARATOR,
    Loaded,
    decode,
    encode,
    lifted,
    loads,
    to_plain,
)

__all__ = [
    "CALL_SEPARATOR",
    "ENCODER",
    "PROTOCOL_BROKEN",
    "SEPARATOR",
    "CallReply",
    "LoadReply",
    "WorkerError",
    "answer_part",
    "decode",
    "defined",
    "encode",
    "head",
    "plain",
    "read",
    "seconds",
    "to_plain",
    "well_formed",
]

PROTOCOL_BROKEN = "the worker broke the grader's protocol: it sent a reply that cannot be read"
FLOAT_LIMIT = int(sys.float_info.max)
DEEPEST = MAX_DEPTH + 2  # what a worker's to_plain makes, and the list of arguments around it
LONGEST_TEXT = 2000  # an error's type or message, or a function's name
MOST_ARGUMENTS = 64  # more than any call a property makes passes
UNREADABLE = (ValueError, RecursionError, TypeError, IndexError, OverflowError, MemoryError)
# The file that decides how a value crosses the pipe (`encode`, `to_plain`): what a recording holds was
# made by it, so a recording is keyed on its bytes (see gradekit.engine.speed.recorded).
ENCODER = Path(str(worker.__file__))


class WorkerError(TypedDict):
    """What a load or a call raised instead of answering: the exception's class name, its message, and
    the line of the submission it came from (None where none of its lines was running)."""

    type: str
    message: str
    line: int | None


class _Answered(TypedDict):
    ok: bool


class LoadReply(_Answered, total=False):
    """A worker's answer to a load (of a file, a notebook's cell, or the assignment's harness): the
    functions it defines, by name, with the line each starts on ("ok": true), or the error its code
    raised ("ok": false). The trusted solution, answering in the grader's process, sends no "id" nor
    "cpu"; a worker always does."""

    id: int
    cpu: float
    functions: dict[str, int | None]
    error: WorkerError


class CallReply(_Answered, total=False):
    """A worker's answer to a call: what it "returned", with the arguments as they were after it
    ("args_after") where asked, and what the call changed ("changed" and "zeroed", positions of
    arguments, and "overwritten"), each left out where there is nothing to say; or ("ok": false) that
    no such function is defined ("missing"), or the error it raised."""

    id: int
    cpu: float
    returned: Any
    args_after: Any
    changed: list[int]
    zeroed: list[int]
    overwritten: bool
    missing: bool
    error: WorkerError


@overload
def read(line: bytes, answer: Literal["returned"] = ...) -> CallReply: ...


@overload
def read(line: bytes, answer: Literal["functions"]) -> LoadReply: ...


def read(line: bytes, answer: Literal["returned", "functions"] = "returned") -> CallReply | LoadReply:
    """A reply line read whole, its numbers too, and checked to be an answer to a load ("functions")
    or a call ("returned"); WorkerDied for one the worker could not have sent."""
    try:
        reply = decode(line.decode())
    except UNREADABLE:
        raise WorkerDied(PROTOCOL_BROKEN) from None
    if not isinstance(reply, dict) or not well_formed(reply, answer) or not _values_plain(reply):
        raise WorkerDied(PROTOCOL_BROKEN)
    return cast("CallReply | LoadReply", reply)  # its shape was checked whole, just above


def defined(module: ModuleType) -> dict[str, int | None]:
    """The functions, classes and methods `module` defines, with their lines, named as a worker's load
    reply names them: the trusted solution, run in the grader's process, answers a load as a worker
    would (see gradekit.engine.session.Trusted)."""
    loaded = Loaded()
    loaded.module, loaded.filename = module, module.__file__
    functions: dict[str, int | None] = loaded.functions()
    return functions


def head(line: bytes) -> dict[str, Any] | None:
    """A reply's JSON part, its lifted lists of numbers unread (see worker.encode); None where that
    part is no JSON object, or one that stands for a lifted list, which no reply is."""
    try:
        found = loads(line.partition(SEPARATOR.encode())[0].decode())
    except UNREADABLE:
        return None
    return found if isinstance(found, dict) and not lifted(found) else None


def well_formed(reply: dict[str, Any], answer: str) -> bool:
    """Whether the grader can read a reply as the answer to a load ("functions", or "interrupted" for one
    stopped by SIGINT), a call ("returned") or a new worker's word that it is confined ("ready")."""
    if answer == "ready":
        return reply.get("ready") is True
    if type(reply.get("ok")) is not bool or not seconds(reply.get("cpu")):
        return False
    if reply["ok"]:
        return (
            isinstance(reply.get("functions"), dict)
            if answer != "returned"
            else "returned" in reply and _watched(reply)
        )
    if answer == "returned" and reply.get("missing") is True:
        return True
    error = reply.get("error")
    return (
        isinstance(error, dict)
        and "line" in error
        and _text(error.get("type"))
        and _text(error.get("message"))
        and (error["line"] is None or type(error["line"]) is int)
    )


def _watched(reply: dict[str, Any]) -> bool:
    """Whether what a call's reply says it changed is what a worker reports: the positions of the
    arguments that differ from their copies ("changed") and of those now all zeros ("zeroed"), and
    whether the function's answer before reads otherwise now ("overwritten": true), each left out
    where there is nothing to say."""
    positions = all(_positions(reply.get(fact, [])) for fact in ("changed", "zeroed"))
    return positions and reply.get("overwritten", True) is True


def _positions(value: Any) -> bool:
    return (
        type(value) is list
        and len(value) <= MOST_ARGUMENTS
        and all(type(i) is int and 0 <= i < MOST_ARGUMENTS for i in value)
    )


def seconds(value: Any) -> bool:
    """Whether `value` is a CPU time a reply can report: a number (a bool is none), finite, not negative."""
    return type(value) in (int, float) and 0 <= value < math.inf


def answer_part(line: bytes) -> bytes:
    """A reply but its id and CPU time, the two members it starts with: what identifies its answer,
    equal for equal answers however long each took."""
    return line.split(b", ", 2)[-1]


def _values_plain(reply: dict[str, Any]) -> bool:
    """Whether every value a reply carries is one the grader can take as it is."""
    functions = reply.get("functions")
    if functions is not None and not all(
        _text(name) and (line is None or type(line) is int) for name, line in functions.items()
    ):
        return False
    return plain(reply.get("returned")) and plain(reply.get("args_after"))


def plain(value: Any, depth: int = 0) -> bool:
    """Whether `value` is plain data a worker makes of an answer: None, a bool, an int a float can
    hold, a float, or a list of those, nested at most DEEPEST deep."""
    kind = type(value)
    if kind is float or value is None or kind is bool:
        return True
    if kind is int:
        return -FLOAT_LIMIT <= value <= FLOAT_LIMIT
    if kind is not list or depth >= DEEPEST:
        return False
    kinds = set(map(type, value))
    if kinds <= {float}:  # a row of numbers, checked at C speed
        return True
    if kinds == {list} and depth + 1 < DEEPEST and set(map(type, chain.from_iterable(value))) <= {float}:
        return True  # a table of them, every row's numbers in one pass
    return all(plain(item, depth + 1) for item in value)


def _text(value: Any) -> bool:
    return type(value) is str and len(value) <= LONGEST_TEXT
