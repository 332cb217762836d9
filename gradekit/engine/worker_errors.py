"""A worker's error reply in the words a student reads: the one place its type, message and line
become a sentence, whatever was running when it was raised.

The same error reads differently by what raised it. A file whose top level raised "could not be
loaded", but a syntax error or a module the sandbox does not offer is said as what it is; a notebook's
cell is said by its message's first line, with "none of it ran" after a syntax error; a call "raised",
except for the errors the worker itself makes of a call (an answer that is no number, or too large to
send) and a starter's stub, which are said in words of their own; and the assignment's harness, the
course's code rather than the student's, is said whole. Every caller passes what only it knows: the
subject, and how a line of the submission is named where it ran.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Literal

from gradekit.config import MIB
from gradekit.sandbox.packages import missing_module
from gradekit.sandbox.replies import WorkerError

Running = Literal["load", "cell", "call", "harness"]
SYNTAX = ("SyntaxError", "IndentationError", "TabError")
NOT_IMPLEMENTED = "is not implemented yet"
# Errors a call's sentence says without "raised": the worker's own (NotANumber, TooLarge), which a
# student never named, and a starter's stub nobody has filled in yet.
OWN_WORDS = ("NotANumber", "TooLarge", "NotImplementedError")
CELL_MESSAGE = 200  # characters of a cell's error message a note keeps, of its first line


def sentence(
    error: WorkerError,
    subject: str,
    running: Running,
    where: Callable[[int], str] | None = None,
    on: int | None = None,
    reply_bytes: int = 0,
) -> str:
    """`error` as one sentence about `subject` ("x.py", "cell 4", "`softmax`"), raised while `running`.

    `where` names a line of the submission as the sentence should show it ("line 3"; "" for
    none), and is asked only for a line the sentence shows; `on` is the line of `subject` a syntax
    error is on; `reply_bytes` is the cap on one reply, which a call's answer too large to send ran past.
    """
    kind, message = error["type"], error["message"]
    if running == "harness":
        return f"{subject} could not be loaded: {kind}: {message}"
    if running == "call":
        verb = "" if kind in OWN_WORDS else "raised "
        return f"{subject} {verb}{given(error, where, reply_bytes)}"
    if running == "cell":
        message = (message.strip().splitlines() or [""])[0][:CELL_MESSAGE]
    if kind in SYNTAX:
        said = f": {message}" if message else ""
        at = f" on line {on}" if on else ""
        ran = "; none of it ran" if running == "cell" else ""
        return f"{subject} has {_article(kind)} {kind}{at}{said}{ran}"
    place = _place(error, where)
    lacking = missing_module(message) if kind == "ModuleNotFoundError" else None
    if lacking is not None:
        return f"{subject}{f' ({place})' if place else ''} {lacking}"
    verb = "could not be loaded:" if running == "load" else "raised"
    return f"{subject} {verb} {named(kind, message, place)}"


def given(error: WorkerError, where: Callable[[int], str] | None = None, reply_bytes: int = 0) -> str:
    """What a call gave instead of an answer, as its logged call keeps it (a JSON report shows it under
    `raised`) and its sentence says it after the verb: the exception, or the worker's own words."""
    kind = error["type"]
    if kind == "NotANumber":
        return error["message"]
    if kind == "TooLarge":
        return f"returned an answer too large to read back (more than the {_size(reply_bytes)} one call may send)"
    if kind == "NotImplementedError":
        return NOT_IMPLEMENTED
    return named(kind, error["message"], _place(error, where))


def named(kind: str, message: str, where: str = "") -> str:
    """An exception as a report names it: "ValueError: math domain error (line 3)"."""
    said = f": {message}" if message else ""
    return f"{kind}{said}{f' ({where})' if where else ''}"


def _place(error: WorkerError, where: Callable[[int], str] | None) -> str:
    line = error["line"]
    return where(line) if where is not None and line else ""


def _size(count: int) -> str:
    """A number of bytes as a student reads a limit: "1 MiB", "256 KiB", "512 bytes"."""
    for unit, scale in (("MiB", MIB), ("KiB", 1024)):
        if count >= scale:
            return f"{count / scale:g} {unit}"
    return f"{count} bytes"


def _article(word: str) -> str:
    """'an' before IndentationError, 'a' before SyntaxError or TabError."""
    return "an" if word[:1].lower() in {"a", "e", "i", "o", "u"} else "a"
