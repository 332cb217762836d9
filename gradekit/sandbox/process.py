"""The grader's handle on one worker: start it behind the strongest wall the host allows, send it
requests, read its replies as hostile data, hold it to its limits, and always end it.

The wall is chosen by isolation.py: bubblewrap where it works, else Landlock, else (for a student's own
check only) the guard, and the grade's notes say which. A worker confines itself before it reads a
request and says so (worker.READY); one that ends before that has met the host's refusal, not the
submission's doing, and the next wall is tried (or, for a wall that worked earlier in this run, the
grade stops with HostFailure, recording nothing).

Limits enforced here rather than trusted to the child: a call's time counts the worker's CPU time and
the time it spent blocked, read from /proc where the worker cannot forge them (clocks.py), so a
verdict is the same on an idle machine and a busy one; the worker's threads and its private folder
are watched while it runs and stopped past their caps; nothing the worker sends can move a wait past
its bound (a hung call costs its timeout, never the grade); a reply has a size cap and all the replies
of one worker a total cap; and `stop` kills the whole process group (and, in bubblewrap, the whole
PID namespace), escalating to SIGKILL when polite signals are ignored, so nothing the submission
started survives. Everything read from the worker is data to check, never to trust (replies.py).

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

from gradekit.config import MIB, Limits, search_path
from gradekit.course_terms import seconds
from gradekit.errors import CallTimedOut, GradekitError, HostFailure, WorkerDied
from gradekit.sandbox import accounts, bubblewrap, bytecode, cgroups, clocks, folders, isolation, landlock, replies
from gradekit.sandbox.accounts import Account, Kind, Reserved
from gradekit.sandbox.clocks import Clocks, ProcessClock
from gradekit.sandbox.forkserver import Forked, ForkServer, ForkServerLost
from gradekit.sandbox.isolation import THREADS, Isolation
from gradekit.sandbox.replies import CALL_SEPARATOR, CallReply, LoadReply
from gradekit.sandbox.stops import deferred, uninterrupted
from gradekit.sandbox.worker import UNCONFINED  # how a worker ends that could not confine itself

WORKER_SCRIPT = Path(__file__).with_name("worker.py")  # its program: see `worker_program`
BLOCKED_NAMES = ("gradekit", "reference")
# What a worker imports before it is ready, unless told otherwise: nearly every submission that uses
# NumPy imports it at its top, and the worker does so while the grader is still starting.
PRELOADED = ("numpy",)
GRACE_SECONDS = 0.2
PIPE_BYTES = 1 << 20  # each way, at most: a chunk of calls read ahead, or of their replies, is written whole
DEFAULT_PIPE_BYTES = 1 << 16  # what a new pipe holds on Linux
HELD_REPLIES = 4  # reply caps' worth of replies read ahead of the grader before the worker is stopped
PR_SET_DUMPABLE = 4
POLL_SECONDS = 0.1  # the longest a wait sleeps before it looks at the worker's clocks again
WATCH_SECONDS = 0.05  # how often, at most, the worker's threads and folder are looked at
OPEN_FILES = 64  # descriptors a worker may hold: its pipes, its output, a few files of its own
READY_SECONDS = 60.0  # wall-clock seconds a new worker has to say it is confined, however busy the host
INTERRUPT_SECONDS = 1.0  # how long an interrupted load has to answer before its worker is replaced


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


def preloads(source: str) -> tuple[str, ...]:
    """The preloaded modules `source` names, which the worker that loads it imports before it is ready
    (`Worker.started`). One it imports without naming it is imported at its load, as any other module
    is, and a worker that loads a file naming none starts without them: NumPy is most of a start.
    """
    return tuple(name for name in PRELOADED if name in source)


def _protected(assignment_dirs: list[str] | None) -> tuple[str, ...]:
    """Every assignment folder the grader can see, which a worker may not."""
    return tuple(str(folder) for folder in search_path(assignment_dirs))


def worker_program() -> str:
    """What a worker's interpreter runs: worker.py's bytecode where Python keeps it current beside it
    (see bytecode.py), else worker.py. It is what worker.py compiles to, without the compiling, which
    every start would pay again: a script's bytecode is never cached."""
    return str(bytecode.current(WORKER_SCRIPT) or WORKER_SCRIPT)


class Worker:
    """A worker process serving one submission. Use as a context manager so it is always stopped."""

    def __init__(
        self, limits: Limits = Limits(), protected: tuple[str, ...] = (), preload: tuple[str, ...] = PRELOADED
    ) -> None:
        self.limits = limits
        self.protected = protected
        self.preload = preload  # modules a worker started alone imports before it says it is ready
        self.proc: subprocess.Popen[bytes] | Forked | None = None
        self.isolation: Isolation | None = None  # the wall the worker runs behind
        self.note: str | None = None  # for the grade's notes: why it runs behind a weaker wall than bubblewrap
        self.directory = ""  # its private folder on this machine's disk, kept across restarts until `stop`
        self._account = accounts.unreserved()  # the user the worker runs as (see accounts.py)
        self._reserved: Reserved | None = None  # a uid of its own, held until `stop`
        self._pids: cgroups.Pids | None = None  # the worker's pids cgroup, where it runs as root
        self._output_file: tuple[int, int] = (0, 0)  # its output file's device and inode, the grader's own
        self._ready = False
        self._output = -1
        self._request_write = -1
        self._reply_read = -1
        self._sandbox = -1  # a pidfd of bubblewrap's init, which `stop` kills: all in the sandbox die with it
        self._sandbox_init: int | None = None  # that init's pid: the worker is its only child
        self._told = -1  # bubblewrap's `--info-fd`, which tells that pid, until it is read (`_sandbox_known`)
        self._clock: ProcessClock | None = None  # the worker's, opened when first needed
        self._cpu_base: float | None = 0.0  # the worker's CPU seconds when a whole reply was last read
        self._spent_before = 0.0  # what this handle's earlier processes spent, computing and blocked
        self._replaced = False  # whether the worker now running replaced one (which the submission ended)
        self._blocked = 0.0  # seconds the current process spent blocked while the grader waited on it
        self._polled: float | None = None  # this thread's time awake when its last wait for a reply began
        self._watched = 0.0  # when its threads and folder were last looked at
        self._next_id = 0
        self._taken = 0  # the id of the last reply taken
        self._received = 0  # bytes the worker has sent in all, across restarts
        self._lines: deque[bytes] = deque()  # replies read, not yet taken
        self._partial = bytearray()  # the start of the next one
        self._held = 0  # bytes of replies read and not yet taken
        self.last_answer = b""  # a digest of the last reply returned, all of it but its id and CPU time
        self.last_line = b""  # that reply as it came

    @classmethod
    def started(
        cls, limits: Limits, assignment_dirs: list[str] | None = None, preload: tuple[str, ...] = PRELOADED
    ) -> Worker:
        """A started worker barred from every assignment folder the grader can see. It imports the
        `preload` modules (NumPy by default) while the grader is still starting: a grader that knows
        the submission names none of them passes (), and the worker starts without them."""
        worker = cls(limits, _protected(assignment_dirs), preload)
        worker.start()
        return worker

    def __enter__(self) -> Worker:
        if self.proc is None:
            self.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def start(self) -> None:
        """Start the worker behind the strongest wall not known to fail here, without waiting for it
        to say it is confined (see `_confined`); whatever cuts the start short stops what it had started."""
        try:
            accounts.named(self.limits.run_as)  # a user that does not exist, or a grader not root: GradekitError
            undumpable()
            self._launch(isolation.candidates(self.limits.isolation, self.limits.run_as)[0])
        except BaseException:
            self.stop()
            raise

    def _launch(self, wall: Isolation) -> None:
        self.isolation = wall
        script = worker_program()  # chosen once: who runs it and what runs are judged on one file
        self._account = self._account_for(wall, script)
        self.note = isolation.note(wall, self.limits, self._account)
        self._ready = False
        if self._account.kind is Kind.ROOT:  # bubblewrap and its sandbox's init are tasks besides the worker's
            try:
                self._pids = cgroups.Pids.made(THREADS + 2 if wall is Isolation.BUBBLEWRAP else THREADS)
            except OSError as error:
                raise _uncapped(error) from None
        request_read, self._request_write = os.pipe()
        self._reply_read, reply_write = os.pipe()
        for fd in (request_read, reply_write):
            _widen(fd)
        # Output goes to a file with no name, read through the grader's own descriptor: nothing in the
        # worker's folder can be swapped for a link to a file only the grader may read.
        self._output = _unnamed_file()
        written = os.fstat(self._output)
        self._output_file = (written.st_dev, written.st_ino)
        try:
            self.proc = self._forked((request_read, reply_write, self._output))
            if self.proc is None:
                self._alone((request_read, reply_write), script)
        except OSError as error:  # only a broken set-up gets here, e.g. a user who may not run Python
            if self._account.kind is not Kind.SHARED:
                raise HostFailure(f"the worker could not be started: {error}") from None
            raise HostFailure(
                f"the worker could not be started as {self.limits.run_as!r}: {error}; that user must be able to "
                f"read and run this Python ({sys.executable}): gradekit doctor --run-as {self.limits.run_as} says more"
            ) from None
        finally:
            for fd in (request_read, reply_write):
                os.close(fd)
        os.set_blocking(self._request_write, False)
        self._lines.clear()
        self._partial = bytearray()
        self._held = 0
        self._blocked = 0.0
        self._cpu_base = 0.0  # a new process has used no CPU time: its first request counts all of it

    def _account_for(self, wall: Isolation, script: str) -> Account:
        """Who a worker behind `wall`, running `script`, runs as: the user `--run-as` names; else, for a
        root grader, a uid of its own where one can run here (the same for every worker of this handle),
        or root."""
        named = accounts.named(self.limits.run_as)
        if named is not None:
            return named
        if isolation.who(wall, None, script) is Kind.OWN:
            self._reserved = self._reserved or accounts.reserve()
            if self._reserved is not None:
                return self._reserved.account
        return accounts.unreserved()

    def _settings(self, home: str, descriptors: tuple[int, int], hidden: tuple[str, ...]) -> dict[str, Any]:
        """What the worker is told: its pipes, its limits, and the walls it puts up itself around what
        it may not see (`hidden`, found once for its start)."""
        wall = self.isolation
        guarded = wall is Isolation.GUARD
        return {
            "request_fd": descriptors[0],
            "reply_fd": descriptors[1],
            "memory_bytes": self.limits.memory_bytes - self.limits.folder_bytes,
            "file_bytes": self.limits.file_bytes,
            "output_bytes": self.limits.output_bytes,
            "reply_bytes": self.limits.reply_bytes,
            "open_files": OPEN_FILES,
            "threads": THREADS if wall is Isolation.BUBBLEWRAP else isolation.threads_allowed(self._account),
            "cpu_seconds": math.ceil(self.limits.cpu_seconds),
            "landlock": self._landlock(home, hidden),
            "guard": guarded,
            "blocked_names": list(BLOCKED_NAMES) if guarded else [],
            "blocked_roots": list(hidden) if guarded else [],
            "preload": list(self.preload),
        }

    def _landlock(self, home: str, hidden: tuple[str, ...]) -> dict[str, Any] | None:
        """Landlock's rules for this worker: inside bubblewrap, everything it is shown read-only and its
        folder read-write (the scopes are what that adds); outside, the runtime read-only around what
        is hidden, and its folder. None under the guard, or where the kernel has no Landlock."""
        if self.isolation is Isolation.GUARD or landlock.abi() < 1:
            return None
        if self.isolation is Isolation.BUBBLEWRAP:
            return {"read": ["/"], "write": [home, *landlock.WRITE_DEVICES], "abi": landlock.abi()}
        return landlock.rules(list(isolation.runtime()), list(hidden), home)

    def _alone(self, pipes: tuple[int, int], script: str) -> None:
        """Start the worker on its own: a new interpreter running `script`, in a sandbox of its own
        under bubblewrap. Its handle is kept in `proc` before a stop may land (`deferred`), so that
        `stop` ends it whenever the stop comes."""
        info = -1
        keep: list[int] = []  # descriptors it is given besides `pipes`, closed here once it has started
        try:
            hidden = isolation.hidden(self.protected)
            if self.isolation is Isolation.BUBBLEWRAP:
                home = bubblewrap.INSIDE_HOME
                told = json.dumps(self._settings(home, pipes, hidden))
                info, info_write = os.pipe()
                keep.append(info_write)
                inside = [sys.executable, bubblewrap.inside(script), told]
                argv, extra = bubblewrap.command(
                    inside, script, isolation.runtime(), hidden, self._own_folder(), info_write
                )
                keep += extra
                cwd = None
            else:
                home = cwd = self._own_folder()
                assert self.isolation is not None
                program = isolation.seccomp_pipe(self.isolation, self._account)
                keep += [program] if program is not None else []
                told = json.dumps({**self._settings(home, pipes, hidden), "filter_fd": program})
                argv = [sys.executable, script, told]
            with deferred():
                self.proc = subprocess.Popen(
                    self._pids.entering(argv) if self._pids is not None else argv,
                    stdin=subprocess.DEVNULL,
                    stdout=self._output,
                    stderr=self._output,
                    cwd=cwd,
                    env=isolation.environment(home),
                    pass_fds=(*pipes, *keep),
                    start_new_session=True,
                    **isolation.switch(self._account.ids),
                )
        except BaseException:
            if info >= 0:
                os.close(info)
            raise
        finally:
            for fd in keep:
                os.close(fd)
        self._told = info

    def _sandbox_known(self, within: float = READY_SECONDS) -> None:
        """Read the pid of the sandbox's init from bubblewrap, where it is still to read, waiting up to
        `within` seconds for it, and open a pidfd of it. Read when first needed, not as bubblewrap
        starts: it sets up the sandbox's namespaces while the grader goes on (imports Hypothesis and
        NumPy, loads the assignment), and has long told by then. It is needed before anything of the
        submission's runs: the first request waits for it (`_confined`), and so do the worker's clocks.
        `stop` waits for it briefly: a sandbox still being set up has run nothing of the submission's,
        and ends with bubblewrap (its `--die-with-parent`, which only code in the sandbox could undo)."""
        if self._told < 0:
            return
        told, self._told = self._told, -1
        try:
            self._sandbox_init = bubblewrap.sandbox_pid(told, within)
        except BaseException:  # a stop that cuts the start short ends what it started, as in `start`
            os.close(told)
            self.stop()
            raise
        os.close(told)
        self._sandbox = bubblewrap.pidfd(self._sandbox_init)

    def _own_folder(self) -> str:
        """The worker's private folder on this machine's disk, owned by the user it runs as: made for
        this handle's first worker, and the same for every worker that replaces it (a submission's
        files outlast a restart, as a notebook's do a kernel's), until `stop` removes it."""
        if not self.directory:
            self.directory = tempfile.mkdtemp(prefix="gradekit-")
        if self._account.ids is not None:
            os.chown(self.directory, *self._account.ids)
        elif self._account.kind is Kind.ROOT:  # back from a uid of its own that could not start here
            os.chown(self.directory, 0, 0)
        return self.directory

    def _forked(self, fds: tuple[int, int, int]) -> Forked | None:
        """This worker forked from the fork server `forked_workers` started, if one is on for its wall and
        user (never for bubblewrap, whose workers each get a sandbox of their own)."""
        if (
            _fork_server is None
            or _fork_server[0] != (self.isolation, self.limits.run_as)
            or self._account.kind is Kind.OWN
        ):
            return None
        home = self._own_folder()
        settings = self._settings(home, (-1, -1), isolation.hidden(self.protected))
        request = {
            "settings": settings,
            "directory": home,
            "environment": isolation.environment(home),
            "cgroup": self._pids.procs if self._pids is not None else None,
        }
        try:
            return _fork_server[1].spawn(request, fds)
        except ForkServerLost:
            return None

    def _confined(self) -> None:
        """Wait until the worker says it is confined. One that ends first has met the host's refusal
        (no student code has run): the wall is remembered as not working here and the next is tried,
        but a wall that worked earlier in this run failing now is HostFailure."""
        while not self._ready:
            try:
                self._sandbox_known()
                self.receive_line(0, READY_SECONDS, answer="ready")
                self._hold_threads()
                isolation.worked(self.isolation, self.limits.run_as)
                self._ready = True
                if (
                    not self._replaced
                ):  # the first worker's start is the grader's work; a replacement's, the submission's
                    self._spent_before -= self._cpu_now() or 0.0
                    self._blocked = 0.0
            except (CallTimedOut, WorkerDied) as stopped:
                wall, why = self.isolation, self._start_failure(stopped.message)
                assert wall is not None
                self._stop()
                if isolation.proven(wall, self.limits.run_as):
                    raise HostFailure(f"a worker could not be started behind {wall.value}: {why}") from None
                if self._account.kind is Kind.OWN:  # the wall may still hold a worker run as root
                    isolation.shared_only(wall, why)
                else:
                    isolation.refused(wall, self.limits.run_as, why)
                self._launch(isolation.candidates(self.limits.isolation, self.limits.run_as)[0])

    def _hold_threads(self) -> None:
        """Hold a worker that runs as root, which RLIMIT_NPROC does not hold, in the pids cgroup made
        for it (cgroups.py) as it says it is confined, before any student code runs: its own process
        and, in bubblewrap, bubblewrap and the sandbox's init, each with one task, besides the
        worker's THREADS. Each entered it as it started; one that could not is moved in now. Where no
        cgroup can be made the grader's watch alone holds it, as the report's note says
        (isolation.account_note)."""
        if self._pids is None or self.proc is None:
            return
        found = [self.proc.pid, self._sandbox_init, self._worker_pid()]
        try:
            self._pids.hold(list(dict.fromkeys(pid for pid in found if pid)))
        except OSError as error:
            raise _uncapped(error) from None

    def _start_failure(self, fallback: str) -> str:
        """Why a worker ended before it was confined: the last line it (or bubblewrap) wrote."""
        said = self.output().strip().splitlines()
        return said[-1][:300] if said else fallback

    def load(
        self, source: str, filename: str, line: int = 1, fresh: bool = True, timeout: float | None = None
    ) -> LoadReply:
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
        return replies.read(self.receive_line(self._next_id, timeout, answer="functions"), "functions")

    def interrupted(self) -> bool:
        """Whether the load in flight, past its limit, stopped at SIGINT (a KeyboardInterrupt, as
        Jupyter's "Interrupt" raises one) and answered within INTERRUPT_SECONDS: then the worker is
        kept, with what the cells before left defined. False for one that would not stop."""
        pid = self._worker_pid()
        if not pid or self.proc is None:
            return False
        with suppress(ProcessLookupError):
            os.kill(pid, signal.SIGINT)
        self._cpu_base = self._cpu_now()  # what it computes from now on is the interruption's
        try:
            replies.read(self.receive_line(self._next_id, INTERRUPT_SECONDS, answer="interrupted"), "functions")
        except (CallTimedOut, WorkerDied):
            return False
        return True

    def load_harness(self, source: str, filename: str) -> LoadReply:
        """Run an assignment's harness beside the loaded submission (see worker.Loaded.load): code of
        the grader's that builds what properties ask for from the submission's own classes, and
        answers with plain data like any call."""
        self._next_id += 1
        request = {"op": "load", "harness": True, "source": source, "filename": filename, "id": self._next_id}
        self._send(json.dumps(request).encode() + b"\n", self.limits.load_timeout, 1)
        timeout = self.limits.load_timeout
        return replies.read(self.receive_line(self._next_id, timeout, answer="functions"), "functions")

    def call(
        self, function: str, encoded_args: str, want_args: bool = False, timeout: float | None = None
    ) -> CallReply:
        """Call `function` on arguments already encoded as a list (`encode`: the caller reuses the text),
        within `timeout` seconds (the limits' call_timeout by default)."""
        return self.receive(self.send_calls([(function, encoded_args, want_args)])[0], timeout)

    def send_calls(self, calls: list[tuple[str, str, bool]], hold: bool = False) -> list[int]:
        """Queue calls; the worker runs them in order and answers each as soon as it is done, or with
        `hold`, several at a time (see worker.Outbox): for a grader that reads them all before it
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

    def receive(self, request_id: int, timeout: float | None = None) -> CallReply:
        """The reply to the call `request_id`, read whole and checked (see `receive_line`, replies.read)."""
        return replies.read(self.receive_line(request_id, timeout))

    def receive_line(self, request_id: int, timeout: float | None = None, answer: str = "returned") -> bytes:
        """The reply to `request_id` as it came, skipping replies to earlier requests nobody waits for
        any more. Only its JSON part is read here, enough to tell whom it answers and that it answers
        well formed; replies.read reads its numbers, for a caller that needs more than its digest.

        CPU time counts from the last whole reply read before this wait (the calls in flight have run
        since), wall-clock time from the start of the wait (until then a worker may have waited on a
        full reply pipe), and replies to earlier requests read here restart neither: calls nobody waits
        for get one timeout in all, not one each (see clocks.enforce). A reply that reports more CPU
        time than `timeout` has timed out too. The clocks are read once there is something to time: a
        reply read ahead is usually here already, and a reading of the worker's clocks is a system call.
        """
        timeout = self.limits.call_timeout if timeout is None else timeout
        since: Clocks | None = None
        waited_from: Clocks | None = None
        try:
            while True:
                if not self._lines:
                    if since is None:
                        waited_from = self._clocks(self._cpu_now())
                        since = Clocks(self._cpu_base, waited_from.wall, waited_from.waited)
                    self._wait_for_line(since, timeout)
                line = self._lines.popleft()
                self._held -= len(line)
                head = replies.head(line)
                if head is None:
                    raise WorkerDied(replies.PROTOCOL_BROKEN)
                if head.get("id") == request_id:
                    return self._taken_line(line, head, request_id, timeout, answer)
                since = since or self._clocks(self._cpu_base)
                clocks.enforce(since, self._clocks(self._cpu_now()), timeout)
        finally:
            if waited_from is not None and self.proc is not None:
                answered = self._answered()  # read first: the grader's time awake falls within the wait
                self._blocked += clocks.blocked(waited_from, self._clocks(self._cpu_now()), answered)

    def _taken_line(self, line: bytes, head: dict[str, Any], request_id: int, timeout: float, answer: str) -> bytes:
        """`line`, the reply to `request_id`, checked as that answer and taken."""
        if not replies.well_formed(head, answer):
            raise WorkerDied(replies.PROTOCOL_BROKEN)
        self._taken = request_id
        # The worker's own word can only fail a call; a new worker's readiness, or an interrupted load's
        # answer, has no time of its own to be held to.
        if answer not in ("ready", "interrupted") and head["cpu"] > timeout:
            raise CallTimedOut(f"took more than {seconds(timeout)} s of CPU time")
        self.last_answer = hashlib.sha256(replies.answer_part(line)).digest()[:16]
        self.last_line = line
        return line

    def _send(self, data: bytes, timeout: float, calls: int) -> None:
        """Write a request of `calls` calls whole, reading replies to earlier calls meanwhile: a worker
        blocked on a full reply pipe reads no requests, and the two processes would otherwise wait on
        each other. Nothing is sent before the worker has said it is confined.

        A worker still answering earlier calls is making progress, so each whole reply restarts the
        clocks: only one that answers nothing for a call's limits (see clocks.enforce) has timed out. A
        byte at a time is no progress, and however the replies come, the send ends by the time every
        call in flight could have used its limits.
        """
        self._confined()
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
            clocks.enforce(since, now, timeout)
            clocks.enforce(started, now, timeout, in_flight)
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

    def _wait_for_line(self, since: Clocks, timeout: float) -> None:
        """Wait for a whole reply while the clocks since `since` are within the limits."""
        poller = _poller({self._reply_read: select.POLLIN})
        while not self._lines:
            self._polled = clocks.awake()
            if self._reply_read not in self._wait(poller) or not self._read_replies():
                clocks.enforce(since, self._clocks(self._cpu_now()), timeout)
                self._watch()

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
        self._watch()
        return len(complete)

    def _watch(self) -> None:
        """Stop a worker past its caps on threads or on what it holds on disk, looked at every
        WATCH_SECONDS at most while the grader waits on it or reads from it: the kernel caps each file
        and the threads (RLIMIT_NPROC or a pids cgroup), and this caps the files' number and bytes:
        those in its private folder and those it removed but holds open (folders.unlinked)."""
        now = time.monotonic()
        if now - self._watched < WATCH_SECONDS or not self._ready:
            return
        self._watched = now
        clock = self._worker_clock()
        reading = clock.read() if clock is not None else None
        if reading is not None and reading.threads > THREADS:
            self.stop()
            raise WorkerDied(f"the submission started more than {THREADS} threads")
        held = self._folder_usage()
        if held is not None and (
            held.entries > self.limits.folder_files or held.bytes + self._unlinked() > self.limits.folder_bytes
        ):
            self.stop()
            raise WorkerDied(
                f"the submission wrote more than its private folder may hold ({self.limits.folder_files} "
                f"files and {self.limits.folder_bytes // MIB} MiB)"
            )

    def _folder_usage(self) -> folders.Usage | None:
        """What the worker's private folder holds now; None before it has one."""
        return folders.usage(self.directory, self.limits.folder_files) if self.directory else None

    def _unlinked(self) -> int:
        """The bytes of the files the worker removed but holds open, its output file (the grader's,
        capped by the file-size limit) left out."""
        pid = self._worker_pid()
        return folders.unlinked(pid, {self._output_file}) if pid else 0

    def _wait(self, poller: select.poll) -> set[int]:
        """The descriptors ready for their event (or hung up) within one poll slice; none if no one is."""
        return {fd for fd, _ in poller.poll(POLL_SECONDS * 1000)}

    def _clocks(self, cpu: float | None) -> Clocks:
        """The wall clock and the worker's wait for a CPU and time on one as they are now, with `cpu` for
        its CPU time: the current one, or the baseline a wait counts from."""
        clock = self._worker_clock()
        reading = clock.last if clock is not None else None
        if reading is None:
            return Clocks(cpu, time.monotonic(), None)
        return Clocks(cpu, time.monotonic(), reading.waited, reading.ran)

    def _answered(self) -> float:
        """Seconds this thread has been awake since its last wait for a reply began: after the reply
        that ended the wait came, as it slept till then (see clocks.blocked)."""
        now = clocks.awake()
        return 0.0 if now is None or self._polled is None else max(0.0, now - self._polled)

    def _cpu_now(self) -> float | None:
        clock = self._worker_clock()
        if clock is None:
            return None
        reading = clock.read()
        return None if reading is None else reading.cpu

    def _worker_clock(self) -> ProcessClock | None:
        """The worker's clocks, opened the first time they are needed; None where /proc cannot give
        them, or while the sandbox has not started the worker yet (it has used nothing then)."""
        if self._clock is None:
            pid = self._worker_pid()
            if pid:
                with suppress(OSError):
                    self._clock = ProcessClock(pid)
        return self._clock

    def _worker_pid(self) -> int | None:
        """The worker's pid; 0 while the sandbox has not started it yet; None if /proc cannot say.

        Under bubblewrap, `self.proc` is bubblewrap, and the worker is the only child of the sandbox's init.
        """
        if self.proc is None:
            return None
        if self.isolation is not Isolation.BUBBLEWRAP:
            return self.proc.pid
        self._sandbox_known()
        init = self._sandbox_init
        if init is None:
            return None
        found = bubblewrap.children(init)
        if found is None:
            return None
        return found[0] if found else 0

    def spent(self) -> float | None:
        """Seconds the worker processes of this handle have spent computing (every thread) or blocked
        while the grader waited on them, as the kernel counts them; None where /proc cannot count."""
        if not sys.platform.startswith("linux"):
            return None
        clock = self._clock
        current = 0.0
        if clock is not None:
            reading = clock.read()
            current = (reading or clock.last).cpu
        return self._spent_before + current + self._blocked

    def _death_message(self) -> str:
        assert self.proc is not None
        try:
            code = self.proc.wait(timeout=1.0)
        except subprocess.TimeoutExpired:
            return "the worker closed its connection to the grader"
        sandboxed = isinstance(self.proc, subprocess.Popen) and self.isolation is Isolation.BUBBLEWRAP
        number = -code if code < 0 else bubblewrap.exit_signal(code) if sandboxed else None
        if number is not None:
            if number == signal.SIGKILL and self._used_its_cpu():
                return f"the worker used all the CPU time a grade gives it ({self.limits.cpu_seconds:g} s)"
            return f"the worker process was killed by {signal_name(number)}"
        if code == UNCONFINED and not self._ready:
            return "the worker could not confine itself"
        return f"the worker process exited with code {code}"

    def _used_its_cpu(self) -> bool:
        clock = self._clock
        return clock is not None and clock.last.cpu >= self.limits.cpu_seconds - 1

    def output(self) -> str:
        """What the submission printed, capped; shown to the student, never parsed."""
        if self._output < 0:  # stopped
            return ""
        try:
            return os.pread(self._output, self.limits.output_bytes, 0).decode("utf-8", "replace")
        except OSError:
            return ""

    def stop(self) -> None:
        """End the worker and everything it started, and remove its folder; nothing if already stopped.
        The time it takes counts as the worker's: a worker is stopped early only for what it did."""
        with uninterrupted():
            started = time.monotonic()
            self._stop()
            if self.directory:
                folders.remove(self.directory)
                self.directory = ""
            if self._reserved is not None:
                self._reserved.release()
                self._reserved = None
            self._spent_before += time.monotonic() - started

    def restart(self) -> None:
        """End the worker and start another in its place, with the same private folder and what the
        submission left in it (see `_own_folder`)."""
        with uninterrupted():
            started = time.monotonic()
            self._stop()
            self._spent_before += time.monotonic() - started
        self.start()

    def _stop(self) -> None:
        self._replaced = self.proc is not None or self._replaced
        if self._clock is not None:
            reading = self._clock.read() or self._clock.last
            self._spent_before += reading.cpu + self._blocked
            self._clock.close()
            self._clock = None
        self._blocked = 0.0
        self._sandbox_known(GRACE_SECONDS)
        if self._sandbox >= 0:
            with suppress(ProcessLookupError):
                signal.pidfd_send_signal(self._sandbox, signal.SIGKILL)
            os.close(self._sandbox)
            self._sandbox = -1
        self._sandbox_init = None
        if self.proc is not None:
            _kill_group(self.proc)
            if self.isolation is Isolation.BUBBLEWRAP:
                _await_hangup(self._reply_read)
            self.proc = None
        if self._pids is not None:
            self._pids.remove()
            self._pids = None
        for fd in (self._request_write, self._reply_read):
            if fd >= 0:
                os.close(fd)
        self._request_write = self._reply_read = -1
        if self._output >= 0:
            os.close(self._output)
            self._output = -1


# While `forked_workers` is on: ((the wall, the user), the fork server) of this process.
_fork_server: tuple[tuple[Isolation, str | None], ForkServer] | None = None


@contextmanager
def forked_workers(limits: Limits, assignment_dirs: list[str] | None = None) -> Iterator[None]:
    """Within the block, this process's workers fork from one preloaded fork server (see forkserver.py)
    where they run outside bubblewrap as one user: for a grader that starts a worker per submission,
    for a whole class. Under bubblewrap each worker gets a sandbox of its own, and where each runs as a
    uid of its own (accounts.py) it is started alone as that uid: no fork server is started.
    `assignment_dirs`: as for `Worker.started`."""
    global _fork_server
    if _fork_server is not None:  # inside another's block, whose fork server forks one worker at a time and
        held, _fork_server = _fork_server, None  # ends the last: this block's workers start alone instead
        try:
            yield
        finally:
            _fork_server = held
        return
    wall = probe(limits, assignment_dirs)
    script = worker_program()
    if wall is Isolation.BUBBLEWRAP or isolation.who(wall, limits.run_as, script) is Kind.OWN:
        yield  # each worker a sandbox, or a uid, of its own: started alone
        return
    user = limits.run_as
    account = accounts.named(user) or accounts.unreserved()
    try:
        started = ForkServer(
            script,
            isolation.environment,
            isolation.switch(account.ids),
            isolation.seccomp_pipe(wall, account),
        )
    except GradekitError:  # each worker, started alone, reports it for its own submission
        yield
        return
    _fork_server = ((wall, user), started)
    try:
        yield
    finally:
        _fork_server = None
        started.close()


def probe(limits: Limits, assignment_dirs: list[str] | None = None) -> Isolation:
    """The wall workers run behind here for `limits` (its user and what it asks for), found by starting
    one that confines itself, unless one already has in this process; GradekitError where none can."""
    known = isolation.known(limits.isolation, limits.run_as)
    if known is not None:
        return known
    with Worker.started(limits, assignment_dirs) as worker:
        worker._confined()
        assert worker.isolation is not None
        return worker.isolation


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


def _poller(events: dict[int, int]) -> select.poll:
    """A poll object for `events`, hang-ups and errors too: a worker that is gone ends a wait at once."""
    poller = select.poll()
    for fd, event in events.items():
        poller.register(fd, event | select.POLLHUP | select.POLLERR)
    return poller


def _uncapped(error: OSError) -> HostFailure:
    """A root worker's threads the kernel would not cap: the bound the report names must hold, or no
    grade is given."""
    return HostFailure(f"the worker's threads could not be capped by a pids cgroup: {error}")


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
