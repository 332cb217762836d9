"""The parent's handle on one sandboxed worker: start it, send it requests, and always end it.

On Linux the worker runs inside the OS sandbox of isolation.py; elsewhere, or when told not to,
behind worker.py's audit-hook guard alone, and the grade says so in its notes. Limits enforced here
rather than trusted to the child: every wait has a deadline that nothing the worker sends can move
past its bound (a hung call costs its timeout, never the grade), a reply has a size cap and all the
replies of one worker a total cap, and `stop` kills the whole process group (and, sandboxed, the
whole PID namespace), escalating to SIGKILL when polite signals are ignored, so nothing the
submission started survives. Everything read from the worker is data to check, never to trust.
"""

from __future__ import annotations

import ctypes
import functools
import hashlib
import json
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
from pathlib import Path
from typing import Any

import gradekit
import gradekit.assignments
import gradekit.reference
from gradekit.config import Limits, cache_folder, search_path
from gradekit.errors import CallTimedOut, GradekitError, WorkerDied
from gradekit.sandbox import isolation
from gradekit.sandbox.forkserver import Forked, Template, TemplateLost
from gradekit.sandbox.worker import CALL_SEPARATOR, decode

WORKER_SCRIPT = Path(__file__).with_name("worker.py")
BLOCKED_NAMES = ("gradekit", "reference")
GRACE_SECONDS = 0.2
HELD_REPLIES = 4  # reply caps' worth of replies read ahead of the grader before the worker is stopped
PR_SET_DUMPABLE = 4
PROTOCOL_BROKEN = "the worker broke the grader's protocol: it sent a reply that cannot be read"


def _blocked_roots(protected: tuple[str, ...]) -> list[str]:
    """Folders the worker may not open: gradekit, its reference/ and assignments/ (apart in a checkout,
    and a rewritten properties.py would grade every later submission), the example cache, and any
    other folder of assignments the grader was given."""
    packages = (gradekit, gradekit.reference, gradekit.assignments)
    roots = {str(Path(str(p.__file__)).resolve().parent) for p in packages} | {str(cache_folder())}
    return sorted(roots | {str(Path(p).resolve()) for p in protected})


class Worker:
    """A worker process serving one submission. Use as a context manager so it is always stopped."""

    def __init__(self, limits: Limits = Limits(), protected: tuple[str, ...] = ()) -> None:
        self.limits = limits
        self.protected = protected
        self.proc: subprocess.Popen[bytes] | Forked | None = None
        self.directory = ""
        self.isolated = False
        self.note: str | None = None  # for the grade's notes: why this worker ran without the OS sandbox
        self._output = -1
        self._sandbox = -1  # a pidfd of the sandbox's init, which `stop` kills: all in it die with it
        self._next_id = 0
        self._taken = 0  # the id of the last reply taken
        self._received = 0  # bytes the worker has sent in all, across restarts
        self._lines: deque[bytes] = deque()  # replies read, not yet taken
        self._partial = bytearray()  # the start of the next one
        self._held = 0  # bytes of replies read and not yet taken
        self.last_answer = b""  # a digest of the last reply returned, all of it but its id
        self.last_line = b""  # that reply as it came

    @classmethod
    def started(cls, limits: Limits, assignment_dirs: list[str] | None = None) -> Worker:
        """A started worker barred from every assignment folder the grader can see."""
        worker = cls(limits, tuple(str(folder) for folder in search_path(assignment_dirs)))
        worker.start()
        return worker

    def __enter__(self) -> Worker:
        if self.proc is None:
            self.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def start(self) -> None:
        account = run_as_ids(self.limits.run_as)
        undumpable()
        missing = sandbox_missing(self.limits.isolation)
        self.isolated = missing is None
        self.note = None if self.isolated else f"the submission ran without OS isolation: {missing}"
        self.directory = tempfile.mkdtemp(prefix="gradekit-")
        request_read, self._request_write = os.pipe()
        self._reply_read, reply_write = os.pipe()
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
        extra: tuple[int, ...] = ()
        info_read, info_write = os.pipe() if self.isolated else (-1, -1)
        try:
            if account is not None:
                os.chown(self.directory, *account)
            if self.isolated:
                argv, extra = isolation.command(
                    [sys.executable, isolation.INSIDE_SCRIPT, json.dumps(settings)],
                    self.directory,
                    tuple(_blocked_roots(self.protected)),
                    info_write,
                    script=str(WORKER_SCRIPT),
                )
                extra = (*extra, info_write)
            else:
                argv = [sys.executable, str(WORKER_SCRIPT), json.dumps(settings)]
            self.proc = self._forked(settings, (request_read, reply_write, self._output)) or subprocess.Popen(
                argv,
                stdin=subprocess.DEVNULL,
                stdout=self._output,
                stderr=self._output,
                cwd=self.directory,
                env=_worker_environment(isolation.INSIDE_FOLDER if self.isolated else self.directory),
                pass_fds=(request_read, reply_write, *extra),
                start_new_session=True,
                **_switch(account),
            )
        except OSError as error:  # only a broken set-up gets here, e.g. a user who may not run Python
            for fd in {request_read, reply_write, self._request_write, self._reply_read, info_read, info_write, *extra}:
                if fd >= 0:
                    os.close(fd)
            self.stop()
            who = f" as {self.limits.run_as!r}" if account else ""
            raise GradekitError(f"the worker could not be started{who}: {error}") from None
        for fd in {request_read, reply_write, *extra}:
            os.close(fd)
        if self.isolated:
            self._sandbox = _pidfd(isolation.sandbox_pid(info_read, self.limits.load_timeout))
            os.close(info_read)
        os.set_blocking(self._request_write, False)
        self._lines.clear()
        self._partial = bytearray()
        self._held = 0

    def _forked(self, settings: dict[str, Any], fds: tuple[int, int, int]) -> Forked | None:
        """This worker forked from the template `forked_workers` started, if one is on for its user and
        this worker runs without the OS sandbox: a template's children would share one sandbox."""
        if self.isolated or _template is None or _template[0] != self.limits.run_as:
            return None
        request = {
            "settings": settings,
            "directory": self.directory,
            "environment": _worker_environment(self.directory),
        }
        try:
            return _template[1].spawn(request, fds)
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
        """The reply to `request_id`, skipping replies to earlier requests nobody waits for any more."""
        timeout = self.limits.call_timeout if timeout is None else timeout
        deadline = time.monotonic() + timeout
        while True:
            line = self._receive_line(deadline, timeout)
            try:
                reply = decode(line.decode())
            except ValueError:
                reply = None
            if not isinstance(reply, dict):
                raise WorkerDied(PROTOCOL_BROKEN)
            if reply.get("id") == request_id:
                if not _well_formed(reply, answer):
                    raise WorkerDied(PROTOCOL_BROKEN)
                self._taken = request_id
                self.last_answer = hashlib.sha256(line.partition(b", ")[2]).digest()[:16]
                self.last_line = line
                return reply

    def _send(self, data: bytes, timeout: float, calls: int) -> None:
        """Write a request of `calls` calls whole, reading replies to earlier calls meanwhile: a worker
        blocked on a full reply pipe reads no requests, and the two processes would otherwise wait on
        each other.

        A worker still answering earlier calls is making progress, so each whole reply restarts the
        clock: only one that answers nothing and takes nothing for `timeout` has timed out. A byte at a
        time is no progress, and however the replies come, the send ends by the time every call in
        flight could have taken its `timeout`.
        """
        now = time.monotonic()
        deadline = now + timeout
        final = now + timeout * (1 + calls + self._next_id - self._taken)
        unsent = memoryview(data)
        events = {self._request_write: select.POLLOUT, self._reply_read: select.POLLIN}
        while unsent:
            ready = self._wait(events, min(deadline, final), timeout)
            if self._reply_read in ready and self._read_replies():
                deadline = time.monotonic() + timeout
            if self._request_write in ready:
                try:
                    unsent = unsent[os.write(self._request_write, unsent) :]
                except BlockingIOError:
                    continue
                except BrokenPipeError:
                    raise WorkerDied(self._death_message()) from None

    def _receive_line(self, deadline: float, timeout: float) -> bytes:
        while not self._lines:
            self._wait({self._reply_read: select.POLLIN}, deadline, timeout)
            self._read_replies()
        line = self._lines.popleft()
        self._held -= len(line)
        return line

    def _read_replies(self) -> int:
        """Take what the worker has written; how many whole replies it completed. A read brings many
        small replies at once: they are split once, not copied again for every line taken, and a long
        one grows in place. Past a reply's cap, a held amount or the worker's total, it is stopped."""
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
        if (
            len(self._partial) > self.limits.reply_bytes + 1024
            or self._held > HELD_REPLIES * self.limits.reply_bytes
            or self._received > self.limits.replies_bytes
        ):
            self.stop()
            raise WorkerDied("the worker sent more data than the grader accepts")
        return len(complete)

    def _wait(self, events: dict[int, int], deadline: float, timeout: float) -> set[int]:
        """The descriptors ready for their event (or hung up), by the deadline."""
        poller = select.poll()
        for fd, event in events.items():
            poller.register(fd, event | select.POLLHUP | select.POLLERR)
        remaining = deadline - time.monotonic()
        ready = poller.poll(remaining * 1000) if remaining > 0 else []
        if not ready:
            raise CallTimedOut(f"did not answer within {timeout:g} s")
        return {fd for fd, _ in ready}

    def _death_message(self) -> str:
        assert self.proc is not None
        try:
            code = self.proc.wait(timeout=1.0)
        except subprocess.TimeoutExpired:
            return "the worker closed its connection to the grader"
        number = -code if code < 0 else isolation.exit_signal(code) if self.isolated else None
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
        if self._sandbox >= 0:
            with suppress(ProcessLookupError):
                signal.pidfd_send_signal(self._sandbox, signal.SIGKILL)
            os.close(self._sandbox)
            self._sandbox = -1
        if self.proc is not None:
            _kill_group(self.proc)
            if self.isolated:
                _await_hangup(self._reply_read)
            self.proc = None
            for fd in (self._request_write, self._reply_read):
                os.close(fd)
        if self._output >= 0:
            os.close(self._output)
            self._output = -1
        if self.directory:
            shutil.rmtree(self.directory, ignore_errors=True)
            self.directory = ""


_template: tuple[str | None, Template] | None = None  # (its user, the template) while `forked_workers` is on


@contextmanager
def forked_workers(limits: Limits) -> Iterator[None]:
    """Within the block, this process's workers for `limits.run_as` fork from one preloaded template
    (see forkserver.py): for a grader that starts a worker per submission, for a whole class."""
    global _template
    if sandbox_missing(limits.isolation) is None:  # a template's children would share one sandbox
        yield
        return
    try:
        started = Template(str(WORKER_SCRIPT), _worker_environment, _switch(run_as_ids(limits.run_as)))
    except GradekitError:  # each worker, started alone, reports it for its own submission
        yield
        return
    _template = (limits.run_as, started)
    try:
        yield
    finally:
        _template = None
        started.close()


def sandbox_missing(mode: str) -> str | None:
    """Why a worker under isolation `mode` runs without the OS sandbox; None when it runs inside.

    "auto" uses the sandbox where this machine has one, "off" never, "require" always, or raises.
    """
    if mode == "off":
        return "it was turned off (--no-isolation)"
    missing = isolation.unavailable()
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


def _pidfd(pid: int | None) -> int:
    """A pidfd of `pid`, which names that process and no other even once its number is reused; -1 if
    there is none to open (the process is gone, or the kernel predates pidfds)."""
    if pid is None:
        return -1
    try:
        return os.pidfd_open(pid)
    except (OSError, AttributeError):
        return -1


def _unnamed_file() -> int:
    """A read-write descriptor of a temporary file that has no name left on disk."""
    fd, path = tempfile.mkstemp(prefix="gradekit-output-")
    os.unlink(path)
    return fd


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


def _well_formed(reply: dict[str, Any], answer: str) -> bool:
    """Whether the grader can read a reply as the answer to a load ("functions") or a call ("returned").

    The submission can write to the reply pipe as well as the worker can: a reply is data to check.
    """
    if type(reply.get("ok")) is not bool:
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
        "OPENBLAS_NUM_THREADS": "1",
        "OMP_NUM_THREADS": "1",
        "MKL_NUM_THREADS": "1",
    }
