"""Grading a whole class: `gradekit grade SUBMISSIONS_DIR --assignment NAME --out RESULTS_DIR`.

Who the students are: every .py or .ipynb file directly in SUBMISSIONS_DIR is one student, named by
the file's name without its suffix; every folder is one student, named by the folder, whose file is
picked by `source.pick` (the only .py/.ipynb in it, else NAME.py/.ipynb, else submission.py/.ipynb).
Hidden entries, __pycache__, __MACOSX, .ipynb_checkpoints and RESULTS_DIR itself are skipped; two
entries that name the same student (alice.py and alice/) give that student a row that says so.

What RESULTS_DIR gets:
    results/STUDENT.json   the JSON report, plus the file's hash and the settings it was graded with
    feedback/STUDENT.md    the student's report (.txt with --feedback text)
    gradebook.csv          student, score, max_score, one column per property, error
    summary.md             the class summary: what most students missed, the score histogram
    histogram.svg

Each student is graded in one of --jobs grader processes, each with a worker of its own in the OS
sandbox (gradekit/sandbox/isolation.py); only where there is none, and --no-isolation allows that,
are workers forked from the grader's preloaded template (gradekit/sandbox/forkserver.py). A
grader that runs past the per-student limit (the check budget plus STUDENT_GRACE) or dies is
stopped, its worker with it; the student gets a row saying why and a fresh grader takes the next
student, so one hang, crash or hostile file never costs anyone else's row.

Integrity: every student's file is read once, in this process, before any grader starts, and the
grader is sent that copy (`source.Source`); it never opens the file. So nothing a submission
does while it is graded can change what a classmate is graded on, and the sha256 recorded with each
result is that of the very bytes graded. Results and feedback are written by this process alone.

Resuming: results/STUDENT.json is written last and atomically, so it exists only for a finished
student. A run over the same RESULTS_DIR skips every student whose result was made from the same
file (name and bytes) with the same settings, and builds gradebook.csv and summary.md from all of them.
"""

from __future__ import annotations

import hashlib
import json
import multiprocessing
import multiprocessing.connection
import os
import signal
import sys
import tempfile
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, TextIO

import gradekit
from gradekit.assignment import Assignment
from gradekit.assignment import load as load_assignment
from gradekit.config import GradeConfig
from gradekit.grader import grade, unfinished
from gradekit.reports import WRITERS, class_summary, gradebook
from gradekit.result import GradeResult
from gradekit.runner import VerdictMemory, recorded
from gradekit.sandbox.process import forked_workers
from gradekit.source import IGNORED_FOLDERS, SUFFIXES, Source, pick, read

STUDENT_GRACE = 120.0  # seconds past the check budget before a student's grader is stopped
STOP_GRACE = 2.0
FEEDBACK_SUFFIX = {"markdown": ".md", "text": ".txt"}


@dataclass(frozen=True)
class Student:
    name: str
    path: Path  # the file, or the student's folder
    problem: str | None = None  # why there is nothing to grade, e.g. two entries with one name
    source: Source | None = None  # the submission as read by `read_all`, which is what is graded


def find_students(folder: Path, out: Path | None = None, assignment: str | None = None) -> list[Student]:
    """Every student in `folder`, sorted by name (see the module docstring for the rule)."""
    entries: dict[str, list[Path]] = {}
    skip = out.resolve() if out is not None else None
    for entry in sorted(folder.iterdir()):
        if entry.name.startswith(".") or entry.name in IGNORED_FOLDERS or entry.resolve() == skip:
            continue
        if entry.is_dir() or (entry.is_file() and entry.suffix in SUFFIXES):
            name = entry.name if entry.is_dir() else entry.stem
            entries.setdefault(name, []).append(entry)
    students = []
    for name, paths in sorted(entries.items()):
        if len(paths) > 1:
            shown = " and ".join(p.name for p in paths)
            students.append(Student(name, paths[0], f"{shown} both belong to {name}; keep one"))
            continue
        path = paths[0]
        if path.is_dir():
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


def grade_all(
    submissions: Path,
    assignment: Assignment,
    out: Path,
    config: GradeConfig = GradeConfig(),
    jobs: int | None = None,
    feedback: str = "markdown",
    assignment_dirs: list[str] | None = None,
    progress: TextIO | None = None,
) -> str:
    """Grade every student not already graded, then write the gradebook and summary; a one-line account."""
    started = time.monotonic()
    out.mkdir(parents=True, exist_ok=True)
    (out / "results").mkdir(exist_ok=True)
    (out / "feedback").mkdir(exist_ok=True)
    students = read_all(find_students(submissions, out, assignment.name), assignment.name)
    settings = _settings(assignment, config)
    stamps = {s.name: _stamp(s, settings) for s in students}
    todo = [s for s in students if not _finished(out, s, stamps[s.name], assignment, feedback)]
    bar = Progress(len(students), len(students) - len(todo), progress or sys.stderr)

    def record(student: Student, result: GradeResult) -> None:
        _write_student(out, student, result, stamps[student.name], feedback)
        bar.advance()

    for student in [s for s in todo if s.problem]:
        record(student, unfinished(student.path, assignment, config, student.problem or ""))
    run_pool([s for s in todo if not s.problem], assignment, config, assignment_dirs, jobs, record)
    bar.finish()
    graded = [(s.name, GradeResult.from_dict(_read(out / "results" / f"{s.name}.json"))) for s in students]
    _write_atomic(out / "gradebook.csv", gradebook.render(assignment, graded))
    _write_atomic(out / "summary.md", class_summary.render(assignment, graded, "histogram.svg"))
    _write_atomic(out / "histogram.svg", class_summary.histogram([r.score for _, r in graded], assignment.max_score))
    done_now = len(todo)
    return (
        f"gradekit: {len(students)} students in {out} ({done_now} graded now, {len(students) - done_now} "
        f"kept from before) in {time.monotonic() - started:.1f} s"
    )


class Progress:
    """A one-line progress bar on a terminal; a line per tenth of the class elsewhere (CI logs)."""

    WIDTH = 30

    def __init__(self, total: int, done: int, stream: TextIO, unit: str = "students") -> None:
        self.total, self.done, self.kept = total, done, done
        self.stream, self.unit = stream, unit
        self.started = time.monotonic()
        self.live = hasattr(stream, "isatty") and stream.isatty()
        self.shown = -1
        self._show()

    def advance(self) -> None:
        self.done += 1
        self._show()

    def finish(self) -> None:
        if self.live:
            self.stream.write("\n")
            self.stream.flush()

    def _show(self) -> None:
        tenth = self.done * 10 // max(self.total, 1)
        if not self.live and tenth == self.shown and self.done != self.total:
            return
        self.shown = tenth
        filled = self.done * self.WIDTH // max(self.total, 1)
        kept = f", {self.kept} from before" if self.kept else ""
        line = (
            f"grading [{'#' * filled}{'.' * (self.WIDTH - filled)}] {self.done}/{self.total} {self.unit}"
            f"{kept}, {time.monotonic() - self.started:.0f} s"
        )
        self.stream.write(("\r" + line) if self.live else line + "\n")
        self.stream.flush()


# The pool: long-lived grader processes, one student at a time each, stopped when they overrun.


class _Grader:
    def __init__(self, context: Any, setup: tuple[Any, ...]) -> None:
        """`setup` is what `_serve` takes after its pipe: assignment name, config, folders, remember."""
        self.connection, theirs = context.Pipe()
        self.process = context.Process(target=_serve, args=(theirs, *setup), daemon=True)
        self.process.start()
        theirs.close()
        self.student: Student | None = None
        self.deadline = float("inf")
        self.seen = 0  # how much of the pool's log of learnt verdicts this grader has been sent

    def give(self, student: Student, limit: float, learnt: list[Any]) -> None:
        """Send the next student, their submission as read (see `read_all`), and what the other
        graders learnt since (see gradekit.speed.verdicts)."""
        self.student, self.deadline = student, time.monotonic() + limit
        self.connection.send((student.name, str(student.path), student.source, learnt))

    def stop(self) -> None:
        """SIGTERM first, so the grader unwinds and stops its worker's process group; then SIGKILL."""
        if self.process.is_alive():
            self.process.terminate()
            self.process.join(STOP_GRACE)
        if self.process.is_alive():
            self.process.kill()
        self.process.join()
        self.connection.close()


def run_pool(
    students: list[Student],
    assignment: Assignment,
    config: GradeConfig,
    assignment_dirs: list[str] | None,
    jobs: int | None,
    record: Callable[[Student, GradeResult], None],
    remember: bool = True,
) -> None:
    """Grade every student in `jobs` grader processes (default: one per core), calling `record` with
    each result as it comes, in this process. Every student gets exactly one result: a grader that
    hangs or dies gives its student an `unfinished` one. The graders load the assignment by name, so
    it must be found through `assignment_dirs` or the search path. With `remember`, graders give a
    verdict again to answers exactly like an earlier student's (see gradekit.speed.verdicts). Submissions not
    yet read are read here, before any grader starts (see `read_all`)."""
    if not students:
        return
    students = read_all(students, assignment.name)
    if config.shortcuts:  # recorded once here, not by every grader at once on a cold cache
        recorded(assignment, config.seed_or(assignment.default_seed), config.max_examples)
    context = multiprocessing.get_context("fork" if "fork" in multiprocessing.get_all_start_methods() else "spawn")
    limit = config.check_budget + STUDENT_GRACE
    queue = deque(students)
    log: list[tuple[int, Any]] = []  # (grader pid, entry): what each grader learnt, for the others
    setup = (assignment.name, config, assignment_dirs, remember)
    graders = [_Grader(context, setup) for _ in range(min(jobs or _cores(), len(students)))]

    def give_work() -> None:
        for grader in graders:
            if grader.student is None and queue:
                learnt = [entry for origin, entry in log[grader.seen :] if origin != grader.process.pid]
                grader.seen = len(log)
                grader.give(queue.popleft(), limit, learnt)

    try:
        while queue or any(g.student for g in graders):
            give_work()
            busy = [g for g in graders if g.student is not None]
            wait = max(0.0, min(g.deadline for g in busy) - time.monotonic())
            ready = multiprocessing.connection.wait([g.connection for g in busy], timeout=wait)
            done = []
            for index, grader in enumerate(graders):
                student = grader.student
                if student is None:
                    continue
                if grader.connection in ready:
                    try:
                        _, result, learnt = grader.connection.recv()
                        log.extend((grader.process.pid, entry) for entry in learnt)
                    except (EOFError, OSError):
                        grader.process.join(STOP_GRACE)
                        why = f"the grader stopped while grading this file (exit code {grader.process.exitcode})"
                        result = unfinished(student.path, assignment, config, why)
                        graders[index] = _replace(grader, context, setup)
                elif time.monotonic() >= grader.deadline:
                    why = f"grading did not finish within {limit:g} s, so it was stopped"
                    result = unfinished(student.path, assignment, config, why)
                    graders[index] = _replace(grader, context, setup)
                else:
                    continue
                grader.student = None
                done.append((student, result))
            give_work()  # before the reports are written: a grader waits for nothing of this process
            for student, result in done:
                record(student, result)
    finally:
        for grader in graders:
            grader.stop()


def _replace(grader: _Grader, context: Any, setup: tuple[Any, ...]) -> _Grader:
    grader.stop()
    return _Grader(context, setup)


def _serve(
    connection: Any, assignment_name: str, config: GradeConfig, assignment_dirs: list[str] | None, remember: bool
) -> None:
    """A grader process: grade each student sent, from the submission as sent (the file is not read
    again here), send back the result, until the pipe closes."""

    def stop(signum: int, frame: Any) -> None:
        raise SystemExit(1)  # unwinds grade(), whose `with Worker` kills the worker's process group

    signal.signal(signal.SIGTERM, stop)
    memory = VerdictMemory() if remember else None
    chosen = load_assignment(assignment_name, assignment_dirs)
    with forked_workers(config.limits):
        while True:
            try:
                name, path, source, learnt = connection.recv()
            except (EOFError, OSError):
                return
            if memory is not None:
                memory.absorb(learnt)
            result = grade(Path(path), chosen, config, assignment_dirs, read=source, memory=memory)
            connection.send((name, result, memory.new() if memory is not None else []))


# Files


def _settings(assignment: Assignment, config: GradeConfig) -> str:
    """What a grade depends on besides the file: a result made under other settings is made again."""
    text = repr((gradekit.__version__, assignment.name, [p.name for p in assignment.properties], config))
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def _stamp(student: Student, settings: str) -> dict[str, str | None]:
    """What a student's result is made from, kept with it so a rerun can tell it is still good: the
    file graded and the sha256 of the bytes read from it (the ones graded, not a second read), or
    the problem that left nothing to grade, and the settings."""
    source = student.source
    file = source.path if source is not None and source.path is not None else student.path
    return {
        "student": student.name,
        "file": str(file),
        "sha256": source.sha256 if source else None,
        "problem": student.problem,
        "settings": settings,
    }


def _finished(out: Path, student: Student, stamp: dict[str, str | None], assignment: Assignment, feedback: str) -> bool:
    try:
        data = _read(out / "results" / f"{student.name}.json")
    except (OSError, ValueError, KeyError, TypeError):
        return False
    names = [t.get("name") for t in data.get("tests", [])]
    return (
        data.get("batch") == stamp
        and names == [p.name for p in assignment.properties]
        and (out / "feedback" / f"{student.name}{FEEDBACK_SUFFIX[feedback]}").is_file()
    )


def _read(path: Path) -> dict[str, Any]:
    data = json.loads(path.read_text(encoding="utf-8"))
    if not isinstance(data, dict) or not isinstance(data.get("batch"), dict):
        raise ValueError(f"{path} is not a gradekit result")
    return data


def _write_student(
    out: Path, student: Student, result: GradeResult, stamp: dict[str, str | None], feedback: str
) -> None:
    """The feedback first, the result last: a result on disk means the student is done."""
    _write_atomic(out / "feedback" / f"{student.name}{FEEDBACK_SUFFIX[feedback]}", WRITERS[feedback](result))
    data = {**result.to_dict(), "batch": stamp}
    _write_atomic(out / "results" / f"{student.name}.json", json.dumps(data, indent=2) + "\n")


def _write_atomic(path: Path, text: str) -> None:
    with tempfile.NamedTemporaryFile(
        "w", encoding="utf-8", dir=path.parent, prefix=f".{path.name}.", delete=False
    ) as handle:
        handle.write(text)
    os.replace(handle.name, path)


def _cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:
        return os.cpu_count() or 1
