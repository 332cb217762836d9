"""Workers forked from a preloaded template, for a grader process that grades a whole class.

A worker is a fresh interpreter, and on a small machine starting Python, the worker's imports and
NumPy (which many submissions import) costs more than many submissions' calls. A grader that grades
many files (`gradekit grade`, the self-test) starts one template instead: an interpreter started
exactly as a worker is, with NumPy imported, in which no student code ever runs. Each worker is
forked from it and becomes a worker at once (its own session, folder, environment, output file,
limits and guard), as one started alone would.

Differences a submission can see: NumPy is already in `sys.modules`, and it counts against the
memory limit whether the submission imports it or not.

The template is the parent of its workers, so it reports how each one ended; `Forked` turns those
reports back into what `subprocess.Popen` would say. A template that is lost (killed from outside)
is never used again: the next worker is started alone.
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
from typing import Any

from gradekit.errors import GradekitError

SPAWN_SECONDS = 10.0  # a template that forks no worker in this long is treated as lost


class TemplateLost(Exception):
    """The template stopped answering; workers are started alone from now on."""


class Template:
    """The grader's end of one template process."""

    def __init__(self, script: str, environment: Callable[[str], dict[str, str]], switch: dict[str, Any]) -> None:
        """`environment(folder)`: a worker's environment with `folder` as its home; `switch`: Popen's
        arguments that run it as another user. The template is started as a worker is."""
        self.directory = tempfile.mkdtemp(prefix="gradekit-template-")
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        if "user" in switch:
            os.chown(self.directory, switch["user"], switch["group"])
        try:
            self.proc = subprocess.Popen(
                [sys.executable, script, "--template", str(theirs.fileno())],
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                cwd=self.directory,
                env=environment(self.directory),
                pass_fds=(theirs.fileno(),),
                start_new_session=True,
                **switch,
            )
        except OSError as error:
            ours.close()
            shutil.rmtree(self.directory, ignore_errors=True)
            raise GradekitError(f"the worker template could not be started: {error}") from None
        finally:
            theirs.close()
        self.channel = ours
        self.exits: dict[int, int] = {}
        self.lost = False

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
                    return Forked(self, message["pid"])
        except (OSError, TemplateLost):
            self.close()
            raise TemplateLost() from None

    def exit_code(self, pid: int, deadline: float) -> int | None:
        """How `pid` ended, waiting until `deadline` for the report; None if it has not ended by then.

        With the template lost, nothing will report it: once the process is gone, its code is taken
        to be that of the SIGKILL `stop` sends every worker in the end.
        """
        while pid not in self.exits:
            if self.lost:
                if not _running(pid):
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
        """End the template (it exits when its channel closes; its workers are stopped by their Workers)."""
        if self.lost:
            return
        self.lost = True
        self.channel.close()
        try:
            self.proc.wait(timeout=1.0)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        shutil.rmtree(self.directory, ignore_errors=True)


class Forked:
    """A forked worker, answering as `subprocess.Popen` does for the calls `Worker` makes on it."""

    def __init__(self, template: Template, pid: int) -> None:
        self.template = template
        self.pid = pid
        self.returncode: int | None = None

    def wait(self, timeout: float | None = None) -> int:
        if self.returncode is None:
            deadline = time.monotonic() + (timeout if timeout is not None else float("inf"))
            self.returncode = self.template.exit_code(self.pid, deadline)
            if self.returncode is None:
                raise subprocess.TimeoutExpired(f"worker {self.pid}", timeout or 0.0)
        return self.returncode


def _running(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True
