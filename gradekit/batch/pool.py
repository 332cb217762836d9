"""The pool: long-lived grader processes, one student at a time each, stopped when they overrun.

Each student is graded in one of `jobs` grader processes, each with a worker of its own, forked from
the grader's preloaded fork server (gradekit/sandbox/forkserver.py) inside the OS sandbox
(gradekit/sandbox/isolation.py). A grader that runs past the per-student limit (the check's wall-clock
backstop plus STUDENT_GRACE) or dies is stopped, its worker with it; the student gets a result saying
why and a fresh grader takes the next student, so one hang, crash or hostile file never costs anyone
else's result. Graders are sent each submission as found, read and hashed once (`roster.read_all`),
and parse its bytes themselves (`source.parsed`: a notebook in a child held to bounded memory and CPU
time): a file that is costly to parse costs its own student's grader alone.

Stopping: Ctrl-C reaches every process of the terminal's foreground group, graders included; a grader
leaves it to the pool, which stops every grader alike (SIGTERM, so each stops its worker first) and
records nothing more. What the graders and their workers write goes in one temporary folder of the
pool's, removed whatever happens to them.
"""

from __future__ import annotations

import multiprocessing
import multiprocessing.connection
import os
import shutil
import signal
import tempfile
import time
from collections import deque
from collections.abc import Callable
from pathlib import Path
from typing import Any

from gradekit.assignment import Assignment
from gradekit.assignment import load as load_assignment
from gradekit.batch.roster import Student, read_all
from gradekit.config import GradeConfig
from gradekit.diagnosis.mistakes import bank
from gradekit.engine.budget import WALL_FACTOR
from gradekit.engine.recording import recorded
from gradekit.engine.runner import VerdictMemory
from gradekit.errors import HostFailure
from gradekit.grader import Grading, grade, unfinished
from gradekit.result import GradeResult
from gradekit.sandbox.process import forked_workers, probe
from gradekit.sandbox.stops import stops_kept, uninterrupted

__all__ = ["STUDENT_GRACE", "TICK", "run_pool"]

STUDENT_GRACE = 60.0  # seconds past the check's wall-clock backstop before a student's grader is stopped
STOP_GRACE = 5.0  # seconds a grader has to stop its worker and exit before it is killed
TICK = 1.0  # the longest the pool waits for a grader before it tells the progress line again
TERMINATED = 128 + signal.SIGTERM  # a grader's exit code once SIGTERM has stopped it, as a shell reports it


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
        """Send the next student, their submission as found (see `read_all`), and what the other
        graders learnt since (see gradekit.engine.speed.verdicts)."""
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
    """Grade every student in `jobs` grader processes (default: `default_jobs`), calling `record` with
    each result as it comes, in this process. Every student gets exactly one result: a grader that
    hangs or dies gives its student an `unfinished` one. The graders load the assignment by name, so
    it must be found through `assignment_dirs` or the search path. With `remember`, graders give a
    verdict again to answers exactly like an earlier student's (see gradekit.engine.speed.verdicts).
    Submissions not yet found are found, read and hashed here, before any grader starts (see
    `read_all`); each grader parses its own. `grading`, if given, is told who is being graded, the longest first,
    whenever that changes and at least every TICK seconds. `lost`,
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
    if config.diagnose:  # worked out once here too (gradekit.diagnosis.mistakes)
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
        for _ in range(min(jobs or default_jobs(), len(students))):
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
    """A grader process: grade each student sent, from the submission as sent (found, read and
    hashed before, its bytes parsed here), send back the result, until the pipe closes.

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
                result = grade(Path(path), chosen, config, Grading(assignment_dirs, read=source, memory=memory))
            except HostFailure as failure:  # the host's doing: nothing is recorded for this student
                connection.send((name, None, [], str(failure)))
                continue
            connection.send((name, result, memory.take_learnt() if memory is not None else [], None))


def default_jobs() -> int:
    """One grader more than the cores this process may run on. A grader is idle part of the time,
    and its worker with it: while the worker starts and is stopped, while the parent hands out the
    next student, while a submission sleeps or is blocked. With one grader a core those moments
    leave a core idle; the one more uses them. A grade counts its worker's CPU time, never its wait
    for a CPU, so a grader sharing a core gives every verdict it would give alone."""
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:
        cores = os.cpu_count() or 1
    return cores + 1
