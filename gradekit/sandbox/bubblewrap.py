"""A worker inside bubblewrap: the namespaces, mounts and filter of one sandbox, and how to end it.

Why bubblewrap: it is the sandbox Flatpak is built on, packaged by every major distribution
(`apt-get install bubblewrap`), runs unprivileged through user namespaces with no daemon and no
setuid helper, and every mount it makes is named on its command line, so what a worker can see
is the list built in `command` below and nothing else. Each worker gets a sandbox of its own: its
own user, mount, PID, IPC, network, UTS and cgroup namespaces, so two students graded at once, or
one after the other, share no process numbers, no folder and nothing they can write or lock.

What a worker sees, all of it:
- the Python runtime, read-only: the interpreter's prefixes and the system's /usr libraries, with
  every copy of gradekit in them (its reference and assignments inside) covered by an empty folder;
- its own private folder at /tmp (its working folder, HOME and TMPDIR, and where code that writes to
  /tmp by name writes): a folder of the grader's, made for its grade, kept across the grade's
  restarts of its worker and removed after it (see folders.py); a runtime that lies under /tmp (a
  virtual environment there) is shown in it, read-only, mounted after it;
- the worker's program alone, read-only (worker.py, or its bytecode); a passwd and group file
  naming its one user, so the ordinary ways of asking who and where one is answer;
- a /proc of its own PID namespace, and a /dev of null, zero, full, random and urandom: no terminal
  (a pseudo-terminal comes from the machine's pool) and no /dev/shm;
- no network.
It runs with no capabilities and no new privileges, under the seccomp filter of syscalls.py. When
its bubblewrap process is killed, the kernel kills everything in its PID namespace.
"""

from __future__ import annotations

import functools
import json
import os
import select
import shutil
import signal
import subprocess
import sys
import time
from contextlib import suppress

from gradekit.sandbox import syscalls

INSIDE_HOME = "/tmp"
INSIDE_FOLDER = "/sandbox"  # where the worker's program is shown
INSIDE_ID = 1000  # the uid and gid the worker has inside: the same on every machine
INSIDE_USER = "student"
SYSTEM_FOLDERS = ("/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32")
SYSTEM_FILES = ("/etc/ld.so.cache", "/etc/localtime")
DEVICES = ("/dev/null", "/dev/zero", "/dev/full", "/dev/random", "/dev/urandom")


def command(
    argv: list[str], script: str, runtime: tuple[str, ...], hidden: tuple[str, ...], folder: str, info: int
) -> tuple[list[str], tuple[int, ...]]:
    """The bubblewrap command that runs `argv` in a sandbox of its own, and the descriptors it must be
    given (the caller closes them once bubblewrap has started).

    `script` is shown alone, read-only, at `inside(script)`, where `argv` names it; `runtime` are the
    folders shown read-only; `hidden`, folders inside them to cover (every copy of gradekit, the
    example cache, assignment folders); `folder`, the private folder shown at /tmp; `info`, a
    descriptor bubblewrap writes the sandbox's first process to (see `sandbox_pid`).
    """
    program = syscalls.descriptor()
    passwd = syscalls.carrying(f"{INSIDE_USER}:x:{INSIDE_ID}:{INSIDE_ID}::{INSIDE_HOME}:/bin/sh\n".encode())
    group = syscalls.carrying(f"{INSIDE_USER}:x:{INSIDE_ID}:\n".encode())
    args = [
        *_mounts(runtime, hidden, folder),
        *("--ro-bind-data", str(passwd), "/etc/passwd"),
        *("--ro-bind-data", str(group), "/etc/group"),
        *("--ro-bind", script, inside(script)),
        *("--chdir", INSIDE_HOME),
    ]
    # The sandbox's own root is a tmpfs in the host's memory, which no memory limit counts: once every
    # mount is made it is read-only, and only the private folder takes files.
    args += ["--remount-ro", "/", "--seccomp", str(program), "--info-fd", str(info)]
    return [*args, "--", *argv], (program, passwd, group)


def inside(script: str) -> str:
    """Where the worker's program `script` is shown in the sandbox: worker.py, or worker.pyc where it
    is bytecode (see bytecode.py), named so that Python runs it as such."""
    return f"{INSIDE_FOLDER}/worker{os.path.splitext(script)[1]}"


def _mounts(runtime: tuple[str, ...], hidden: tuple[str, ...], folder: str) -> tuple[str, ...]:
    """bubblewrap's namespaces and every mount of a worker: the private `folder`, its own, between
    what is the same for every worker, which the host is looked at once for. The private folder is
    mounted before the runtime, so a runtime under /tmp shows inside it."""
    return (*_namespaces(), "--bind", folder, INSIDE_HOME, *_shown(runtime, hidden))


@functools.cache
def _namespaces() -> tuple[str, ...]:
    """bubblewrap itself, its namespaces and the devices: the same for every worker."""
    args = [
        _found() or "bwrap",
        "--unshare-all",
        "--unshare-user",
        "--disable-userns",
        "--uid",
        str(INSIDE_ID),
        "--gid",
        str(INSIDE_ID),
        "--hostname",
        "sandbox",
        "--die-with-parent",
        "--new-session",
        "--cap-drop",
        "ALL",
        "--proc",
        "/proc",
        "--tmpfs",
        "/dev",
    ]
    for device in DEVICES:
        args += ["--dev-bind-try", device, device]
    args += ["--symlink", "/proc/self/fd", "/dev/fd", "--remount-ro", "/dev"]
    return tuple(args)


@functools.cache
def _shown(runtime: tuple[str, ...], hidden: tuple[str, ...]) -> tuple[str, ...]:
    """The system's folders and files, and the `runtime`, shown read-only, less what is `hidden`: the
    same for every worker of one grade, the host looked at once."""
    args: list[str] = []
    for path in SYSTEM_FOLDERS:
        if os.path.islink(path):
            args += ["--symlink", os.readlink(path), path]
        elif os.path.isdir(path):
            args += ["--ro-bind", path, path]
    for path in runtime:
        if path not in SYSTEM_FOLDERS:
            args += ["--ro-bind", path, path]
    for path in SYSTEM_FILES:
        args += ["--ro-bind-try", path, path]
    for path in covered(runtime, hidden):
        args += ["--tmpfs", path, "--remount-ro", path]
    return tuple(args)


def covered(shown: tuple[str, ...], hidden: tuple[str, ...]) -> list[str]:
    """Folders inside what is shown that must look empty: the outermost of `hidden` that fall inside,
    since a folder inside one already covered is gone with it, and the covered, read-only folder could
    not take a mount point."""
    inside = [p for p in dict.fromkeys(hidden) if os.path.isdir(p) and any(_within(p, root) for root in shown)]
    return sorted(p for p in inside if not any(_within(p, other) for other in inside if other != p))


def installed() -> str | None:
    """Why bubblewrap cannot be used here before anything is started: not Linux, or not installed."""
    if not sys.platform.startswith("linux"):
        return f"there is no bubblewrap for {sys.platform} (it needs Linux)"
    if _found() is None:
        return "bubblewrap is not installed"
    return None


@functools.cache
def _found() -> str | None:
    """Where bwrap is: looked up once per process, not at every worker's start (a grader starts one
    per submission)."""
    return shutil.which("bwrap")


def forget() -> None:
    """Look this host over again (for a test that changes what it allows)."""
    for cached in (_found, _namespaces, _shown):
        cached.cache_clear()


def sandbox_pid(info: int, seconds: float) -> int | None:
    """The pid, as this process sees it, of the sandbox's first process (its PID namespace's init),
    read from the `--info-fd` pipe of a bubblewrap the caller started; None if it is not told within `seconds`.

    The grader kills that process itself: the kernel then ends everything in the namespace. Relying
    on the init's parent-death signal alone is not enough, since a worker can write the init's memory
    and clear it. A stop that cuts the wait short leaves bubblewrap to the caller, which kept its
    handle before the stop could land (see stops.py) and ends it with `kill` or the like."""
    deadline = time.monotonic() + seconds
    data = b""
    poller = select.poll()
    poller.register(info, select.POLLIN | select.POLLHUP)
    while (remaining := deadline - time.monotonic()) > 0 and poller.poll(remaining * 1000):
        chunk = os.read(info, 4096)
        if not chunk:
            break
        data += chunk
        if len(data) > 1 << 16:
            return None
    try:
        pid = json.loads(data)["child-pid"]
    except (ValueError, KeyError, TypeError, RecursionError):
        return None
    return pid if type(pid) is int and pid > 0 else None


def kill(bubblewrap: subprocess.Popen[bytes]) -> None:
    """SIGKILL `bubblewrap`, started in a session of its own, with its whole process group, and reap it.

    Until bubblewrap has set up the sandbox's namespaces, its child waits for it to say so, in its
    process group and with no parent-death signal yet: bubblewrap killed alone (or dead of a SIGPIPE
    on its `--info-fd`), the child would wait for ever. The group is signalled only while bubblewrap
    is not yet reaped, so its number cannot have been given to another process."""
    if bubblewrap.returncode is None:
        with suppress(ProcessLookupError):
            os.killpg(bubblewrap.pid, signal.SIGKILL)
    bubblewrap.wait()


def pidfd(pid: int | None) -> int:
    """A pidfd of `pid`, which names that process and no other even once its number is reused; -1 if
    there is none to open (the process is gone, or the kernel predates pidfds)."""
    if pid is None:
        return -1
    try:
        return os.pidfd_open(pid)
    except (OSError, AttributeError):
        return -1


def children(pid: int) -> list[int] | None:
    """The pids of a process's children as this process sees them; None where /proc cannot say."""
    try:
        with open(f"/proc/{pid}/task/{pid}/children") as handle:
            return [int(child) for child in handle.read().split()]
    except (OSError, ValueError):
        return None


def exit_signal(code: int) -> int | None:
    """The signal that ended a sandboxed worker, from bubblewrap's exit code (128 + the signal)."""
    return code - 128 if 128 < code < 128 + 65 else None


def _within(path: str, root: str) -> bool:
    return path == root or path.startswith(root.rstrip(os.sep) + os.sep)
