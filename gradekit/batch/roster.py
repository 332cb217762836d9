"""Who the students of a class are, and what each submitted, found once before any grader starts.

Without a roster, every .py or .ipynb file directly in SUBMISSIONS_DIR is one student, named by the file's name without
its suffix; every folder is one student, named by the folder, whose file is picked by `source.pick`
(the only .py/.ipynb in it, else NAME.py/.ipynb, else submission.py/.ipynb). Hidden entries,
__pycache__, __MACOSX, .ipynb_checkpoints and RESULTS_DIR itself are skipped; two entries that name the
same student (alice.py and alice/) give that student a row that says so. An entry that is a symbolic
link (to a classmate's file, say), a named pipe, a socket or a device is never followed or opened: that
student's row says what it is (`source.refused`).

With a roster (`read_roster`: a CSV with the columns `id`, `name` and `submission`, see ROSTER), the
students are the roster's, keyed by their id, each graded on the file or folder the roster names (a
blank `submission` is the entry named like the id, found as above); one whose submission is not
there is `missing`. An entry the roster does not claim is still a student, keyed by its name, and
`unlisted`. `id` becomes a file name (results/ID.json), so it holds no / and does not start with a dot.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path, PurePosixPath

from gradekit.batch.spreadsheet import table
from gradekit.engine.source import IGNORED_FOLDERS, LARGEST_HELD, SUFFIXES, Source, let_go, located, pick, refused
from gradekit.errors import UsageError

__all__ = [
    "ROSTER",
    "Enrolled",
    "Student",
    "enrolled_students",
    "find_students",
    "read_all",
    "read_roster",
    "without_bytes",
]

ROSTER = ("id", "name", "submission")  # the columns a roster must have; any others are kept as they are


@dataclass(frozen=True)
class Enrolled:
    """One row of a roster: the student's `id` (what the course and its LMS know them by), `name`, the
    file or folder they submit, relative to SUBMISSIONS_DIR ("" for the entry named like the id), and
    every column of the row by its header, lowercase (`email`, `section`, `login`, a repository...)."""

    id: str
    name: str
    submission: str = ""
    columns: Mapping[str, str] = field(default_factory=dict, compare=False)


@dataclass(frozen=True)
class Student:
    name: str  # the key of every file of theirs: the roster's id, else the entry's name
    path: Path  # the file, or the student's folder
    problem: str | None = None  # why there is nothing to grade, e.g. two entries with one name
    source: Source | None = None  # the submission as read by `read_all`, which is what is graded
    enrolled: Enrolled | None = None  # their roster row, with a roster
    missing: bool = False  # on the roster, with nothing submitted


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
        students.append(Student(name, paths[0], _problem(paths[0], assignment)))
    return students


def _problem(path: Path, assignment: str | None) -> str | None:
    """Why the entry at `path` leaves nothing to grade; None for a file, or a folder with one to pick."""
    why = refused(path)
    if why is not None or not path.is_dir():
        return why
    found, problem = pick(path, assignment)
    return None if found else problem


def read_roster(path: Path) -> list[Enrolled]:
    """The students of the roster CSV at `path`, in its order: a header row naming at least the columns
    `id`, `name` and `submission` (in any order and case; others are kept in `Enrolled.columns`), then
    one row per student. A blank row is skipped. Whatever would make two students one, or an id that
    cannot name a file, is a usage error naming the row."""
    header, rows = table(path, f"--roster {path}")
    lacking = [c for c in ROSTER if c not in header]
    if lacking:
        raise UsageError(
            f"--roster {path} has no {', '.join(lacking)} column; its header must name {', '.join(ROSTER)}"
        )
    enrolled: list[Enrolled] = []
    claimed: dict[str, int] = {}
    for number, row in enumerate(rows, start=2):
        if not any(cell.strip() for cell in row):
            continue
        columns = {h: (row[i].strip() if i < len(row) else "") for i, h in enumerate(header) if h}
        student = Enrolled(columns["id"], columns["name"], _relative(path, number, columns["submission"]), columns)
        _check_id(path, number, student.id)
        for key in (f"id {student.id}", f"submission {student.submission or student.id}"):
            if key in claimed:
                raise UsageError(f"--roster {path}, row {number}: {key} is on row {claimed[key]} too; keep one")
            claimed[key] = number
        enrolled.append(student)
    return enrolled


def _check_id(path: Path, number: int, student: str) -> None:
    if not student or "/" in student or "\\" in student or "\0" in student or student.startswith("."):
        raise UsageError(
            f"--roster {path}, row {number}: the id {student!r} cannot name the student's files; "
            "give one without / or \\ that does not start with a dot"
        )


def _relative(path: Path, number: int, submission: str) -> str:
    """The roster's `submission` as a path inside SUBMISSIONS_DIR; "" where it is blank."""
    if not submission:
        return ""
    inside = PurePosixPath(submission.replace("\\", "/"))
    if inside.is_absolute() or ".." in inside.parts:
        raise UsageError(
            f"--roster {path}, row {number}: the submission {submission!r} is not inside the submissions folder; "
            "name it relative to that folder"
        )
    return str(inside)


def enrolled_students(
    folder: Path, roster: list[Enrolled], out: Path | None = None, assignment: str | None = None
) -> list[Student]:
    """Every student of `roster`, in its order, each with their submission in `folder` (`missing`
    where it is not there), then every entry of `folder` (as `find_students` finds them) that no
    roster row claims, by name. An unclaimed entry named like a roster id is a usage error: it would
    take that student's files."""
    found = {s.name: s for s in find_students(folder, out, assignment)}
    students = [_enrolled(folder, row, found, assignment) for row in roster]
    claimed = [s.path for s in students]
    ids = {s.name: s for s in students}
    for entry in found.values():
        if any(entry.path == path or entry.path in path.parents for path in claimed):
            continue
        if entry.name in ids:
            raise UsageError(
                f"{entry.path} is not on the roster, but {entry.name} is the id of a roster student who submits "
                f"{ids[entry.name].path}: name it in the roster's submission column, or move it"
            )
        students.append(entry)
    return students


def _enrolled(folder: Path, row: Enrolled, found: dict[str, Student], assignment: str | None) -> Student:
    if not row.submission:
        entry = found.get(row.id)
        if entry is None:
            why = f"the submissions folder has no {row.id}.py, {row.id}.ipynb or folder {row.id}"
            return Student(row.id, folder / row.id, _missing(row, why), enrolled=row, missing=True)
        return replace(entry, enrolled=row)
    path, inside = folder / row.submission, Path(row.submission)
    for part in [*reversed(inside.parents[:-1]), inside]:  # a link on the way would lead out of `folder`
        refusal = refused(folder / part)
        if refusal is not None:
            return Student(row.id, path, refusal, enrolled=row)
    if not os.path.lexists(path):
        why = f"{row.submission} is not in the submissions folder"
        return Student(row.id, path, _missing(row, why), enrolled=row, missing=True)
    return Student(row.id, path, _problem(path, assignment), enrolled=row)


def _missing(row: Enrolled, why: str) -> str:
    """Why a roster student has nothing to grade: the roster's own word where it gives one (its `missing`
    column, where `gradekit collect` writes why it collected nothing), else `why`."""
    return f"no submission: {row.columns.get('missing') or why}"


def without_bytes(student: Student) -> Student:
    """`student` without the bytes of their file (`source.let_go`), which are read again where needed."""
    return student if student.source is None else replace(student, source=let_go(student.source))


def read_all(students: list[Student], assignment: str, most: int = LARGEST_HELD) -> list[Student]:
    """Every student with their submission found and hashed now, in this process, before any grader
    starts (`source.located`): the file graded, and the sha256 of its bytes, kept unparsed. Each is
    parsed where it is graded (`source.parsed`), from bytes that must hash alike, so a file that is
    costly to parse costs its own grade alone, and code run for one student cannot change what another
    is graded on. The bytes of the first files read are kept, `most` bytes at most in all; the rest are
    let go and read again where they are graded (`source.held`), so a class of large notebooks does not
    hold every one in memory. A student with a problem, or already found, is left as they are."""
    kept, found = 0, []
    for student in students:
        if student.problem or student.source:
            found.append(student)
            continue
        read = located(student.path, assignment)
        size = len(read.data or b"")
        if kept + size > most:
            read = let_go(read)
        else:
            kept += size
        found.append(replace(student, source=read))
    return found
