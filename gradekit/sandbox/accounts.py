"""Who a worker runs as: the grader's own user, the one `--run-as` names, or, for a root grader, a user
of the worker's own.

A worker that kept uid 0 would be exempt from RLIMIT_NPROC (the kernel does not count root's
threads: one started thousands before the grader's watch saw them) and may signal every process the
seccomp filter lets it name. So a root grader not told `--run-as` runs each worker as a uid of its own
from RESERVED, a range no account uses: taken only where no process runs as it, and held for the
worker's whole life (its restarts included) by an exclusive lock on that uid's file in a folder only
root may write (`folder`). The lock is the kernel's: it goes with the process that holds it however
that process ends, so two graders (a pool's processes, pytest-xdist's, two courses on one server)
never hold one uid at once, and a uid whose grader died while its worker ran is skipped until that
worker is gone. Such a worker shares its uid with nothing: RLIMIT_NPROC counts its threads alone, and
the kernel refuses its signals to every other process.

A uid with no group of its own can only do what a file's "other" bits allow. Where that does not
reach this interpreter (a Python under /root, mode 700), or the uid is not mapped in this user
namespace (a rootless container maps 65,536 uids), or no folder for the locks can be trusted, the
worker runs as root without a single capability, and a pids cgroup bounds its threads
(cgroups.py). A shared `--run-as` user is the instructor's choice (one who can read the interpreter);
a grader that is not root runs its workers as itself.
"""

from __future__ import annotations

import enum
import fcntl
import os
import pwd
import stat
from contextlib import suppress
from dataclasses import dataclass
from pathlib import Path

from gradekit.errors import GradekitError

# Well above every range a distribution, systemd (its containers end at 0x6FFFFFFF) or an LDAP
# directory hands out, and below 2**31, which some tools read as negative.
RESERVED = range(0x7A000000, 0x7A000000 + 4096)
FOLDERS = ("/run", "/var/lock", "/tmp")  # where the locks' folder may be made, the first that can be trusted
LOCKS = "gradekit-uids"
OPEN_LOCK = os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC


class Kind(str, enum.Enum):
    """Whose uid a worker has, by the words a report and `gradekit doctor` use."""

    GRADER = "the grader's own user"
    SHARED = "the user --run-as names, shared by every worker"
    OWN = "a user of its own"
    ROOT = "root, without a single capability"


@dataclass(frozen=True)
class Account:
    """The user a worker runs as: its kind, and (uid, gid) to switch to (None: the grader's own)."""

    kind: Kind
    ids: tuple[int, int] | None = None


class Reserved:
    """A uid of RESERVED held for one worker: `account` runs as it until `release`."""

    def __init__(self, uid: int, lock: int) -> None:
        self.account = Account(Kind.OWN, (uid, uid))
        self._lock = lock

    def release(self) -> None:
        """Let another worker have the uid: only once nothing runs as it."""
        if self._lock >= 0:
            os.close(self._lock)
            self._lock = -1


def named(user: str | None) -> Account | None:
    """The account `--run-as USER` names; None where none is named. GradekitError for a user that
    does not exist, or a grader that is not root (switching needs root)."""
    if not user:
        return None
    try:
        entry = pwd.getpwnam(user)
    except KeyError:
        raise GradekitError(f"--run-as {user!r}: there is no such user on this machine") from None
    if os.geteuid() != 0:
        raise GradekitError(f"--run-as {user!r} needs the grader to run as root")
    return Account(Kind.SHARED, (entry.pw_uid, entry.pw_gid))


def unreserved() -> Account:
    """The account of a worker that has no uid of its own: the grader's user, or root without capabilities."""
    return Account(Kind.ROOT if os.geteuid() == 0 else Kind.GRADER)


def reserve() -> Reserved | None:
    """A uid of RESERVED that no other worker holds and no process runs as, locked for one worker;
    None where none can be: a grader that is not root, a range this user namespace does not map, no
    trusted folder for the locks, or every uid taken."""
    if os.geteuid() != 0 or not _mapped("uid_map") or not _mapped("gid_map"):
        return None
    locks = folder()
    if locks is None:
        return None
    busy = _running_uids()
    for uid in RESERVED:
        if uid in busy:
            continue
        try:
            lock = os.open(os.path.join(locks, str(uid)), OPEN_LOCK, 0o600)
        except OSError:
            continue
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            os.close(lock)
            continue
        return Reserved(uid, lock)
    return None


def folder() -> str | None:
    """The folder of the uids' locks, made where it is missing: one that root owns, that no one else
    may write and that is no link, so no other user can hold, swap or remove a lock; None where no
    such folder can be had."""
    for parent in FOLDERS:
        path = os.path.join(parent, LOCKS)
        with suppress(OSError):
            os.mkdir(path, 0o700)
        try:
            status = os.lstat(path)
        except OSError:
            continue
        if stat.S_ISDIR(status.st_mode) and status.st_uid == 0 and not status.st_mode & 0o022:
            return path
    return None


def closed_to_others(paths: list[str]) -> str | None:
    """The first of `paths` (or a folder above one) a uid of no group of its own could not reach; None
    where every one is open to it. Only a file's "other" bits let such a uid in: folders need search
    (and listing, for the ones named), files reading, and an executable running."""
    for path in paths:
        real = os.path.realpath(path)
        for above in reversed(Path(real).parents):
            if not _allows(str(above), 0o001):
                return str(above)
        try:
            mode = os.stat(real).st_mode
        except OSError:
            return real
        wanted = 0o005 if stat.S_ISDIR(mode) or mode & 0o100 else 0o004
        if mode & wanted != wanted:
            return real
    return None


def _allows(path: str, bits: int) -> bool:
    try:
        return os.stat(path).st_mode & bits == bits
    except OSError:
        return False


def _mapped(name: str) -> bool:
    """Whether this user namespace maps every id of RESERVED (/proc/self/uid_map or gid_map)."""
    try:
        rows = Path("/proc/self", name).read_text().split()
    except OSError:
        return False
    starts, counts = map(int, rows[0::3]), map(int, rows[2::3])
    return any(start <= RESERVED.start and RESERVED.stop <= start + count for start, count in zip(starts, counts))


def _running_uids() -> set[int]:
    """Every uid of RESERVED that a live process holds as its real, effective, saved or file-system uid."""
    found: set[int] = set()
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        with suppress(OSError, ValueError), open(f"/proc/{entry.name}/status", "rb") as handle:
            for row in handle:
                if row.startswith(b"Uid:"):
                    found.update(uid for uid in map(int, row.split()[1:]) if uid in RESERVED)
                    break
    return found
