"""Landlock, the grader's side: whether this kernel has it, and what a worker may reach under it.

Landlock (Linux 5.13 and later) lets an unprivileged process take away its own access to the file
system, and on newer kernels TCP ports (ABI 4), signals to processes outside its domain and abstract
UNIX sockets (ABI 6), for good: nothing it does later gives them back, and its threads inherit them.
It needs no namespace, so it works where user namespaces are denied (Ubuntu 24.04's AppArmor default,
Docker's and Podman's default seccomp profiles, GitHub's runners): there it is the file-system wall
of a worker outside bubblewrap (isolation.py), and inside bubblewrap a second one.

The worker applies the rules itself, before any student code runs (worker.landlock); here they are
worked out: the runtime the worker needs, read-only, and its private folder, read-write. Landlock
only allows, it never denies beneath an allowed folder, so a runtime folder holding something the
worker may not read (an installed gradekit carries the reference and the assignments) is allowed
piece by piece around it (`shown`). The kernel's own interface is three system calls, called through
ctypes in the worker: the Python bindings on PyPI cover fewer ABI versions than the kernel offers
(none has the signal scope a worker needs) and would be one more thing a worker imports before it
is confined.

The grader may be told to use no more of Landlock than an older kernel offers: GRADEKIT_LANDLOCK_ABI
caps the ABI every worker uses (5, for instance: no signal or abstract-socket scopes, as on Linux
before 6.12), so that what holds on such a kernel can be tried on this one. It is for testing; a
course leaves it unset.

What Landlock does not govern, and a worker behind it alone can therefore do: look up any path it
can name (`stat`: whether it exists, its type, size, mode, owner, times and inode), though it cannot
list a folder it is not given nor open what lies in one. Behind Landlock alone, then, a worker that
guesses the name of a hidden file (a reference, an assignment's properties) learns its size and when
it last changed, never a byte of it; and it learns which process ids exist and whose they are from
/proc's entries, never their command lines, environments or memory. bubblewrap shows neither.
"""

from __future__ import annotations

import ctypes
import functools
import os
import sys
from typing import Any

from gradekit.errors import UsageError

CAP_VARIABLE = "GRADEKIT_LANDLOCK_ABI"
CREATE_RULESET = 444  # the system call numbers, the same on every architecture Landlock runs on
CREATE_RULESET_VERSION = 1
# What a worker reads besides its runtime: the system's shared libraries' cache and the files the C
# library reads to name a user or a time zone, and the devices Python and NumPy open.
SYSTEM_FILES = ("/etc/ld.so.cache", "/etc/passwd", "/etc/group", "/etc/nsswitch.conf", "/etc/localtime")
SYSTEM_FOLDERS = ("/usr", "/lib", "/lib32", "/lib64", "/libx32", "/bin", "/sbin")
READ_DEVICES = ("/dev/urandom", "/dev/random", "/dev/zero")
WRITE_DEVICES = ("/dev/null", "/dev/full")
# The kernel's own view of the CPUs, which the C library (os.cpu_count) and BLAS libraries read. Nothing
# else under /proc: a worker's own entries there show the host's sockets and mounts, and the others'
# entries other processes. CPython, NumPy and SymPy read none of them once the worker is confined.
KERNEL_FILES = ("/proc/cpuinfo", "/sys/devices/system/cpu")


def abi() -> int:
    """The Landlock ABI version workers use: the kernel's, or less where GRADEKIT_LANDLOCK_ABI caps it."""
    limit = cap()
    return kernel_abi() if limit is None else min(kernel_abi(), limit)


def cap() -> int | None:
    """The ABI version GRADEKIT_LANDLOCK_ABI caps workers at; None where it is unset."""
    text = os.environ.get(CAP_VARIABLE, "").strip()
    if not text:
        return None
    if not text.isdigit():
        raise UsageError(f"{CAP_VARIABLE}={text!r}: give a Landlock ABI version (0 or more), or leave it unset")
    return int(text)


@functools.cache
def kernel_abi() -> int:
    """The Landlock ABI version this kernel offers; 0 where it has none (not Linux, too old, or left
    out of the running security modules)."""
    if not sys.platform.startswith("linux"):
        return 0
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.syscall.restype = ctypes.c_long
        version = libc.syscall(CREATE_RULESET, None, ctypes.c_size_t(0), ctypes.c_uint32(CREATE_RULESET_VERSION))
    except (OSError, AttributeError):
        return 0
    return max(int(version), 0)


def rules(runtime: list[str], hidden: list[str], folder: str | None) -> dict[str, Any]:
    """What a worker may reach, as worker.landlock takes it: `read` (files and folders, read-only),
    `write` (read-write, devices or its private `folder`), and the `abi` it uses at most. `runtime`
    are the folders of the interpreter and its libraries; nothing inside `hidden` is reachable,
    wherever it lies."""
    read = [*shown(runtime, hidden), *SYSTEM_FILES, *READ_DEVICES, *KERNEL_FILES]
    write = [*WRITE_DEVICES, *([folder] if folder else [])]
    return {"read": _existing(read), "write": _existing(write), "abi": abi()}


def shown(roots: list[str], hidden: list[str]) -> list[str]:
    """`roots`, each as one path where nothing hidden lies inside it, else as its entries, recursively,
    leaving out every hidden path: the least set of paths that reaches all of `roots` but `hidden`.
    An entry that is a link counts as where it leads, so no link reaches a hidden folder either."""
    hidden = [os.path.realpath(path) for path in hidden]
    found: list[str] = []
    pending = [os.path.realpath(root) for root in dict.fromkeys([*SYSTEM_FOLDERS, *roots])]
    while pending:
        path = pending.pop()
        real = os.path.realpath(path)
        if not os.path.exists(real) or any(_within(real, h) for h in hidden):
            continue
        if not any(_within(h, real) for h in hidden) or not os.path.isdir(real):
            found.append(real)
            continue
        try:
            pending += [os.path.join(real, name) for name in os.listdir(real)]
        except OSError:
            continue
    return sorted(set(found))


def _existing(paths: list[str]) -> list[str]:
    return [path for path in dict.fromkeys(paths) if os.path.exists(path)]


def _within(path: str, root: str) -> bool:
    return path == root or path.startswith(root.rstrip(os.sep) + os.sep)
