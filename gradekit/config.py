"""The settings of one grading run, as one frozen object.

Defaults keep a correct submission's check quick while leaving room for slow-but-right code;
every limit can be changed from the command line with `dataclasses.replace`.
"""

from __future__ import annotations

import importlib.util
import os
import stat
from dataclasses import dataclass
from pathlib import Path

ASSIGNMENTS_VARIABLE = "GRADEKIT_ASSIGNMENTS"
# The thread counts of NumPy's BLAS: one each, for the grader (`cli.one_blas_thread`) and its workers.
BLAS_THREADS = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")

MIB = 1024 * 1024


@dataclass(frozen=True)
class Limits:
    """What the sandboxed worker may use.

    `call_timeout` bounds one call, `load_timeout` a .py file's top level, and `cell_timeout` each of a
    notebook's code cells (the cells together get `cell_timeout + load_timeout`), in seconds the worker
    spends computing (every thread's CPU time) or blocked (asleep, or waiting on a read): in a sandbox
    nothing honest waits, and the time it spent waiting for a CPU is left out, so a verdict is the same
    on an idle machine and a busy one (wall-clock time where /proc cannot tell, off Linux).
    `cpu_seconds` bounds the CPU time of one worker over its whole life, every thread together, as a
    hard limit the kernel keeps.
    `memory_bytes` bounds a worker's address space. Its private folder, a folder on the grader's disk
    kept for the submission's whole grade, holds at most `folder_bytes` in at most `folder_files`
    entries, and each file it writes at most `file_bytes`.
    `run_as` names the user the worker runs as (the grader must be root to switch; None: its own user).
    `reply_bytes` caps one reply and `replies_bytes` everything one submission's workers send: the
    largest honest answer (a gradient over a vocabulary of 10,000) fits in one reply many times over.
    `isolation` is what the grade asks of the OS sandbox (see gradekit.sandbox.isolation): "auto" the
    strongest this host allows, down to the Python guard (and the report says so); "require" the
    strongest but never the guard alone; "off" the guard; "bubblewrap" or "landlock" that one only.
    """

    call_timeout: float = 2.0
    load_timeout: float = 10.0
    cell_timeout: float = 10.0
    cpu_seconds: float = 60.0
    memory_bytes: int = 1024 * MIB
    output_bytes: int = 64 * 1024
    file_bytes: int = 16 * MIB
    folder_bytes: int = 16 * MIB
    folder_files: int = 1000
    reply_bytes: int = 1 * MIB
    replies_bytes: int = 256 * MIB
    run_as: str | None = None
    isolation: str = "auto"


@dataclass(frozen=True)
class GradeConfig:
    seed: int | None = None
    # `seed` is the course's own (gradekit.course_seed): a result names it by its digest, never shows it.
    course_seed: bool = False
    max_examples: int = 100
    property_budget: float = 20.0
    check_budget: float = 30.0
    shortcuts: bool = True  # every shortcut of gradekit.engine.speed; off, a grade is the same, only slower
    diagnose: bool = True  # name the known mistakes behind failures (gradekit.diagnosis.diagnose); never scored
    limits: Limits = Limits()

    def seed_or(self, default: int) -> int:
        """The seed to grade with: --seed if given, else the assignment's own (`default`)."""
        return default if self.seed is None else self.seed


def cache_folder() -> Path:
    """$GRADEKIT_CACHE, else $XDG_CACHE_HOME/gradekit, else ~/.cache/gradekit: never the student's folder.
    Whatever writes there makes it with `private_folder`."""
    if os.environ.get("GRADEKIT_CACHE"):
        return Path(os.environ["GRADEKIT_CACHE"])
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "gradekit"


def private_folder(folder: Path) -> None:
    """Make `folder` (and the folders above it) where it is missing, and keep it readable by its owner
    alone (0700): the cache holds the inputs a course's own grade draws, which no student may list or
    read on a shared machine. A folder made earlier with a wider mode is narrowed where this user owns
    it; one owned by another user, or shared by design (sticky, as /tmp is), is left as it is (its
    files are still written 0600)."""
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    status = os.stat(folder)
    if status.st_uid == os.geteuid() and status.st_mode & 0o077 and not status.st_mode & stat.S_ISVTX:
        os.chmod(folder, 0o700)


def search_path(extra: list[str] | None = None) -> list[Path]:
    """Folders holding assignment folders: --assignments first, then $GRADEKIT_ASSIGNMENTS, then built-ins."""
    folders = [Path(p) for p in extra or []]
    folders += [Path(p) for p in os.environ.get(ASSIGNMENTS_VARIABLE, "").split(os.pathsep) if p]
    folders.append(built_in_folder())
    return folders


def built_in_folder() -> Path:
    """The folder of the assignments gradekit ships, last on every search path: found from the package's
    spec, without importing the assignments, which import the vocabulary this module is part of."""
    spec = importlib.util.find_spec("gradekit.assignments")
    assert spec is not None and spec.submodule_search_locations is not None, "gradekit ships its assignments"
    return Path(next(iter(spec.submodule_search_locations))).resolve()
