"""A pids cgroup of a worker's own: the kernel's bound on its threads where RLIMIT_NPROC is none.

The kernel does not hold a process whose real uid is root to RLIMIT_NPROC, in bubblewrap (whose user
namespace maps its user to the root that started it) or out of it. A worker that runs as root (a
root grader whose interpreter a uid of the worker's own cannot reach, see accounts.py) is held
instead by a pids cgroup made for it, whose `pids.max` the kernel keeps over every task in it: the
worker's threads past it are refused as its RLIMIT_NPROC would refuse them, before they run.

The cgroup is made below the grader's own, in cgroup v1's pids hierarchy where it is mounted apart
(/sys/fs/cgroup/pids), else in cgroup v2's where the grader's cgroup hands the pids controller down
(its cgroup.subtree_control names it), and named after the grader's process. A worker enters it
itself as it starts (`entering`), before anything else runs: a process that moves itself is in at
once, where the kernel makes a grader that moves another process wait (an RCU grace period, about
10 ms a process on cgroup v1, on every check's path). Once the worker says it is confined, before
any student code runs, whatever of it is not in yet is moved in (`hold`): what a process starts
stays in its cgroup, so nothing the submission starts is outside. Nothing in the sandbox can reach
the cgroup's files (bubblewrap shows no /sys, Landlock allows none of it).
"""

from __future__ import annotations

import functools
import itertools
import os
import time
from contextlib import suppress
from pathlib import Path

PREFIX = "gradekit-"
REMOVE_SECONDS = 1.0  # how long a cgroup whose worker was killed may take to empty
SHELL = "/bin/sh"  # runs a launched worker's first instruction: entering its cgroup
_made = itertools.count()


@functools.cache
def parent() -> str | None:
    """The folder this process makes pids cgroups in; None where there is none it may write."""
    try:
        mounts = [line.split() for line in Path("/proc/self/mounts").read_text().splitlines()]
        own = dict(line.split(":", 2)[1:] for line in Path("/proc/self/cgroup").read_text().splitlines())
    except (OSError, ValueError):
        return None
    found = [
        os.path.join(fields[1], own[controllers].lstrip("/"))
        for controllers in own
        if "pids" in controllers.split(",")
        for fields in mounts
        if fields[2] == "cgroup" and "pids" in fields[3].split(",")
    ]
    found += [
        os.path.join(fields[1], own[""].lstrip("/"))
        for fields in mounts
        if fields[2] == "cgroup2" and "" in own and _delegates(os.path.join(fields[1], own[""].lstrip("/")))
    ]
    usable = [path for path in found if os.access(path, os.W_OK)]
    if usable:
        _sweep(usable[0])
    return usable[0] if usable else None


def _delegates(path: str) -> bool:
    """Whether the cgroup v2 group at `path` hands the pids controller to the groups below it."""
    try:
        return "pids" in Path(path, "cgroup.subtree_control").read_text().split()
    except OSError:
        return False


def _sweep(folder: str) -> None:
    """Remove the empty cgroups left by graders that are gone (a grader killed before its clean-up)."""
    with suppress(OSError):
        for entry in os.scandir(folder):
            owner = entry.name.removeprefix(PREFIX).split("-")[0]
            if entry.name.startswith(PREFIX) and owner.isdigit() and not Path(f"/proc/{owner}").exists():
                with suppress(OSError):
                    os.rmdir(entry.path)


class Pids:
    """One worker's pids cgroup."""

    def __init__(self, path: str) -> None:
        self.path = path

    @classmethod
    def made(cls, most: int) -> Pids | None:
        """A new, empty pids cgroup that holds at most `most` tasks; None where none can be made here,
        OSError where one was made but the kernel refuses its bound (it is removed)."""
        folder = parent()
        if folder is None:
            return None
        path = os.path.join(folder, f"{PREFIX}{os.getpid()}-{next(_made)}")
        try:
            os.mkdir(path)
        except OSError:
            return None
        group = cls(path)
        try:
            Path(path, "pids.max").write_text(str(most))
        except OSError:
            group.remove()
            raise
        return group

    def entering(self, argv: list[str]) -> list[str]:
        """`argv` run from inside the cgroup: a shell that moves itself in and becomes `argv`, so that
        everything it starts is in from its first instruction. Where the shell cannot move itself,
        `argv` runs all the same and `hold` moves it."""
        if not os.access(SHELL, os.X_OK):
            return argv
        return [SHELL, "-c", '{ echo $$ > "$0"; } 2>/dev/null; exec "$@"', self.procs, *argv]

    @property
    def procs(self) -> str:
        """The file a process writes its pid to to enter the cgroup."""
        return os.path.join(self.path, "cgroup.procs")

    def hold(self, pids: list[int]) -> None:
        """Move the processes `pids` (every thread of each) into the cgroup, those not in yet; OSError
        where the kernel refuses (a process already gone)."""
        inside = Path(self.procs).read_text().split()
        for pid in pids:
            if str(pid) not in inside:
                Path(self.procs).write_text(str(pid))

    def remove(self) -> None:
        """Remove the cgroup once the worker is gone: the kernel empties it as the killed processes
        end, which may take a moment; one still busy then is left, empty soon, to the next sweep."""
        deadline = time.monotonic() + REMOVE_SECONDS
        while True:
            try:
                os.rmdir(self.path)
                return
            except FileNotFoundError:
                return
            except OSError:
                if time.monotonic() > deadline:
                    return
                time.sleep(0.01)
