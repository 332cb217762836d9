"""Workers forked from a preloaded fork server, for a grader that grades a whole class outside bubblewrap.

A worker is a fresh interpreter, and on a small machine starting Python, the worker's imports and
NumPy (which many submissions import) costs more than many submissions' calls. A grader that grades
many files (`gradekit grade`, the self-test) outside bubblewrap (under Landlock, or the guard alone)
starts one fork server instead: an interpreter started exactly as a worker is, as the same user, with
NumPy imported, in which no student code ever runs. Each worker is forked from it and confines itself
at once (its own session, folder, environment, output file, limits, Landlock rules, seccomp filter
and guard), as one started alone would, before it says it is ready. Under bubblewrap no fork server is
used: each worker gets a sandbox of its own, so that no two students share a process namespace.

Differences a submission can see: NumPy is already in `sys.modules`, and it counts against the
memory limit whether the submission imports it or not.

The fork server is the parent of its workers, so it reports how each one ended; `Forked` turns those
reports back into what `subprocess.Popen` would say. A fork server that is lost (killed from outside,
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
from typing import Any

from gradekit.errors import GradekitError
from gradekit.sandbox.stops import deferred

SPAWN_SECONDS = 10.0  # a fork server that forks no worker in this long is treated as lost
REPORT_SECONDS = 10.0  # nor one that does not report, in this long, the end of a worker that was killed


class ForkServerLost(Exception):
    """The fork server stopped answering; workers are started alone from now on."""


class ForkServer:
    """The grader's end of one fork server process."""

    def __init__(
        self, script: str, environment: Callable[[str], dict[str, str]], switch: dict[str, Any], program: int | None
    ) -> None:
        """`environment(folder)`: a worker's environment with `folder` as its home; `switch`: Popen's
        arguments that run it as another user; `program`: a pipe holding the seccomp filter each worker
        installs (None for none), which the fork server reads once and this closes. The fork server is
        started as a worker is."""
        self.directory = tempfile.mkdtemp(prefix="gradekit-fork-server-")
        self.proc: subprocess.Popen[bytes] | None = None
        self.channel, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        self.exits: dict[int, int] = {}
        self.lost = False
        try:
            if "user" in switch:
                os.chown(self.directory, switch["user"], switch["group"])
            given = () if program is None else (program,)
            argv = [sys.executable, script, "--fork-server", str(theirs.fileno()), *map(str, given)]
            with deferred():
                self.proc = subprocess.Popen(
                    argv,
                    stdin=subprocess.DEVNULL,
                    stdout=subprocess.DEVNULL,
                    stderr=subprocess.DEVNULL,
                    cwd=self.directory,
                    env=environment(self.directory),
                    pass_fds=(theirs.fileno(), *given),
                    start_new_session=True,
                    **switch,
                )
        except BaseException as error:  # an error, or a stop: whatever was started is ended
            self.close()
            if isinstance(error, OSError):
                raise GradekitError(f"the fork server could not be started: {error}") from None
            raise
        finally:
            theirs.close()
            if program is not None:
                os.close(program)

    def spawn(self, request: dict[str, Any], fds: tuple[int, int, int]) -> Forked:
        """A worker forked with `request` (settings, directory, environment) and these descriptors:
        its request pipe, its reply pipe and its output file."""
        if self.lost:
            raise ForkServerLost()
        try:
            socket.send_fds(self.channel, [json.dumps(request).encode()], list(fds))
            deadline = time.monotonic() + SPAWN_SECONDS
            while True:
                message = self._next(deadline)
                if message is None:
                    raise ForkServerLost()
                if "pid" in message:
                    return Forked(self, message["pid"], message["pid"])
        except (OSError, ForkServerLost):
            self.close()
            raise ForkServerLost() from None

    def exit_code(self, forked: Forked, deadline: float) -> int | None:
        """How `forked` ended, waiting until `deadline` for the report; None if it has not ended by then.

        With the fork server lost, nothing will report it: once the process is gone, its code is taken
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
        """End the fork server, killed with its process group; its workers are stopped by their Workers."""
        if self.lost:
            return
        self.lost = True
        self.channel.close()
        if self.proc is not None:
            with suppress(ProcessLookupError):
                os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait()
        shutil.rmtree(self.directory, ignore_errors=True)


class Forked:
    """A forked worker, answering as `subprocess.Popen` does for the calls `Worker` makes on it.

    `pid` is the worker's pid, `reported` the one its fork server reports it by (the same number: both
    live in this process's PID namespace)."""

    def __init__(self, server: ForkServer, reported: int, pid: int) -> None:
        self.server = server
        self.reported = reported
        self.pid = pid
        self.returncode: int | None = None

    def wait(self, timeout: float | None = None) -> int:
        """How the worker ended; with no `timeout`, a fork server that has not said so in REPORT_SECONDS
        is closed (and, sandboxed, everything in it killed) and the worker taken as killed."""
        if self.returncode is None:
            limit = REPORT_SECONDS if timeout is None else timeout
            self.returncode = self.server.exit_code(self, time.monotonic() + limit)
            if self.returncode is None and timeout is None:
                self.server.close()
                self.returncode = self.server.exit_code(self, time.monotonic() + REPORT_SECONDS)
            if self.returncode is None:
                raise subprocess.TimeoutExpired(f"worker {self.pid}", timeout or 0.0)
        return self.returncode


def _running(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True
