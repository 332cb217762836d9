"""The parent's handle on one sandboxed worker: start it, send it requests, and always end it.

Limits enforced here rather than trusted to the child: every request has a deadline (a hung call
costs its timeout, never the grade), a reply has a size cap, and `stop` kills the whole process group,
escalating to SIGKILL when polite signals are ignored, so nothing the submission started survives.
"""
from __future__ import annotations

import json
import os
import select
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import gradekit
import gradekit.reference
from gradekit.config import Limits, cache_folder
from gradekit.errors import CallTimedOut, WorkerDied

WORKER_SCRIPT = Path(__file__).with_name("worker.py")
BLOCKED_NAMES = ("gradekit", "reference")
GRACE_SECONDS = 0.2


def _blocked_roots() -> list[str]:
    """Folders the worker may not open: gradekit, its reference/ (apart in a checkout), the example cache."""
    packages = (gradekit, gradekit.reference)
    return sorted({str(Path(p.__file__).resolve().parent) for p in packages} | {str(cache_folder())})


class Worker:
    """A worker process serving one submission. Use as a context manager so it is always stopped."""

    def __init__(self, limits: Limits = Limits()) -> None:
        self.limits = limits
        self.proc: subprocess.Popen[bytes] | None = None
        self.directory = ""
        self._next_id = 0
        self._buffer = b""

    def __enter__(self) -> Worker:
        self.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def start(self) -> None:
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
            "blocked_names": list(BLOCKED_NAMES),
            "blocked_roots": _blocked_roots(),
        }
        with open(os.path.join(self.directory, "output.txt"), "wb") as output:
            self.proc = subprocess.Popen(
                [sys.executable, str(WORKER_SCRIPT), json.dumps(settings)],
                stdin=subprocess.DEVNULL,
                stdout=output,
                stderr=output,
                cwd=self.directory,
                env=_worker_environment(self.directory),
                pass_fds=(request_read, reply_write),
                start_new_session=True,
            )
        os.close(request_read)
        os.close(reply_write)
        os.set_blocking(self._request_write, False)
        self._buffer = b""

    def load(self, source: str, filename: str) -> dict[str, Any]:
        return self.request({"op": "load", "source": source, "filename": filename}, self.limits.load_timeout)

    def call(self, function: str, encoded_args: str, want_args: bool = False) -> dict[str, Any]:
        """Call `function` on arguments already encoded as a JSON list (the caller reuses the text)."""
        request = {"op": "call", "function": function, "want_args": want_args}
        return self.request(request, self.limits.call_timeout, encoded_args)

    def request(self, message: dict[str, Any], timeout: float, encoded_args: str = "[]") -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        self._next_id += 1
        head = json.dumps({**message, "id": self._next_id})
        line = f'{head[:-1]}, "args": {encoded_args}}}\n'.encode()
        self._send(line, deadline, timeout)
        while True:
            reply = json.loads(self._receive_line(deadline, timeout))
            if reply.get("id") == self._next_id:
                return reply

    def _send(self, data: bytes, deadline: float, timeout: float) -> None:
        while data:
            self._wait(select.POLLOUT, self._request_write, deadline, timeout)
            try:
                data = data[os.write(self._request_write, data):]
            except BrokenPipeError:
                raise WorkerDied(self._death_message()) from None

    def _receive_line(self, deadline: float, timeout: float) -> bytes:
        while b"\n" not in self._buffer:
            self._wait(select.POLLIN, self._reply_read, deadline, timeout)
            chunk = os.read(self._reply_read, 1 << 16)
            if not chunk:
                raise WorkerDied(self._death_message())
            self._buffer += chunk
            if len(self._buffer) > self.limits.reply_bytes + 1024:
                self.stop()
                raise WorkerDied("the worker sent more data than the grader accepts")
        line, _, self._buffer = self._buffer.partition(b"\n")
        return line

    def _wait(self, event: int, fd: int, deadline: float, timeout: float) -> None:
        poller = select.poll()
        poller.register(fd, event | select.POLLHUP | select.POLLERR)
        remaining = deadline - time.monotonic()
        if remaining <= 0 or not poller.poll(remaining * 1000):
            raise CallTimedOut(f"did not answer within {timeout:g} s")

    def _death_message(self) -> str:
        assert self.proc is not None
        try:
            code = self.proc.wait(timeout=1.0)
        except subprocess.TimeoutExpired:
            return "the worker closed its connection to the grader"
        if code < 0:
            name = signal.Signals(-code).name
            return f"the worker process was killed by {name}"
        return f"the worker process exited with code {code}"

    def output(self) -> str:
        """What the submission printed, capped; shown to the student, never parsed."""
        path = os.path.join(self.directory, "output.txt")
        try:
            with open(path, "rb") as handle:
                return handle.read(self.limits.output_bytes).decode("utf-8", "replace")
        except OSError:
            return ""

    def stop(self) -> None:
        if self.proc is not None:
            _kill_group(self.proc)
            self.proc = None
            for fd in (self._request_write, self._reply_read):
                os.close(fd)
        if self.directory:
            shutil.rmtree(self.directory, ignore_errors=True)
            self.directory = ""


def _kill_group(proc: subprocess.Popen[bytes]) -> None:
    """SIGTERM the worker's process group, give it a moment, then SIGKILL everything left in it."""
    _signal_group(proc.pid, signal.SIGTERM)
    try:
        proc.wait(timeout=GRACE_SECONDS)
    except subprocess.TimeoutExpired:
        pass
    _signal_group(proc.pid, signal.SIGKILL)
    proc.wait()


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
