"""Who the students of a class are, and what each submitted, read once before any grader starts.

Every .py or .ipynb file directly in SUBMISSIONS_DIR is one student, named by the file's name without
its suffix; every folder is one student, named by the folder, whose file is picked by `source.pick`
(the only .py/.ipynb in it, else NAME.py/.ipynb, else submission.py/.ipynb). Hidden entries,
__pycache__, __MACOSX, .ipynb_checkpoints and RESULTS_DIR itself are skipped; two entries that name the
same student (alice.py and alice/) give that student a row that says so. An entry that is a symbolic
link (to a classmate's file, say), a named pipe, a socket or a device is never followed or opened: that
student's row says what it is (`source.refused`).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, replace
from pathlib import Path

from gradekit.engine.source import IGNORED_FOLDERS, SUFFIXES, Source, pick, read, refused

__all__ = ["Student", "find_students", "read_all"]


@dataclass(frozen=True)
class Student:
    name: str
    path: Path  # the file, or the student's folder
    problem: str | None = None  # why there is nothing to grade, e.g. two entries with one name
    source: Source | None = None  # the submission as read by `read_all`, which is what is graded


def find_students(folder: Path, out: Path | None = None, assignment: str | None = None) -> list[Student]:
    """Every student in `folder`, sorted by name (see the module docstring for the rule)."""
    entries: dict[str, list[Path]] = {}
    # realpath, not resolve: a link that loops is a student's entry to refuse, where resolve raises
    # (before Python 3.13).
    skip = os.path.realpath(out) if out is not None else None
    for entry in sorted(folder.iterdir()):
        if entry.name.startswith(".") or entry.name in IGNORED_FOLDERS or os.path.realpath(entry) == skip:
            continue
        if entry.is_dir() or (entry.suffix in SUFFIXES and (entry.is_file() or refused(entry))):
            name = entry.name if entry.is_dir() else entry.stem
            entries.setdefault(name, []).append(entry)
    students = []
    for name, paths in sorted(entries.items()):
        if len(paths) > 1:
            shown = ", ".join(p.name for p in paths[:-1]) + f" and {paths[-1].name}"
            every = "both" if len(paths) == 2 else "all"
            students.append(Student(name, paths[0], f"{shown} {every} belong to {name}; keep one"))
            continue
        path = paths[0]
        why = refused(path)
        if why is not None:
            students.append(Student(name, path, why))
        elif path.is_dir():
            found, problem = pick(path, assignment)
            students.append(Student(name, path, None if found else problem))
        else:
            students.append(Student(name, path))
    return students


def read_all(students: list[Student], assignment: str) -> list[Student]:
    """Every student with their submission read into memory now, in this process, before any grader
    starts: graders grade this copy, so code run for one student cannot change what another is
    graded on. A student with a problem, or already read, is left as they are."""
    return [s if s.problem or s.source else replace(s, source=read(s.path, assignment)) for s in students]
