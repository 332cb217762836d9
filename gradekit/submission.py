"""The student's functions as a property sees them.

`sub.softmax(z)` sends the call to the sandboxed worker and hands back plain numbers, read as the
type the assignment declares. Along the way every call is logged for the counterexample, a function
that answers one input two ways is caught, and a worker that hangs or dies is replaced so the next
property starts clean.
"""
from __future__ import annotations

import hashlib
import json
import math
import time
from collections import deque
from collections.abc import Callable, Iterable
from itertools import islice
from typing import TYPE_CHECKING, Any

from gradekit.errors import (
    BudgetExhausted,
    CallTimedOut,
    FunctionMissing,
    PropertyAborted,
    PropertyFailure,
    SubmissionRaised,
    Unrepeatable,
    WorkerDied,
)
from gradekit.result import Call, short_repr
from gradekit.sandbox import Worker
from gradekit.sandbox.worker import decode, encode
from gradekit.source import Cell, Source
from gradekit.declared_types import coerce

if TYPE_CHECKING:
    from gradekit.examples import Trusted


AHEAD_CHUNK = 32  # calls sent to the worker at once while replaying; more go when half are answered
Pending = int | tuple[dict[str, Any], bytes] | PropertyAborted | None  # a call sent ahead: see Submission._queue


class Submission:
    """A loaded submission behind a worker process; properties call its functions as attributes."""

    def __init__(self, worker: Worker | Trusted, source: str, filename: str,
                 cells: tuple[Cell, ...] | None = None) -> None:
        self._worker = worker
        self._source = source
        self._filename = filename
        self._cells = cells
        self._layout = Source(source, filename, cells=cells)
        self.where = self._layout.where  # a line as the student finds it: "line 3 of x.py", "cell 4, line 2 ..."
        self.quoted: dict[int, str] = {}  # lines this property's errors named, as named ("line 3 of x.py")
        self._skipped: set[int] = set()
        self._notes: dict[int, str] = {}
        self.returns: dict[str, Any] = {}
        self._answers: dict[bytes, Any] = {}
        self._replies: dict[tuple[str, str], tuple[bytes, bytes]] = {}  # replayed call -> reply as it came, digest
        self._outputs: list[str] = []
        self.defined: dict[str, int | None] = {}
        self.calls: list[Call] = []
        self.inputs: dict[str, Any] = {}
        self.seen: list[dict[str, Any]] = []
        self.sent: list[tuple[str, str, bool]] = []
        # Calls sent ahead, each with its request id or, once read, its (reply, answer digest), or the
        # timeout or death that stopped the worker while it ran that call; None for a call not sent,
        # whose answer this submission has given by the time it is reached (see `_send_ahead`).
        self._queue: deque[tuple[tuple[str, str, bool], Pending]] = deque()
        self._ahead: deque[tuple[str, str, bool]] = deque()  # expected calls not sent yet
        self._asked: set[tuple[str, str]] = set()  # calls this property's replay has sent
        self.transcript: list[Exchange] = []  # this property's calls, each with its answer's digest
        self.restarts = 0
        self.examples = 0
        self.deadline = math.inf
        self.last_failure: tuple[PropertyFailure, dict[str, Any], list[Call]] | None = None

    def load(self) -> str | None:
        """Run the submission's top level in the worker; the reason it failed, or None.

        A top level that hangs or ends the worker is the submission's doing: it is reported, not raised.
        """
        if self._cells is not None:
            return self._load_cells()
        try:
            reply = self._worker.load(self._source, self._filename)
        except CallTimedOut as timeout:
            return f"{self._filename} could not be loaded: running its top level timed out ({timeout.message})"
        except WorkerDied as death:
            return f"{self._filename} could not be loaded: {death.message}"
        if not reply["ok"]:
            return _load_error(reply["error"], self._filename)
        self.defined = reply["functions"]
        return None

    @property
    def notes(self) -> tuple[str, ...]:
        """What went wrong in a notebook's cells, one line per cell, in the notebook's order."""
        return tuple(self._notes[number] for number in sorted(self._notes))

    def _load_cells(self) -> str | None:
        """Run a notebook's code cells top to bottom in one module, as Jupyter's "Run All" would.

        A cell that raises is noted and the next one runs; the last definition of a name wins. A cell
        that runs past the per-cell limit, or ends the worker, is noted and left out for good: the worker
        is replaced and runs the cells before it again.
        """
        if not self._cells:
            return f"{self._filename} has no code cells"
        while not self._run_cells():
            self._replace_worker()
        try:  # the functions every cell together left defined
            reply = self._worker.load("", self._filename, fresh=False)
        except (CallTimedOut, WorkerDied) as stopped:
            return f"{self._filename} could not be loaded: {stopped.message}"
        self.defined = reply["functions"] if reply["ok"] else {}
        return None

    def _run_cells(self) -> bool:
        """Run every cell not left out; False when one had to be stopped (the worker must be replaced)."""
        assert self._cells is not None
        limit = self._worker.limits.cell_timeout
        fresh = True
        for cell in self._cells:
            if cell.note:
                self._notes.setdefault(cell.number, cell.note)
            if cell.number in self._skipped or not cell.code.strip():
                continue
            try:
                reply = self._worker.load(cell.code, self._filename, line=cell.line, fresh=fresh, timeout=limit)
            except CallTimedOut:
                return self._leave_out(cell, f"ran past the {limit:g} s limit for one cell")
            except WorkerDied as death:
                return self._leave_out(cell, f"ended the grader's worker ({death.message})")
            fresh = False
            if not reply["ok"]:
                self._notes.setdefault(cell.number, self._cell_error(cell, reply["error"]))
        return True

    def _leave_out(self, cell: Cell, why: str) -> bool:
        self._skipped.add(cell.number)
        self._notes.setdefault(cell.number, f"cell {cell.number} {why}: it was stopped and skipped")
        return False

    def _cell_error(self, cell: Cell, error: dict[str, Any]) -> str:
        message = (error["message"].strip().splitlines() or [""])[0][:200]
        line = error.get("line") if type(error.get("line")) is int else None
        at = self._layout.cell_at(line) if line else None
        if error["type"] in ("SyntaxError", "IndentationError", "TabError"):
            where = f" on line {line - cell.line + 1}" if at is cell else ""
            return f"cell {cell.number} has a {error['type']}{where}: {message}; none of it ran"
        where = ""
        if at is not None:
            where = f" (line {line - at.line + 1})" if at is cell else f" (cell {at.number}, line {line - at.line + 1})"
        return f"cell {cell.number} raised {error['type']}{': ' + message if message else ''}{where}"

    def begin_property(self, budget: float) -> None:
        self.drain()
        self.quoted = {}
        self.examples = 0
        self.deadline = time.monotonic() + budget
        self.last_failure = None
        self.calls = []
        self.inputs = {}
        self.seen = []
        self.sent = []
        self.transcript = []

    def begin_example(self, inputs: dict[str, Any]) -> None:
        if time.monotonic() > self.deadline:
            raise BudgetExhausted("the property's time budget ran out")
        self.examples += 1
        self.inputs = inputs
        self.seen.append(inputs)
        self.calls = []

    def note_failure(self, failure: PropertyFailure) -> None:
        self.last_failure = (failure, self.inputs, list(self.calls))

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_") or name not in self.returns:
            raise AttributeError(name)
        declared = self.returns[name]
        return lambda *args: coerce(self.call(name, *args).returned, declared, name)

    def call(self, function: str, *args: Any, want_args: bool = False) -> CallReply:
        """Call `function` in the worker; the reply keeps what it returned and, if asked, its arguments after."""
        if function not in self.defined:
            raise FunctionMissing(f"`{function}` is not defined")
        encoded = encode(list(args))
        self.sent.append((function, encoded, want_args))
        try:
            reply = self._exchange(function, encoded, want_args)
        except CallTimedOut as timeout:
            self._record(Call(function, tuple(args), raised=f"no answer ({timeout.message})"))
            self.restart()
            raise CallTimedOut(f"`{function}` {timeout.message}") from None
        except WorkerDied as death:
            self._record(Call(function, tuple(args), raised=death.message))
            self.restart()
            raise WorkerDied(f"`{function}` stopped the grader's worker: {death.message}") from None
        if reply.get("missing"):
            raise FunctionMissing(f"`{function}` is not defined")
        if not reply["ok"]:
            error = reply["error"]
            raised = _error_text(error, self._quote)
            self._record(Call(function, tuple(args), raised=raised))
            raise SubmissionRaised(f"`{function}` {raised}")
        returned = reply["returned"]
        self._record(Call(function, tuple(args), returned=returned))
        self._check_repeatable(function, encoded, returned)
        return CallReply(returned, reply.get("args_after"))

    def prefetch(self, calls: list[tuple[str, str, bool]]) -> None:
        """Send the calls a property is expected to make, so the worker runs ahead of the checks.

        They go a chunk at a time, topped up as answers are taken: a property that fails early
        leaves at most a chunk for the worker to run in vain, not the rest of its examples.
        """
        self.drain()
        if calls and hasattr(self._worker, "send_calls"):
            self._ahead = deque(tuple(c) for c in calls)  # type: ignore[misc]
            self._asked = set()
            self._send_ahead()

    def _send_ahead(self, everything: bool = False) -> None:
        """Send the next chunk once half the last is answered.

        A call this submission was already asked while replaying (for an earlier property, or earlier
        in this one) is not sent again: the property gets the answer it gave then. Replayed examples of
        different properties often share inputs, and a fifth to a third of the calls would otherwise be
        asked twice. Repeats still reach the worker where they are the point: a call that wants its
        arguments back (the purity properties make each such call twice), and every call Hypothesis
        makes when it searches and shrinks.

        A worker that cannot take it gets nothing more: it answered nothing for a whole call timeout,
        or died, so the oldest call in flight is the one that timed out or ended it, and the property
        meets that when it makes the call.
        """
        if self._ahead and (everything or len(self._queue) <= AHEAD_CHUNK // 2):
            count = len(self._ahead) if everything else AHEAD_CHUNK
            chunk = [self._ahead.popleft() for _ in range(min(count, len(self._ahead)))]
            goes = [self._goes(call) for call in chunk]
            unsent = [call for call, go in zip(chunk, goes) if go]
            try:
                sent = iter(self._worker.send_calls(unsent, hold=everything) if unsent else ())
                self._queue.extend((call, next(sent) if go else None) for call, go in zip(chunk, goes))
            except (CallTimedOut, WorkerDied) as stopped:
                self._ahead.clear()
                for index, (expected, pending) in enumerate(self._queue):
                    if isinstance(pending, int):  # the call the worker was stuck in, or died in
                        self._queue[index] = (expected, stopped)
                        break

    def _goes(self, call: tuple[str, str, bool]) -> bool:
        """Whether a replayed call goes to the worker: not if this submission already answered it, or it
        is on its way earlier in this queue, whose reply is read by the time this one is reached."""
        if call[2]:
            return True
        key = call[:2]  # the cache's own strings, whose hashes Python keeps
        if key in self._replies or key in self._asked:
            return False
        self._asked.add(key)
        return True

    def _answer_given(self, call: tuple[str, str, bool]) -> tuple[dict[str, Any], bytes]:
        """The reply this submission gave to `call` before, decoded afresh: a property may change what
        it is given."""
        line, digest = self._replies[call[:2]]
        return decode(line.decode()), digest

    def _reply_to(self, call: tuple[str, str, bool], pending: Pending) -> tuple[dict[str, Any], bytes]:
        """The (reply, answer digest) of a call in the queue: given before, read now, or read already."""
        if pending is None:
            return self._answer_given(call)
        if isinstance(pending, int):
            return self._received(call, pending)
        return pending  # type: ignore[return-value]

    def _received(self, call: tuple[str, str, bool], request_id: int) -> tuple[dict[str, Any], bytes]:
        """The worker's reply to a call sent ahead, kept for the same call made again (see `_send_ahead`)."""
        reply = self._worker.receive(request_id)
        if not call[2]:
            self._replies[call[:2]] = (self._worker.last_line, self._worker.last_answer)
        return reply, self._worker.last_answer

    def read_ahead(self, openings: set[bytes]) -> bytes | None:
        """Read every prefetched reply now; the digest of them all with their calls, as `stream` makes it.

        The first chunk, already sent, is read first: if its answers open no stream in `openings`, the
        whole cannot be one that passed, and nothing more is asked (a submission that fails early would
        otherwise have the worker run the rest of the property in vain). None then, or if a reply did
        not come (a timeout, a dead worker): the property meets that call itself. The rest is asked
        for with its replies held (see worker.Replies), so a reply that did not come there may stand
        behind answers already made: the worker is replaced, and the property makes every call again.
        """
        if not self._read_queue() or opening(self._read_exchanges()) not in openings:
            return None
        self._send_ahead(everything=True)
        if not self._read_queue():
            self.restart()
            return None
        return stream(self._read_exchanges())

    def _read_queue(self) -> bool:
        """Read the replies to every call in the queue; False at one that did not come."""
        for index, (expected, pending) in enumerate(self._queue):
            if isinstance(pending, PropertyAborted):
                return False
            try:
                self._queue[index] = (expected, self._reply_to(expected, pending))
            except (CallTimedOut, WorkerDied):
                return False
        return True

    def _read_exchanges(self) -> Iterable[Exchange]:
        return ((*expected, pending[1]) for expected, pending in self._queue)  # type: ignore[index]

    def answers_repeat(self) -> bool:
        """Whether every reply read ahead agrees with this submission's earlier answers to the same calls."""
        return all(self._repeats(function, encoded, reply)
                   for (function, encoded, _), (reply, _) in self._queue)  # type: ignore[misc]

    def follow(self, traces: list[tuple[Exchange, ...]]) -> int | None:
        """Make the calls of earlier transcripts while this submission answers as they record.

        Every transcript still alike makes the same next call (the calls a property makes follow from the
        answers before them), so only calls the property itself would make are made. Returns the index of
        the transcript answered in full; None once the answers part, with every reply read kept for the
        property, which then goes on from there without asking the worker again.
        """
        alive = list(range(len(traces)))
        position = 0
        while alive:
            ended = [i for i in alive if len(traces[i]) == position]
            if ended:
                return ended[0]
            function, encoded, want_args, _ = traces[alive[0]][position]
            try:
                reply = self._worker.call(function, encoded, want_args)
            except (CallTimedOut, WorkerDied):
                self.restart()
                return None
            answer = self._worker.last_answer
            self._queue.append(((function, encoded, want_args), (reply, answer)))
            if not self._repeats(function, encoded, reply):
                return None
            made = (function, encoded, want_args, answer)
            alive = [i for i in alive if traces[i][position] == made]
            position += 1
        return None

    def drain(self) -> None:
        """Let go of prefetched calls nobody made, so the next reply read is the next one asked for.

        They get one call's timeout to finish, not one each: a function that takes just under the timeout
        would otherwise hold the grade for the whole queue. Past that, a fresh worker is cheaper.
        """
        waiting = [pending for _, pending in self._queue if isinstance(pending, int)]
        self._queue.clear()
        self._ahead.clear()
        if waiting:
            try:
                self._worker.receive(waiting[-1], self._worker.limits.call_timeout)
            except (CallTimedOut, WorkerDied):
                self.restart()

    def _exchange(self, function: str, encoded: str, want_args: bool) -> dict[str, Any]:
        reply, answer = self._next_reply(function, encoded, want_args)
        self.transcript.append((function, encoded, want_args, answer))
        return reply

    def _next_reply(self, function: str, encoded: str, want_args: bool) -> tuple[dict[str, Any], bytes]:
        if self._queue:
            expected, pending = self._queue[0]
            if expected == (function, encoded, want_args):
                self._queue.popleft()
                if isinstance(pending, PropertyAborted):
                    raise pending
                reply = self._reply_to(expected, pending)
                self._send_ahead()
                return reply
            self.drain()
        return self._worker.call(function, encoded, want_args), self._worker.last_answer

    def _quote(self, line: int | None) -> str:
        """Where an error happened, as a report names it; kept, since it names this student's file."""
        where = self.where(line)
        if line:
            self.quoted[line] = where
        return where

    def _record(self, call: Call) -> None:
        self.calls.append(call)

    def _repeats(self, function: str, encoded_args: str, reply: dict[str, Any]) -> bool:
        """Whether a reply read ahead agrees with this submission's earlier answer to the same call."""
        try:
            if reply.get("ok"):
                self._check_repeatable(function, encoded_args, reply["returned"])
        except Unrepeatable:
            return False
        return True

    def _check_repeatable(self, function: str, encoded_args: str, returned: Any) -> None:
        key = hashlib.sha256(f"{function}{encoded_args}".encode()).digest()[:16]
        first = self._answers.setdefault(key, returned)
        if first != returned and json.dumps(first) != json.dumps(returned):  # json: NaN equals NaN
            message = (
                f"`{function}` gave two different answers to the same input: first "
                f"{short_repr(first)}, then {short_repr(returned)}"
            )
            raise Unrepeatable(message, returned=returned, expected=first)

    def restart(self) -> None:
        """Replace the worker with a fresh one holding the same submission."""
        self.restarts += 1
        self._queue.clear()
        self._ahead.clear()
        self._replace_worker()
        self.load()

    def _replace_worker(self) -> None:
        self._outputs.append(self._worker.output())
        self._worker.stop()
        self._worker.start()

    def output(self) -> str:
        """What the workers printed, held to one worker's cap: each restart loads (and prints) again."""
        return "".join(self._outputs + [self._worker.output()])[: self._worker.limits.output_bytes]


Exchange = tuple[str, str, bool, bytes]  # function, encoded arguments, want_args, digest of the answer


def opening(exchanges: Iterable[Exchange]) -> bytes:
    """The `stream` of the first chunk of exchanges: the calls a replay sends, and reads, first."""
    return stream(islice(exchanges, AHEAD_CHUNK))


def stream(exchanges: Iterable[Exchange]) -> bytes:
    """One digest of calls and their answers, in order: equal streams got equal answers to equal calls."""
    digest = hashlib.sha256()
    for function, encoded, want_args, answer in exchanges:
        # With the lengths in front, two different streams can never run together into the same bytes.
        digest.update(b"%s\0%d\0%d\0%d\0" % (function.encode(), want_args, len(encoded), len(answer)))
        digest.update(encoded.encode())
        digest.update(answer)
    return digest.digest()[:16]


class CallReply:
    __slots__ = ("returned", "args_after")

    def __init__(self, returned: Any, args_after: list[Any] | None) -> None:
        self.returned = returned
        self.args_after = args_after


def _error_text(error: dict[str, Any], locate: Callable[[int | None], str]) -> str:
    if error["type"] == "NotANumber":
        return error["message"]
    if error["type"] == "NotImplementedError":  # a starter stub nobody has filled in yet
        return "is not implemented yet"
    where = f" ({locate(error['line'])})" if error.get("line") else ""
    message = f": {error['message']}" if error["message"] else ""
    return f"raised {error['type']}{message}{where}"


def _load_error(error: dict[str, Any], filename: str) -> str:
    where = f"line {error['line']} of {filename}" if error.get("line") else filename
    if error["type"] in ("SyntaxError", "IndentationError", "TabError"):
        return f"{filename} has a {error['type']} on line {error['line']}: {error['message']}"
    return f"{filename} could not be loaded: {error['type']}: {error['message']} ({where})"
