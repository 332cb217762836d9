"""Grading a class on a Dask cluster: `gradekit grade ... --dask ADDRESS`.

A course with tens of thousands of submissions, or a regrade of every term, outgrows one machine. This
sends each student's grade to a Dask `distributed` scheduler as one task (`pip install '.[dask]'` in a checkout;
gradekit must be installed on every Dask worker). What a task carries is plain data: the submission as
found here with its bytes (`source.located`: the bytes read and hashed here, so workers need not
share a file system; the task parses them, as a local grader does), the assignment's name
and, for a course's own assignment, its folder's files less the known-right and known-slow banks
(the known-wrong files are what a diagnosis compares with). On the Dask worker, the grade is
`gradekit.grader.grade`, as in a local grader: the student's code runs in a worker process of its
own in the OS sandbox of that machine, under the same limits.
What comes back is the result as JSON-ready data, read back here with `GradeResult.from_dict` like a
resumed student's result; results are written by this process alone, so resuming, the gradebook and
the class summary are the local pool's. Students are sent as the tasks in flight make room: those
tasks carry LARGEST_HELD bytes of files at most in all, so neither this process nor the scheduler
holds a class of large notebooks at once.

Verdict memory (gradekit.engine.speed.verdicts) is not shared between tasks: it makes a grade sooner, never
different, so the gradebook is the same. A Dask worker records an assignment's examples in its own
cache the first time it grades it, and works out its known mistakes' answers (gradekit.diagnosis.mistakes)
the first time it diagnoses one, unless the assignment carries them (the built-in assignments do).
"""

from __future__ import annotations

import contextlib
import hashlib
import tempfile
import time
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from gradekit.assignment import Assignment, load, load_folder
from gradekit.batch.pool import TICK
from gradekit.batch.roster import Student, without_bytes
from gradekit.config import GradeConfig
from gradekit.engine.source import LARGEST_HELD, Source, held
from gradekit.errors import GradekitError, UsageError
from gradekit.grader import Grading, grade, unfinished
from gradekit.result import GradeResult
from gradekit.sandbox.isolation import DOCTOR
from gradekit.sandbox.process import probe

if TYPE_CHECKING:
    from distributed import Client
    from distributed.security import Security

__all__ = ["connect", "grade_task", "probe_workers", "run_cluster"]


def connect(address: str, security: Security | None = None) -> Client:
    """A client of the Dask scheduler at `address`, or one sentence saying why there is none.

    A `tls://` address is reached over TLS, with the certificates Dask's own configuration names (as
    `dask scheduler --tls-ca-file ... --tls-cert ... --tls-key ...` and its workers are given them):
    `distributed.comm.tls.ca-file`, `.client.cert` and `.client.key`, or `security` where given. The
    scheduler then knows the grader by its certificate, and submissions and results cross the network
    encrypted; a plain `tcp://` address is neither, and fits a cluster on one machine or a private network."""
    try:
        from distributed import Client
        from distributed.security import Security
    except ImportError:
        raise UsageError(
            "--dask needs Dask's distributed package: install gradekit with its dask extra, "
            "pip install '.[dask]' in a checkout (docs/cluster.md)"
        ) from None
    if security is None and address.startswith("tls://"):
        security = Security()  # from Dask's configuration: its files, and DASK_DISTRIBUTED__COMM__TLS__... variables
        if not (getattr(security, "tls_ca_file", None) and getattr(security, "tls_client_cert", None)):
            raise UsageError(
                f"--dask {address}: TLS needs the cluster's CA certificate and a client certificate and key "
                "in Dask's configuration (DASK_DISTRIBUTED__COMM__TLS__CA_FILE, ...__CLIENT__CERT and "
                "...__CLIENT__KEY; docs/cluster.md#over-tls)"
            )
    try:
        return Client(address, timeout="5s", security=security)
    except (OSError, ValueError, TypeError) as error:  # TypeError: a TLS address without a TLS context
        raise UsageError(f"--dask {address}: no Dask scheduler answers there ({error})") from None


def run_cluster(
    students: list[Student],
    assignment: Assignment,
    config: GradeConfig,
    client: Client,
    record: Callable[[Student, GradeResult], None],
    lost: Callable[[Student, str], None],
    grading: Callable[[Sequence[str]], None] = lambda names: None,
    waiting: Callable[[str], None] = lambda why: None,
) -> None:
    """Grade every student on the cluster of `client`, calling `record` with each result as it comes,
    in this process. Its caller has probed every Dask worker (`probe_workers`).

    Only a student's own file can give that student a result. A task that failed for the cluster's
    sake (the scheduler gone, a task lost or cancelled, a Dask worker's host kept from sandboxing)
    is told to `lost`, with no result, so the same command grades that student as a first-time one;
    a scheduler that stops answering ends the grade so, for every student not yet graded. Only a task
    that killed every Dask worker it was tried on (KilledWorker) is the file's doing, and gets an
    `unfinished` result saying so. At least every TICK seconds `grading` is told who the cluster is
    grading now, as the local pool tells it, or `waiting` why nobody is (no worker connected)."""
    from distributed import as_completed

    files = _assignment_files(assignment)
    queued = deque(students)
    futures: dict[Any, Student] = {}
    carried: dict[Any, int] = {}  # the bytes of the file each task in flight carries
    pending = as_completed()
    try:
        while queued or futures:
            _send(client, queued, futures, carried, pending, (assignment.name, files, config))
            done = pending.next_batch(block=False)
            for future in done:
                carried.pop(future, None)
                _settle(futures.pop(future), future, assignment, config, record, lost)
            if done:
                continue
            if client.status != "running":
                why = f"the Dask scheduler stopped answering (the client is {client.status})"
                for student in [*futures.values(), *queued]:
                    lost(student, why)
                return
            _tell(client, futures, grading, waiting)
            time.sleep(TICK)
    finally:  # interrupted too: nothing is left running for this class
        _cancel(client, list(futures))


def _cancel(client: Client, futures: list[Any]) -> None:
    """Cancel the tasks still in flight. A client whose scheduler died closes itself, and its tasks
    with it; distributed then refuses any message, a cancel of nothing included, and that refusal
    must not take the place of the grade's own ending (the students told `lost`, its exit code)."""
    from distributed.client import ClosedClientError

    if futures:
        with contextlib.suppress(ClosedClientError):
            client.cancel(futures)


def _send(
    client: Client,
    queued: deque[Student],
    futures: dict[Any, Student],
    carried: dict[Any, int],
    pending: Any,
    task: tuple[str, dict[str, bytes] | None, GradeConfig],
) -> None:
    """Submit the students `queued` next, each with the bytes of their file (read again where the
    class let them go, `source.held`), while the tasks in flight carry LARGEST_HELD bytes at most in
    all, or one task whatever its size: a class of large notebooks is not held in this process's
    memory, nor the scheduler's, all at once (the student next in line waits with its bytes read)."""
    while queued:
        student = queued[0]
        if student.source is not None:  # read once: the next student waits with its bytes, past the budget
            student = queued[0] = replace(student, source=held(student.source))
        size = len(student.source.data or b"") if student.source is not None else 0
        if futures and sum(carried.values()) + size > LARGEST_HELD:
            return
        queued.popleft()
        future = client.submit(grade_task, student.name, student.source, *task, pure=False)
        futures[future], carried[future] = without_bytes(student), size
        pending.add(future)


def _settle(
    student: Student,
    future: Any,
    assignment: Assignment,
    config: GradeConfig,
    record: Callable[[Student, GradeResult], None],
    lost: Callable[[Student, str], None],
) -> None:
    """Record a finished task's result, or tell `lost` of one the cluster, not the file, kept from one."""
    from distributed import KilledWorker

    try:
        result = GradeResult.from_dict(future.result())
    except KilledWorker as killed:  # every Dask worker it was tried on died: the file's doing
        why = f"every Dask worker that graded it died ({killed})"
        result = unfinished(student.path, assignment, config, why)
    except Exception as error:  # the cluster's doing: a host failure, a lost scheduler, a cancelled task
        said = (str(error).replace(f"{future.key} ", "").splitlines() or [""])[0].rstrip(".")
        lost(student, f"the cluster could not grade it: {type(error).__name__}: {said}")
        return
    record(student, result)


def _tell(
    client: Client,
    futures: dict[Any, Student],
    grading: Callable[[Sequence[str]], None],
    waiting: Callable[[str], None],
) -> None:
    """Tell the progress line who the cluster's workers are grading, or why they grade nobody."""
    try:
        processing = client.processing()
    except Exception:  # the scheduler is going: the next look at the client's status says so
        return
    if not processing:
        waiting("the Dask cluster has no worker; waiting for one (Ctrl-C stops, and the same command resumes)")
        return
    students = {future.key: student.name for future, student in futures.items()}
    grading([students[key] for keys in processing.values() for key in keys if key in students])


def probe_workers(client: Client, config: GradeConfig) -> None:
    """Start one sandboxed worker on every Dask worker, as their grades will: GradekitError naming the
    workers on which none starts, and why, before any student is graded."""
    found = client.run(_probe_here, config)
    refused = {address: why for address, why in found.items() if why is not None}
    if refused:
        shown = "; ".join(f"{address}: {why}" for address, why in sorted(refused.items()))
        raise GradekitError(f"no sandbox works on {len(refused)} of the cluster's workers ({shown}); {DOCTOR}")


def _probe_here(config: GradeConfig) -> str | None:
    """On a Dask worker: why no sandbox works here for `config`'s limits; None where one does."""
    try:
        probe(config.limits)
    except GradekitError as error:
        return str(error)
    return None


def grade_task(
    name: str, source: Source, assignment_name: str, files: dict[str, bytes] | None, config: GradeConfig
) -> dict[str, Any]:
    """One student's grade, run on a Dask worker: the assignment as `files` hold it (a built-in one
    for None), the submission graded from `source` as sent, its bytes parsed here (no file is read);
    the result as plain data."""
    chosen, dirs = _assignment_here(assignment_name, files)
    return grade(Path(source.filename), chosen, config, Grading(dirs, read=source)).to_dict()


def _assignment_files(assignment: Assignment) -> dict[str, bytes] | None:
    """The files a grade of a course's own assignment reads, its known-wrong files among them (a
    diagnosis compares with them), by path within its folder; None for a built-in one, which every
    installed gradekit has."""
    if assignment.built_in:
        return None
    paths = [*assignment.files(), *assignment.known("known_wrong")]
    return {path.relative_to(assignment.folder).as_posix(): path.read_bytes() for path in paths}


def _assignment_here(name: str, files: dict[str, bytes] | None) -> tuple[Assignment, list[str] | None]:
    """The assignment on this Dask worker: written once per machine and content into the temporary
    folder (every task of a class then loads the same folder, as one module), renamed into place whole."""
    if files is None:
        return load(name), None
    digest = hashlib.sha256(repr(sorted(files.items())).encode()).hexdigest()[:16]
    holder = Path(tempfile.gettempdir()) / f"gradekit-assignment-{digest}"
    if not (holder / name).is_dir():
        with tempfile.TemporaryDirectory(prefix="gradekit-assignment-") as scratch:
            for relative, data in files.items():
                target = Path(scratch) / name / relative
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_bytes(data)
            with contextlib.suppress(OSError):  # another task on this machine got there first
                Path(scratch).rename(holder)
                Path(scratch).mkdir()  # for TemporaryDirectory to remove
    return load_folder(holder / name), [str(holder)]
