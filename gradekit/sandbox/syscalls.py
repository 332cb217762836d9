"""Which system calls a worker may make: the seccomp filter every worker runs under, in every mode.

The filter is compiled here, in the grader, by libseccomp (through its official Python binding where
installed, else `pyseccomp`, a binding of the same C library), and handed to the worker as BPF on a
pipe: bubblewrap installs it before the worker's interpreter starts, and a worker outside bubblewrap
installs it itself before any student code runs (worker.confine). Everything is allowed but what
follows, which no honest submission needs and each of which reaches past the worker:

- other processes: new processes (threads are fine), tracing or reading another's memory, limits and
  priorities of another process, and signals to another process where nothing else stops them;
- the kernel's shared pools outside every memory limit: memfds, System V and POSIX IPC objects
  (which outlive their process), sockets (and their buffers), inotify and fanotify watches (which see
  a classmate's reads of the files both are shown), file locks on those shared files;
- every fcntl command but the few an honest program uses (`FCNTL_ALLOWED`): the others lock, lease
  and watch files, or name a process the kernel then signals for the worker (F_SETOWN, F_SETSIG and
  O_ASYNC make a write on its own pipe a SIGKILL to any process it names);
- files opened with O_TMPFILE, which hold disk under no name the folder's usage can find: refused as
  unsupported, so Python's tempfile makes a named file instead (openat2, whose flags a filter cannot
  read, is refused as unknown, so the C library uses openat);
- files' modes, owners, extended attributes and times, which a worker running as root (without a
  single capability) could still change on root's files, and which carry messages between workers;
- namespaces, mounts, keyrings, io_uring, BPF, modules and the like;
- `fallocate`, which reserves disk past the file-size limit in no time: refused as unsupported, so
  the C library writes instead, as the limit allows.
"""

from __future__ import annotations

import errno
import functools
import os
import tempfile

# Refused with EPERM: what could reach outside the sandbox or another process, or load kernel code.
DENIED = (
    "ptrace",
    "process_vm_readv",
    "process_vm_writev",
    "process_madvise",
    "process_mrelease",
    "pidfd_open",
    "pidfd_getfd",
    "pidfd_send_signal",
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
    "shmget",
    "msgget",
    "semget",
    "mq_open",
    "memfd_create",
    "memfd_secret",
    "socket",
    "socketpair",
    "flock",
    "inotify_init",
    "inotify_init1",
    "fanotify_init",
    "mknod",
    "mknodat",
    # Files' modes, owners, extended attributes and times: a worker of a root grader still owns root's
    # files (Landlock has no say over these), and on what workers share they would carry messages.
    "chmod",
    "fchmod",
    "fchmodat",
    "fchmodat2",
    "chown",
    "fchown",
    "lchown",
    "fchownat",
    "setxattr",
    "lsetxattr",
    "fsetxattr",
    "setxattrat",
    "removexattr",
    "lremovexattr",
    "fremovexattr",
    "removexattrat",
    "utime",
    "utimes",
    "futimesat",
    "utimensat",
)
PROCESS_CALLS = ("fork", "vfork")
# Calls that send a signal to a process or thread they name; `kill` may name 0, the caller's own group.
SIGNALS = ("tkill", "tgkill", "rt_sigqueueinfo", "rt_tgsigqueueinfo")
# Calls that name a target process first: allowed on the worker itself (0) only.
SELF_ONLY = ("prlimit64", "sched_setaffinity", "sched_setscheduler", "sched_setparam", "sched_setattr")
# setpriority and ioprio_set name their target second (after which kind of target it is).
SELF_ONLY_SECOND = ("setpriority", "ioprio_set")
# The fcntl commands a worker may use: F_DUPFD, F_GETFD, F_SETFD, F_GETFL, F_SETFL, F_DUPFD_CLOEXEC and
# F_GETPIPE_SZ (what CPython's os and io modules and the C library ask for). The kernel reads the
# command as a 32-bit unsigned int, so the filter compares the register's lower 32 bits only: a
# command with higher bits set is the command its lower bits name.
FCNTL_ALLOWED = (0, 1, 2, 3, 4, 1030, 1032)
COMMAND_BITS = 32
CLONE_THREAD = 0x00010000
# O_TMPFILE without the O_DIRECTORY it carries: the bit that makes a file with no name.
TMPFILE = os.O_TMPFILE & ~os.O_DIRECTORY if hasattr(os, "O_TMPFILE") else 0
# Where each call that opens a file takes its flags.
OPEN_FLAGS = {"open": 1, "openat": 2}


@functools.cache
def program(processes: bool = False, signals: bool = True) -> bytes:
    """The filter as BPF: everything allowed but the module docstring's list and, unless `processes`,
    new processes (threads only).

    Without `signals`, a signal may go only to the worker's own process group (`kill(0, ...)`, the
    worker alone, which leads its own session): for a worker that shares its user with the grader and
    has neither a PID namespace nor Landlock's signal scope to keep its signals home. A filter cannot
    compare a call's pid with the caller's, so signals to itself by pid are refused there too."""
    seccomp = _binding()
    rules = seccomp.SyscallFilter(defaction=seccomp.ALLOW)
    refused = seccomp.ERRNO(errno.EPERM)
    for name in DENIED:
        if processes and name in PROCESS_CALLS:
            continue
        _rule(rules, refused, name)
    for name in SELF_ONLY:
        _rule(rules, refused, name, seccomp.Arg(0, seccomp.NE, 0))
    for name in SELF_ONLY_SECOND:
        _rule(rules, refused, name, seccomp.Arg(1, seccomp.NE, 0))
    if not signals:
        _rule(rules, refused, "kill", seccomp.Arg(0, seccomp.NE, 0))
        for name in SIGNALS:
            _rule(rules, refused, name)
    for name in ("fcntl", "fcntl64"):
        for mask, value in outside(FCNTL_ALLOWED, COMMAND_BITS):
            _rule(rules, refused, name, seccomp.Arg(1, seccomp.MASKED_EQ, mask, value))
    for name, flags in OPEN_FLAGS.items():
        _rule(rules, seccomp.ERRNO(errno.EOPNOTSUPP), name, seccomp.Arg(flags, seccomp.MASKED_EQ, TMPFILE, TMPFILE))
    _rule(rules, seccomp.ERRNO(errno.ENOSYS), "openat2")
    _rule(rules, seccomp.ERRNO(errno.EOPNOTSUPP), "fallocate")
    # clone3 hides its flags in memory a filter cannot read: refused as unknown, so the C library
    # falls back to clone, whose flags can be read. A clone without CLONE_THREAD is a new process.
    _rule(rules, seccomp.ERRNO(errno.ENOSYS), "clone3")
    if not processes:
        _rule(rules, refused, "clone", seccomp.Arg(0, seccomp.MASKED_EQ, CLONE_THREAD, 0))
    with tempfile.TemporaryFile() as handle:
        rules.export_bpf(handle)
        handle.seek(0)
        return handle.read()


def outside(allowed: tuple[int, ...], bits: int) -> list[tuple[int, int]]:
    """Every `bits`-bit number but `allowed`, as (mask, value) pairs, each an aligned block of numbers
    whose bits under `mask` equal `value`: libseccomp's MASKED_EQ, with no bit above `bits` compared.
    A filter that allows by default refuses what is not allowed one block at a time."""
    blocks = []
    pending = [(0, bits)]  # (the block's first number, its size as a power of two)
    while pending:
        start, size = pending.pop()
        inside = [number for number in allowed if start <= number < start + (1 << size)]
        if not inside:
            blocks.append(((1 << bits) - 1 & ~((1 << size) - 1), start))
        elif size > 0:
            pending += [(start, size - 1), (start + (1 << size - 1), size - 1)]
    return sorted(blocks, key=lambda block: block[1])


def _binding():  # the seccomp module: untyped, from the system's or PyPI's binding of libseccomp
    try:
        import seccomp
    except ImportError:
        import pyseccomp as seccomp
    return seccomp


def _rule(rules, action, name: str, *conditions) -> None:
    """Add one rule, leaving out a call this kernel's libseccomp does not know."""
    try:
        rules.add_rule(action, name, *conditions)
    except (RuntimeError, ValueError, OSError):
        pass


def descriptor(processes: bool = False, signals: bool = True) -> int:
    """A pipe's read end holding the filter, which its reader (bubblewrap, or the worker) reads to its end."""
    return carrying(program(processes, signals))


def carrying(data: bytes) -> int:
    """A pipe's read end holding `data`, closed for writing: small enough for a pipe to hold at once."""
    read, write = os.pipe()
    try:
        os.write(write, data)
    finally:
        os.close(write)
    return read
