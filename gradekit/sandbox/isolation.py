"""The operating-system sandbox a worker runs in on Linux: bubblewrap, with a seccomp filter.

Why bubblewrap: it is the sandbox Flatpak is built on, packaged by every major distribution
(`apt-get install bubblewrap`), runs unprivileged through user namespaces with no daemon and no
setuid helper, and every mount it makes is named on its command line, so what a worker can see
is the list built in `command` below and nothing else. The seccomp filter is compiled by libseccomp
(through its official Python binding where installed, else `pyseccomp`, a binding of the same C
library) and handed to bubblewrap, which installs it before the worker's interpreter starts.

What a worker sees, all of it:
- the Python runtime, read-only: the interpreter's prefixes and the system's /usr libraries, with
  every copy of gradekit in them covered by an empty folder;
- its own private folder, read-write, at /sandbox/home: its working folder, HOME and TMPDIR;
- the worker script alone, read-only, and the pipes and output file it was handed;
- a /proc of its own PID namespace (no grader, no classmate), a minimal read-only /dev, no network.
It runs with no capabilities, no new privileges, and cannot start processes, make user namespaces,
ptrace, read or write another process's memory, mount, or chroot. When its bubblewrap process is
killed, the kernel kills everything in its PID namespace: nothing it started outlives it.

Where none of this exists (macOS, Windows, a kernel without user namespaces, no bubblewrap), a
worker runs with the audit-hook guard of worker.py alone, and says so (`lacking`, `unavailable`).
"""

from __future__ import annotations

import errno
import functools
import glob
import json
import os
import select
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from contextlib import suppress

from gradekit.sandbox.stops import deferred

# The worker's private folder as the worker sees it: under a name no system uses, so no runtime folder
# shown (a virtual environment under /tmp, say) is ever hidden beneath it.
INSIDE_FOLDER = "/sandbox/home"
INSIDE_SCRIPT = "/sandbox/worker.py"
INSIDE_ID = 1000  # the uid and gid the worker has inside: the same on every machine
SYSTEM_FOLDERS = ("/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32")
SYSTEM_FILES = ("/etc/ld.so.cache",)
PROBE_SECONDS = 20.0

# Refused with EPERM: what could reach outside the sandbox or another process, or load kernel code.
DENIED = (
    "ptrace",
    "process_vm_readv",
    "process_vm_writev",
    "pidfd_getfd",
    "kcmp",
    "mount",
    "umount2",
    "chroot",
    "pivot_root",
    "unshare",
    "setns",
    "fsopen",
    "fsconfig",
    "fsmount",
    "fspick",
    "move_mount",
    "open_tree",
    "mount_setattr",
    "fork",
    "vfork",
    "kexec_load",
    "kexec_file_load",
    "init_module",
    "finit_module",
    "delete_module",
    "bpf",
    "perf_event_open",
    "userfaultfd",
    "keyctl",
    "add_key",
    "request_key",
    "io_uring_setup",
    "io_uring_enter",
    "io_uring_register",
    "open_by_handle_at",
    "name_to_handle_at",
    "acct",
    "swapon",
    "swapoff",
    "reboot",
    "syslog",
    "quotactl",
    "lookup_dcookie",
    # System V and POSIX message queues, semaphores and shared memory outlive the process that made
    # them: refused, so a worker forked from a sandboxed template leaves nothing for the next one.
    "shmget",
    "msgget",
    "semget",
    "mq_open",
)
PROCESS_CALLS = ("fork", "vfork")
CLONE_THREAD = 0x00010000


@functools.cache
def unavailable() -> str | None:
    """Why workers on this machine cannot run in the OS sandbox; None when they can.

    Decided once per process by starting one sandboxed interpreter, so a kernel that refuses user
    namespaces, or a bubblewrap that cannot set one up, is found before any student code runs.
    """
    missing = lacking()
    if missing is not None:
        return missing
    folder = tempfile.mkdtemp(prefix="gradekit-probe-")
    try:
        code, said = _probe(*command([sys.executable, "-c", "pass"], folder, ()))
    except (OSError, subprocess.TimeoutExpired) as error:
        return f"bubblewrap could not be run ({error})"
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    if code != 0:
        last = (said.decode("utf-8", "replace").strip().splitlines() or ["no message"])[-1]
        return f"bubblewrap could not start a sandbox here ({last})"
    return None


def _probe(argv: list[str], keep: tuple[int, ...]) -> tuple[int, bytes]:
    """Run bubblewrap's `argv`, given the descriptors `keep` (closed here): its exit code and what it
    said. Whatever cuts the run short (its time limit, Ctrl-C, SIGTERM) kills bubblewrap first, since
    nothing else knows of it; its handle is kept before a stop can land (see stops.py)."""
    probe = None
    try:
        with deferred():
            probe = subprocess.Popen(
                argv,
                pass_fds=keep,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.PIPE,
                env={"PATH": os.defpath},
                start_new_session=True,
            )
        said = probe.communicate(timeout=PROBE_SECONDS)[1]
    except BaseException:
        if probe is not None:
            kill(probe)
        raise
    finally:
        for fd in keep:
            os.close(fd)
    return probe.returncode, said


@functools.cache
def lacking() -> str | None:
    """What this machine lacks for the OS sandbox, found without starting one: Linux, bubblewrap and
    a seccomp filter. None does not promise a sandbox starts (a kernel may refuse user namespaces);
    a worker that tries and fails learns why from `unavailable`."""
    if not sys.platform.startswith("linux"):
        return f"there is no OS sandbox for {sys.platform} (it needs Linux and bubblewrap)"
    if shutil.which("bwrap") is None:
        return "bubblewrap is not installed (apt-get install bubblewrap)"
    try:
        _filter_program()
    except (ImportError, OSError, RuntimeError, ValueError) as error:
        return f"no seccomp filter could be built ({type(error).__name__}: {error})"
    return None


def command(
    argv: list[str],
    folder: str,
    hidden: tuple[str, ...],
    info: int | None = None,
    script: str | None = None,
    forks: bool = False,
) -> tuple[list[str], tuple[int, ...]]:
    """The bubblewrap command that runs `argv` in the sandbox, and the descriptors it must be given.

    `folder` becomes the worker's private INSIDE_FOLDER; `hidden` are folders (assignments, the example
    cache) to cover wherever they fall inside what is shown; `info`, a descriptor bubblewrap writes
    the sandbox's first process to (see `sandbox_pid`); `script`, a file shown alone, read-only, at
    INSIDE_SCRIPT, where `argv` names it; `forks`, a sandbox whose first process may start others: a
    worker template (see forkserver.py), each of whose workers installs `worker_filter` itself. The
    caller closes the descriptors once bubblewrap has started.
    """
    args = [*_mounts(hidden), "--bind", folder, INSIDE_FOLDER, "--chdir", INSIDE_FOLDER]
    if script is not None:
        args += ["--ro-bind", script, INSIDE_SCRIPT]
    # The sandbox's own root is a tmpfs in the host's memory, which no memory limit counts: once every
    # mount is made it is read-only, and only the private folder takes files.
    args += ["--remount-ro", "/"]
    program = _descriptor(_filter_program(processes=forks))
    args += ["--seccomp", str(program)]
    if forks:  # the template is the PID namespace's init: its workers cannot signal it (nor kill themselves so)
        args += ["--as-pid-1"]
    if info is not None:
        args += ["--info-fd", str(info)]
    return [*args, "--", *argv], (program,)


@functools.cache
def _mounts(hidden: tuple[str, ...]) -> tuple[str, ...]:
    """bubblewrap's namespaces and every mount that is the same for each worker of a grader: worked
    out once per set of hidden folders, not again for every worker a class grade starts."""
    shown = _runtime_folders()
    args = [
        shutil.which("bwrap") or "bwrap",
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
        "--dev",
        "/dev",
        "--remount-ro",
        "/dev",
    ]
    for path in SYSTEM_FOLDERS:
        if os.path.islink(path):
            args += ["--symlink", os.readlink(path), path]
        elif os.path.isdir(path):
            args += ["--ro-bind", path, path]
    for path in shown:
        if path not in SYSTEM_FOLDERS:
            args += ["--ro-bind", path, path]
    for path in SYSTEM_FILES:
        args += ["--ro-bind-try", path, path]
    for path in _covered(shown, hidden):
        args += ["--tmpfs", path, "--remount-ro", path]
    return tuple(args)


def sandbox_pid(info: int, seconds: float) -> int | None:
    """The pid, as this process sees it, of the sandbox's first process (its PID namespace's init),
    read from the `--info-fd` pipe of a bubblewrap just started; None if it is not told within `seconds`.

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
    try:
        pid = json.loads(data)["child-pid"]
    except (ValueError, KeyError, TypeError):
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


def _runtime_folders() -> list[str]:
    """The folders the interpreter and its installed libraries live in, outermost only."""
    candidates = {os.path.realpath(p) for p in (sys.prefix, sys.base_prefix, sys.exec_prefix, sys.base_exec_prefix)}
    candidates.add(os.path.realpath(os.path.dirname(os.path.dirname(os.path.realpath(sys.executable)))))
    candidates.update(("/usr",))
    folders = sorted(p for p in candidates if os.path.isdir(p) and p != "/")
    return [p for p in folders if not any(_within(p, other) for other in folders if other != p)]


def _covered(shown: list[str], hidden: tuple[str, ...]) -> list[str]:
    """Folders inside what is shown that must look empty: every installed copy of gradekit (its
    reference and assignments travel inside it) and every protected folder that falls inside."""
    found: set[str] = set()
    entries = [p for p in sys.path if p and os.path.isdir(p)]
    for root in shown:
        entries += glob.glob(os.path.join(root, "lib", "python3*", "*-packages"))
        entries += glob.glob(os.path.join(root, "local", "lib", "python3*", "*-packages"))
    for entry in entries:
        for match in glob.glob(os.path.join(entry, "gradekit")) + glob.glob(os.path.join(entry, "gradekit-*")):
            found.add(os.path.realpath(match))
    found.update(os.path.realpath(p) for p in hidden)
    inside = [p for p in found if os.path.isdir(p) and any(_within(p, root) for root in shown)]
    # Outermost only: a folder inside one already covered is gone with it (an installed gradekit holds
    # its reference and assignments), and the covered, read-only folder could not take a mount point.
    return sorted(p for p in inside if not any(_within(p, other) for other in inside if other != p))


def _within(path: str, root: str) -> bool:
    return path == root or path.startswith(root.rstrip(os.sep) + os.sep)


def worker_filter() -> int:
    """A pipe's read end holding the filter every worker runs under, which a worker forked from a
    sandboxed template installs itself (that template's own filter lets it fork)."""
    return _descriptor(_filter_program())


def _descriptor(program: bytes) -> int:
    """A pipe's read end holding a compiled filter, which its reader reads to its end."""
    read, write = os.pipe()
    try:
        os.write(write, program)
    finally:
        os.close(write)
    return read


@functools.cache
def _filter_program(processes: bool = False) -> bytes:
    """The seccomp filter as BPF: allow everything but DENIED and, unless `processes`, new processes
    (threads only)."""
    try:
        import seccomp
    except ImportError:
        import pyseccomp as seccomp
    rules = seccomp.SyscallFilter(defaction=seccomp.ALLOW)
    for name in DENIED:
        if processes and name in PROCESS_CALLS:
            continue
        try:
            rules.add_rule(seccomp.ERRNO(errno.EPERM), name)
        except (RuntimeError, ValueError, OSError):  # a call this kernel's libseccomp does not know
            continue
    # clone3 hides its flags in memory a filter cannot read: refused as unknown, so the C library
    # falls back to clone, whose flags can be read. A clone without CLONE_THREAD is a new process.
    rules.add_rule(seccomp.ERRNO(errno.ENOSYS), "clone3")
    if not processes:
        rules.add_rule(seccomp.ERRNO(errno.EPERM), "clone", seccomp.Arg(0, seccomp.MASKED_EQ, CLONE_THREAD, 0))
    with tempfile.TemporaryFile() as handle:
        rules.export_bpf(handle)
        handle.seek(0)
        return handle.read()


def exit_signal(code: int) -> int | None:
    """The signal that ended a sandboxed worker, from bubblewrap's exit code (128 + the signal)."""
    return code - 128 if 128 < code < 128 + 65 else None
