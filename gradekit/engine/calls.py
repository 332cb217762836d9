"""Every call a property makes to the student's functions, on its way to the worker and back.

A call is encoded as plain data, answered by the worker (or by an answer read ahead, see
gradekit.engine.speed.read_ahead), logged for the counterexample, read as the type the assignment declares,
and compared with any earlier answer to the same input: a function that answers one input two ways
is caught. A call that hangs or ends the worker has the worker replaced, so the next call starts clean,
and a function that timed out is not called again in the grade: the properties after it are timeouts
on the input where it first happened, settled at once (see errors.TimedOutEarlier). Each call is logged
with the function's parameter names, so a report shows an argument by what it is.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Collection, Sequence
from typing import Any, Protocol

from gradekit import course_terms
from gradekit.authoring import Reply
from gradekit.declared_types import coerce
from gradekit.engine.session import Session
from gradekit.engine.worker_errors import given, sentence
from gradekit.errors import (
    ArgumentChanged,
    CallTimedOut,
    FunctionMissing,
    SubmissionRaised,
    TimedOutEarlier,
    Unrepeatable,
    WorkerDied,
)
from gradekit.result import Call
from gradekit.sandbox.replies import CallReply, encode
from gradekit.sandbox.replies import read as read_reply

Exchange = tuple[str, str, bool, bytes]  # function, encoded arguments, want_args, digest of the answer


CHANGED = "`{function}` changed {which} in place: work on a copy, or build a new list"
KEPT = "`{function}` changed the answer it gave the call before when called again: build a new list at every call"
UNREPEATED = "`{function}` gave two different answers to the same input (expected: its first answer)"
# The same, where the call was the harness's (gradekit.assignment): told of the student's function it calls.
UNREPEATED_RUN = (
    "`{function}` answered differently when the same run of calls was made again (expected: its first answers)"
)
_CHANGED = re.compile(r"`(?P<function>[^`]+)` changed (?P<which>`[^`]+`(?: and `[^`]+`)*) in place:")
_KEPT = re.compile(r"`(?P<function>[^`]+)` changed the answer it gave the call before")
_UNREPEATED = re.compile(
    r"`(?P<function>[^`]+)` (?:gave two different answers to the same input|answered differently when the same run)"
)


def watched(message: str) -> tuple[str, tuple[str, ...], bool] | None:
    """What the watch of every call found, read back from a failure's message: the function, the
    arguments it changed, and whether it changed the answer it gave the call before; None for a
    message the watch did not write."""
    if found := _CHANGED.match(message):
        return found["function"], tuple(re.findall(r"`([^`]+)`", found["which"])), False
    if found := _KEPT.match(message):
        return found["function"], (), True
    return None


def accused(message: str) -> str | None:
    """The function a failure's message from the watch of every call names: one that changed its
    arguments or an answer it gave, or answered one input two ways; None for any other message."""
    seen = watched(message)
    if seen is not None:
        return seen[0]
    found = _UNREPEATED.match(message)
    return found["function"] if found else None


def retold(message: str, harness: Collection[str], functions: Sequence[str]) -> str:
    """A failure's message about a call to the harness, told of the one function of the student's the
    property exercises, which the harness calls: the student wrote that, not the harness. The watch's
    finding that a call answered one input two ways becomes UNREPEATED_RUN; any other message the
    grader words after the call ("`schedule_of_run` took more than 2 s of CPU time") names the
    function, asked for a run of calls. Any other message as it was, a method's too: the harness
    builds on the whole class (autograd's graphs call `backward` and every operator), so which of its
    methods answered is not known."""
    if len(functions) != 1 or "." in functions[0]:
        return message
    found = _UNREPEATED.match(message)
    if found is not None and found["function"] in harness:
        return UNREPEATED_RUN.format(function=functions[0])
    called = next((name for name in harness if message.startswith(f"`{name}` ")), None)
    if called is None:
        return message
    return f"`{functions[0]}`, asked for a run of calls, {message.removeprefix(f'`{called}` ')}"


class Replies(Protocol):
    """Where a call's reply comes from: the worker itself, or answers it was asked for ahead."""

    def encoded(self, arguments: list[Any]) -> str:
        """The call's arguments as the worker reads them: `encode(arguments)`."""

    def reply(
        self, function: str, encoded: str, want_args: bool, timeout: float | None = None
    ) -> tuple[CallReply, bytes, bytes]:
        """The worker's reply to the call, the digest of its answer, and the reply line as it came (b""
        from the trusted solution, which answers in this process); a call with its own `timeout` is
        asked for when it is made, alone, so that its time is its own."""

    def announce(self, calls: list[tuple[str, str, bool]]) -> None:
        """The calls the property makes next, in order, as (function, encoded arguments, want_args):
        they may be asked for now, the replies kept for when each is made."""

    def drain(self) -> None:
        """Let go of anything asked for ahead that no property made."""

    def forget(self) -> None:
        """Drop what was asked for ahead of a worker that has just been replaced."""


class Direct:
    """Every reply asked of the worker when the call is made."""

    def __init__(self, session: Session) -> None:
        self._session = session

    def encoded(self, arguments: list[Any]) -> str:
        return encode(arguments)

    def reply(
        self, function: str, encoded: str, want_args: bool, timeout: float | None = None
    ) -> tuple[CallReply, bytes, bytes]:
        worker = self._session.worker
        return worker.call(function, encoded, want_args, timeout), worker.last_answer, worker.last_line

    def announce(self, calls: list[tuple[str, str, bool]]) -> None:
        pass

    def drain(self) -> None:
        pass

    def forget(self) -> None:
        pass


class FirstAnswers:
    """The first answer a submission gave to each call, for the whole grade, with its digest (see
    Worker.last_answer). An answer is kept as it came, and its numbers are read again only if another
    answer to the same call has another digest: answers that repeat are never read, and a grade keeps
    its answers' text, not the lists of numbers read from it, which take three times the memory."""

    def __init__(self) -> None:
        self._first: dict[bytes, tuple[bytes, Any]] = {}  # call -> its first answer's digest, what it returned
        self._unread: dict[bytes, tuple[bytes, bytes]] = {}  # call -> digest, reply line not read again yet

    def check(self, function: str, encoded_args: str, returned: Any, digest: bytes = b"", line: bytes = b"") -> None:
        """Raise Unrepeatable when `returned` is not what the same call answered first. `digest` is the
        answer's and `line` the reply it was read from, or b"" where it has none (the trusted
        solution's)."""
        key = _key(function, encoded_args)
        if self._repeats(key, digest):
            return
        first = self._first_answer(key)
        if first is None and line:
            self._unread[key] = (digest, line)
        elif first is None:
            self._first[key] = (digest, returned)
        elif first[1] != returned and json.dumps(first[1]) != json.dumps(returned):  # json: NaN equals NaN
            raise Unrepeatable(UNREPEATED.format(function=function), returned=returned, expected=first[1])

    def agree(self, function: str, encoded_args: str, line: bytes, digest: bytes) -> bool:
        """Whether a reply read ahead, as it came (see Worker.receive_line), agrees with the submission's
        earlier answer to the same call."""
        key = _key(function, encoded_args)
        if self._repeats(key, digest):
            return True
        if key not in self._first and key not in self._unread:
            self._unread[key] = (digest, line)
            return True
        try:
            reply = read_reply(line)
            if reply.get("ok"):
                self.check(function, encoded_args, reply["returned"], digest)
        except (Unrepeatable, WorkerDied):
            return False
        return True

    def _repeats(self, key: bytes, digest: bytes) -> bool:
        """Whether an answer with `digest` is the call's first answer again, byte for byte."""
        first = self._first.get(key) or self._unread.get(key)
        return bool(digest) and first is not None and first[0] == digest

    def _first_answer(self, key: bytes) -> tuple[bytes, Any] | None:
        """The call's first answer that returned, its digest and what it returned (read now, if its
        reply was kept unread); None if it has not returned yet: a reply kept unread that returned
        nothing is dropped."""
        if key in self._first:
            return self._first[key]
        if key not in self._unread:
            return None
        digest, line = self._unread.pop(key)
        try:
            reply = read_reply(line)
        except WorkerDied:
            return None
        if not reply.get("ok"):
            return None
        self._first[key] = (digest, reply["returned"])
        return self._first[key]


def _key(function: str, encoded_args: str) -> bytes:
    return hashlib.sha256(f"{function}{encoded_args}".encode()).digest()[:16]


class Calls:
    """The calls of one grade. `transcript` and `quoted` hold the current property's, for the
    shortcuts that learn from them (see gradekit.engine.speed)."""

    def __init__(
        self,
        session: Session,
        replies: Replies,
        answers: FirstAnswers,
        returns: dict[str, Any],
        parameters: dict[str, tuple[str, ...]] | None = None,
        updates: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] | None = None,
    ) -> None:
        self.session = session
        self.replies = replies
        self.answers = answers
        self.returns = returns
        self.parameters = parameters or {}
        self.updates = updates or {}  # function -> (the arguments it may change in place, may zero)
        self.kept: dict[str, Any] = {}  # see gradekit.authoring.per_submission
        self.timed_out: dict[str, str] = {}  # function -> the input it first timed out on, as shown
        self.cpu = 0.0  # the worker's CPU seconds the grade's calls took, as their replies report
        self.transcript: list[Exchange] = []
        self.quoted: dict[int, str] = {}  # lines this property's errors named, as named ("line 3")

    def spent(self) -> float:
        """Seconds the submission's workers have spent in this grade, computing or blocked, as the
        kernel counts them; where it cannot (off Linux), the CPU time their replies report."""
        counted = self.session.worker.spent()
        return self.cpu if counted is None else counted

    def begin_property(self) -> None:
        self.replies.drain()
        self.transcript = []
        self.quoted = {}

    def announce(self, function: str, argument_lists: list[tuple[Any, ...]]) -> list[str | None]:
        """Tell the replies of the calls of `function` a property makes next (see `Replies.announce`),
        and give back each call's arguments as encoded, which the call then sends as told (`call`'s
        `encoded`); none of a function not defined, or one that timed out earlier, which is not
        called again."""
        if function not in self.session.defined or function in self.timed_out:
            return [None] * len(argument_lists)
        encoded = [self.replies.encoded(list(args)) for args in argument_lists]
        self.replies.announce([(function, text, False) for text in encoded])
        return list(encoded)

    def value(self, function: str, args: tuple[Any, ...], log: list[Call], encoded: str | None = None) -> Any:
        """What `function(*args)` returned, read as the type the assignment declares."""
        return coerce(self.call(function, args, log, encoded=encoded).returned, self.returns[function], function)

    def timed(
        self, function: str, args: tuple[Any, ...], log: list[Call], want_args: bool, timeout: float
    ) -> tuple[Reply, float]:
        """The reply to `function(*args)`, asked for alone within `timeout` seconds, and the seconds it
        took as the kernel counts them (see `spent`). A timed call judges a function that ran past the
        call limit, so it is made whether or not the function timed out before, and marks nothing."""
        before = self.spent()
        reply = self.call(function, args, log, want_args, timeout)
        return reply, self.spent() - before

    def call(
        self,
        function: str,
        args: tuple[Any, ...],
        log: list[Call],
        want_args: bool = False,
        timeout: float | None = None,
        encoded: str | None = None,
    ) -> Reply:
        """Call `function` in the worker, logging the call in `log`; raises what the call came to.
        `timeout` is the call's own, for a timed call (see `timed`); `encoded`, the arguments as
        `announce` encoded them, where it did."""
        if function not in self.session.defined:
            raise FunctionMissing(f"`{function}` is not defined")
        names = self.parameters.get(function, ())
        if function in self.timed_out and timeout is None:  # a timed call is how a slow one is judged
            log.append(Call(function, args, raised="not called: it timed out earlier", names=names))
            raise TimedOutEarlier(f"`{function}` timed out earlier in this grade, on {self.timed_out[function]}")
        encoded = self.replies.encoded(list(args)) if encoded is None else encoded
        try:
            reply, answer, line = self.replies.reply(function, encoded, want_args, timeout)
        except CallTimedOut as stopped:
            # A timed call's limit follows from the time its smaller call took, which varies from run to
            # run, and so does whether it is made at all (see authoring.call_at_scale): one that runs past
            # it is left out of the log and said in words that do not vary, so a report is the same on
            # every run.
            said = "ran past the time it was given"
            if timeout is None:
                said = stopped.message
                log.append(Call(function, args, raised=f"no answer ({said})", names=names))
                self.timed_out[function] = _input(args, names)
            self._restart()
            raise CallTimedOut(f"`{function}` {said}") from None
        except WorkerDied as death:
            log.append(Call(function, args, raised=death.message, names=names))
            self._restart()
            raise WorkerDied(f"`{function}` stopped the grader's worker: {death.message}") from None
        self.transcript.append((function, encoded, want_args, answer))
        self.cpu += _seconds(reply.get("cpu"))
        if reply.get("missing"):
            raise FunctionMissing(f"`{function}` is not defined")
        if not reply["ok"]:
            error, cap = reply["error"], self.session.worker.limits.reply_bytes
            log.append(Call(function, args, raised=given(error, self._quote, cap), names=names))
            said = sentence(error, f"`{function}`", "call", self.session.where, reply_bytes=cap)
            raise SubmissionRaised(said, raised=error["type"], line=error["line"])
        returned = reply["returned"]
        log.append(Call(function, args, returned=returned, names=names))
        self.answers.check(function, encoded, returned, answer, line)
        self._watch(function, reply, names)
        return Reply(returned, reply.get("args_after"), self.returns.get(function))

    def _watch(self, function: str, reply: CallReply, names: tuple[str, ...]) -> None:
        """The verdict on what the call changed, as its worker saw it: an argument the function may
        not update, or the answer it gave the call before (storage it keeps and writes again)."""
        updated, zeroed = self.updates.get(function, ((), ()))
        zeros = set(reply.get("zeroed", ()))
        named = [(i, names[i] if i < len(names) else f"argument {i + 1}") for i in reply.get("changed", ())]
        changed = [name for i, name in named if name not in updated and not (name in zeroed and i in zeros)]
        if changed:
            which = " and ".join(f"`{name}`" for name in changed)
            raise ArgumentChanged(CHANGED.format(function=function, which=which))
        if reply.get("overwritten"):
            raise Unrepeatable(KEPT.format(function=function))

    def _restart(self) -> None:
        self.replies.forget()
        self.session.restart()

    def _quote(self, line: int) -> str:
        """Where an error happened, as a call's log names it; kept, since a notebook's cells differ from
        one student's file to another's.
        The message names it again (Session.where), which a report leaves out where the log holds it."""
        where = self.session.where(line)
        self.quoted[line] = where
        return where


def _input(args: tuple[Any, ...], names: tuple[str, ...]) -> str:
    """A call's arguments as a report shows them: `z = 10,000 zeros`."""
    named = names + tuple(f"argument {i + 1}" for i in range(len(names), len(args)))
    return ", ".join(f"{name} = {course_terms.value(arg, name)}" for arg, name in zip(args, named))


def _seconds(cpu: Any) -> float:
    """A reply's CPU time; 0 where it has none (the trusted solution's, in this process)."""
    return float(cpu) if type(cpu) in (int, float) else 0.0
