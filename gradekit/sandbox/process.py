"""The parent's handle on one sandboxed worker: start it, send it requests, and always end it.

On Linux the worker runs inside the OS sandbox of isolation.py; elsewhere, or when told not to,
behind worker.py's audit-hook guard alone, and the grade says so in its notes. Limits enforced here
rather than trusted to the child: a call's timeout counts the worker's CPU time, read from /proc where
the worker cannot forge it, so a verdict is the same on an idle machine and a busy one; a call that
sleeps or blocks instead meets a generous wall-clock backstop that leaves out the time the worker
waited for a CPU; nothing the worker sends can move a wait past its bound (a hung call costs its
timeout, never the grade); a reply has a size cap and all the replies of one worker a total cap; and
`stop` kills the whole process group (and, sandboxed, the whole PID namespace), escalating to SIGKILL
when polite signals are ignored, so nothing the submission started survives. Everything read from
the worker is data to check, never to trust.

Ctrl-C or SIGTERM may come at any moment (see stops.py): a start cut short stops what it had
started, whose handle is kept before a stop can land (`deferred`), and `stop` holds both signals back
until it is done (`uninterrupted`), so neither leaves a worker running or its folder behind.
"""

from __future__ import annotations

import ctypes
import fcntl
import functools
import hashlib
import json
import math
import os
import select
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections import deque
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import gradekit
import gradekit.assignments
import gradekit.reference
from gradekit.config import BLAS_THREADS, Limits, cache_folder, search_path
from gradekit.errors import CallTimedOut, GradekitError, WorkerDied
from gradekit.sandbox import isolation
from gradekit.sandbox.forkserver import Forked, Template, TemplateLost
from gradekit.sandbox.stops import deferred, uninterrupted
from gradekit.sandbox.worker import CALL_SEPARATOR, SEPARATOR, decode, lifted, loads

WORKER_SCRIPT = Path(__file__).with_name("worker.py")
BLOCKED_NAMES = ("gradekit", "reference")
GRACE_SECONDS = 0.2
PIPE_BYTES = 1 << 20  # each way, at most: a chunk of calls read ahead, or of their replies, is written whole
DEFAULT_PIPE_BYTES = 1 << 16  # what a new pipe holds on Linux
HELD_REPLIES = 4  # reply caps' worth of replies read ahead of the grader before the worker is stopped
PR_SET_DUMPABLE = 4
PROTOCOL_BROKEN = "the worker broke the grader's protocol: it sent a reply that cannot be read"
POLL_SECONDS = 0.1  # the longest a wait sleeps before it looks at the worker's clocks again
# /proc counts CPU time in clock ticks, and the parent reads it up to a poll slice late; a call that ends
# near its limit is judged by the CPU time its own reply reports, so the parent stops only clear overruns.
CPU_MARGIN = 0.25


def wall_backstop(timeout: float) -> float:
    """Wall-clock seconds a call may go unanswered while using little CPU time: a sleep, or a read that
    never returns, would never reach its CPU limit. Generous, since wall-clock time is what a busy
    machine stretches, and the time the worker spends waiting for a CPU is left out of it too."""
    return 3 * timeout + 1


def _widen(pipe: int) -> None:
    """Give a pipe room for `pipe_bytes()` where the system allows it.

    A pipe holds 64 KiB by default: less than one chunk of calls on whole tables, or a few of their
    replies. The grader would then wait in its write for the worker to finish the calls before and
    read, and the worker in its write for the grader to finish checking and read: each would wait on
    the other instead of working ahead. Past the system's limits on pipes the default stays; only
    how soon answers come changes.
    """
    setting = getattr(fcntl, "F_SETPIPE_SZ", None)  # Linux only
    if setting is not None and pipe_bytes() > DEFAULT_PIPE_BYTES:
        with suppress(OSError):
            fcntl.fcntl(pipe, setting, pipe_bytes())


@functools.cache
def pipe_bytes() -> int:
    """How much each of a worker's two pipes may hold: PIPE_BYTES, or less where a grader on every core
    would take more than half of what the system lets one user hold in pipes.

    Past that allowance (/proc/sys/fs/pipe-user-pages-soft, 64 MiB by default) the kernel refuses to
    widen any pipe of the user's and gives each new one a page or two, other programs' included.
    """
    try:
        pages = int(Path("/proc/sys/fs/pipe-user-pages-soft").read_text())
    except (OSError, ValueError):
        return PIPE_BYTES
    if pages == 0:  # no allowance set
        return PIPE_BYTES
    # Half the allowance, over a worker's two pipes on every core.
    share = pages * os.sysconf("SC_PAGE_SIZE") // 2 // (2 * (os.cpu_count() or 1))
    return min(PIPE_BYTES, 1 << max(share.bit_length() - 1, 0))  # the kernel rounds a size up to a power of 2


def _blocked_roots(protected: tuple[str, ...]) -> list[str]:
    """Folders the worker may not open: gradekit, its reference/ and assignments/ (apart in a checkout,
    and a rewritten properties.py would grade every later submission), the example cache, and any
    other folder of assignments the grader was given."""
    packages = (gradekit, gradekit.reference, gradekit.assignments)
    roots = {str(Path(str(p.__file__)).resolve().parent) for p in packages} | {str(cache_folder())}
    return sorted(roots | {str(Path(p).resolve()) for p in protected})


def _protected(assignment_dirs: list[str] | None) -> tuple[str, ...]:
    """Every assignment folder the grader can see, which a worker may not: see `_blocked_roots`."""
    return tuple(str(folder) for folder in search_path(assignment_dirs))


@dataclass(frozen=True)
class _Clocks:
    """Where the worker's clocks stood at one moment: its CPU seconds, the monotonic wall-clock time, and
    the seconds it had spent waiting for a CPU; None for a count /proc could not give."""

    cpu: float | None
    wall: float
    waited: float | None


class _ProcessClock:
    """One process's CPU time and its time spent waiting for a CPU, read from /proc through descriptors
    opened once: a reading is one system call, and a descriptor keeps naming its process (reading it
    fails once the process is gone) even after the pid is used again."""

    def __init__(self, pid: int) -> None:
        self._stat = os.open(f"/proc/{pid}/stat", os.O_RDONLY | os.O_CLOEXEC)
        self._ticks = os.sysconf("SC_CLK_TCK")
        try:
            self._schedstat = os.open(f"/proc/{pid}/schedstat", os.O_RDONLY | os.O_CLOEXEC)
        except OSError:  # a kernel built without scheduler statistics
            self._schedstat = -1

    def cpu(self) -> float | None:
        """User plus system time of the whole process, every thread of it (fields 14 and 15 of stat)."""
        try:
            fields = os.pread(self._stat, 1024, 0).rpartition(b")")[2].split()
            return (int(fields[11]) + int(fields[12])) / self._ticks
        except (OSError, IndexError, ValueError):
            return None

    def waited(self) -> float | None:
        """Seconds the process's main thread, which runs the calls, was ready to run but waiting for a
        CPU (field 2 of schedstat, in nanoseconds)."""
        if self._schedstat < 0:
            return None
        try:
            return int(os.pread(self._schedstat, 256, 0).split()[1]) / 1e9
        except (OSError, IndexError, ValueError):
            return None

    def close(self) -> None:
        for fd in (self._stat, self._schedstat):
            if fd >= 0:
                os.close(fd)


class _Unstarted:
    """The clocks of a worker the sandbox has not started yet: it has used nothing, and a new process's
    counts start from zero."""

    def cpu(self) -> float:
        return 0.0

    def waited(self) -> float:
        return 0.0


class Worker:
    """A worker process serving one submission. Use as a context manager so it is always stopped."""

    def __init__(self, limits: Limits = Limits(), protected: tuple[str, ...] = ()) -> None:
        self.limits = limits
        self.protected = protected
        self.proc: subprocess.Popen[bytes] | Forked | None = None
        self.directory = ""  # the worker's folder here; "" for one forked in a sandbox, which has the template's
        self.isolated = False
        self.note: str | None = None  # for the grade's notes: why this worker ran without the OS sandbox
        self._output = -1
        self._request_write = -1
        self._reply_read = -1
        self._sandbox = -1  # a pidfd of the sandbox's init, which `stop` kills: all in it die with it
        self._sandbox_init: int | None = None  # that init's pid: the worker is its only child
        self._clock: _ProcessClock | None = None  # the worker's, opened when first needed
        self._cpu_base: float | None = 0.0  # the worker's CPU seconds when a whole reply was last read
        self._next_id = 0
        self._taken = 0  # the id of the last reply taken
        self._received = 0  # bytes the worker has sent in all, across restarts
        self._lines: deque[bytes] = deque()  # replies read, not yet taken
        self._partial = bytearray()  # the start of the next one
        self._held = 0  # bytes of replies read and not yet taken
        self.last_answer = b""  # a digest of the last reply returned, all of it but its id and CPU time
        self.last_line = b""  # that reply as it came

    @classmethod
    def started(cls, limits: Limits, assignment_dirs: list[str] | None = None) -> Worker:
        """A started worker barred from every assignment folder the grader can see."""
        worker = cls(limits, _protected(assignment_dirs))
        worker.start()
        return worker

    def __enter__(self) -> Worker:
        if self.proc is None:
            self.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def start(self) -> None:
        """Start the worker; whatever cuts the start short (an error, Ctrl-C) stops what it had started."""
        try:
            self._start()
        except BaseException:
            self.stop()
            raise

    def _start(self) -> None:
        """Start the worker in the OS sandbox where this machine seems to have one, without a probe of
        its own first: the sandbox's first start is the probe. One that bubblewrap could not set up
        is stopped, `isolation.unavailable` says why, and the worker starts again without the sandbox
        (under "require", the grader stops instead), as it would have had the machine been probed."""
        account = run_as_ids(self.limits.run_as)
        undumpable()
        self._launch(account, sandbox_missing(self.limits.isolation, probe=False))
        alone = not isinstance(self.proc, Forked)
        if self.isolated and alone and self._sandbox_init is None and isolation.unavailable() is not None:
            self._stop()
            self._launch(account, sandbox_missing(self.limits.isolation))

    def _launch(self, account: tuple[int, int] | None, missing: str | None) -> None:
        self.isolated = missing is None
        self.note = None if self.isolated else f"the submission ran without OS isolation: {missing}"
        request_read, self._request_write = os.pipe()
        self._reply_read, reply_write = os.pipe()
        for fd in (request_read, reply_write):
            _widen(fd)
        settings = {
            "request_fd": request_read,
            "reply_fd": reply_write,
            "memory_bytes": self.limits.memory_bytes,
            "file_bytes": self.limits.file_bytes,
            "output_bytes": self.limits.output_bytes,
            "reply_bytes": self.limits.reply_bytes,
            # Sandboxed, the grader's folders are not there to refuse, nor named to the worker.
            "guard": not self.isolated,
            "blocked_names": [] if self.isolated else list(BLOCKED_NAMES),
            "blocked_roots": [] if self.isolated else _blocked_roots(self.protected),
        }
        # Output goes to a file with no name, read through the grader's own descriptor: nothing in the
        # worker's folder can be swapped for a link to a file only the grader may read.
        self._output = _unnamed_file()
        try:
            self.proc = self._forked(account, settings, (request_read, reply_write, self._output))
            if self.proc is None:
                self._alone(account, settings, (request_read, reply_write))
        except OSError as error:  # only a broken set-up gets here, e.g. a user who may not run Python
            who = f" as {self.limits.run_as!r}" if account else ""
            raise GradekitError(f"the worker could not be started{who}: {error}") from None
        finally:
            for fd in (request_read, reply_write):
                os.close(fd)
        os.set_blocking(self._request_write, False)
        self._lines.clear()
        self._partial = bytearray()
        self._held = 0
        self._cpu_base = 0.0  # a new process has used no CPU time: its first request counts all of it

    def _alone(self, account: tuple[int, int] | None, settings: dict[str, Any], pipes: tuple[int, int]) -> None:
        """Start the worker on its own: a new interpreter, in a sandbox of its own when isolated. Its
        handle is kept in `proc` before a stop may land (`deferred`), so that `stop` ends it whenever
        the stop comes."""
        told = json.dumps(settings)
        argv, home, info = [sys.executable, str(WORKER_SCRIPT), told], self._own_folder(account), -1
        keep: list[int] = []  # descriptors it is given besides `pipes`, closed here once it has started
        try:
            if self.isolated:
                info, info_write = os.pipe()
                keep.append(info_write)
                inside = [sys.executable, isolation.INSIDE_SCRIPT, told]
                argv, extra = isolation.command(inside, home, self._hidden(), info_write, script=str(WORKER_SCRIPT))
                keep += extra
                home = isolation.INSIDE_FOLDER
            with deferred():
                self.proc = subprocess.Popen(
                    argv,
                    stdin=subprocess.DEVNULL,
                    stdout=self._output,
                    stderr=self._output,
                    cwd=self.directory,
                    env=_worker_environment(home),
                    pass_fds=(*pipes, *keep),
                    start_new_session=True,
                    **_switch(account),
                )
        except BaseException:
            if info >= 0:
                os.close(info)
            raise
        finally:
            for fd in keep:
                os.close(fd)
        if info >= 0:
            try:
                self._sandbox_init = isolation.sandbox_pid(info, self.limits.load_timeout)
            finally:
                os.close(info)
            self._sandbox = isolation.pidfd(self._sandbox_init)

    def _own_folder(self, account: tuple[int, int] | None) -> str:
        """The worker's folder of its own, made the first time a start needs one (a worker forked in a
        sandbox has the template's instead), owned by the user it runs as."""
        if not self.directory:
            self.directory = tempfile.mkdtemp(prefix="gradekit-")
            if account is not None:
                os.chown(self.directory, *account)
        return self.directory

    def _hidden(self) -> tuple[str, ...]:
        """The folders a sandboxed worker's runtime is shown without (see isolation.command)."""
        return tuple(_blocked_roots(self.protected))

    def _forked(
        self, account: tuple[int, int] | None, settings: dict[str, Any], fds: tuple[int, int, int]
    ) -> Forked | None:
        """This worker forked from the template `forked_workers` started, if one is on for its user, in
        the OS sandbox if and only if this worker is, with the same folders hidden. Sandboxed, its
        folder is the template's (emptied for each worker), and it has none of its own."""
        if _template is None or _template[0] != self.limits.run_as:
            return None
        template = _template[1]
        if template.hidden != (self._hidden() if self.isolated else None):
            return None
        home = isolation.INSIDE_FOLDER if self.isolated else self._own_folder(account)
        request = {"settings": settings, "directory": home, "environment": _worker_environment(home)}
        try:
            return template.spawn(request, fds)
        except TemplateLost:
            return None

    def load(
        self, source: str, filename: str, line: int = 1, fresh: bool = True, timeout: float | None = None
    ) -> dict[str, Any]:
        """Run `source` as a new module, or (fresh=False) in the one loaded, as a notebook's next cell.

        `line` is the line of the file `source` starts on, so errors and functions name that file's lines.
        """
        timeout = self.limits.load_timeout if timeout is None else timeout
        self._next_id += 1
        request = {
            "op": "load",
            "source": source,
            "filename": filename,
            "line": line,
            "fresh": fresh,
            "id": self._next_id,
        }
        self._send(json.dumps(request).encode() + b"\n", timeout, 1)
        return self.receive(self._next_id, timeout, answer="functions")

    def load_harness(self, source: str, filename: str) -> dict[str, Any]:
        """Run an assignment's harness beside the loaded submission (see worker.Session.load): code of
        the grader's that builds what properties ask for from the submission's own classes, and
        answers with plain data like any call."""
        self._next_id += 1
        request = {"op": "load", "harness": True, "source": source, "filename": filename, "id": self._next_id}
        self._send(json.dumps(request).encode() + b"\n", self.limits.load_timeout, 1)
        return self.receive(self._next_id, self.limits.load_timeout, answer="functions")

    def call(self, function: str, encoded_args: str, want_args: bool = False) -> dict[str, Any]:
        """Call `function` on arguments already encoded as a list (`encode`: the caller reuses the text)."""
        return self.receive(self.send_calls([(function, encoded_args, want_args)])[0])

    def send_calls(self, calls: list[tuple[str, str, bool]], hold: bool = False) -> list[int]:
        """Queue calls; the worker runs them in order and answers each as soon as it is done, or with
        `hold`, several at a time (see worker.Replies): for a grader that reads them all before it
        uses any.

        Sending a chunk of a property's expected calls at once lets the worker run ahead while the
        grader checks earlier answers, instead of one round trip (two context switches) per call.
        """
        first = self._next_id + 1
        self._next_id += len(calls)
        control: dict[str, Any] = {
            "op": "calls",
            "calls": [{"id": first + i, "function": f, "want_args": w} for i, (f, _, w) in enumerate(calls)],
        }
        if hold:
            control["hold"] = True
        line = CALL_SEPARATOR.join([json.dumps(control), *(a for _, a, _ in calls)])
        self._send(f"{line}\n".encode(), self.limits.call_timeout, len(calls))
        return list(range(first, first + len(calls)))

    def receive(self, request_id: int, timeout: float | None = None, answer: str = "returned") -> dict[str, Any]:
        """The reply to `request_id`, read whole (see `receive_line`)."""
        reply = read_reply(self.receive_line(request_id, timeout, answer))
        if not _well_formed(reply, answer):
            raise WorkerDied(PROTOCOL_BROKEN)
        return reply

    def receive_line(self, request_id: int, timeout: float | None = None, answer: str = "returned") -> bytes:
        """The reply to `request_id` as it came, skipping replies to earlier requests nobody waits for
        any more. Only its JSON part is read here, enough to tell whom it answers and that it answers
        well formed; `read_reply` reads its numbers, for a caller that needs more than its digest.

        CPU time counts from the last whole reply read before this wait (the calls in flight have run
        since), wall-clock time from the start of the wait (until then a worker may have waited on a
        full reply pipe), and replies to earlier requests read here restart neither: calls nobody waits
        for get one timeout in all, not one each (see `_enforce`). A reply that reports more CPU time
        than `timeout` has timed out too. The clocks are read once there is something to time: a reply
        read ahead is usually here already, and a reading of the worker's clocks is a system call.
        """
        timeout = self.limits.call_timeout if timeout is None else timeout
        since: _Clocks | None = None
        while True:
            if not self._lines:
                since = since or self._clocks(self._cpu_base)
                self._wait_for_line(since, timeout)
            line = self._lines.popleft()
            self._held -= len(line)
            head = _head(line)
            if head is None:
                raise WorkerDied(PROTOCOL_BROKEN)
            if head.get("id") == request_id:
                if not _well_formed(head, answer):
                    raise WorkerDied(PROTOCOL_BROKEN)
                self._taken = request_id
                if head["cpu"] > timeout:
                    raise CallTimedOut(f"took more than {timeout:g} s of CPU time")
                self.last_answer = hashlib.sha256(_answer_part(line)).digest()[:16]
                self.last_line = line
                return line
            since = since or self._clocks(self._cpu_base)
            _enforce(since, self._clocks(self._cpu_now()), timeout)

    def _send(self, data: bytes, timeout: float, calls: int) -> None:
        """Write a request of `calls` calls whole, reading replies to earlier calls meanwhile: a worker
        blocked on a full reply pipe reads no requests, and the two processes would otherwise wait on
        each other.

        A worker still answering earlier calls is making progress, so each whole reply restarts the
        clocks: only one that answers nothing for a call's limits (see `_enforce`) has timed out. A byte
        at a time is no progress, and however the replies come, the send ends by the time every call
        in flight could have used its limits.
        """
        unsent = self._write(memoryview(data))
        if not unsent:
            return
        poller = _poller({self._request_write: select.POLLOUT, self._reply_read: select.POLLIN})
        started = since = self._clocks(self._cpu_base)
        in_flight = 1 + calls + self._next_id - self._taken
        while unsent:
            ready = self._wait(poller)
            progress = self._reply_read in ready and self._read_replies()
            now = self._clocks(self._cpu_now())
            if progress:
                since = now
            _enforce(since, now, timeout)
            _enforce(started, now, timeout, in_flight)
            if self._request_write in ready:
                unsent = self._write(unsent)

    def _write(self, unsent: memoryview) -> memoryview:
        """What is left of `unsent` once the request pipe has taken what it can hold now."""
        try:
            return unsent[os.write(self._request_write, unsent) :]
        except BlockingIOError:
            return unsent
        except BrokenPipeError:
            raise WorkerDied(self._death_message()) from None

    def _wait_for_line(self, since: _Clocks, timeout: float) -> None:
        """Wait for a whole reply while the clocks since `since` are within the limits."""
        poller = _poller({self._reply_read: select.POLLIN})
        while not self._lines:
            if self._reply_read not in self._wait(poller) or not self._read_replies():
                _enforce(since, self._clocks(self._cpu_now()), timeout)

    def _read_replies(self) -> int:
        """Take what the worker has written; how many whole replies it completed. A read brings many
        small replies at once: they are split once, not copied again for every line taken, and a long
        one grows in place. Past a reply's cap, a held amount or the worker's total, it is stopped.
        The worker's CPU time when a whole reply comes is where the calls still in flight start."""
        chunk = os.read(self._reply_read, 1 << 16)
        if not chunk:
            raise WorkerDied(self._death_message())
        self._partial += chunk
        self._held += len(chunk)
        self._received += len(chunk)
        complete: list[bytearray] = []
        if b"\n" in chunk:
            *complete, rest = self._partial.split(b"\n")
            self._lines.extend(map(bytes, complete))
            self._held -= len(complete)
            self._partial = rest
            self._cpu_base = self._cpu_now()
        if (
            len(self._partial) > self.limits.reply_bytes + 1024
            or self._held > HELD_REPLIES * self.limits.reply_bytes
            or self._received > self.limits.replies_bytes
        ):
            self.stop()
            raise WorkerDied("the worker sent more data than the grader accepts")
        return len(complete)

    def _wait(self, poller: select.poll) -> set[int]:
        """The descriptors ready for their event (or hung up) within one poll slice; none if no one is."""
        return {fd for fd, _ in poller.poll(POLL_SECONDS * 1000)}

    def _clocks(self, cpu: float | None) -> _Clocks:
        """The wall clock and the worker's wait for a CPU as they are now, with `cpu` for its CPU time:
        the current one, or the baseline a wait counts from."""
        clock = self._worker_clock()
        return _Clocks(cpu, time.monotonic(), None if clock is None else clock.waited())

    def _cpu_now(self) -> float | None:
        clock = self._worker_clock()
        return None if clock is None else clock.cpu()

    def _worker_clock(self) -> _ProcessClock | _Unstarted | None:
        """The worker's clocks, opened the first time they are needed; None where /proc cannot give them."""
        if self._clock is None:
            pid = self._worker_pid()
            if pid == 0:
                return _Unstarted()
            if pid is not None:
                with suppress(OSError):
                    self._clock = _ProcessClock(pid)
        return self._clock

    def _worker_pid(self) -> int | None:
        """The worker's pid; 0 while the sandbox has not started it yet; None if /proc cannot say.

        Sandboxed and alone, `self.proc` is bubblewrap, and the worker is the only child of the
        sandbox's init.
        """
        assert self.proc is not None
        if not self.isolated or isinstance(self.proc, Forked):
            return self.proc.pid
        init = self._sandbox_init
        if init is None:
            return None
        children = isolation.children(init)
        if children is None:
            return None
        return children[0] if children else 0

    def _death_message(self) -> str:
        assert self.proc is not None
        try:
            code = self.proc.wait(timeout=1.0)
        except subprocess.TimeoutExpired:
            return "the worker closed its connection to the grader"
        bubblewrap = self.isolated and not isinstance(self.proc, Forked)
        number = -code if code < 0 else isolation.exit_signal(code) if bubblewrap else None
        if number is not None:
            return f"the worker process was killed by {signal_name(number)}"
        return f"the worker process exited with code {code}"

    def output(self) -> str:
        """What the submission printed, capped; shown to the student, never parsed."""
        if self._output < 0:  # stopped
            return ""
        try:
            return os.pread(self._output, self.limits.output_bytes, 0).decode("utf-8", "replace")
        except OSError:
            return ""

    def stop(self) -> None:
        """End the worker and everything it started, and remove its folder; nothing if already stopped."""
        with uninterrupted():
            self._stop()

    def _stop(self) -> None:
        if self._sandbox >= 0:
            with suppress(ProcessLookupError):
                signal.pidfd_send_signal(self._sandbox, signal.SIGKILL)
            os.close(self._sandbox)
            self._sandbox = -1
        self._sandbox_init = None
        if self._clock is not None:
            self._clock.close()
            self._clock = None
        if self.proc is not None:
            _kill_group(self.proc)
            if self.isolated:
                _await_hangup(self._reply_read)
            self.proc = None
        for fd in (self._request_write, self._reply_read):
            if fd >= 0:
                os.close(fd)
        self._request_write = self._reply_read = -1
        if self._output >= 0:
            os.close(self._output)
            self._output = -1
        if self.directory:
            shutil.rmtree(self.directory, ignore_errors=True)
            self.directory = ""


_template: tuple[str | None, Template] | None = None  # (its user, the template) while `forked_workers` is on


@contextmanager
def forked_workers(limits: Limits, assignment_dirs: list[str] | None = None) -> Iterator[None]:
    """Within the block, this process's workers for `limits.run_as` fork from one preloaded template
    (see forkserver.py), in the OS sandbox wherever they would run in one: for a grader that starts a
    worker per submission, for a whole class. `assignment_dirs`: as for `Worker.started`."""
    global _template
    if _template is not None:  # inside another's block, whose template forks one worker at a time and
        held, _template = _template, None  # ends the last: this block's workers start alone instead
        try:
            yield
        finally:
            _template = held
        return
    missing = sandbox_missing(limits.isolation)
    hidden = None if missing else tuple(_blocked_roots(_protected(assignment_dirs)))
    try:
        started = Template(str(WORKER_SCRIPT), _worker_environment, _switch(run_as_ids(limits.run_as)), hidden)
    except GradekitError:  # each worker, started alone, reports it for its own submission
        yield
        return
    _template = (limits.run_as, started)
    try:
        yield
    finally:
        _template = None
        started.close()


def sandbox_missing(mode: str, probe: bool = True) -> str | None:
    """Why a worker under isolation `mode` runs without the OS sandbox; None when it runs inside.

    "auto" uses the sandbox where this machine has one, "off" never, "require" always, or raises.
    Without `probe`, "auto" judges by what the machine has (`isolation.lacking`) and leaves starting
    a sandbox to the worker itself; "require" is always probed, so a grade that cannot run is refused
    before any work.
    """
    if mode == "off":
        return "it was turned off (--no-isolation)"
    missing = isolation.unavailable() if probe or mode == "require" else isolation.lacking()
    if missing is not None and mode == "require":
        raise GradekitError(
            f"student code must run in the OS sandbox, and there is none here: {missing}. "
            "Install bubblewrap, or pass --no-isolation to grade without it"
        )
    return missing


@functools.cache
def undumpable() -> None:
    """Make this process non-dumpable: no process of the same user may read or write its memory,
    environment or descriptors through /proc or ptrace, sandbox or not."""
    if sys.platform.startswith("linux"):
        try:
            ctypes.CDLL(None, use_errno=True).prctl(PR_SET_DUMPABLE, 0, 0, 0, 0)
        except (OSError, AttributeError):
            pass


def signal_name(number: int) -> str:
    """SIGKILL, SIGRTMIN+6, or "signal 99": any number a worker's end can report."""
    try:
        return signal.Signals(number).name
    except ValueError:
        if signal.SIGRTMIN <= number <= signal.SIGRTMAX:
            return f"SIGRTMIN+{number - signal.SIGRTMIN}"
        return f"signal {number}"


def _unnamed_file() -> int:
    """A read-write descriptor of a temporary file with no name on disk: never given one where the
    system allows (O_TMPFILE), so no interruption can leave it behind."""
    with tempfile.TemporaryFile() as handle:
        return os.dup(handle.fileno())


def _switch(account: tuple[int, int] | None) -> dict[str, Any]:
    """Popen's arguments that start a process as `account` (uid, gid), and nothing else."""
    return {} if account is None else {"user": account[0], "group": account[1], "extra_groups": []}


def run_as_ids(user: str | None) -> tuple[int, int] | None:
    """(uid, gid) of the user the worker should run as, or None to keep the grader's own.

    Switching needs root; asking for it otherwise is a mistake to report, not to ignore.
    """
    if not user:
        return None
    import pwd

    try:
        entry = pwd.getpwnam(user)
    except KeyError:
        raise GradekitError(f"--run-as {user!r}: there is no such user on this machine") from None
    if os.geteuid() != 0:
        raise GradekitError(f"--run-as {user!r} needs the grader to run as root")
    return entry.pw_uid, entry.pw_gid


def _poller(events: dict[int, int]) -> select.poll:
    """A poll object for `events`, hang-ups and errors too: a worker that is gone ends a wait at once."""
    poller = select.poll()
    for fd, event in events.items():
        poller.register(fd, event | select.POLLHUP | select.POLLERR)
    return poller


def _enforce(since: _Clocks, now: _Clocks, timeout: float, calls: int = 1) -> None:
    """Raise CallTimedOut once the worker has gone from `since` to `now` past `calls` calls' limits.

    Each call may use `timeout` s of CPU time (and CPU_MARGIN), which the machine's load does not
    change, or, where /proc cannot count it, `timeout` s of wall-clock time. A call that uses little
    CPU time meets the wall-clock backstop instead, less the time the worker spent waiting for a CPU:
    on a busy machine a worker that is ready to run waits its turn, and only computing and sleeping
    count.
    """
    wall = now.wall - since.wall
    if since.cpu is None or now.cpu is None:
        if wall > calls * timeout:
            raise CallTimedOut(f"did not answer within {timeout:g} s")
        return
    if now.cpu - since.cpu > calls * (timeout + CPU_MARGIN):
        raise CallTimedOut(f"took more than {timeout:g} s of CPU time")
    waited = 0.0 if now.waited is None or since.waited is None else now.waited - since.waited
    backstop = wall_backstop(timeout)
    if wall - waited > calls * backstop:
        raise CallTimedOut(
            f"did not answer within {backstop:g} s while using little CPU time (a sleep, or a read that never returns?)"
        )


def read_reply(line: bytes) -> dict[str, Any]:
    """A reply line read whole, its numbers too; WorkerDied for one the worker could not have sent."""
    try:
        reply = decode(line.decode())
    except ValueError:
        reply = None
    if not isinstance(reply, dict):
        raise WorkerDied(PROTOCOL_BROKEN)
    return reply


def _head(line: bytes) -> dict[str, Any] | None:
    """A reply's JSON part, its lifted lists of numbers unread (see worker.encode); None where that
    part is no JSON object, or one that stands for a lifted list, which no reply is."""
    try:
        head = loads(line.partition(SEPARATOR.encode())[0].decode())
    except ValueError:
        return None
    return head if isinstance(head, dict) and not lifted(head) else None


def _answer_part(line: bytes) -> bytes:
    """A reply but its id and CPU time, the two members it starts with: what identifies its answer,
    equal for equal answers however long each took."""
    return line.split(b", ", 2)[-1]


def _well_formed(reply: dict[str, Any], answer: str) -> bool:
    """Whether the grader can read a reply as the answer to a load ("functions") or a call ("returned").

    The submission can write to the reply pipe as well as the worker can: a reply is data to check.
    """
    if type(reply.get("ok")) is not bool or not _seconds(reply.get("cpu")):
        return False
    if reply["ok"]:
        return isinstance(reply.get("functions"), dict) if answer == "functions" else "returned" in reply
    if answer == "returned" and reply.get("missing") is True:
        return True
    error = reply.get("error")
    return (
        isinstance(error, dict)
        and "line" in error
        and isinstance(error.get("type"), str)
        and isinstance(error.get("message"), str)
    )


def _seconds(value: Any) -> bool:
    """Whether `value` is a CPU time a reply can report: a number (a bool is none), finite, not negative."""
    return type(value) in (int, float) and 0 <= value < math.inf


def _kill_group(proc: subprocess.Popen[bytes] | Forked) -> None:
    """SIGTERM the worker's process group, give it a moment, then SIGKILL everything left in it."""
    _signal_group(proc.pid, signal.SIGTERM)
    try:
        proc.wait(timeout=GRACE_SECONDS)
    except subprocess.TimeoutExpired:
        pass
    _signal_group(proc.pid, signal.SIGKILL)
    proc.wait()


def _await_hangup(fd: int) -> None:
    """Wait, briefly, until nothing holds the write end of the reply pipe: the kernel ends a sandbox
    after its bubblewrap process, and this makes `stop` return once the worker is gone."""
    deadline = time.monotonic() + GRACE_SECONDS * 10
    poller = select.poll()
    poller.register(fd, select.POLLIN | select.POLLHUP)
    while (remaining := deadline - time.monotonic()) > 0 and poller.poll(remaining * 1000):
        if not os.read(fd, 1 << 16):
            return


def _signal_group(pgid: int, sig: signal.Signals) -> None:
    try:
        os.killpg(pgid, sig)
    except ProcessLookupError:
        pass


def _worker_environment(directory: str) -> dict[str, str]:
    """A small, fixed environment: same hashing and thread counts on every machine."""
    return {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": directory,
        "TMPDIR": directory,
        "LANG": "C.UTF-8",
        "PYTHONHASHSEED": "0",
        "PYTHONDONTWRITEBYTECODE": "1",
        "PYTHONIOENCODING": "utf-8",
        **dict.fromkeys(BLAS_THREADS, "1"),
    }
