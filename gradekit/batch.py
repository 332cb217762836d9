"""Grading a whole class: `gradekit grade SUBMISSIONS_DIR --assignment NAME --out RESULTS_DIR`.

Who the students are: every .py or .ipynb file directly in SUBMISSIONS_DIR is one student, named by
the file's name without its suffix; every folder is one student, named by the folder, whose file is
picked by `source.pick` (the only .py/.ipynb in it, else NAME.py/.ipynb, else submission.py/.ipynb).
Hidden entries, __pycache__, __MACOSX, .ipynb_checkpoints and RESULTS_DIR itself are skipped; two
entries that name the same student (alice.py and alice/) give that student a row that says so. An
entry that is a symbolic link (to a classmate's file, say), a named pipe, a socket or a device is
never followed or opened: that student's row says what it is (`source.refused`).

What RESULTS_DIR gets:
    results/STUDENT.json   the JSON report (with its provenance) and the file graded, with its hash
    regrades/N/            the results before the Nth regrade, and its report (see Regrading)
    feedback/STUDENT.md    the student's report (.txt with --feedback text)
    gradebook.csv          student, score, max_score, one column per property, error, misconceptions
    summary.md             the class summary: what most students missed, the known mistakes they
                           made and the failures none explains, the score histogram
    histogram.svg

Each student is graded in one of --jobs grader processes, each with a worker of its own, forked from
the grader's preloaded template (gradekit/sandbox/forkserver.py) inside the OS sandbox
(gradekit/sandbox/isolation.py), or without it where there is none and --no-isolation allows that. A
grader that runs past the per-student limit (the check's wall-clock backstop plus STUDENT_GRACE) or dies is
stopped, its worker with it; the student gets a row saying why and a fresh grader takes the next
student, so one hang, crash or hostile file never costs anyone else's row.

Integrity: every student's file is read once, in this process, before any grader starts, and the
grader is sent that copy (`source.Source`); it never opens the file. So nothing a submission
does while it is graded can change what a classmate is graded on, and the sha256 recorded with each
result is that of the very bytes graded. Results and feedback are written by this process alone.

Resuming: results/STUDENT.json is written last and atomically, so it exists only for a finished
student. A run over the same RESULTS_DIR keeps every student's result that was made from the same file
(name and bytes) and from everything else a grade is made from as it is now (its provenance: the
assignment's files and properties, the solution, the seed, the number of examples, the options,
gradekit, Hypothesis, NumPy and Python; see gradekit.provenance and gradekit.regrade.stale), grades
the rest, says how many of each and why, and builds gradebook.csv and summary.md from all of them.
`again` (--regrade) grades named students, or all, whatever their result.

Regrading: before a result made earlier is replaced, it is kept in regrades/under-way/earlier; once
every student is graded, the regrade's report (regrade.md, .csv and .json: each student whose score
changed, and why, gradekit.reports.regrade) is written beside it and the folder is numbered after the
regrades before it (regrades/1, regrades/2...). A student's new report carries one line saying why
their score changed. A regrade interrupted and run again compares with the results from before it began.
A student whose report cannot be written (a writer raises) gets a result saying so and no feedback,
so a rerun grades them again; a result that cannot be read back gives its student a row saying so.
Either way the class goes on, and the gradebook and summary are written.

Stopping: Ctrl-C reaches every process of the terminal's foreground group, graders included; a grader
leaves it to the pool, which stops every grader alike (SIGTERM, so each stops its worker first) and
records nothing more. What the graders and their workers write goes in one temporary folder of the
pool's, removed whatever happens to them. So an interrupted run leaves only finished students' results,
and the same command resumes it (the command prints the one line that says so, see gradekit.cli).
"""

from __future__ import annotations

import json
import multiprocessing
import multiprocessing.connection
import os
import shutil
import signal
import sys
import tempfile
import time
from collections import Counter, deque
from collections.abc import Callable, Collection, Sequence
from contextlib import suppress
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

from gradekit.assignment import Assignment
from gradekit.assignment import load as load_assignment
from gradekit.budget import WALL_FACTOR
from gradekit.cluster import probe_workers, run_cluster
from gradekit.config import GradeConfig
from gradekit.course_terms import counted
from gradekit.errors import HostFailure, UsageError
from gradekit.grader import grade, seed_named, unfinished
from gradekit.misconceptions import bank
from gradekit.provenance import made
from gradekit.recording import recorded
from gradekit.regrade import compare, stale
from gradekit.reports import WRITERS, class_summary, gradebook
from gradekit.reports import regrade as regrade_report
from gradekit.result import GradeResult, Provenance
from gradekit.runner import VerdictMemory
from gradekit.sandbox.process import forked_workers, probe
from gradekit.sandbox.stops import stops_kept, uninterrupted
from gradekit.source import IGNORED_FOLDERS, SUFFIXES, Source, pick, read, refused

if TYPE_CHECKING:
    from distributed import Client

STUDENT_GRACE = 60.0  # seconds past the check's wall-clock backstop before a student's grader is stopped
STOP_GRACE = 5.0  # seconds a grader has to stop its worker and exit before it is killed
TICK = 1.0  # the longest the pool waits for a grader before it tells the progress line again
TERMINATED = 128 + signal.SIGTERM  # a grader's exit code once SIGTERM has stopped it, as a shell reports it
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


def grade_all(
    submissions: Path,
    assignment: Assignment,
    out: Path,
    config: GradeConfig = GradeConfig(),
    jobs: int | None = None,
    feedback: str = "markdown",
    assignment_dirs: list[str] | None = None,
    progress: TextIO | None = None,
    dask: Client | None = None,
    again: Collection[str] = (),
) -> str:
    """Grade every student not already graded, then write the gradebook and summary; a one-line account.
    With `dask`, a client of a Dask scheduler (`gradekit.cluster.connect`), the students are graded on
    that cluster instead of in local grader processes; everything else is the same. `again` names
    students to grade again whatever their result (ALL: every one)."""
    started = time.monotonic()
    out.mkdir(parents=True, exist_ok=True)
    (out / "results").mkdir(exist_ok=True)
    (out / "feedback").mkdir(exist_ok=True)
    students = read_all(find_students(submissions, out, assignment.name), assignment.name)
    unknown = sorted(set(again) - {ALL} - {s.name for s in students})
    if unknown:
        raise UsageError(f"--regrade {unknown[0]}: there is no student of that name in {submissions}")
    now = made(assignment, config, seed_named(config, config.seed_or(assignment.default_seed)))
    stamps = {s.name: _stamp(s) for s in students}
    reasons = {s.name: _why_again(out, s, stamps[s.name], now, feedback, again) for s in students}
    todo = [s for s in students if reasons[s.name] is not None]
    earlier = _keep_earlier(out, [s for s in todo if reasons[s.name] not in (NEW, UNWRITTEN)])
    bar = Progress(len(students), len(students) - len(todo), progress or sys.stderr)

    def record(student: Student, result: GradeResult) -> None:
        if student.name in earlier:
            result = _explained(student.name, earlier[student.name], result)
        try:
            _write_student(out, student, result, stamps[student.name], feedback)
        except Exception as error:  # a writer failing on what one student's code made costs no one else
            why = f"the report for this file could not be written ({type(error).__name__}); run the grade again"
            failed = unfinished(student.path, assignment, config, why, _sha256(student))
            _write_unwritten(out, student, failed, stamps[student.name], feedback)
        bar.advance()

    lost: list[tuple[Student, str]] = []  # students the host, not their code, kept from a result

    def host_failed(student: Student, why: str) -> None:
        lost.append((student, why))
        bar.advance()

    # The host is checked before anything is recorded: a wall that cannot start stops the grade here.
    if todo and dask is not None:
        probe_workers(dask, config)
    elif todo:
        probe(config.limits, assignment_dirs)
    try:
        for student in [s for s in todo if s.problem]:
            record(student, unfinished(student.path, assignment, config, student.problem or ""))
        readable = [s for s in todo if not s.problem]
        if dask is not None:
            run_cluster(readable, assignment, config, dask, record, host_failed)
        else:
            run_pool(readable, assignment, config, assignment_dirs, jobs, record, grading=bar.grading, lost=host_failed)
    finally:  # interrupted too: whatever is said next starts a line of its own
        bar.finish()
    graded = [(s.name, _read_back(out, s, assignment, config)) for s in students]
    _write_atomic(out / "gradebook.csv", gradebook.render(assignment, graded))
    _write_atomic(out / "summary.md", class_summary.render(assignment, graded, "histogram.svg"))
    _write_atomic(out / "histogram.svg", class_summary.histogram([r.score for _, r in graded], assignment.max_score))
    done_now = len(todo) - len(lost)
    account = (
        f"gradekit: {counted(len(students), 'student')} in {out} ({done_now} graded now, {len(students) - len(todo)} "
        f"kept from before) in {time.monotonic() - started:.1f} s"
    )
    account += _why_graded([r for r in reasons.values() if r is not None])
    if lost:
        names = _listed([student.name for student, _ in lost], 5)
        raise HostFailure(
            f"{account}; {counted(len(lost), 'student')} ({names}) not graded, for a reason of the host's: "
            f"{lost[0][1]}. Nothing was recorded for them: the same command grades them once the host is fixed "
            "(gradekit doctor says what it lacks)"
        )
    return account + _regrade_report(out, assignment, dict(graded))


class Progress:
    """The class's progress on one line: how many are done, the time so far, and who is being graded now.

    On a terminal the line is redrawn in place at every change and every time the pool waits TICK
    seconds (see `run_pool`), so a student who hangs shows as a clock still running beside their name.
    Elsewhere (a log file, CI) a line is written at each tenth of the class and at the end, and between
    those every QUIET seconds while someone is being graded: a log says whom a long wait is for without
    a line a second.
    """

    WIDTH = 30
    NARROWEST = 10
    QUIET = 30.0
    NAMES = 3  # names shown at most; past that, two and how many more

    def __init__(
        self,
        total: int,
        done: int,
        stream: TextIO,
        unit: str = "student",
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.total, self.done, self.kept = total, done, done
        self.stream, self.unit, self.clock = stream, unit, clock
        self.started = clock()
        self.live = hasattr(stream, "isatty") and stream.isatty()
        self.names: tuple[str, ...] = ()
        self.width = self.WIDTH  # of the bar
        self.tenth = -1  # the tenth of the class the last line written elsewhere than a terminal showed
        self.written = self.started  # when a line was last written
        self.length = 0  # of the line on the terminal now, which a shorter one must cover
        self._show()

    def advance(self) -> None:
        self.done += 1
        self._show()

    def grading(self, names: Sequence[str]) -> None:
        """Who is being graded now, the longest first: a terminal shows it at once, a log within QUIET s."""
        self.names = tuple(names)
        if self.live or (self.names and self.clock() - self.written >= self.QUIET):
            self._write()

    def finish(self) -> None:
        if self.live:
            self.stream.write("\n")
            self.stream.flush()

    def _show(self) -> None:
        tenth = self.done * 10 // max(self.total, 1)
        if self.live or tenth != self.tenth or self.done == self.total:
            self.tenth = tenth
            self._write()

    def _write(self) -> None:
        now = self.clock()
        kept = f", {self.kept} from before" if self.kept else ""
        rest = f" {self.done}/{counted(self.total, self.unit)}{kept}, {now - self.started:.0f} s"
        if self.names:
            rest += f"; grading: {_listed(self.names, self.NAMES)}"
        if self.live:  # one row: a line that wrapped would leave its first rows behind at every redraw
            room = _columns(self.stream) - 1
            # The bar gives way to the names, down to NARROWEST, and stays narrow: the line keeps still.
            self.width = max(self.NARROWEST, min(self.width, room - len("grading []") - len(rest)))
            line = (self._bar() + rest)[:room]
            self.stream.write("\r" + line.ljust(self.length))
            self.length = len(line)
        else:
            self.stream.write(self._bar() + rest + "\n")
        self.stream.flush()
        self.written = now

    def _bar(self) -> str:
        filled = self.done * self.width // max(self.total, 1)
        return f"grading [{'#' * filled}{'.' * (self.width - filled)}]"


def _listed(names: Sequence[str], most: int) -> str:
    """Up to `most` names as "alice, bob"; past that, "alice, bob and 3 more" (never "and 1 more")."""
    if len(names) <= most:
        return ", ".join(names)
    return f"{', '.join(names[: most - 1])} and {len(names) - most + 1} more"


def _columns(stream: TextIO) -> int:
    """The terminal's width, or 80 where it does not say (some report 0)."""
    try:
        columns = os.get_terminal_size(stream.fileno()).columns
    except (AttributeError, OSError, ValueError):
        columns = 0
    return columns or 80


# The pool: long-lived grader processes, one student at a time each, stopped when they overrun.


class _Grader:
    def __init__(self, context: Any, setup: tuple[Any, ...]) -> None:
        """`setup` is what `_serve` takes after its pipe: assignment name, config, folders, remember, and
        the pool's temporary folder. Started and kept `uninterrupted` (see `_start_grader`)."""
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


def run_pool(
    students: list[Student],
    assignment: Assignment,
    config: GradeConfig,
    assignment_dirs: list[str] | None,
    jobs: int | None,
    record: Callable[[Student, GradeResult], None],
    remember: bool = True,
    grading: Callable[[list[str]], None] | None = None,
    lost: Callable[[Student, str], None] | None = None,
) -> None:
    """Grade every student in `jobs` grader processes (default: one per core), calling `record` with
    each result as it comes, in this process. Every student gets exactly one result: a grader that
    hangs or dies gives its student an `unfinished` one. The graders load the assignment by name, so
    it must be found through `assignment_dirs` or the search path. With `remember`, graders give a
    verdict again to answers exactly like an earlier student's (see gradekit.speed.verdicts). Submissions not
    yet read are read here, before any grader starts (see `read_all`). `grading`, if given, is told who
    is being graded, the longest first, whenever that changes and at least every TICK seconds. `lost`,
    if given, is told of a student whose grade the host kept from finishing (HostFailure, see
    gradekit.sandbox.process), who gets no result; without it, that ends the pool with HostFailure.

    Interrupted (KeyboardInterrupt: Ctrl-C, or SIGTERM as `gradekit.cli.run` raises it), every grader
    is stopped with its worker and the pool's temporary folder removed before the interruption goes on;
    nothing more is recorded. A grader that SIGTERM from elsewhere stopped is such an interruption too
    (KeyboardInterrupt carrying SIGTERM's number), not its student's doing: nothing is recorded for them.
    """
    if not students:
        return
    students = read_all(students, assignment.name)
    probe(config.limits, assignment_dirs)  # as the graders' workers will run: found here, for all of them
    if config.shortcuts:  # recorded once here, not by every grader at once on a cold cache
        recorded(assignment, config.seed_or(assignment.default_seed), config.max_examples)
    if config.diagnose:  # worked out once here too (gradekit.misconceptions)
        bank(assignment, config.limits, assignment_dirs)
    context = multiprocessing.get_context("fork" if "fork" in multiprocessing.get_all_start_methods() else "spawn")
    limit = config.check_budget * WALL_FACTOR + STUDENT_GRACE
    queue = deque(students)
    log: list[tuple[int, Any]] = []  # (grader pid, entry): what each grader learnt, for the others
    folder = tempfile.mkdtemp(prefix="gradekit-pool-")
    os.chmod(folder, 0o711)  # a worker run as another user (--run-as) must reach its own folder inside
    setup = (assignment.name, config, assignment_dirs, remember, folder)
    graders: list[_Grader] = []

    def give_work() -> None:
        for grader in graders:
            if grader.student is None and queue:
                learnt = [entry for origin, entry in log[grader.seen :] if origin != grader.process.pid]
                grader.seen = len(log)
                grader.give(queue.popleft(), limit, learnt)
        # The log holds only what some grader has yet to be sent.
        sent = min(grader.seen for grader in graders)
        del log[:sent]
        for grader in graders:
            grader.seen -= sent

    try:
        for _ in range(min(jobs or _cores(), len(students))):
            _start_grader(graders, len(graders), context, setup)
        while queue or any(g.student for g in graders):
            give_work()
            busy = [g for g in graders if g.student is not None]
            wait = min(TICK, max(0.0, min(g.deadline for g in busy) - time.monotonic()))
            ready = multiprocessing.connection.wait([g.connection for g in busy], timeout=wait)
            done = []
            for index, grader in enumerate(graders):
                student = grader.student
                if student is None:
                    continue
                if grader.connection in ready:
                    try:
                        _, result, learnt, failure = grader.connection.recv()
                        log.extend((grader.process.pid, entry) for entry in learnt)
                    except (EOFError, OSError):
                        grader.process.join(STOP_GRACE)
                        if grader.process.exitcode in (TERMINATED, -signal.SIGTERM):
                            raise KeyboardInterrupt(signal.SIGTERM) from None
                        why = f"the grader stopped while grading this file (exit code {grader.process.exitcode})"
                        result = unfinished(student.path, assignment, config, why)
                        _start_grader(graders, index, context, setup)
                elif time.monotonic() >= grader.deadline:
                    why = f"grading did not finish within {limit:g} s, so it was stopped"
                    result = unfinished(student.path, assignment, config, why)
                    _start_grader(graders, index, context, setup)
                else:
                    continue
                grader.student = None
                if failure is not None:
                    if lost is None:
                        raise HostFailure(failure)
                    lost(student, failure)
                    continue
                done.append((student, result))
            give_work()  # before the reports are written: a grader waits for nothing of this process
            if grading is not None:
                grading([g.student.name for g in sorted(graders, key=lambda g: g.deadline) if g.student])
            for student, result in done:
                record(student, result)
    finally:
        with uninterrupted():
            _stop(graders)
            shutil.rmtree(folder, ignore_errors=True)


def _stop(graders: list[_Grader]) -> None:
    """SIGTERM every grader at once, so each unwinds and stops its worker's process group; SIGKILL any
    still running STOP_GRACE seconds later."""
    for grader in graders:
        if grader.process.is_alive():
            grader.process.terminate()
    deadline = time.monotonic() + STOP_GRACE
    for grader in graders:
        grader.process.join(max(0.0, deadline - time.monotonic()))
        if grader.process.is_alive():
            grader.process.kill()
            grader.process.join()
        grader.connection.close()


def _start_grader(graders: list[_Grader], index: int, context: Any, setup: tuple[Any, ...]) -> None:
    """Start a grader at `index` of the pool's `graders` (at its end to add one), after stopping the
    one there before.

    Ctrl-C or SIGTERM is held back until the new grader is in the list, where the pool's clean-up
    finds it: during the fork it would be raised inside the fork's own handlers (logging's), where it
    is dropped, and just after it the pool would lose the grader and remove its folder under it. The
    grader lets the signals in itself."""
    if index < len(graders):
        _stop([graders[index]])
    with uninterrupted():
        graders[index : index + 1] = [_Grader(context, setup)]


def _serve(
    connection: Any,
    assignment_name: str,
    config: GradeConfig,
    assignment_dirs: list[str] | None,
    remember: bool,
    folder: str,
) -> None:
    """A grader process: grade each student sent, from the submission as sent (the file is not read
    again here), send back the result, until the pipe closes.

    Every temporary file and folder it makes (its workers') goes in the pool's `folder`, which the pool
    removes however this process ends. Ctrl-C is left to the pool (see the module docstring). SIGTERM
    unwinds the grade in progress, whose `with Worker` kills the worker's process group, and exits
    with TERMINATED.
    """

    def stop(signum: int, frame: Any) -> None:
        raise SystemExit(TERMINATED)

    # A handler that does nothing, not SIG_IGN, which every worker started from here would inherit.
    signal.signal(signal.SIGINT, lambda signum, frame: None)
    signal.signal(signal.SIGTERM, stop)
    stops_kept(lambda error: signal.SIGTERM if isinstance(error, SystemExit) and error.code == TERMINATED else None)
    signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT, signal.SIGTERM})  # held while it was forked
    tempfile.tempdir = folder
    memory = VerdictMemory() if remember else None
    chosen = load_assignment(assignment_name, assignment_dirs)
    with forked_workers(config.limits, assignment_dirs):
        while True:
            try:
                name, path, source, learnt = connection.recv()
            except (EOFError, OSError):
                return
            if memory is not None:
                memory.absorb(learnt)
            try:
                result = grade(Path(path), chosen, config, assignment_dirs, read=source, memory=memory)
            except HostFailure as failure:  # the host's doing: nothing is recorded for this student
                connection.send((name, None, [], str(failure)))
                continue
            connection.send((name, result, memory.new() if memory is not None else [], None))


# Files


NEW = "new"  # a student with no result yet
UNWRITTEN = "with no report written"  # a writer failed: no grade to compare with
ASKED = "asked for"
ALL = "all"  # `again` for every student
REGRADES = "regrades"  # RESULTS_DIR/regrades: one numbered folder per regrade, and the one under way
UNDER_WAY = "under-way"


def _stamp(student: Student) -> dict[str, str | None]:
    """Which file a student's result is made from, kept with it: the file graded and the sha256 of the
    bytes read from it (the ones graded, not a second read), or the problem that left nothing to grade.
    The rest a result is made from is its provenance (gradekit.provenance)."""
    source = student.source
    file = source.path if source is not None and source.path is not None else student.path
    return {"student": student.name, "file": str(file), "sha256": _sha256(student), "problem": student.problem}


def _sha256(student: Student) -> str | None:
    return student.source.sha256 if student.source is not None else None


def _why_again(
    out: Path, student: Student, stamp: dict[str, str | None], now: Provenance, feedback: str, again: Collection[str]
) -> str | None:
    """Why `student` is graded now; None when their result is kept from before."""
    try:
        data = _read(out / "results" / f"{student.name}.json")
        before = GradeResult.from_dict(data)
    except Exception:  # missing, cut short, or not a result: made again
        return NEW
    if not (out / "feedback" / f"{student.name}{FEEDBACK_SUFFIX[feedback]}").is_file():
        return UNWRITTEN
    if ALL in again or student.name in again:
        return ASKED
    if data["batch"] != stamp:
        return "resubmitted"
    return stale(before, now, _sha256(student))


def _why_graded(reasons: list[str]) -> str:
    """The account's tail: how many were graded now for each reason, the most common first."""
    if not reasons:
        return ""
    counts = Counter(reasons).most_common()
    return "; graded now: " + ", ".join(f"{n} {reason}" for reason, n in counts)


def _keep_earlier(out: Path, students: list[Student]) -> dict[str, GradeResult]:
    """The earlier results of a regrade, kept in RESULTS_DIR/regrades/under-way/earlier before any is
    replaced, each as it was first found: a regrade interrupted and run again still compares with the
    results from before it began. Every result kept there so far, by student."""
    folder = out / REGRADES / UNDER_WAY / "earlier"
    if students:
        folder.mkdir(parents=True, exist_ok=True)
    for student in students:
        kept = folder / f"{student.name}.json"
        if not kept.exists():
            _write_atomic(kept, (out / "results" / f"{student.name}.json").read_text(encoding="utf-8"))
    return _earlier(folder)


def _earlier(folder: Path) -> dict[str, GradeResult]:
    found = {}
    for path in sorted(folder.glob("*.json")) if folder.is_dir() else []:
        with suppress(Exception):  # one unreadable is left out of the comparison, not the grade
            found[path.stem] = GradeResult.from_dict(_read(path))
    return found


def _explained(student: str, before: GradeResult, result: GradeResult) -> GradeResult:
    """`result`, with the line that says why its score differs from `before`'s, where it does."""
    regrade = compare(student, before, result)
    return replace(result, regraded=regrade.line()) if regrade.changed else result


def _regrade_report(out: Path, assignment: Assignment, graded: dict[str, GradeResult]) -> str:
    """Once every student of a regrade is graded again: its report, in the regrade's folder, which is
    numbered after the regrades before it; the account's tail naming it. Nothing without a regrade."""
    under_way = out / REGRADES / UNDER_WAY
    earlier = _earlier(under_way / "earlier")
    if not under_way.is_dir():
        return ""
    regrades = [compare(name, before, graded[name]) for name, before in earlier.items() if name in graded]
    title = f"{assignment.name} in {out}"
    _write_atomic(under_way / "regrade.md", regrade_report.markdown(title, regrades))
    _write_atomic(under_way / "regrade.csv", regrade_report.csv_text(regrades))
    _write_atomic(under_way / "regrade.json", regrade_report.json_text(regrades))
    numbers = [int(p.name) for p in (out / REGRADES).iterdir() if p.name.isdigit()]
    done = out / REGRADES / str(max(numbers, default=0) + 1)
    under_way.rename(done)
    changed = sum(r.changed for r in regrades)
    return f"; {changed} of {counted(len(regrades), 'score')} graded again changed: {done / 'regrade.md'}"


def _read(path: Path) -> dict[str, Any]:
    data = json.loads(path.read_text(encoding="utf-8"))
    if not isinstance(data, dict) or not isinstance(data.get("batch"), dict):
        raise ValueError(f"{path} is not a gradekit result")
    return data


def _read_back(out: Path, student: Student, assignment: Assignment, config: GradeConfig) -> GradeResult:
    """A student's result as written, for the gradebook; one that cannot be read back is a row saying so."""
    try:
        return GradeResult.from_dict(_read(out / "results" / f"{student.name}.json"))
    except Exception as error:  # missing, cut short, or not a result
        why = f"results/{student.name}.json could not be read back ({type(error).__name__}); run the grade again"
        return unfinished(student.path, assignment, config, why)


def _write_student(
    out: Path, student: Student, result: GradeResult, stamp: dict[str, str | None], feedback: str
) -> None:
    """The feedback first, the result last: a result on disk means the student is done."""
    _write_atomic(out / "feedback" / f"{student.name}{FEEDBACK_SUFFIX[feedback]}", WRITERS[feedback](result))
    _write_result(out, student, result, stamp)


def _write_unwritten(
    out: Path, student: Student, result: GradeResult, stamp: dict[str, str | None], feedback: str
) -> None:
    """In place of a report that could not be written, `result` (saying so) alone: without feedback the
    student is not finished, so a rerun grades them again. Nothing of an earlier report is left beside
    it; a result that cannot be written either is read back as missing (see `_read_back`)."""
    for path in (
        out / "feedback" / f"{student.name}{FEEDBACK_SUFFIX[feedback]}",
        out / "results" / f"{student.name}.json",
    ):
        with suppress(OSError):
            path.unlink(missing_ok=True)
    with suppress(OSError):
        _write_result(out, student, result, stamp)


def _write_result(out: Path, student: Student, result: GradeResult, stamp: dict[str, str | None]) -> None:
    data = {**result.to_dict(), "batch": stamp}
    _write_atomic(out / "results" / f"{student.name}.json", json.dumps(data, indent=2) + "\n")


def _write_atomic(path: Path, text: str) -> None:
    """`path` holds all of `text` or what it held before; a write cut short (an error, Ctrl-C) leaves
    no partial file beside it. A file name that is not UTF-8 (a student's, or one in their folder, as
    the OS gives it) is written as its escape, \\udcff, so a report of it is still UTF-8 text."""
    fd, name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with open(fd, "w", encoding="utf-8", errors="backslashreplace") as handle:
            handle.write(text)
        os.replace(name, path)
    except BaseException:
        with suppress(FileNotFoundError):  # gone already if the replace was done
            os.unlink(name)
        raise


def _cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:
        return os.cpu_count() or 1
