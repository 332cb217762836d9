"""`gradekit grade --dask ADDRESS`: a class graded on a Dask cluster (here a LocalCluster of two worker
processes) gets the gradebook and results the local pool gives, resumes the same way, and a course's
own assignment travels with the tasks."""

from __future__ import annotations

import io
import json
import os
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import pytest
from conftest import scratch_in
from distributed import LocalCluster

from gradekit.batch import cluster
from gradekit.batch.progress import Progress
from gradekit.batch.roster import Student
from gradekit.cli import main

ROOT = Path(__file__).resolve().parents[2]
FAST = ["--max-examples", "20"]


@pytest.fixture(scope="module")
def scheduler(tmp_path_factory):
    # Its HTTP server on any free port: another test process may hold Dask's default one.
    with (
        scratch_in(tmp_path_factory.mktemp("dask")) as env,
        LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=":0", env=env) as cluster,
    ):
        yield cluster.scheduler_address


def in_folder(folder: Path) -> dict[str, str]:
    """This environment, with temporary files made in `folder`: for a Dask process the test starts."""
    return {**os.environ, "TMPDIR": str(folder)}


def _class(folder: Path) -> Path:
    folder.mkdir()
    shutil.copy(ROOT / "examples" / "submission.py", folder / "alice.py")
    shutil.copy(ROOT / "examples" / "buggy_submission.py", folder / "bob.py")
    (folder / "carol.py").write_text("import sys\nsys.exit(3)\n")  # exits at import
    (folder / "dan.py").write_text("def softmax(z):\n    while True:\n        pass\n")  # hangs
    return folder


def _results(out: Path) -> dict[str, dict]:
    found = {}
    for path in sorted((out / "results").glob("*.json")):
        result = json.loads(path.read_text())
        result.pop("seconds", None)
        for test in result["tests"]:
            test.pop("seconds", None)
        found[path.stem] = result
    return found


@pytest.mark.longest
def test_a_class_graded_on_the_cluster_is_the_class_graded_here(tmp_path, scheduler, capsys):
    """With the course's seed sent along: the cluster's workers draw what this machine draws."""
    students = _class(tmp_path / "class")
    seed = ["--seed-file", str(tmp_path / "course-seed")]
    grade = ["grade", str(students), "--assignment", "cross_entropy", *FAST, *seed]
    assert main([*grade, "--out", str(tmp_path / "here")]) == 0
    assert main([*grade, "--out", str(tmp_path / "there"), "--dask", scheduler]) == 0
    here, there = tmp_path / "here", tmp_path / "there"
    assert (there / "gradebook.csv").read_text() == (here / "gradebook.csv").read_text()
    assert _results(there) == _results(here) and sorted(_results(there)) == ["alice", "bob", "carol", "dan"]
    assert (there / "summary.md").read_text() == (here / "summary.md").read_text()
    capsys.readouterr()
    assert main([*grade, "--out", str(there), "--dask", scheduler]) == 0
    assert "(0 graded now, 4 kept from before)" in capsys.readouterr().err


def test_a_course_s_own_assignment_travels_with_the_tasks(tmp_path, scheduler):
    """Graded with one course seed on both sides: a RESULTS_DIR of its own would make each a seed of its
    own, whose draws may find a mistake one of them misses."""
    course = tmp_path / "course"
    assert main(["new", "label_smoothing", "--dir", str(course)]) == 0
    students = tmp_path / "class"
    students.mkdir()
    for path in (course / "label_smoothing" / "known_wrong").glob("*.py"):
        shutil.copy(path, students / path.name)
    seed = ["--seed-file", str(tmp_path / "course-seed")]
    grade = ["--assignments", str(course), "grade", str(students), "--assignment", "label_smoothing", *FAST, *seed]
    assert main([*grade, "--out", str(tmp_path / "here")]) == 0
    assert main([*grade, "--out", str(tmp_path / "there"), "--dask", scheduler]) == 0
    assert (tmp_path / "there" / "gradebook.csv").read_text() == (tmp_path / "here" / "gradebook.csv").read_text()


def test_a_cluster_whose_workers_cannot_sandbox_stops_before_anyone_is_graded(tmp_path, scheduler, capsys):
    """Each Dask worker is probed as its grades would run: where the user the code would run as cannot
    run this Python (a pyenv under a home folder of mode 700, as here, or a user without the grader's
    interpreter), the grade stops with one sentence naming the workers and the remedy, exit 2, and no
    student gets a result."""
    blocked = _unreadable_python_or_none()
    students = _class(tmp_path / "class")
    command = ["grade", str(students), "--assignment", "cross_entropy", "--out", str(tmp_path / "out"), *FAST]
    assert main([*command, "--dask", scheduler, "--run-as", blocked]) == 2
    error = capsys.readouterr().err
    assert "no sandbox works on 2 of the cluster's workers" in error and "gradekit doctor" in error, error
    assert not (tmp_path / "out").exists()  # no course seed, no results, no feedback: nothing at all


def test_a_host_that_cannot_sandbox_stops_a_local_grade_before_anything_is_written(tmp_path, capsys):
    students = _class(tmp_path / "class")
    command = ["grade", str(students), "--assignment", "cross_entropy", "--out", str(tmp_path / "out"), *FAST]
    assert main([*command, "--run-as", _unreadable_python_or_none()]) == 2
    assert "gradekit doctor" in capsys.readouterr().err
    assert not (tmp_path / "out").exists()


def _unreadable_python_or_none() -> str:
    """A user who cannot run this Python: `nobody`, where the interpreter lies in a folder closed to
    others (this machine's pyenv under /root)."""
    import os
    import subprocess
    import sys

    assert os.geteuid() == 0, "--run-as needs the tests to run as root"
    ran = subprocess.run(["su", "-s", "/bin/sh", "nobody", "-c", f"{sys.executable} -c pass"], capture_output=True)
    assert ran.returncode != 0, "nobody can run this Python here: the test needs one it cannot"
    return "nobody"


def test_jobs_and_dask_together_are_refused(tmp_path, capsys):
    students = _class(tmp_path / "class")
    command = ["grade", str(students), "--assignment", "cross_entropy", "--out", str(tmp_path / "out")]
    assert main([*command, "--dask", "tcp://127.0.0.1:1", "--jobs", "2"]) == 2
    assert "--jobs and --dask" in capsys.readouterr().err


def test_a_scheduler_that_is_not_there_is_one_sentence(tmp_path, capsys):
    students = _class(tmp_path / "class")
    command = ["grade", str(students), "--assignment", "cross_entropy", "--out", str(tmp_path / "out")]
    assert main([*command, "--dask", "tcp://127.0.0.1:1"]) == 2
    error = capsys.readouterr().err
    assert (
        error.startswith("gradekit: --dask tcp://127.0.0.1:1: no Dask scheduler answers there")
        and error.count("\n") == 1
    )


def _scheduler_process(folder: Path) -> tuple[subprocess.Popen, str]:
    """A Dask scheduler of its own process, on a free port of this machine: one a test may kill."""
    file = folder / "scheduler.json"
    scheduler = subprocess.Popen(
        [sys.executable, "-m", "distributed.cli.dask_scheduler", "--host", "127.0.0.1", "--port", "0"]
        + ["--dashboard-address", ":0", "--scheduler-file", str(file)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env=in_folder(folder),
    )
    while not file.exists() or not file.read_text().strip():
        time.sleep(0.1)
    return scheduler, json.loads(file.read_text())["address"]


def test_a_scheduler_that_dies_mid_grade_records_no_one_and_the_rerun_grades_them_as_new(tmp_path, capsys):
    """The students the cluster did not grade get no result, not a zero: the grade exits non-zero and
    names them, and the next run grades them as first-time students, not as resubmissions."""
    students = tmp_path / "class"
    students.mkdir()
    for name in ("ann", "ben", "cat", "dan", "eve", "fay"):
        shutil.copy(ROOT / "examples" / "submission.py", students / f"{name}.py")
    out = tmp_path / "out"
    scheduler, address = _scheduler_process(tmp_path)
    worker = subprocess.Popen(
        [sys.executable, "-m", "distributed.cli.dask_worker", address, "--nthreads", "1", "--nworkers", "1"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env=in_folder(tmp_path),
    )

    def kill_the_scheduler_after_the_first_result() -> None:
        while not list((out / "results").glob("*.json")):
            time.sleep(0.05)
        scheduler.kill()

    killer = threading.Thread(target=kill_the_scheduler_after_the_first_result, daemon=True)
    killer.start()
    try:
        command = ["grade", str(students), "--assignment", "cross_entropy", *FAST, "--out", str(out)]
        assert main([*command, "--dask", address]) == 2
    finally:
        scheduler.kill()
        worker.kill()
        scheduler.wait()
        worker.wait()
    said = capsys.readouterr().err
    graded = {path.stem for path in (out / "results").glob("*.json")}
    assert 1 <= len(graded) < 6
    assert said.count("gradekit: ") == 2  # the course seed made, and the account, each said once
    assert "graded now: 6 new" not in said and f"graded now: {len(graded)} new" in said
    assert "not graded, for a reason of the host's: the cluster could not grade it: " in said
    assert main(command) == 0  # here, without the cluster
    account = capsys.readouterr().err.strip().splitlines()[-1]
    assert f"({6 - len(graded)} graded now, {len(graded)} kept from before)" in account
    assert "resubmitted" not in account and "submission itself" not in account
    rows = (out / "gradebook.csv").read_text().splitlines()[1:]
    assert len(rows) == 6 and all(",100," in row for row in rows)


def test_a_client_closed_with_its_scheduler_is_not_asked_to_cancel_and_its_refusal_ends_nothing():
    """The scheduler died and the client closed itself, whether or not tasks were still in flight:
    distributed's refusal of a cancel (ClosedClientError) once replaced the grade's exit code 2."""
    from distributed.client import ClosedClientError

    class Closed:
        status = "closed"

        def __init__(self) -> None:
            self.asked: list[list[str]] = []

        def cancel(self, futures: list[str]) -> None:
            self.asked.append(futures)
            raise ClosedClientError("Client is closed. Can't send cancel-keys message.")

    closed = Closed()
    cluster._cancel(closed, [])
    assert closed.asked == []
    cluster._cancel(closed, ["a task"])
    assert closed.asked == [["a task"]]


def test_a_cluster_without_a_worker_says_so_on_the_progress_line_and_its_clock_runs(monkeypatch):
    class NoWorker:
        def processing(self) -> dict:
            return {}

    class Busy:
        def processing(self) -> dict:
            return {"tcp://w1": ["a", "other"], "tcp://w2": ["b"]}

    class Future:
        def __init__(self, key: str) -> None:
            self.key = key

    now = [0.0]
    shown = io.StringIO()
    bar = Progress(3, 0, shown, clock=lambda: now[0])
    futures = {Future("a"): Student("ann", Path("ann.py")), Future("b"): Student("ben", Path("ben.py"))}
    now[0] = 31.0
    cluster._tell(NoWorker(), futures, bar.grading, bar.waiting)
    said = "0/3 students, 31 s; the Dask cluster has no worker; waiting for one (Ctrl-C stops, and the same command"
    assert shown.getvalue().splitlines()[-1].endswith(said + " resumes)")
    now[0] = 62.0
    cluster._tell(Busy(), futures, bar.grading, bar.waiting)
    assert shown.getvalue().splitlines()[-1].endswith("0/3 students, 62 s; grading: ann, ben")


def test_the_cluster_is_sent_a_budget_of_bytes_at_a_time_each_file_read_again_as_found(tmp_path, monkeypatch):
    """Tasks in flight carry at most LARGEST_HELD bytes of students' files in all (one task whatever
    its size): the rest wait, the next in line with its bytes read, and each is sent with its file's
    bytes read again where the class let them go, checked against the hash taken when it was found,
    so a file rewritten since goes as the one sentence that says so, carrying nothing. What the
    grader keeps of a task in flight holds no bytes."""
    from collections import deque

    from gradekit.batch import roster

    class Client:
        def __init__(self) -> None:
            self.sent: list[tuple[str, Any]] = []

        def submit(self, task: Any, name: str, source: Any, *rest: Any, pure: bool) -> object:
            self.sent.append((name, source))
            return object()

    class Pending(list):
        def add(self, future: object) -> None:
            self.append(future)

    folder = tmp_path / "class"
    folder.mkdir()
    for name in ("ann", "ben", "cat", "dan"):
        (folder / f"{name}.py").write_text(f"# {name}\n" + "x = 1\n" * 150)
    found = {name: (folder / f"{name}.py").read_bytes() for name in ("ann", "ben", "cat")}
    size = len(found["ann"])
    students = roster.read_all(roster.find_students(folder), "cross_entropy", most=0)
    assert all(s.source.data is None for s in students)  # every file's bytes let go
    (folder / "dan.py").write_text("x = 2\n")  # rewritten after it was found
    client, pending, futures, carried = Client(), Pending(), {}, {}
    queued = deque(students)
    task = ("cross_entropy", None, None)
    monkeypatch.setattr(cluster, "LARGEST_HELD", 2 * size + size // 2)
    cluster._send(client, queued, futures, carried, pending, task)
    assert [name for name, _ in client.sent] == ["ann", "ben"]  # a third would carry more than the budget
    assert [source.data for _, source in client.sent] == [found["ann"], found["ben"]]
    assert all(s.source.data is None for s in futures.values()) and sum(carried.values()) == 2 * size
    assert queued[0].source.data == found["cat"]  # the next in line waits with its bytes read
    (folder / "cat.py").write_text("x = 3\n")  # rewritten once read: it goes as it was found
    settled = pending[0]
    futures.pop(settled), carried.pop(settled)
    cluster._send(client, queued, futures, carried, pending, task)
    assert [name for name, _ in client.sent] == ["ann", "ben", "cat", "dan"] and not queued
    assert client.sent[2][1].data == found["cat"]
    dan = client.sent[3][1]
    assert dan.data is None and dan.problem.startswith("dan.py changed after it was found for this grade")
    monkeypatch.setattr(cluster, "LARGEST_HELD", 1)  # smaller than any file: one task at a time
    client, futures, carried = Client(), {}, {}
    alone = deque(roster.read_all(roster.find_students(folder), "cross_entropy"))
    cluster._send(client, alone, futures, carried, Pending(), task)
    assert [name for name, _ in client.sent] == ["ann"]
