"""git, run on repositories that students pushed, as `gradekit collect` runs it.

Everything in such a repository is hostile, so every git command runs with no hook
(core.hooksPath is /dev/null), no fsmonitor, no automatic gc (which could drop the commit a student
was pinned at), every object received checked (transfer.fsckObjects), never a password prompt, and
only the transports `fetched_over` allows: https, http, ssh and git, and local paths (file) only
where the course said so. A command past GIT_TIMEOUT is stopped with whatever it started (ssh, a
credential helper), and so is a clone or fetch whose repository grows past MAX_REPOSITORY on disk.
Every failure is `Uncollectable`, whose message is one sentence: the reason one student is missing,
never a failed collection.
"""

from __future__ import annotations

import os
import signal
import subprocess
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO

__all__ = ["GIT_TIMEOUT", "MAX_REPOSITORY", "Uncollectable", "fetched_over", "git", "git_bytes", "streamed"]

GIT_TIMEOUT = 300  # seconds one git command may run: a clone over a slow network
MAX_REPOSITORY = 512 * 2**20  # the most a student's bare clone may take on disk, history and all
WATCHED = 0.5  # seconds between looks at the size of a clone as git fetches into it
GIT = (
    "git",
    "-c",
    "core.hooksPath=/dev/null",
    "-c",
    "core.fsmonitor=false",
    "-c",
    "transfer.fsckObjects=true",
    "-c",
    "gc.auto=0",
    "-c",
    "maintenance.auto=false",
    "-c",
    "protocol.allow=never",
)
REMOTE = ("https", "http", "ssh", "git")  # the transports a student's repository is fetched over
GIT_ENVIRONMENT = {"GIT_TERMINAL_PROMPT": "0", "GCM_INTERACTIVE": "never", "GIT_SSH_VARIANT": "ssh", "LC_ALL": "C"}
SSH = "ssh -o BatchMode=yes"  # a key that needs a passphrase fails, rather than waiting on a terminal


class Uncollectable(Exception):
    """One student's repository cannot be collected; the message says why, in one sentence."""


def fetched_over(local: bool) -> tuple[str, ...]:
    """The options that let a clone or fetch use the remote transports, and local paths where `local`."""
    allowed = (*REMOTE, "file") if local else REMOTE
    return tuple(option for name in allowed for option in ("-c", f"protocol.{name}.allow=always"))


def git(repository: Path | None, *args: str, growing: Path | None = None) -> str:
    """git's standard output as text (bytes that are not UTF-8 kept as their escapes); see `git_bytes`."""
    return git_bytes(repository, list(args), growing=growing).decode("utf-8", "surrogateescape")


def git_bytes(
    repository: Path | None, args: list[str], given: bytes | None = None, growing: Path | None = None
) -> bytes:
    """git's standard output, run on `repository` (a bare clone) with `given` on its standard input,
    or Uncollectable with the first line git said on failure. Where git fetches into the folder
    `growing`, its size on disk is watched as git runs, and git stopped once it is over
    MAX_REPOSITORY: a repository can be as large as its student likes, the disk is the class's."""
    process = _started(repository, args, subprocess.PIPE if given is not None else subprocess.DEVNULL)
    started = time.monotonic()
    while True:
        try:
            output, said = process.communicate(given, timeout=WATCHED if growing is not None else GIT_TIMEOUT)
            break
        except subprocess.TimeoutExpired:
            given = None  # sent already: communicate carries on where it was
            over = growing is not None and _over(growing)
            if over or time.monotonic() - started >= GIT_TIMEOUT:
                _stop(process)
                raise Uncollectable(_too_large(args) if over else _too_long(args)) from None
    if growing is not None and _over(growing):
        raise Uncollectable(_too_large(args))
    _check(args, process.returncode, said)
    return output


def _too_large(args: list[str]) -> str:
    return f"its repository is over the {MAX_REPOSITORY / 2**20:g} MiB collected, as git {_verb(args)} wrote it"


def _too_long(args: list[str]) -> str:
    return f"git {_verb(args)} did not finish within {GIT_TIMEOUT} s"


def _over(folder: Path) -> bool:
    """Whether the files in `folder` take more than MAX_REPOSITORY on disk (a folder git writes:
    walked without recursing)."""
    total, folders = 0, [str(folder)]
    while folders:
        try:
            with os.scandir(folders.pop()) as entries:
                for entry in entries:
                    if entry.is_dir(follow_symlinks=False):
                        folders.append(entry.path)
                    else:
                        total += entry.stat(follow_symlinks=False).st_blocks * 512
        except FileNotFoundError:  # git removed it as it went: a temporary file, say
            continue
    return total > MAX_REPOSITORY


@contextmanager
def streamed(repository: Path | None, args: list[str]) -> Iterator[IO[bytes]]:
    """git's standard output as it comes, for output a repository can make endless (a listing of a
    tree that names one folder a million times): a reader that has read enough raises, and git is
    stopped then, or at GIT_TIMEOUT. Uncollectable where git failed or ran out of time."""
    with tempfile.TemporaryFile() as said:
        process = _started(repository, args, subprocess.DEVNULL, said)
        expired = threading.Event()

        def expire() -> None:
            expired.set()
            _kill(process)

        timer = threading.Timer(GIT_TIMEOUT, expire)
        timer.start()
        assert process.stdout is not None
        try:
            yield process.stdout
            process.wait()  # read to its end: git is exiting (or the timer stops it)
        finally:
            timer.cancel()
            _stop(process)
        if expired.is_set():
            raise Uncollectable(_too_long(args))
        said.seek(0)
        _check(args, process.returncode, said.read(4096))


def _started(
    repository: Path | None, args: list[str], stdin: int, stderr: int | IO[bytes] = subprocess.PIPE
) -> subprocess.Popen[bytes]:
    command = [*GIT, *(["--git-dir", str(repository)] if repository is not None else []), *args]
    environment = {**os.environ, **GIT_ENVIRONMENT}
    environment.setdefault("GIT_SSH_COMMAND", SSH)
    try:
        return subprocess.Popen(
            command, stdin=stdin, stdout=subprocess.PIPE, stderr=stderr, env=environment, start_new_session=True
        )
    except OSError as error:
        raise Uncollectable(f"git could not be started ({error.strerror or error})") from None


def _stop(process: subprocess.Popen[bytes]) -> None:
    """Stop `process` and whatever it started, if it is still running, and wait for it."""
    _kill(process)
    process.communicate()


def _kill(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        try:
            os.killpg(process.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass


def _verb(args: list[str]) -> str:
    """The git command `args` run, past the options given before it."""
    at = 0
    while at < len(args) - 1 and args[at] == "-c":
        at += 2
    return args[at]


def _check(args: list[str], code: int, said: bytes) -> None:
    if code != 0:
        lines = [line for line in said.decode("utf-8", "replace").splitlines() if line.strip()]
        raise Uncollectable(f"git {_verb(args)} failed: {lines[0].strip() if lines else f'exit code {code}'}")
