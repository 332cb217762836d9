"""Answers asked for before a property asks: while a recorded replay runs, the worker is sent the
calls the replay is known to make, so it runs ahead of the checks instead of waiting on each.

The property still makes every call itself, in its own order, and gets the worker's own reply to
each; only when the replies arrive changes.
"""

from __future__ import annotations

import hashlib
import math
from collections import deque
from collections.abc import Iterable
from itertools import islice
from typing import Any

from gradekit.engine.calls import Direct, Exchange, FirstAnswers
from gradekit.engine.session import Session
from gradekit.engine.speed.recorded import arguments_digest
from gradekit.errors import CallTimedOut, PropertyAborted, WorkerDied
from gradekit.sandbox.replies import CallReply, encode
from gradekit.sandbox.replies import read as read_reply

AHEAD_CHUNK = 32  # calls sent to the worker at once while replaying; more go when half are answered
# And no more calls in a chunk than carry this many bytes of arguments (one call at least): what a call
# costs the worker grows with what it is given (a training step's three 27 x 27 tables against a loss's
# 27 logits), and a property whose replay fails leaves its chunk for the worker to run in vain before
# the property's next call is answered.
AHEAD_BYTES = 1 << 18
Expected = tuple[str, str, bool]  # function, encoded arguments, want_args
# A call sent ahead: its request id or, once read, its (reply line, answer digest), or the timeout or
# death that stopped the worker while it ran that call; None for a call not sent, whose answer this
# submission has given by the time it is reached (see `ReadAhead._send_ahead`). A reply's numbers are
# read only once the property takes it: one read ahead to compare with a remembered run never is.
Pending = int | tuple[bytes, bytes] | PropertyAborted | None


class _Section:
    """One property's calls read ahead: those sent, in order, each with its pending reply; those still
    to send; and the ones sent for it, which a later call of it need not ask again."""

    def __init__(self, name: str | None, calls: Iterable[Expected]) -> None:
        self.name = name
        self.queue: deque[tuple[Expected, Pending]] = deque()
        self.ahead: deque[Expected] = deque(tuple(c) for c in calls)  # type: ignore[misc]
        self.asked: set[tuple[str, str]] = set()


class ReadAhead:
    """The replies of one grade's calls, read ahead of the property where a replay says what comes.

    While the property being replayed has sent all its calls, the first chunk of the next one's goes
    too (see `prefetch`), so the worker never waits between properties for the grader to finish
    checking; the worker answers calls in the order sent, so every call of a property goes before any
    of the next."""

    def __init__(self, session: Session, answers: FirstAnswers, encodings: dict[bytes, str] | None = None) -> None:
        self._session = session
        self._direct = Direct(session)  # for a call asked for when it is made
        self._answers = answers
        self._encodings = encodings or {}  # a recorded call's arguments, by their digest, as encoded
        self._replies: dict[tuple[str, str], tuple[bytes, bytes]] = {}  # replayed call -> reply as it came, digest
        self._current = _Section(None, ())
        self._next: _Section | None = None  # the next property's calls, sent once the current's are
        self._following: tuple[str, list[Expected]] | None = None  # that property, until its calls start
        self._with_args: set[str] = set()  # functions whose calls go asking for their arguments (`_send_with_args`)

    @property
    def _queue(self) -> deque[tuple[Expected, Pending]]:
        return self._current.queue

    def encoded(self, arguments: list[Any]) -> str:
        """The arguments encoded: while a replay runs, arguments whose digest was recorded take the
        recorded text, which encoding them would give (see recorded.arguments_digest), and save
        encoding their tables again; any others are encoded."""
        if self._current.name is not None and (digest := arguments_digest(arguments)) in self._encodings:
            return self._encodings[digest]
        return encode(arguments)

    def reply(
        self, function: str, encoded: str, want_args: bool, timeout: float | None = None
    ) -> tuple[CallReply, bytes, bytes]:
        """The reply to a call, the digest of its answer and the line it came as: read ahead when it is
        one expected, else asked for now. A timed call, one with its own `timeout`, is asked for once
        nothing else is in flight, so its time is its own.

        A call expected further on skips the calls expected before it, which the property did not make.
        A call not expected at all (its arguments came from an answer, which differs from the
        solution's in its last digits) is asked for once the replies in flight are read, and the
        calls expected after it are still read ahead. Made again while the replay runs, it takes the
        answer it got then, as a replayed call answered before does (see `_send_ahead`): a property
        that asks the same call outside the recording at every example (autograd's controls, one
        fixed graph per operation, asked once an operation answers wrong) waits on the worker once.
        """
        if timeout is not None:
            self.drain(everything=True)
            return self._direct.reply(function, encoded, want_args, timeout)
        call = (function, encoded, want_args)
        queue = self._queue
        if queue and queue[0][0] != call:
            self._skip_to(call)
            if queue and queue[0][0] != call and self._send_with_args(call):
                self._skip_to(call)
        if queue and queue[0][0] == call:
            _, pending = queue.popleft()
            if isinstance(pending, PropertyAborted):
                raise pending
            if pending is not None or call[:2] in self._replies:  # else the call answering it was skipped
                line, answer = self._reply_to(call, pending)
                self._send_ahead()
                return read_reply(line), answer, line
        replaying = not want_args and self._current.name is not None
        if replaying and call[:2] in self._replies:
            line, answer = self._replies[call[:2]]
            return read_reply(line), answer, line
        self._settle()
        reply, answer, line = self._direct.reply(function, encoded, want_args)
        if replaying and self._current.name is not None:  # settling may have replaced the worker, the replay forgotten
            self._replies[call[:2]] = (line, answer)
        return reply, answer, line

    def announce(self, calls: list[Expected]) -> None:
        """Send now the calls the property says it makes next, in order, ahead of the rest of its
        queue: the worker answers them together instead of waiting on the grader between each. The
        replies in flight are read first (the worker answers in the order sent), and a call the
        property makes instead of the next one announced skips them, as a replayed call does."""
        if not calls or not hasattr(self._session.worker, "send_calls"):
            return
        self._settle()
        worker: Any = self._session.worker
        try:
            sent = worker.send_calls(calls)
        except (CallTimedOut, WorkerDied):
            self._restart()  # the property meets what stopped it when it makes its first call
            return
        self._queue.extendleft(reversed(list(zip(calls, sent))))

    def _send_with_args(self, call: Expected) -> bool:
        """Where `call` asks for its arguments back and is expected but for that, send every later call
        of its function asking for them too, from the first in flight; whether they were sent again.

        A property may ask for a function's arguments back where the recording's did not: an update
        function that works in place is read from its arguments (training_step's `updated`), which
        the solution's never was. Sent as recorded, every such call would run twice: once sent ahead,
        in vain, and once asked for then. The calls in flight are answered first, within one call's
        timeout in all (see `_settle`), as they are for a call asked for now."""
        function, encoded, want_args = call
        if not want_args or (function, encoded, False) not in (expected for expected, _ in self._queue):
            return False
        self._with_args.add(function)
        self._settle()
        section = self._current
        first = next((i for i, (expected, _) in enumerate(section.queue) if expected[0] == function), None)
        if first is None:  # the worker was replaced, and what was in flight forgotten
            return False
        taken = [section.queue.pop()[0] for _ in range(len(section.queue) - first)]
        section.ahead.extendleft(taken)
        self._send(section, AHEAD_CHUNK)
        return True

    def _skip_to(self, call: Expected) -> None:
        """Drop the calls expected before `call`, where `call` is expected at all."""
        queue = self._queue
        for index, (expected, _) in enumerate(queue):
            if expected == call:
                for _ in range(index):
                    queue.popleft()
                return

    def _settle(self) -> None:
        """Make way for a call asked for now, whose reply comes after every call in flight: read the
        replies to this property's, which it may still use, and let the next property's go. They get
        one call's timeout in all, as calls let go do (`_let_go`): a slow function would otherwise
        answer every call sent ahead before the one asked for now, and past that a fresh worker is
        cheaper."""
        worker: Any = self._session.worker
        if not self._read_queue(worker.limits.call_timeout):
            self._restart()
            return
        if self._next is not None:
            going, self._next, self._following = self._next, None, None
            self._let_go([going])

    def prefetch(
        self, calls: list[Expected], name: str | None = None, following: tuple[str, list[Expected]] | None = None
    ) -> None:
        """Send the calls the property `name` is expected to make, so the worker runs ahead of the checks,
        and then those of the property expected after it, `following` (its name and calls).

        They go a chunk at a time, topped up as answers are taken: a property that fails early
        leaves at most a chunk for the worker to run in vain, not the rest of its examples. The next
        property's first chunk goes once every call of this one has: if the properties come as
        expected, it is already answered when that property starts.
        """
        if not hasattr(self._session.worker, "send_calls"):
            return
        expected = self._next is not None and name is not None and self._next.name == name
        self.drain(everything=not expected)
        if expected and self._next is not None:  # still there, unless draining replaced the worker
            self._current, self._next = self._next, None
        else:  # the drain forgot everything sent ahead
            self._current = _Section(name, calls)
        self._following = following
        self._send_ahead()

    def _send_ahead(self, everything: bool = False) -> None:
        """Send the current property's next chunk once half the last is answered; once all of them
        are sent, the first chunk of the property expected next.

        A call this submission was already asked while replaying (for an earlier property, or earlier
        in this one) is not sent again: the property gets the answer it gave then. Replayed examples of
        different properties often share inputs, which would otherwise be asked twice. Repeats still
        reach the worker where they are the point: a call that wants its arguments back (the purity
        properties make each such call twice), and every call Hypothesis makes when it searches and
        shrinks.
        """
        current = self._current
        if current.ahead and everything:
            self._send(current, len(current.ahead), hold=True, most_bytes=math.inf)
        elif current.ahead and _half_taken(current):
            self._send(current, AHEAD_CHUNK)
        elif not current.ahead and not everything and self._following and _half_taken(current):
            name, calls = self._following
            self._following = None
            self._next = _Section(name, calls)
            self._send(self._next, AHEAD_CHUNK)

    def _send(self, section: _Section, count: int, hold: bool = False, most_bytes: float = AHEAD_BYTES) -> None:
        """Send the section's next `count` calls, or as many of them as carry `most_bytes` of arguments
        (one at least), their replies held with `hold` (see worker.Outbox).

        A worker that cannot take them gets nothing more: it answered nothing for a whole call timeout,
        or died, so the oldest call in flight is the one that timed out or ended it, and the property
        meets that when it makes the call.
        """
        chunk: list[Expected] = []
        size = 0
        while section.ahead and len(chunk) < count and (not chunk or size + len(section.ahead[0][1]) <= most_bytes):
            chunk.append(self._as_asked(section.ahead.popleft()))
            size += len(chunk[-1][1])
        goes = [self._goes(section, call) for call in chunk]
        unsent = [call for call, go in zip(chunk, goes) if go]
        worker: Any = self._session.worker
        try:
            sent = iter(worker.send_calls(unsent, hold=hold) if unsent else ())
            section.queue.extend((call, next(sent) if go else None) for call, go in zip(chunk, goes))
        except (CallTimedOut, WorkerDied) as stopped:
            self._following = None
            for stuck in (self._current, self._next):
                if stuck is None:
                    continue
                stuck.ahead.clear()
                for index, (expected, pending) in enumerate(stuck.queue):
                    if isinstance(pending, int):  # the call the worker was stuck in, or died in
                        stuck.queue[index] = (expected, stopped)
                        return

    def _as_asked(self, call: Expected) -> Expected:
        """A recorded call as this submission's properties ask it (see `_send_with_args`)."""
        function, encoded, _ = call
        return (function, encoded, True) if function in self._with_args else call

    def _goes(self, section: _Section, call: Expected) -> bool:
        """Whether a replayed call goes to the worker: not if this submission already answered it, or it
        is on its way earlier in this property's queue, whose reply is read by the time this one is
        reached."""
        if call[2]:
            return True
        key = call[:2]  # the cache's own strings, whose hashes Python keeps
        if key in self._replies or key in section.asked:
            return False
        section.asked.add(key)
        return True

    def _reply_to(self, call: Expected, pending: Pending) -> tuple[bytes, bytes]:
        """The (reply line, answer digest) of a call in the queue: given before (read afresh when taken,
        as a property may change what it is given), received now, or received already."""
        if pending is None:
            return self._replies[call[:2]]
        if isinstance(pending, int):
            return self._received(call, pending)
        return pending  # type: ignore[return-value]

    def _received(self, call: Expected, request_id: int) -> tuple[bytes, bytes]:
        """The worker's reply to a call sent ahead, kept for the same call made again (see `_send_ahead`)."""
        worker: Any = self._session.worker
        line = worker.receive_line(request_id)
        if not call[2]:
            self._replies[call[:2]] = (line, worker.last_answer)
        return line, worker.last_answer

    def read_ahead(self, openings: set[bytes]) -> bytes | None:
        """Read every prefetched reply now; the digest of them all with their calls, as `stream` makes it.

        The first chunk, already sent (whole, whatever its bytes), is read first: if its answers open no
        stream in `openings`, the whole cannot be one that passed, and nothing more is asked (a
        submission that fails early would otherwise have the worker run the rest of the property in
        vain). None then, or if a reply did not come (a timeout, a dead worker): the property meets that
        call itself. The rest is asked for with its replies held (see worker.Outbox), so a reply that
        did not come there may stand behind answers already made: the worker is replaced, and the
        property makes every call again.
        """
        if len(self._queue) < AHEAD_CHUNK:  # the opening is a whole chunk's calls, however many bytes they carry
            self._send(self._current, AHEAD_CHUNK - len(self._queue), most_bytes=math.inf)
        if not self._read_queue() or opening(self._read_exchanges()) not in openings:
            return None
        self._send_ahead(everything=True)
        if not self._read_queue():
            self._restart()
            return None
        return stream(self._read_exchanges())

    def _read_queue(self, within: float | None = None) -> bool:
        """Read the replies to every call in the queue; False at one that did not come, or once the
        worker has spent `within` seconds (computing or blocked) on them, where given. The worker's
        clocks are read only before a reply still to come: a call asked for now, outside the replay,
        settles the queue first, and most of the queue is read by then."""
        worker: Any = self._session.worker
        started = worker.spent() if within is not None else None
        limit = None if started is None or within is None else started + within
        for index, (expected, pending) in enumerate(self._queue):
            if isinstance(pending, PropertyAborted):
                return False
            if isinstance(pending, tuple):  # read already
                continue
            if isinstance(pending, int) and limit is not None and (worker.spent() or 0.0) > limit:
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
        return all(self._answers.agree(function, encoded, *pending) for (function, encoded, _), pending in self._queue)  # type: ignore[misc]

    def follow(self, traces: list[tuple[Exchange, ...]], timed_out: set[str]) -> int | None:
        """Make the calls of earlier transcripts while this submission answers as they record.

        Every transcript still alike makes the same next call (the calls a property makes follow from the
        answers before them), so only calls the property itself would make are made. Returns the index of
        the transcript answered in full; None once the answers part, or the next call is to a function
        in `timed_out` (which is not called again), with every reply read kept for the property, which
        then goes on from there without asking the worker again.
        """
        self.drain(everything=True)  # its calls go straight to the worker, so none may be in flight
        alive = list(range(len(traces)))
        position = 0
        worker: Any = self._session.worker
        while alive:
            ended = [i for i in alive if len(traces[i]) == position]
            if ended:
                return ended[0]
            function, encoded, want_args, _ = traces[alive[0]][position]
            if function in timed_out:
                return None
            try:
                line = worker.receive_line(worker.send_calls([(function, encoded, want_args)])[0])
            except (CallTimedOut, WorkerDied):
                self._restart()
                return None
            answer = worker.last_answer
            self._queue.append(((function, encoded, want_args), (line, answer)))
            if not self._answers.agree(function, encoded, line, answer):
                return None
            made = (function, encoded, want_args, answer)
            alive = [i for i in alive if traces[i][position] == made]
            position += 1
        return None

    def drain(self, everything: bool = False) -> None:
        """Let go of the current property's prefetched calls nobody made (with `everything`, of the next
        property's too), so the next reply read is the next one asked for."""
        sections = [self._current, self._next] if everything and self._next is not None else [self._current]
        if everything:
            self.forget()
        else:
            self._current = _Section(None, ())
        self._let_go(sections)

    def _let_go(self, sections: list[_Section]) -> None:
        """Wait for the replies to the calls of `sections` still in flight, which are let go.

        They get one call's timeout to finish, not one each: a function that takes just under the timeout
        would otherwise hold the grade for the whole queue. Past that, a fresh worker is cheaper.
        """
        waiting = [pending for section in sections for _, pending in section.queue if isinstance(pending, int)]
        if waiting:
            worker: Any = self._session.worker
            try:
                worker.receive(waiting[-1], worker.limits.call_timeout)
            except (CallTimedOut, WorkerDied):
                self._restart()

    def forget(self) -> None:
        self._current = _Section(None, ())
        self._next = None
        self._following = None

    def _restart(self) -> None:
        self.forget()
        self._session.restart()


def _half_taken(section: _Section) -> bool:
    """Whether the calls sent for `section` that its property has still to take are half a chunk or
    less, by their count and by the bytes of their arguments."""
    return len(section.queue) <= AHEAD_CHUNK // 2 and sum(len(call[1]) for call, _ in section.queue) <= AHEAD_BYTES // 2


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
