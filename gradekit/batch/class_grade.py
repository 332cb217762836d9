"""Grading a whole class: `gradekit grade SUBMISSIONS_DIR --assignment NAME --out RESULTS_DIR`.

Who the students are: every .py or .ipynb file directly in SUBMISSIONS_DIR is one student, named by
the file's name without its suffix; every folder is one student, named by the folder, whose file is
picked by `source.pick` (the only .py/.ipynb in it, else NAME.py/.ipynb, else submission.py/.ipynb).
Hidden entries, __pycache__, __MACOSX, .ipynb_checkpoints and RESULTS_DIR itself are skipped; two
entries that name the same student (alice.py and alice/) give that student a row that says so. An
entry that is a symbolic link (to a classmate's file, say), a named pipe, a socket or a device is
never followed or opened: that student's row says what it is (`source.refused`). With a roster
(`roster.read_roster`), the students are the roster's, keyed by id, each graded on the file or folder
it names; one who submitted nothing is graded as missing (0, status "missing"), and an entry no roster
row claims is still graded, by its name, and named in the summary (gradekit.batch.roster).

Adjustments by hand: the overrides file (RESULTS_DIR/overrides.csv, or the one named; see
gradekit.batch.overrides) is read by every run and put in each result after it is made, the grader's
or a kept one: a result kept from before whose adjustments are not the file's now is written again
with them, without grading, and compared like any regraded result, so a changed adjustment is a
regrade's cause. The gradebook then has an adjustment and a comment column.

What RESULTS_DIR gets:
    results/STUDENT.json   the JSON report (with its provenance) and the file graded, with its hash
    regrades/N/            the results before the Nth regrade, and its report (see Regrading)
    feedback/STUDENT.md    the student's report (.txt with --feedback text)
    gradebook.csv          student, score, max_score, one column per property, error, misconceptions
    summary.md             the class summary: what most students missed, the known mistakes they
                           made and the failures none explains, the score histogram
    histogram.svg
    canvas.csv, moodle.csv the gradebook as that LMS imports it, with the roster's ids (`exports`)

Each student is graded in one of --jobs grader processes, each with a worker of its own, forked from
the grader's preloaded fork server (gradekit/sandbox/forkserver.py) inside the OS sandbox
(gradekit/sandbox/isolation.py), or without it where there is none and --no-isolation allows that. A
grader that runs past the per-student limit (the check's wall-clock backstop plus STUDENT_GRACE) or dies is
stopped, its worker with it; the student gets a row saying why and a fresh grader takes the next
student, so one hang, crash or hostile file never costs anyone else's row.

Integrity: every student's file is read and hashed, in this process, before any grader starts
(`source.located`: at most LARGEST bytes each, not parsed), and the grader parses those bytes where it
grades them (`source.parsed`: a notebook's outputs dropped as it is read, in a child held to bounded
memory and CPU time). The bytes of a student whose result is kept are let go at once, and so are those
past LARGEST_HELD bytes for the class in all (`roster.read_all`): such a file is read again where it is
graded, and its bytes must hash as those found did, else its row says it changed since. So a file that
is costly to parse costs its own student's grade alone, a class of large notebooks is not held in
memory at once, nothing a submission does while it is graded can change what a classmate is graded
on, and the sha256 recorded with each result is that of the very bytes graded. Results and feedback
are written by this process alone.

Resuming: results/STUDENT.json is written last and atomically, so it exists only for a finished
student. A run over the same RESULTS_DIR keeps every student's result that was made from the same file
(name and bytes) and from everything else a grade is made from as it is now (its provenance: the
assignment's files and properties, the solution, the seed, the number of examples, the options,
gradekit, Hypothesis, NumPy and Python; see gradekit.engine.provenance and gradekit.batch.regrade.stale), grades
the rest, says how many of each and why, and builds gradebook.csv and summary.md from all of them.
`again` (--regrade) grades named students, or all, whatever their result.

Regrading: before a result made earlier is replaced, it is kept in regrades/under-way/earlier; once
every student is graded, the regrade's report (regrade.md, .csv and .json: each student whose score
changed, and why, gradekit.batch.regrade_report) is written beside it and the folder is numbered after the
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

import sys
import time
from collections.abc import Collection
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

from gradekit.assignment import Assignment
from gradekit.batch import class_summary, gradebook, lms
from gradekit.batch.cluster import probe_workers, run_cluster
from gradekit.batch.gradebook import ERROR, GRADED, MISSING, UNLISTED, Listing
from gradekit.batch.overrides import FILE_NAME, past_bounds, read_overrides
from gradekit.batch.pool import run_pool
from gradekit.batch.progress import Progress, listed
from gradekit.batch.results_folder import (
    ALL,
    NEW,
    UNWRITTEN,
    explained,
    finish_regrade,
    keep_earlier,
    read_back,
    readjusted,
    sha256,
    stamp,
    why_again,
    why_graded,
    write_atomic,
    write_student,
    write_unwritten,
)
from gradekit.batch.roster import Enrolled, Student, enrolled_students, find_students, read_all, without_bytes
from gradekit.config import GradeConfig
from gradekit.course_terms import counted
from gradekit.engine.provenance import made
from gradekit.errors import HostFailure, UsageError
from gradekit.grader import seed_named, unfinished
from gradekit.result import Adjustment, GradeResult
from gradekit.sandbox.process import probe

if TYPE_CHECKING:
    from distributed import Client

__all__ = ["ClassConfig", "grade_all", "probe_host"]


@dataclass(frozen=True)
class ClassConfig:
    """A class grade's options, beside each student's (GradeConfig). `jobs`: grader processes (default:
    the machine's cores). `feedback`: the students' report format. `assignment_dirs`: where assignments
    are found besides the built-in ones. `progress`: where the progress line goes (default stderr).
    `dask`: a client of a Dask scheduler (`gradekit.batch.cluster.connect`), on whose cluster the
    students are graded instead of in local grader processes; everything else is the same. `again`:
    students to grade again whatever their result (ALL: every one). `roster` (`roster.read_roster`):
    who the students are. `overrides`: the staff's adjustments (default RESULTS_DIR/overrides.csv, where
    it exists). `exports`: the LMS files to write (`lms.EXPORTS`), which need the roster's ids (a UsageError without).
    `probed`: that the caller has seen `probe_host` pass for this grade already."""

    jobs: int | None = None
    feedback: str = "markdown"
    assignment_dirs: list[str] | None = None
    progress: TextIO | None = None
    dask: Client | None = None
    again: Collection[str] = ()
    roster: list[Enrolled] | None = None
    overrides: Path | None = None
    exports: Collection[str] = ()
    probed: bool = False

    def __post_init__(self) -> None:
        if self.exports and self.roster is None:
            raise UsageError("--export needs --roster: an LMS matches students by the roster's ids")


@dataclass(frozen=True)
class _Plan:
    """Who the class is and what this run does for each student: grade them (`todo`, with `reasons`),
    keep their result with new adjustments by hand (`fresh`), or keep it as it is."""

    students: list[Student]
    stamps: dict[str, dict[str, str | None]]
    reasons: dict[str, str | None]
    adjusted: dict[str, tuple[Adjustment, ...]] | None
    fresh: dict[str, GradeResult]
    earlier: dict[str, GradeResult]

    @property
    def todo(self) -> list[Student]:
        return [s for s in self.students if self.reasons[s.name] is not None]


def grade_all(
    submissions: Path,
    assignment: Assignment,
    out: Path,
    config: GradeConfig = GradeConfig(),
    options: ClassConfig = ClassConfig(),
) -> str:
    """Grade every student of `submissions` not already graded into `out`, then write the gradebook,
    the summary and the exports; a one-line account. Planned (every usage error found, the host
    probed, before anything is written), graded, then published."""
    started = time.monotonic()
    plan = _planned(submissions, assignment, out, config, options)
    lost = _graded(plan, submissions, assignment, out, config, options)
    graded = _published(plan, assignment, out, config, options)
    account = _account(plan, assignment, out, graded, lost, time.monotonic() - started)
    return account + finish_regrade(out, assignment, dict(graded))


def _planned(submissions: Path, assignment: Assignment, out: Path, config: GradeConfig, options: ClassConfig) -> _Plan:
    """Who the students are and what to do for each, with every usage error in what names them found,
    and the host probed where anyone is to be graded, before anything is written; then the results
    folder made, and the results this run replaces kept for the regrade's report."""
    if options.roster is not None:
        found = enrolled_students(submissions, options.roster, out, assignment.name)
    else:
        found = find_students(submissions, out, assignment.name)
    if not found:
        raise UsageError(f"{submissions} holds no submission: a .py or .ipynb file, or a folder, per student")
    unknown = sorted(set(options.again) - {ALL} - {s.name for s in found})
    if unknown:
        raise UsageError(f"--regrade {unknown[0]}: there is no student of that name in {submissions}")
    adjusted = _adjustments(out, options.overrides, found, assignment)
    students = read_all(found, assignment.name)
    now = made(assignment, config, seed_named(config, config.seed_or(assignment.default_seed)))
    stamps = {s.name: stamp(s) for s in students}
    reasons = {s.name: why_again(out, s, stamps[s.name], now, options.feedback, options.again) for s in students}
    # A student whose result is kept lets go of the bytes of their file: nothing grades them now.
    students = [s if reasons[s.name] is not None else without_bytes(s) for s in students]
    todo = [s for s in students if reasons[s.name] is not None]
    if todo and not options.probed:  # a host that cannot grade stops the grade before anything is written
        probe_host(config, options.assignment_dirs, options.dask)
    out.mkdir(parents=True, exist_ok=True)
    (out / "results").mkdir(exist_ok=True)
    (out / "feedback").mkdir(exist_ok=True)
    fresh = readjusted(out, [s for s in students if reasons[s.name] is None], adjusted or {})
    replaced = [s for s in todo if reasons[s.name] not in (NEW, UNWRITTEN)] + [s for s in students if s.name in fresh]
    return _Plan(students, stamps, reasons, adjusted, fresh, keep_earlier(out, replaced))


def _graded(
    plan: _Plan, submissions: Path, assignment: Assignment, out: Path, config: GradeConfig, options: ClassConfig
) -> list[tuple[Student, str]]:
    """Every result of the plan written: those kept with new adjustments, then each student to grade,
    in the pool or on the cluster; the students the host, not their code, kept from a result."""
    bar = Progress(len(plan.students), len(plan.students) - len(plan.todo), options.progress or sys.stderr)

    def write(student: Student, result: GradeResult) -> None:
        shown = _submitted(student, Path(result.submission), submissions)
        result = replace(result, submission=shown, adjustments=(plan.adjusted or {}).get(student.name, ()))
        if student.name in plan.earlier:
            result = explained(student.name, plan.earlier[student.name], result)
        try:
            write_student(out, student, result, plan.stamps[student.name], options.feedback)
        except Exception as error:  # a writer failing on what one student's code made costs no one else
            why = f"the report for this file could not be written ({type(error).__name__}); run the grade again"
            failed = unfinished(student.path, assignment, config, why, sha256(student))
            write_unwritten(out, student, failed, plan.stamps[student.name], options.feedback)

    def record(student: Student, result: GradeResult) -> None:
        write(student, result)
        bar.advance()

    for student in plan.students:
        if student.name in plan.fresh:
            write(student, plan.fresh[student.name])
    lost: list[tuple[Student, str]] = []

    def host_failed(student: Student, why: str) -> None:
        lost.append((student, why))
        bar.advance()

    try:
        for student in [s for s in plan.todo if s.problem]:
            record(student, unfinished(student.path, assignment, config, student.problem or ""))
        readable = [s for s in plan.todo if not s.problem]
        if options.dask is not None:
            run_cluster(readable, assignment, config, options.dask, record, host_failed, bar.grading, bar.waiting)
        else:
            jobs, dirs = options.jobs, options.assignment_dirs
            run_pool(readable, assignment, config, dirs, jobs, record, grading=bar.grading, lost=host_failed)
    finally:  # interrupted too: whatever is said next starts a line of its own
        bar.finish()
    return lost


def _published(
    plan: _Plan, assignment: Assignment, out: Path, config: GradeConfig, options: ClassConfig
) -> list[tuple[str, GradeResult]]:
    """The class's files, from every student's result as written: the gradebook, the summary with its
    histogram, and the LMS exports; every result, read back."""
    graded = [(s.name, read_back(out, s, assignment, config)) for s in plan.students]
    listings = _listings(plan.students, dict(graded)) if options.roster is not None else None
    adjusted = plan.adjusted is not None
    write_atomic(out / "gradebook.csv", gradebook.render(assignment, graded, listings, adjusted))
    write_atomic(out / "summary.md", class_summary.render(assignment, graded, "histogram.svg", listings))
    write_atomic(out / "histogram.svg", class_summary.histogram([r.score for _, r in graded], assignment.max_score))
    for name in options.exports:
        write_atomic(out / f"{name}.csv", lms.EXPORTS[name](assignment, graded, listings or {}))
    return graded


def _account(
    plan: _Plan,
    assignment: Assignment,
    out: Path,
    graded: list[tuple[str, GradeResult]],
    lost: list[tuple[Student, str]],
    seconds: float,
) -> str:
    """The one line a class grade ends with: how many students, graded now or kept, and why; a
    HostFailure naming those the host kept from a result, whom the same command grades later."""
    students, todo = plan.students, plan.todo
    account = (
        f"gradekit: {counted(len(students), 'student')} in {out} ({len(todo) - len(lost)} graded now, "
        f"{len(students) - len(todo)} kept from before) in {seconds:.1f} s"
    )
    unrecorded = {student.name for student, _ in lost}
    account += why_graded([r for name, r in plan.reasons.items() if r is not None and name not in unrecorded])
    account += f"; {counted(len(plan.fresh), 'result')} kept with new adjustments by hand" if plan.fresh else ""
    beyond = past_bounds(graded, assignment.max_score)
    if beyond:
        bounds = f"0 to {assignment.max_score:g}"
        account += f"; adjustments by hand take {counted(len(beyond), 'score')} past {bounds}: {listed(beyond, 5)}"
    if lost:
        names = listed([student.name for student, _ in lost], 5)
        raise HostFailure(
            f"{account.removeprefix('gradekit: ')}; {counted(len(lost), 'student')} ({names}) not graded, "
            "for a reason of the host's: "
            f"{lost[0][1]}. Nothing was recorded for them: the same command grades them once the host is fixed "
            "(gradekit doctor says what it lacks)"
        )
    return account


def _submitted(student: Student, graded: Path, submissions: Path) -> str:
    """What a class's files name a student's submission by: the file `graded` (the one picked in their
    folder) by its path within the submissions folder, never the grader's own path to it, or that
    nothing was submitted."""
    if student.missing:
        return f"{student.name}: nothing submitted"
    try:
        return graded.relative_to(submissions).as_posix()
    except ValueError:  # not below the folder as given: its name alone
        return graded.name


def probe_host(config: GradeConfig, assignment_dirs: list[str] | None, dask: Client | None) -> None:
    """Start one sandboxed worker as the grade's will start, here or on every Dask worker: one sentence
    (GradekitError) where none can start, before a student is graded or a file written."""
    if dask is not None:
        probe_workers(dask, config)
    else:
        probe(config.limits, assignment_dirs)


def _adjustments(
    out: Path, overrides: Path | None, students: list[Student], assignment: Assignment
) -> dict[str, tuple[Adjustment, ...]] | None:
    """Each student's adjustments by hand, from `overrides`, else RESULTS_DIR/overrides.csv where it
    exists; None where there is no such file (every adjustment made before is then taken out)."""
    path = overrides if overrides is not None else out / FILE_NAME
    if overrides is None and not path.is_file():
        return None
    names = {s.name for s in students}
    return read_overrides(path, names, {p.name for p in assignment.properties})


def _listings(students: list[Student], graded: dict[str, GradeResult]) -> dict[str, Listing]:
    """Each student as the roster has them, for the gradebook, the summary and the LMS exports."""
    listings = {}
    for student in students:
        row = student.enrolled
        if student.missing:
            status = MISSING
        elif row is None:
            status = UNLISTED
        else:
            status = ERROR if graded[student.name].error else GRADED
        listings[student.name] = Listing(row.name if row else "", status, dict(row.columns) if row else {})
    return listings
