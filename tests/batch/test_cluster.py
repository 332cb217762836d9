"""`gradekit grade --dask ADDRESS`: a class graded on a Dask cluster (here a LocalCluster of two worker
processes) gets the gradebook and results the local pool gives, resumes the same way, and a course's
own assignment travels with the tasks."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from distributed import LocalCluster

from gradekit.cli import main

ROOT = Path(__file__).resolve().parents[2]
FAST = ["--max-examples", "20"]


@pytest.fixture(scope="module")
def scheduler():
    # Its HTTP server on any free port: another test process may hold Dask's default one.
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=":0") as cluster:
        yield cluster.scheduler_address


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
    assert not list((tmp_path / "out" / "results").glob("*.json"))


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
