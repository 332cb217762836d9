"""Which wall a worker runs behind, and what it may see there: the isolation policy, in one place.

Three isolations, the strongest this host allows first:
- `bubblewrap`: namespaces of the worker's own (bubblewrap.py), with the seccomp filter (syscalls.py)
  and, where the kernel has it, Landlock inside as a second wall (landlock.py);
- `landlock`: where user namespaces are denied (Ubuntu 24.04's AppArmor default, Docker's default
  seccomp profile, GitHub's runners), no namespace at all: Landlock's file-system rules and scopes,
  the seccomp filter and hard resource limits, and, for a grader running as root, either the user
  `--run-as` names or root without a single capability;
- `guard`: the worker's audit hooks alone (worker.guard), with the filter where it can be built:
  no security boundary, so only a student's own check may run under it, and its report says so.

What a grade asks for (`Limits.isolation`): "auto" takes the strongest that works, down to the guard;
"require" the strongest that works but never the guard (a class grade, the Gradescope autograder);
"off" the guard alone; "bubblewrap" or "landlock" that one or none (to compare, as the tests and
`gradekit doctor` do). Whether one works is learnt by starting a worker under it: a worker that
ends before it says it is confined (worker.READY) has met the host's refusal, which is remembered,
per user, for the rest of this process, and the next isolation is tried.

And what a worker is started with, whatever its wall: its environment, the user it runs as (see
accounts.py: for a root grader, a user of its own wherever one can run this interpreter), the seccomp
filter it installs itself outside bubblewrap, the threads its user may run, and the note a report
makes of a weaker wall than bubblewrap, or of threads no kernel bound holds. process.py starts the
worker with them.
"""

from __future__ import annotations

import enum
import functools
import glob
import os
import sys
import sysconfig
from contextlib import suppress
from pathlib import Path
from typing import Any

import gradekit
import gradekit.reference
from gradekit.config import BLAS_THREADS, Limits, built_in_folder, cache_folder
from gradekit.errors import GradekitError
from gradekit.sandbox import accounts, bubblewrap, cgroups, landlock, syscalls
from gradekit.sandbox.accounts import Account, Kind


class Isolation(str, enum.Enum):
    """A wall a worker runs behind, by the name reports give it."""

    BUBBLEWRAP = "bubblewrap"
    LANDLOCK = "landlock"
    GUARD = "guard"


STRONGEST_FIRST = (Isolation.BUBBLEWRAP, Isolation.LANDLOCK, Isolation.GUARD)
DOCTOR = "run `gradekit doctor` to see what this host lacks and how to add it"
THREADS = 64  # threads a worker may run, its main one included

# What starting workers has taught this process, per (isolation, user): why one does not work here,
# and which have confined a worker.
_refused: dict[tuple[Isolation, str | None], str] = {}
_worked: set[tuple[Isolation, str | None]] = set()
# The walls behind which a worker run as a user of its own could not start here, and why.
_shared_only: dict[Isolation, str] = {}


def candidates(request: str, user: str | None) -> list[Isolation]:
    """The isolations to try for a worker run as `user` (None: the grader's own), strongest first,
    leaving out those known not to work here; GradekitError where `request` leaves none."""
    wanted = {
        "auto": STRONGEST_FIRST,
        "require": STRONGEST_FIRST[:-1],
        "off": (Isolation.GUARD,),
    }.get(request) or (Isolation(request),)
    usable = [isolation for isolation in wanted if why_not(isolation, user) is None]
    if not usable:
        reasons = "; ".join(f"{isolation.value}: {why_not(isolation, user)}" for isolation in wanted)
        raise GradekitError(f"student code must run in an OS sandbox, and none works here ({reasons}); {DOCTOR}")
    return usable


def why_not(isolation: Isolation, user: str | None) -> str | None:
    """Why `isolation` cannot confine a worker run as `user` here; None where it can, as far as is
    known without starting one (or from one that was started)."""
    if (isolation, user) in _refused:
        return _refused[isolation, user]
    if isolation is Isolation.GUARD:
        return None
    if isolation is Isolation.BUBBLEWRAP and bubblewrap.installed() is not None:
        return bubblewrap.installed()
    if isolation is Isolation.LANDLOCK and landlock.abi() < 1:
        return "this kernel has no Landlock (it needs Linux 5.13 or later, with Landlock among its security modules)"
    return filter_missing()


def refused(isolation: Isolation, user: str | None, why: str) -> None:
    """Remember that a worker under `isolation` run as `user` could not start here, and why."""
    _refused[isolation, user] = why


def worked(isolation: Isolation | None, user: str | None) -> None:
    """Remember that a worker under `isolation` run as `user` confined itself here."""
    if isolation is not None:
        _worked.add((isolation, user))


def proven(isolation: Isolation, user: str | None) -> bool:
    """Whether a worker under `isolation` run as `user` has confined itself here in this process."""
    return (isolation, user) in _worked


def known(request: str, user: str | None) -> Isolation | None:
    """The isolation a worker asked for with `request` runs under here, where starting one has already
    shown it; None where that is not known yet."""
    first = candidates(request, user)[0]
    return first if proven(first, user) else None


def forget() -> None:
    """Forget what starting workers taught (for a test that changes what the host allows)."""
    _refused.clear()
    _worked.clear()
    _shared_only.clear()
    bubblewrap.forget()


@functools.cache
def filter_missing() -> str | None:
    """Why no seccomp filter can be built here; None where one can."""
    if not sys.platform.startswith("linux"):
        return f"there is no seccomp on {sys.platform}"
    try:
        syscalls.program()
    except (ImportError, OSError, RuntimeError, ValueError) as error:
        return f"no seccomp filter could be built ({type(error).__name__}: {error})"
    return None


def signals_kept_home(isolation: Isolation, account: Account) -> bool:
    """Whether something besides the filter keeps a worker's signals from the grader and from other
    workers: a PID namespace, Landlock's signal scope (ABI 6), or a uid of the worker's own, which the
    kernel lets signal no other process. A user `--run-as` names is shared by every worker, each of
    which could signal the others as that user: no wall. Where nothing is, the filter allows a worker
    to signal its own process group only (syscalls.program)."""
    scoped = isolation is Isolation.LANDLOCK and landlock.abi() >= 6
    return isolation is Isolation.BUBBLEWRAP or scoped or account.kind is Kind.OWN


def who(wall: Isolation, run_as: str | None, script: str) -> Kind:
    """Whose uid a worker behind `wall` runs as here (accounts.py), asked with `run_as` for a user,
    the worker being `script`: for a root grader, a uid of its own wherever one can be had."""
    if run_as:
        return Kind.SHARED
    if own_users(wall, script):
        return Kind.OWN
    return accounts.unreserved().kind


def own_users(wall: Isolation, script: str) -> bool:
    """Whether a worker behind `wall` may run as a uid of its own here: the grader is root, and such a
    uid, which only a file's "other" bits let in, reaches this interpreter, its libraries and the
    worker `script` (bubblewrap, started as that uid, mounts them by their paths), and no worker run so
    behind `wall` has failed to start here."""
    return os.geteuid() == 0 and wall not in _shared_only and closed_runtime(script) is None


@functools.cache
def closed_runtime(script: str) -> str | None:
    """The first folder or file a worker needs that a uid of no group of its own could not reach;
    None where it reaches them all."""
    paths = sysconfig.get_paths()
    needed = [sys.executable, *runtime(), paths["stdlib"], paths["purelib"], paths["platlib"], script]
    return accounts.closed_to_others(needed)


def shared_only(wall: Isolation, why: str) -> None:
    """Remember that a worker behind `wall` run as a uid of its own could not start here, and why:
    workers behind it run as the grader's user from now on (root without capabilities)."""
    _shared_only[wall] = why


def threads_bound(wall: Isolation, kind: Kind) -> str:
    """What holds the threads of a worker behind `wall` run as `kind` to THREADS, as a report or
    `gradekit doctor` says it."""
    if kind is Kind.ROOT:
        if cgroups.parent() is None:
            return "the grader's watch alone (root is not held to RLIMIT_NPROC, and no pids cgroup can be made here)"
        return "the kernel, by a pids cgroup of its own (root is not held to RLIMIT_NPROC)"
    if kind is Kind.OWN:
        return "the kernel, by the RLIMIT_NPROC of a uid of its own"
    if wall is Isolation.BUBBLEWRAP:
        return "the kernel, by RLIMIT_NPROC in a user namespace of its own"
    return "the kernel, by an RLIMIT_NPROC its user's other processes share, and the grader's watch"


def account_note(wall: Isolation, account: Account) -> str | None:
    """What a report adds of who a worker ran as: only that its threads are held by no kernel bound,
    where that is so. Who it ran as otherwise changes nothing a student sees."""
    if account.kind is Kind.ROOT and cgroups.parent() is None:
        return f"as root, its threads capped by {threads_bound(wall, account.kind)}"
    return None


def runtime() -> tuple[str, ...]:
    """The folders the interpreter and its installed libraries live in, outermost only."""
    candidates = {os.path.realpath(p) for p in (sys.prefix, sys.base_prefix, sys.exec_prefix, sys.base_exec_prefix)}
    candidates.add(os.path.realpath(os.path.dirname(os.path.dirname(os.path.realpath(sys.executable)))))
    candidates.add("/usr")
    folders = sorted(p for p in candidates if os.path.isdir(p) and p != "/")
    return tuple(p for p in folders if not any(_within(p, other) for other in folders if other != p))


def hidden(protected: tuple[str, ...]) -> tuple[str, ...]:
    """What no worker may see, wherever it lies: every installed copy of gradekit (its reference and
    assignments travel inside it), gradekit's own source folders where they lie apart (a checkout),
    the example cache, and `protected` (every folder of assignments the grader was given, the
    submissions and results of a class)."""
    found = {str(Path(str(p.__file__)).resolve().parent) for p in (gradekit, gradekit.reference)}
    found.add(str(built_in_folder()))
    found.add(str(cache_folder().resolve()))
    found.update(str(Path(p).resolve()) for p in protected)
    entries = [p for p in sys.path if p and os.path.isdir(p)]
    for root in runtime():
        entries += glob.glob(os.path.join(root, "lib", "python3*", "*-packages"))
        entries += glob.glob(os.path.join(root, "local", "lib", "python3*", "*-packages"))
    for entry in entries:
        for pattern in ("gradekit", "gradekit-*-info"):
            found.update(os.path.realpath(match) for match in glob.glob(os.path.join(entry, pattern)))
    return tuple(sorted(found))


def _within(path: str, root: str) -> bool:
    return path == root or path.startswith(root.rstrip(os.sep) + os.sep)


def seccomp_pipe(wall: Isolation, account: Account) -> int | None:
    """A pipe holding the seccomp filter a worker outside bubblewrap installs itself; None under the
    guard where no filter can be built here (Landlock needs one: see isolation.why_not)."""
    if wall is Isolation.GUARD and filter_missing() is not None:
        return None
    return syscalls.descriptor(signals=signals_kept_home(wall, account))


def note(wall: Isolation, limits: Limits, account: Account | None = None) -> str | None:
    """What a report says of a worker behind a weaker wall than bubblewrap (why not the stronger one),
    and of one run as `account` whose threads no kernel bound holds (account_note)."""
    who = None if account is None else account_note(wall, account)
    if wall is Isolation.BUBBLEWRAP:
        return None if who is None else f"the submission ran in bubblewrap {who}"
    if limits.isolation in ("off", wall.value):
        why = "as asked (--no-isolation)" if limits.isolation == "off" else f"as asked (--isolation {wall.value})"
    else:
        stronger = [w for w in STRONGEST_FIRST[: STRONGEST_FIRST.index(wall)]]
        why = "; ".join(f"{w.value}: {why_not(w, limits.run_as) or 'it could not start here'}" for w in stronger)
        why = f"({why})"
    who = "" if who is None else f", {who}"
    if wall is Isolation.LANDLOCK:
        return f"the submission ran in the Landlock sandbox, without namespaces{who} {why}"
    return f"the submission ran without OS isolation, behind the Python guard alone{who} {why}"


def switch(account: tuple[int, int] | None) -> dict[str, Any]:
    """Popen's arguments that start a process as `account` (uid, gid), and nothing else."""
    return {} if account is None else {"user": account[0], "group": account[1], "extra_groups": []}


def run_as_ids(user: str | None) -> tuple[int, int] | None:
    """(uid, gid) of the user `--run-as` names, or None where it names none (see accounts.named:
    GradekitError for a user that does not exist, or a grader that is not root)."""
    account = accounts.named(user)
    return None if account is None else account.ids


def threads_allowed(account: Account) -> int:
    """RLIMIT_NPROC for a worker outside a user namespace of its own, where the kernel counts every
    thread of its real uid: THREADS for a uid of its own, which runs nothing else; for a shared user,
    those it runs now and THREADS more (the grader's watch holds the worker itself to THREADS). Root
    is not counted (a pids cgroup holds it instead: cgroups.py)."""
    if account.kind in (Kind.OWN, Kind.ROOT):
        return THREADS
    uid = os.getuid() if account.ids is None else account.ids[0]
    running = 0
    for entry in os.scandir("/proc"):
        if entry.name.isdigit():
            with suppress(OSError):
                if entry.stat().st_uid == uid:
                    running += len(os.listdir(f"/proc/{entry.name}/task"))
    return running + THREADS


def environment(directory: str) -> dict[str, str]:
    """A small, fixed environment: same hashing and thread counts on every machine.

    No user site-packages: the home is the worker's private folder, which outlives a worker the
    submission ends, and Python would add the site-packages under it to the next worker's path and
    run the .pth files there as that interpreter starts, before the worker confines itself."""
    return {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": directory,
        "TMPDIR": directory,
        "LANG": "C.UTF-8",
        "PYTHONHASHSEED": "0",
        "PYTHONDONTWRITEBYTECODE": "1",
        "PYTHONNOUSERSITE": "1",
        "PYTHONIOENCODING": "utf-8",
        **dict.fromkeys(BLAS_THREADS, "1"),
    }
