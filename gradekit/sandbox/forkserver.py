"""Workers forked from a preloaded template, for a grader process that grades a whole class.

A worker is a fresh interpreter, and on a small machine starting Python, the worker's imports and
NumPy (which many submissions import) costs more than many submissions' calls. A grader that grades
many files (`gradekit grade`, the self-test) starts one template instead: an interpreter started
exactly as a worker is, with NumPy imported, in which no student code ever runs. Each worker is
forked from it and becomes a worker at once (its own session, folder, environment, output file,
limits and guard), as one started alone would.

Where the machine has the OS sandbox, the template runs inside one (isolation.py), the same sandbox
a worker started alone gets except that its first process may fork, and its workers take turns in
it: before forking the next, the template kills every earlier worker and empties the private folder
they share, and each worker installs the worker's seccomp filter before it runs anything. So a worker
still sees nothing but the runtime and a folder of its own, and no classmate: the one before it is
gone, and so is everything it wrote (the folder is the only place in the sandbox a worker can write,
and the filter refuses the System V and POSIX objects that would outlive it). The template is the
sandbox's init, which the kernel shields from its workers' signals, and non-dumpable.

Differences a submission can see: NumPy is already in `sys.modules`, and it counts against the
memory limit whether the submission imports it or not; sandboxed, the template is in its /proc.

The template is the parent of its workers, so it reports how each one ended; `Forked` turns those
reports back into what `subprocess.Popen` would say. A template that is lost (killed from outside,
or silent for REPORT_SECONDS about a worker it was told to end) is never used again: the next
worker is started alone.
"""

from __future__ import annotations

import json
import os
import select
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from contextlib import suppress
from pathlib import Path
from typing import Any

from gradekit.errors import GradekitError
from gradekit.sandbox import isolation
from gradekit.sandbox.stops import deferred

SPAWN_SECONDS = 10.0  # a template that forks no worker in this long is treated as lost
REPORT_SECONDS = 10.0  # nor one that does not report, in this long, the end of a worker that was killed


class TemplateLost(Exception):
    """The template stopped answering; workers are started alone from now on."""


class Template:
    """The grader's end of one template process."""

    def __init__(
        self,
        script: str,
        environment: Callable[[str], dict[str, str]],
        switch: dict[str, Any],
        hidden: tuple[str, ...] | None = None,
    ) -> None:
        """`environment(folder)`: a worker's environment with `folder` as its home; `switch`: Popen's
        arguments that run it as another user; `hidden`: where given, the template runs in the OS
        sandbox with these folders covered, as a worker would. The template is started as a worker is."""
        self.directory = tempfile.mkdtemp(prefix="gradekit-template-")
        self.hidden = hidden
        self.proc: subprocess.Popen[bytes] | None = None
        self._init = -1  # sandboxed: a pidfd of the sandbox's init, whose death ends everything in it
        self._init_pid: int | None = None
        self.channel, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        self.exits: dict[int, int] = {}
        self.lost = False
        try:
            if "user" in switch:
                os.chown(self.directory, switch["user"], switch["group"])
            info = self._start(script, theirs, environment, switch)
            if info >= 0:
                try:
                    self._init_pid = isolation.sandbox_pid(info, SPAWN_SECONDS)
                finally:
                    os.close(info)
                self._init = isolation.pidfd(self._init_pid)
                if self._init < 0:
                    raise GradekitError("the worker template's sandbox did not start")
        except BaseException:  # an error, or a stop: whatever was started is ended
            self.close()
            raise
        finally:
            theirs.close()

    def _start(
        self, script: str, theirs: socket.socket, environment: Callable[[str], dict[str, str]], switch: dict[str, Any]
    ) -> int:
        """Start the template process, in the OS sandbox where `hidden` is given, its handle kept in
        `proc` before a stop can land (see stops.py); the descriptor bubblewrap tells the sandbox's
        first process on, or -1 unsandboxed."""
        argv = [sys.executable, script, "--template", str(theirs.fileno())]
        home, keep, info = self.directory, [], -1  # keep: descriptors the template is given, then closed here
        try:
            if self.hidden is not None:
                keep.append(isolation.worker_filter())
                info, info_write = os.pipe()
                keep.append(info_write)
                inside = [sys.executable, isolation.INSIDE_SCRIPT, *argv[2:], str(keep[0])]
                argv, extra = isolation.command(inside, self.directory, self.hidden, info_write, script, forks=True)
                keep += extra
                home = isolation.INSIDE_FOLDER
            with deferred():
                self.proc = subprocess.Popen(
                    argv,
                    stdin=subprocess.DEVNULL,
                    stdout=subprocess.DEVNULL,
                    stderr=subprocess.DEVNULL,
                    cwd=self.directory,
                    env=environment(home),
                    pass_fds=(theirs.fileno(), *keep),
                    start_new_session=True,
                    **switch,
                )
        except BaseException as error:
            if info >= 0:
                os.close(info)
            if isinstance(error, OSError):
                raise GradekitError(f"the worker template could not be started: {error}") from None
            raise
        finally:
            for fd in keep:
                os.close(fd)
        return info

    def spawn(self, request: dict[str, Any], fds: tuple[int, int, int]) -> Forked:
        """A worker forked with `request` (settings, directory, environment) and these descriptors:
        its request pipe, its reply pipe and its output file."""
        if self.lost:
            raise TemplateLost()
        try:
            socket.send_fds(self.channel, [json.dumps(request).encode()], list(fds))
            deadline = time.monotonic() + SPAWN_SECONDS
            while True:
                message = self._next(deadline)
                if message is None:
                    raise TemplateLost()
                if "pid" in message:
                    return Forked(self, message["pid"], self._outside(message["pid"]))
        except (OSError, TemplateLost):
            self.close()
            raise TemplateLost() from None

    def _outside(self, pid: int) -> int:
        """The pid this process knows a worker by: the template's own where it is not sandboxed, else
        the one of the template's children (the template is the sandbox's init) whose pid in the
        sandbox is `pid`."""
        if self._init_pid is None:
            return pid
        for child in isolation.children(self._init_pid) or []:
            if _pid_inside(child) == pid:
                return child
        raise TemplateLost()

    def exit_code(self, forked: Forked, deadline: float) -> int | None:
        """How `forked` ended, waiting until `deadline` for the report; None if it has not ended by then.

        With the template lost, nothing will report it: once the process is gone, its code is taken
        to be that of the SIGKILL `stop` sends every worker in the end.
        """
        pid = forked.reported
        while pid not in self.exits:
            if self.lost:
                if not _running(forked.pid):
                    return -signal.SIGKILL
                if time.monotonic() >= deadline:
                    return None
                time.sleep(0.01)
                continue
            if self._next(deadline) is None and not self.lost:
                return None
        return self.exits.pop(pid)

    def _next(self, deadline: float) -> dict[str, Any] | None:
        """The next message, noting exit reports as it goes; None at the deadline or if lost."""
        remaining = deadline - time.monotonic()
        if not select.select([self.channel], [], [], None if remaining == float("inf") else max(remaining, 0))[0]:
            return None
        try:
            data = self.channel.recv(4096)
        except OSError:
            data = b""
        if not data:
            self.close()
            return None
        message = json.loads(data)
        if "exited" in message:
            self.exits[message["exited"]] = message["code"]
        return message

    def close(self) -> None:
        """End the template, killed with its process group (see `isolation.kill`: a sandbox that never
        started may have left bubblewrap's child waiting); its workers are stopped by their Workers."""
        if self.lost:
            return
        self.lost = True
        self.channel.close()
        if self._init >= 0:
            with suppress(ProcessLookupError):
                signal.pidfd_send_signal(self._init, signal.SIGKILL)
            os.close(self._init)
            self._init = -1
        if self.proc is not None:
            isolation.kill(self.proc)
        shutil.rmtree(self.directory, ignore_errors=True)


class Forked:
    """A forked worker, answering as `subprocess.Popen` does for the calls `Worker` makes on it.

    `pid` is the worker's pid as this process knows it, `reported` as its template does (they differ
    in a sandbox's PID namespace)."""

    def __init__(self, template: Template, reported: int, pid: int) -> None:
        self.template = template
        self.reported = reported
        self.pid = pid
        self.returncode: int | None = None

    def wait(self, timeout: float | None = None) -> int:
        """How the worker ended; with no `timeout`, a template that has not said so in REPORT_SECONDS
        is closed (and, sandboxed, everything in it killed) and the worker taken as killed."""
        if self.returncode is None:
            limit = REPORT_SECONDS if timeout is None else timeout
            self.returncode = self.template.exit_code(self, time.monotonic() + limit)
            if self.returncode is None and timeout is None:
                self.template.close()
                self.returncode = self.template.exit_code(self, time.monotonic() + REPORT_SECONDS)
            if self.returncode is None:
                raise subprocess.TimeoutExpired(f"worker {self.pid}", timeout or 0.0)
        return self.returncode


def _running(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def _pid_inside(pid: int) -> int | None:
    """A process's pid in its own (innermost) PID namespace, from the NSpid line of its status."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return None
    for line in status.splitlines():
        if line.startswith("NSpid:"):
            return int(line.split()[-1])
    return None
