"""Batch grading: every student gets a row, whatever the others do, and a rerun resumes.

The class: a correct file, a buggy one, a notebook in a folder, a folder with a scratch file beside
the submission, a file that hangs at import, one that exits at import, one whose grader is made to
crash, one whose grader runs past the per-student limit, and two entries that claim one name.
Every file is read once, before any grader starts, and graded as read.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import multiprocessing
import os
import pickle
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import xml.etree.ElementTree as ET
from dataclasses import replace
from pathlib import Path

import pytest
from conftest import without_times

import gradekit.grader
from gradekit.batch import class_grade, gradebook, pool, results_folder, roster
from gradekit.batch.progress import Progress
from gradekit.cli import main
from gradekit.config import GradeConfig, Limits
from gradekit.engine.source import read
from gradekit.errors import HostFailure
from gradekit.reports import markdown
from gradekit.result import GradeResult

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples"
HOSTILE = Path(__file__).resolve().parents[1] / "hostile"
REWRITTEN = "raise RuntimeError('rewritten after it was found')\n"
FAST = GradeConfig(max_examples=10, limits=Limits(call_timeout=1.0, load_timeout=1.5, cell_timeout=1.0))


def notebook(source: Path) -> str:
    """A notebook whose one code cell is the file at `source`."""
    cells = [
        {"cell_type": "code", "metadata": {}, "execution_count": None, "outputs": [], "source": source.read_text()}
    ]
    return json.dumps({"nbformat": 4, "nbformat_minor": 4, "metadata": {}, "cells": cells})


def make_class(folder: Path) -> Path:
    folder.mkdir()
    shutil.copy(EXAMPLES / "submission.py", folder / "alice.py")
    shutil.copy(EXAMPLES / "buggy_submission.py", folder / "bob.py")
    shutil.copy(HOSTILE / "hang_at_import.py", folder / "carol.py")
    (folder / "dave").mkdir()
    (folder / "dave" / "homework.ipynb").write_text(notebook(EXAMPLES / "submission.py"))
    (folder / "erin.py").write_text("import os\nos._exit(3)\n")
    (folder / "frank").mkdir()
    shutil.copy(EXAMPLES / "buggy_submission.py", folder / "frank" / "scratch.py")
    shutil.copy(EXAMPLES / "submission.py", folder / "frank" / "cross_entropy.py")
    shutil.copy(EXAMPLES / "submission.py", folder / "gina.py")
    (folder / "gina").mkdir()
    (folder / "hana").mkdir()  # two files, neither named like the assignment
    (folder / "hana" / "a.py").write_text("x = 1\n")
    (folder / "hana" / "b.py").write_text("y = 2\n")
    (folder / "notes.txt").write_text("not a submission")
    (folder / ".hidden.py").write_text("raise SystemExit")
    return folder


def rows(out: Path) -> dict[str, dict[str, str]]:
    with open(out / "gradebook.csv", newline="") as handle:
        return {row["student"]: row for row in csv.DictReader(handle)}


def test_students_are_files_and_folders_with_one_submission_each(tmp_path):
    found = {s.name: s for s in roster.find_students(make_class(tmp_path / "class"), assignment="cross_entropy")}
    assert sorted(found) == ["alice", "bob", "carol", "dave", "erin", "frank", "gina", "hana"]
    assert found["gina"].problem == "gina and gina.py both belong to gina; keep one"
    assert "hana holds 2 files (a.py, b.py)" in found["hana"].problem
    assert found["frank"].problem is None and found["dave"].problem is None


def test_a_mixed_class_gets_every_row_and_the_hostile_ones_cost_nobody_else(tmp_path, monkeypatch, cross_entropy):
    submissions = make_class(tmp_path / "class")
    shutil.copy(EXAMPLES / "submission.py", submissions / "ivan.py")  # his grader will crash
    pid_file = tmp_path / "judy-worker.pid"
    marker = f"judy{os.getpid()}"  # the name her worker gives itself, which the host sees in /proc
    (submissions / "judy.py").write_text(
        f"import ctypes\nctypes.CDLL(None).prctl(15, {marker.encode()!r})  # PR_SET_NAME\nwhile True:\n    pass\n"
    )  # and hers will run past the limit
    real_grade = gradekit.grader.grade

    def grade(path, assignment, config, *rest, **options):  # the graders are forked from here: they see this
        if Path(path).name == "ivan.py":
            os._exit(9)
        if Path(path).name == "judy.py":  # a load that would hang for a minute, past the student limit
            config = replace(config, limits=replace(config.limits, load_timeout=60.0))
            threading.Thread(target=_write_pid_of, args=(marker, pid_file), daemon=True).start()
        return real_grade(path, assignment, config, *rest, **options)

    monkeypatch.setattr(pool, "grade", grade)
    monkeypatch.setattr(pool, "STUDENT_GRACE", 4.0)  # judy is stopped at the wall backstop plus this: 16 s
    out = tmp_path / "results"
    progress = io.StringIO()
    started = time.monotonic()
    account = class_grade.grade_all(
        submissions,
        cross_entropy,
        out,
        replace(FAST, check_budget=4.0),
        class_grade.ClassConfig(jobs=2, progress=progress),
    )
    assert time.monotonic() - started < 60
    assert "10 students" in account and "10 graded now" in account
    table = rows(out)
    assert sorted(table) == ["alice", "bob", "carol", "dave", "erin", "frank", "gina", "hana", "ivan", "judy"]
    names = [p.name for p in cross_entropy.properties]
    assert list(table["alice"]) == ["student", "score", "max_score", *names, "error", "misconceptions"]
    assert table["alice"]["score"] == "100" and table["alice"]["error"] == ""
    assert table["dave"]["score"] == "100" and table["frank"]["score"] == "100"
    assert 0 < float(table["bob"]["score"]) < 100 and table["bob"]["loss_matches_reference"] == "0"
    assert table["bob"]["softmax_matches_reference"] == "6"
    assert "timed out" in table["carol"]["error"] and "exited with code 3" in table["erin"]["error"]
    assert table["ivan"]["error"] == "the grader stopped while grading this file (exit code 9)"
    assert table["judy"]["error"] == "grading did not finish within 16 s, so it was stopped"
    assert "both belong to gina" in table["gina"]["error"] and "hana holds 2 files" in table["hana"]["error"]
    for name in ("carol", "erin", "gina", "hana", "ivan", "judy"):
        assert table[name]["score"] == "0" and table[name]["max_score"] == "100"
    for name in table:
        assert (out / "feedback" / f"{name}.md").read_text().startswith("# gradekit: ")
        assert json.loads((out / "results" / f"{name}.json").read_text())["batch"]["student"] == name
    assert "Could not grade" in (out / "feedback" / "judy.md").read_text()
    summary = (out / "summary.md").read_text()
    assert "10 students" in summary and "![Histogram of the scores out of 100](histogram.svg)" in summary
    assert "| `loss_matches_reference` | `cross_entropy_loss` | 8 | 1 (25%) |" in summary
    assert "- **judy**: grading did not finish" in summary
    svg = ET.fromstring((out / "histogram.svg").read_text())
    counts = [int(b.get("data-count")) for b in svg.findall("{http://www.w3.org/2000/svg}rect[@class='bar']")]
    assert sum(counts) == 10 and counts[-1] == 3 and counts[0] == 6
    shown = progress.getvalue().splitlines()
    assert shown[0].startswith("grading [") and "10/10 students" in shown[-1]
    assert not _alive(int(pid_file.read_text())), "the stopped grader left its worker running"


def test_a_grader_gets_its_next_student_before_the_last_ones_reports_are_written(tmp_path, monkeypatch, cross_entropy):
    events = []
    give = pool._Grader.give

    def logged(self, student, limit, learnt):
        events.append(("give", student.name))
        give(self, student, limit, learnt)

    monkeypatch.setattr(pool._Grader, "give", logged)
    students = [roster.Student(name, EXAMPLES / "submission.py", None) for name in ("ann", "ben", "cat")]
    pool.run_pool(students, cross_entropy, FAST, None, 1, lambda student, _: events.append(("record", student.name)))
    assert events == [
        ("give", "ann"),
        ("give", "ben"),
        ("record", "ann"),
        ("give", "cat"),
        ("record", "ben"),
        ("record", "cat"),
    ]


def test_a_pool_left_to_choose_starts_one_grader_more_than_the_cores(monkeypatch, cross_entropy):
    """The one more grader uses the moments another waits on its worker; a grade never depends on it."""
    started = []
    start = pool._start_grader

    def counted(graders, index, context, setup):
        started.append(index)
        start(graders, index, context, setup)

    monkeypatch.setattr(pool, "_start_grader", counted)
    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: {0, 1})
    assert pool.default_jobs() == 3
    students = [roster.Student(name, EXAMPLES / "submission.py", None) for name in ("ann", "ben", "cat", "dan")]
    scores = {}
    pool.run_pool(
        students, cross_entropy, FAST, None, None, lambda student, result: scores.update({student.name: result.score})
    )
    assert started == [0, 1, 2]
    assert scores == {"ann": 100.0, "ben": 100.0, "cat": 100.0, "dan": 100.0}


def test_one_grader_and_three_give_a_class_the_same_grades(cross_entropy):
    """Answers alike are remembered across graders, however many share the class."""
    bank = [*cross_entropy.known("known_right")[:2], *cross_entropy.known("known_wrong")[:4]]
    students = [roster.Student(f"{index}-{path.stem}", path, None) for index, path in enumerate(bank * 2)]

    def graded(jobs: int) -> dict[str, str]:
        found = {}
        record = lambda student, result: found.update({student.name: without_times(result)})
        pool.run_pool(students, cross_entropy, FAST, None, jobs, record)
        return found

    assert graded(1) == graded(3)


def test_a_stop_as_a_grader_is_forked_stops_that_grader_too(tmp_path, monkeypatch, cross_entropy):
    """Ctrl-C that lands just as a grader's fork returns is taken once the grader is in the pool's
    list: else the pool would not stop it, and would remove the folder from under it."""
    forked = []
    start = multiprocessing.context.ForkProcess.start

    def interrupted(self):
        start(self)
        forked.append(self.pid)
        signal.raise_signal(signal.SIGINT)

    monkeypatch.setattr(multiprocessing.context.ForkProcess, "start", interrupted)
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    students = [roster.Student(name, EXAMPLES / "submission.py", None) for name in ("ann", "ben")]
    handler = signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        with pytest.raises(KeyboardInterrupt):
            pool.run_pool(students, cross_entropy, FAST, None, 2, lambda student, result: None)
    finally:
        signal.signal(signal.SIGINT, handler)
    assert forked, "no grader was started"
    assert not [pid for pid in forked if _child(pid)], "a grader was left to itself"
    assert list(tmp_path.iterdir()) == []


def _child(pid: int) -> bool:
    """Whether `pid` is a child of this process not yet waited for, running or not."""
    try:
        return int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[1]) == os.getpid()
    except OSError:
        return False


def _rewritten_once_found(monkeypatch, filename: str) -> None:
    """A class grade's `located` that rewrites `filename` once it has been found and hashed, as if a
    classmate's code rewrote it."""
    real_located = roster.located

    def located_then_rewritten(path, assignment):
        source = real_located(path, assignment)
        if source.filename == filename:
            source.path.write_text(REWRITTEN)
        return source

    monkeypatch.setattr(roster, "located", located_then_rewritten)


def test_every_file_is_read_before_grading_and_one_changed_since_is_graded_as_found(
    tmp_path, monkeypatch, cross_entropy
):
    """Each file is read and hashed once before any grader starts, and the grader parses those bytes:
    one rewritten since (as if a classmate's code rewrote it) is graded as it was found, under the
    hash of the bytes graded, and a rerun grades it as it is now."""
    submissions = tmp_path / "class"
    submissions.mkdir()
    shutil.copy(EXAMPLES / "submission.py", submissions / "ann.py")
    shutil.copy(EXAMPLES / "buggy_submission.py", submissions / "ben.py")
    (submissions / "cat").mkdir()
    (submissions / "cat" / "homework.ipynb").write_text(notebook(EXAMPLES / "submission.py"))
    graded = {
        "ann": submissions / "ann.py",
        "ben": submissions / "ben.py",
        "cat": submissions / "cat" / "homework.ipynb",
    }
    as_found = {name: path.read_bytes() for name, path in graded.items()}
    real_located = roster.located
    _rewritten_once_found(monkeypatch, "ben.py")
    out = tmp_path / "results"
    class_grade.grade_all(
        submissions, cross_entropy, out, FAST, class_grade.ClassConfig(jobs=2, progress=io.StringIO())
    )
    table = rows(out)
    assert table["ann"]["score"] == "100" and table["cat"]["score"] == "100"
    assert not any(table[name]["error"] for name in graded)  # ben's buggy file as found, not the rewrite
    assert table["ben"]["score"] != "0"
    for name, path in graded.items():
        stamp = json.loads((out / "results" / f"{name}.json").read_text())["batch"]
        assert stamp["sha256"] == hashlib.sha256(as_found[name]).hexdigest() and stamp["file"] == str(path)
    # ben's file now holds other bytes: a rerun grades it again, as it is now, and keeps the others.
    monkeypatch.setattr(roster, "located", real_located)
    account = class_grade.grade_all(
        submissions, cross_entropy, out, FAST, class_grade.ClassConfig(jobs=2, progress=io.StringIO())
    )
    assert "(1 graded now, 2 kept from before)" in account
    assert "rewritten after it was found" in rows(out)["ben"]["error"]


def test_a_class_keeps_its_budget_of_bytes_in_memory_and_reads_the_rest_again_as_found(
    tmp_path, monkeypatch, cross_entropy
):
    """A class holds at most its budget of its students' bytes at once (`source.LARGEST_HELD`; here
    the size of one file): the first file keeps its bytes, the others are let go when found and read
    again where they are graded, checked against the hash taken when they were found. Each grades as
    it would have, and one rewritten since (as if a classmate's code rewrote it) is told so in one
    sentence, never graded as the rewrite nor as another's file."""
    submissions = tmp_path / "class"
    submissions.mkdir()
    for name, example in (("ann", "submission.py"), ("ben", "buggy_submission.py"), ("cat", "submission.py")):
        shutil.copy(EXAMPLES / example, submissions / f"{name}.py")
    one = (submissions / "ann.py").stat().st_size
    found = roster.read_all(roster.find_students(submissions), "cross_entropy", most=one)
    assert [s.source.data is not None for s in found] == [True, False, False]
    assert all(s.source.sha256 == hashlib.sha256(s.path.read_bytes()).hexdigest() for s in found)
    _rewritten_once_found(monkeypatch, "cat.py")
    monkeypatch.setattr(class_grade, "read_all", lambda students, name: roster.read_all(students, name, most=one))
    out = tmp_path / "results"
    class_grade.grade_all(
        submissions, cross_entropy, out, FAST, class_grade.ClassConfig(jobs=2, progress=io.StringIO())
    )
    table = rows(out)
    assert table["ann"]["score"] == "100" and not table["ann"]["error"]
    assert table["ben"]["score"] not in ("0", "100") and not table["ben"]["error"]  # read again, as found
    assert table["cat"]["score"] == "0"
    assert "cat.py changed after it was found for this grade" in table["cat"]["error"]


def test_a_class_grade_reads_each_file_once_and_looks_the_host_up_once(tmp_path, monkeypatch, cross_entropy):
    """One read of each student's file, in the plan, whose bytes the graders parse; one look for
    bubblewrap on this host, not one per worker a grader starts. Counted in every process of the
    class grade (the graders are forked from this one), in a file each appends to."""
    from gradekit.engine import source
    from gradekit.sandbox import bubblewrap, isolation

    submissions = tmp_path / "class"
    submissions.mkdir()
    for name in ("ann", "ben", "cat"):
        shutil.copy(EXAMPLES / "submission.py", submissions / f"{name}.py")
    log = tmp_path / "log"
    real_contents, real_which = source._contents, shutil.which

    def contents(path):
        with log.open("a") as handle:
            handle.write(f"read {path.name}\n")
        return real_contents(path)

    class Shutil:
        def __getattr__(self, name):
            return getattr(shutil, name)

        def which(self, command, *args, **kwargs):
            with log.open("a") as handle:
                handle.write(f"which {command}\n")
            return real_which(command, *args, **kwargs)

    monkeypatch.setattr(source, "_contents", contents)
    monkeypatch.setattr(bubblewrap, "shutil", Shutil())
    isolation.forget()  # the host is looked up afresh, as by a new `gradekit grade`
    try:
        class_grade.grade_all(
            submissions, cross_entropy, tmp_path / "out", FAST, class_grade.ClassConfig(jobs=2, progress=io.StringIO())
        )
    finally:
        isolation.forget()
    lines = log.read_text().splitlines()
    assert sorted(line for line in lines if line.startswith("read")) == ["read ann.py", "read ben.py", "read cat.py"]
    assert [line for line in lines if line.startswith("which")] == ["which bwrap"]


def test_grade_given_a_submission_as_read_grades_it_and_never_opens_the_path(tmp_path, cross_entropy):
    (tmp_path / "homework.ipynb").write_text(notebook(EXAMPLES / "submission.py"))
    source = pickle.loads(pickle.dumps(read(tmp_path)))  # as a grader process receives it
    assert source == read(tmp_path) and source.cells
    (tmp_path / "homework.ipynb").write_text("raise RuntimeError('rewritten after it was read')\n")
    result = gradekit.grader.grade(tmp_path, cross_entropy, FAST, gradekit.grader.Grading(read=source))
    assert result.error is None and result.score == result.max_score
    assert result.submission == str(tmp_path / "homework.ipynb")
    assert (
        gradekit.grader.grade(tmp_path / "gone.py", cross_entropy, FAST, gradekit.grader.Grading(read=source)).score
        == result.max_score
    )


def test_an_interrupted_run_resumes_without_regrading_finished_students(tmp_path, cross_entropy):
    submissions = tmp_path / "class"
    submissions.mkdir()
    for name in ("ann", "ben", "cat"):
        shutil.copy(EXAMPLES / "submission.py", submissions / f"{name}.py")
    shutil.copy(EXAMPLES / "buggy_submission.py", submissions / "dan.py")
    out = tmp_path / "results"
    class_grade.grade_all(
        submissions, cross_entropy, out, FAST, class_grade.ClassConfig(jobs=2, progress=io.StringIO())
    )
    first = {p.name: p.stat().st_mtime_ns for p in (out / "results").iterdir()}
    # An interrupted run: one result never written, one half-written temporary file left behind.
    (out / "results" / "ben.json").unlink()
    (out / "results" / ".ben.json.x1y2").write_text('{"half": ')
    (out / "gradebook.csv").unlink()
    shutil.copy(EXAMPLES / "buggy_submission.py", submissions / "cat.py")  # cat resubmitted
    progress = io.StringIO()
    account = class_grade.grade_all(
        submissions, cross_entropy, out, FAST, class_grade.ClassConfig(jobs=2, progress=progress)
    )
    assert "(2 graded now, 2 kept from before)" in account
    assert "2 from before" in progress.getvalue()
    after = {p.name: p.stat().st_mtime_ns for p in (out / "results").iterdir() if not p.name.startswith(".")}
    assert after["ann.json"] == first["ann.json"] and after["dan.json"] == first["dan.json"]
    table = rows(out)
    assert sorted(table) == ["ann", "ben", "cat", "dan"]
    assert table["ben"]["score"] == "100" and table["cat"]["score"] == table["dan"]["score"] != "100"
    # Other settings make other grades: nothing is kept.
    account = class_grade.grade_all(
        submissions,
        cross_entropy,
        out,
        replace(FAST, max_examples=11),
        class_grade.ClassConfig(jobs=2, progress=io.StringIO()),
    )
    assert "(4 graded now, 0 kept from before)" in account


class Terminal(io.StringIO):
    def isatty(self):
        return True


class Clock:
    """A clock that moves only when told to."""

    def __init__(self):
        self.now = 1000.0

    def __call__(self):
        return self.now


def test_on_a_terminal_the_progress_line_keeps_its_clock_running_and_names_who_is_being_graded():
    screen, clock = Terminal(), Clock()
    bar = Progress(22, 0, screen, clock=clock)
    for _ in range(21):
        bar.advance()
    clock.now += 32
    bar.grading(["zoe"])
    assert screen.getvalue().split("\r")[-1].endswith("] 21/22 students, 32 s; grading: zoe")
    clock.now += 1  # nothing changes but the clock: the line is drawn again
    bar.grading(["zoe"])
    assert screen.getvalue().split("\r")[-1].endswith("] 21/22 students, 33 s; grading: zoe")
    bar.grading(["zoe", "alice", "bob"])
    assert screen.getvalue().split("\r")[-1].endswith("; grading: zoe, alice, bob")
    bar.grading(["zoe", "alice", "bob", "carol", "dave"])
    longest = screen.getvalue().split("\r")[-1]
    assert longest.endswith("; grading: zoe, alice and 3 more")
    bar.grading([])  # a shorter line covers every character of the longer one before it
    shorter = screen.getvalue().split("\r")[-1]
    assert shorter.rstrip().endswith("21/22 students, 33 s") and len(shorter) == len(longest)
    bar.grading(["a" * 60, "b" * 60])  # a line that wrapped would leave rows behind at each redraw
    assert all(len(frame) < 80 for frame in screen.getvalue().split("\r"))
    bar.grading([])
    bar.advance()
    bar.finish()
    last = screen.getvalue().split("\r")[-1]  # the bar gave way to the long names, and stays narrow
    assert last.endswith("\n") and last.rstrip() == "grading [" + "#" * 10 + "] 22/22 students, 33 s"


def test_in_a_log_the_progress_line_is_written_at_each_tenth_and_otherwise_only_after_a_quiet_spell():
    log, clock = io.StringIO(), Clock()
    bar = Progress(20, 0, log, clock=clock)
    clock.now += 1
    bar.grading(["alice", "bob"])
    assert log.getvalue().splitlines() == ["grading [..............................] 0/20 students, 0 s"]
    clock.now += Progress.QUIET
    bar.grading(["alice", "bob"])
    bar.grading(["alice", "bob"])
    bar.advance()
    assert log.getvalue().splitlines()[1:] == [
        "grading [..............................] 0/20 students, 31 s; grading: alice, bob"
    ]
    bar.advance()  # a tenth of the class
    clock.now += Progress.QUIET
    bar.grading([])  # nobody is being graded: nothing to wait for
    assert log.getvalue().splitlines()[2:] == ["grading [###" + "." * 27 + "] 2/20 students, 31 s; grading: alice, bob"]
    assert "\r" not in log.getvalue()


def test_a_class_of_one_is_counted_in_the_singular(tmp_path, cross_entropy):
    submissions = tmp_path / "class"
    submissions.mkdir()
    (submissions / "ann.py").write_text("")
    (submissions / "ann").mkdir()  # two entries that claim one name: recorded at once, no grader started
    progress, out = io.StringIO(), tmp_path / "results"
    account = class_grade.grade_all(
        submissions, cross_entropy, out, FAST, class_grade.ClassConfig(jobs=1, progress=progress)
    )
    assert account.startswith(f"gradekit: 1 student in {out} (1 graded now, 0 kept from before) in ")
    assert "] 1/1 student, " in progress.getvalue().splitlines()[-1]


def test_the_pool_says_who_is_being_graded_the_longest_first_and_again_while_one_hangs(
    tmp_path, monkeypatch, cross_entropy
):
    monkeypatch.setattr(pool, "TICK", 0.01)
    (tmp_path / "dan.py").write_text("def (\n")  # graded at once: it cannot be loaded
    students = [
        roster.Student("ann", EXAMPLES / "submission.py"),
        roster.Student("cat", HOSTILE / "hang_in_perplexity.py"),
        roster.Student("dan", tmp_path / "dan.py"),
    ]
    events = []
    pool.run_pool(
        students,
        cross_entropy,
        replace(FAST, limits=replace(FAST.limits, call_timeout=2.0)),
        None,
        2,
        lambda student, _: events.append(student.name),
        grading=lambda names: events.append(tuple(names)),
    )
    assert next(e for e in events if e) == ("ann", "cat")
    assert ("cat", "dan") in events and ("dan", "cat") not in events  # dan took ann's grader after cat began
    alone = events[events.index("dan") + 1 : -2]  # cat, spinning for 2 s of CPU time, told every 0.01 s
    assert alone.count(("cat",)) == len(alone) >= 3
    assert events[-2:] == [(), "cat"]


def test_the_grade_command_writes_the_gradebook_and_text_feedback(tmp_path):
    submissions = tmp_path / "class"
    submissions.mkdir()
    shutil.copy(EXAMPLES / "submission.py", submissions / "ann.py")
    shutil.copy(EXAMPLES / "buggy_submission.py", submissions / "bob.py")
    out = submissions / "results"  # inside the class folder: skipped as a student
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "gradekit",
            "grade",
            str(submissions),
            "--assignment",
            "cross_entropy",
            "--out",
            str(out),
            "--jobs",
            "2",
            "--max-examples",
            "10",
            "--feedback",
            "text",
        ],
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stderr
    assert sorted(rows(out)) == ["ann", "bob"]
    assert (out / "feedback" / "bob.txt").read_text().startswith("gradekit: ")
    assert "2/2 students" in done.stderr and done.stderr.strip().splitlines()[-1].startswith("gradekit: 2 students")


def test_the_grade_command_needs_a_folder_and_an_assignment(tmp_path):
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "gradekit",
            "grade",
            str(tmp_path / "none"),
            "--assignment",
            "cross_entropy",
            "--out",
            str(tmp_path / "out"),
        ],
        capture_output=True,
        text=True,
    )
    assert done.returncode == 2 and done.stderr.startswith("gradekit: ") and "not a folder" in done.stderr
    done = subprocess.run(
        [sys.executable, "-m", "gradekit", "grade", str(tmp_path), "--out", str(tmp_path / "o")],
        capture_output=True,
        text=True,
    )
    assert done.returncode == 2 and "--assignment" in done.stderr
    (tmp_path / "empty").mkdir()
    out = tmp_path / "empty-out"
    assert main(["grade", str(tmp_path / "empty"), "--assignment", "cross_entropy", "--out", str(out)]) == 2
    assert not (out / "gradebook.csv").exists()


def test_a_spreadsheet_never_reads_a_student_name_or_error_as_a_formula(cross_entropy):
    result = GradeResult("cross_entropy", "x.py", 1, error='=HYPERLINK("http://x")')
    table = list(csv.reader(io.StringIO(gradebook.render(cross_entropy, [("@bob", result)]))))
    assert table[1][0] == "'@bob" and table[1][-2].startswith("'=HYPERLINK")


def _write_pid_of(name: str, pid_file: Path, seconds: float = 30.0) -> None:
    """Write the host's pid of the process that names itself `name` (/proc/PID/comm), once it appears:
    a sandboxed worker can write nowhere the test can read, nor see its own pid on the host."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        for entry in Path("/proc").iterdir():
            try:
                if entry.name.isdigit() and (entry / "comm").read_text().strip() == name:
                    pid_file.write_text(entry.name)
                    return
            except OSError:
                continue
        time.sleep(0.05)


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def test_a_file_too_large_to_be_a_submission_is_one_sentence_not_a_load(tmp_path, monkeypatch):
    """A class grade holds every file in memory at once, so a huge one is refused, not read whole."""
    from gradekit.engine import source

    monkeypatch.setattr(source, "LARGEST", 1024)
    huge = tmp_path / "huge.py"
    huge.write_text("x = 1\n" * 400)
    read = source.read(huge)
    assert read.text == "" and read.problem == "huge.py is too large to be a submission (over 1,024 bytes)"


def test_a_link_or_special_file_in_a_class_is_a_row_saying_so_never_the_file_it_names(tmp_path, cross_entropy):
    """A link to a classmate's file would have it graded as one's own: no entry of the class, and
    nothing inside a student's folder, is followed or opened unless it is a file or a folder."""
    theirs = tmp_path / "ann"  # a classmate's work; outside the class, so that nothing here is graded
    theirs.mkdir()
    shutil.copy(EXAMPLES / "submission.py", theirs / "cross_entropy.py")
    submissions = tmp_path / "class"
    submissions.mkdir()
    (submissions / "ben.py").symlink_to(theirs / "cross_entropy.py")
    (submissions / "cat").symlink_to(theirs, target_is_directory=True)
    (submissions / "dan").mkdir()
    (submissions / "dan" / "cross_entropy.py").symlink_to(theirs / "cross_entropy.py")
    os.mkfifo(submissions / "eve.py")
    (submissions / "fay.ipynb").symlink_to("fay.ipynb")  # a link that loops
    (submissions / "notes").symlink_to(theirs / "cross_entropy.py")  # neither a folder nor named like a file
    out = tmp_path / "results"
    account = class_grade.grade_all(
        submissions, cross_entropy, out, FAST, class_grade.ClassConfig(jobs=1, progress=io.StringIO())
    )
    assert "5 students" in account
    table = rows(out)
    assert {name: row["error"] for name, row in table.items()} == {
        "ben": "ben.py is a symbolic link; submit the file itself",
        "cat": "cat is a symbolic link; submit the folder itself",
        "dan": "dan holds no .py or .ipynb file but cross_entropy.py, a symbolic link; submit the file itself",
        "eve": "eve.py is a named pipe; submit the file itself",
        "fay": "fay.ipynb is a symbolic link; submit the file itself",
    }
    for name, row in table.items():
        assert row["score"] == "0" and row["max_score"] == "100"
        assert (out / "feedback" / f"{name}.md").read_text().startswith("# gradekit: ")


def test_a_notebook_of_any_shape_in_a_class_is_a_row_saying_so(tmp_path, cross_entropy):
    submissions = tmp_path / "class"
    submissions.mkdir()
    (submissions / "ann.ipynb").write_text("[" * 100_000 + "]" * 100_000)
    (submissions / "ben.ipynb").write_text(
        '{"nbformat": 4, "nbformat_minor": 5, "metadata": {"a": ' + "9" * 5000 + "}}"
    )
    (submissions / "cat.ipynb").write_text('{"nbformat": 4, "nbformat_minor": 1e999, "metadata": {}, "cells": []}')
    out = tmp_path / "results"
    class_grade.grade_all(
        submissions, cross_entropy, out, FAST, class_grade.ClassConfig(jobs=1, progress=io.StringIO())
    )
    table = rows(out)
    assert {name: row["error"] for name, row in table.items()} == {
        "ann": "ann.ipynb is not a notebook gradekit can read: it is nested too deeply",
        "ben": "ben.ipynb is not a notebook gradekit can read: it holds a number too long",
        "cat": "cat.ipynb is not a valid Jupyter notebook: AssertionError",
    }
    assert all(row["score"] == "0" for row in table.values())


def test_a_report_that_cannot_be_written_costs_its_student_alone_and_a_rerun_writes_it(
    tmp_path, monkeypatch, cross_entropy
):
    submissions = tmp_path / "class"
    submissions.mkdir()
    shutil.copy(EXAMPLES / "submission.py", submissions / "ann.py")  # graded in the pool
    shutil.copy(EXAMPLES / "submission.py", submissions / "ben.py")
    (submissions / "cat").mkdir()  # nothing to grade: recorded at once
    write = markdown.render

    def fails_for_ann(result):  # as a writer might on what one student's code returned
        if Path(result.submission).name == "ann.py":
            raise RecursionError("maximum recursion depth exceeded")
        return write(result)

    monkeypatch.setattr(markdown, "render", fails_for_ann)
    out = tmp_path / "results"
    class_grade.grade_all(
        submissions, cross_entropy, out, FAST, class_grade.ClassConfig(jobs=1, progress=io.StringIO())
    )
    table = rows(out)
    assert (
        table["ann"]["error"] == "the report for this file could not be written (RecursionError); run the grade again"
    )
    assert table["ann"]["score"] == "0" and table["ben"]["score"] == "100"
    assert table["cat"]["error"] == "cat holds no .py or .ipynb file"
    assert sorted(p.name for p in (out / "feedback").iterdir()) == ["ben.md", "cat.md"]
    assert "- **ann**: the report for this file could not be written" in (out / "summary.md").read_text()
    assert (out / "histogram.svg").is_file()
    monkeypatch.undo()
    account = class_grade.grade_all(
        submissions, cross_entropy, out, FAST, class_grade.ClassConfig(jobs=1, progress=io.StringIO())
    )
    assert "(1 graded now, 2 kept from before)" in account
    assert rows(out)["ann"]["score"] == "100" and (out / "feedback" / "ann.md").is_file()


def test_a_result_that_cannot_be_read_back_is_a_row_saying_so(tmp_path, monkeypatch, cross_entropy):
    submissions = tmp_path / "class"
    for name in ("ann", "ben"):
        (submissions / name).mkdir(parents=True)  # nothing to grade: recorded at once
    write_result = results_folder.write_result

    def cut_short(out, student, result, stamp):
        if student.name == "ben":
            (out / "results" / "ben.json").write_text('{"half": ')
        else:
            write_result(out, student, result, stamp)

    monkeypatch.setattr(results_folder, "write_result", cut_short)
    out = tmp_path / "results"
    class_grade.grade_all(
        submissions, cross_entropy, out, FAST, class_grade.ClassConfig(jobs=1, progress=io.StringIO())
    )
    table = rows(out)
    assert table["ann"]["error"] == "ann holds no .py or .ipynb file"
    assert table["ben"]["error"] == "results/ben.json could not be read back (JSONDecodeError); run the grade again"
    assert table["ben"]["score"] == "0" and (out / "summary.md").is_file()


def test_a_name_that_is_not_utf8_is_written_as_its_escape(tmp_path, cross_entropy):
    """The OS gives such a name's bytes as surrogates, which UTF-8 cannot write: every report still
    is, the gradebook and the student's feedback included."""
    name = os.fsdecode(b"b\xfen")
    (tmp_path / "class" / name).mkdir(parents=True)  # nothing to grade: recorded at once
    out = tmp_path / "results"
    class_grade.grade_all(
        tmp_path / "class", cross_entropy, out, FAST, class_grade.ClassConfig(jobs=1, progress=io.StringIO())
    )
    assert rows(out)["b\\udcfen"]["error"] == "b\\udcfen holds no .py or .ipynb file"
    assert (out / "feedback" / f"{name}.md").read_text().startswith("# gradekit: ")


def test_a_student_the_host_kept_from_a_grade_gets_no_result_and_a_rerun_grades_them(
    tmp_path, monkeypatch, cross_entropy
):
    """A worker that cannot start for a reason of the host's (HostFailure) is no grade of the student's:
    nothing is recorded for them, the rest of the class is graded, the gradebook is written, and the
    grade ends with one sentence saying who was left and why; the same command then grades them."""
    submissions = tmp_path / "class"
    submissions.mkdir()
    for name in ("alice", "bob", "carol"):
        shutil.copy(EXAMPLES / "submission.py", submissions / f"{name}.py")
    real_grade = gradekit.grader.grade

    def grade(path, *rest, **options):  # the graders are forked from here: they see this
        if Path(path).name == "bob.py":
            raise HostFailure("a worker could not be started behind bubblewrap: bwrap: out of memory")
        return real_grade(path, *rest, **options)

    monkeypatch.setattr(pool, "grade", grade)
    out = tmp_path / "results"
    with pytest.raises(HostFailure) as stopped:
        class_grade.grade_all(
            submissions, cross_entropy, out, FAST, class_grade.ClassConfig(jobs=2, progress=io.StringIO())
        )
    said = str(stopped.value)
    assert "1 student (bob) not graded, for a reason of the host's: a worker could not be started" in said, said
    assert "(2 graded now, 0 kept from before)" in said and "gradekit doctor" in said
    assert sorted(p.stem for p in (out / "results").glob("*.json")) == ["alice", "carol"]
    assert "results/bob.json could not be read back" in rows(out)["bob"]["error"]
    monkeypatch.setattr(pool, "grade", real_grade)
    account = class_grade.grade_all(
        submissions, cross_entropy, out, FAST, class_grade.ClassConfig(jobs=2, progress=io.StringIO())
    )
    assert "(1 graded now, 2 kept from before)" in account
    assert rows(out)["bob"]["score"] == "100"


def test_a_class_run_as_a_user_who_cannot_run_python_stops_before_anyone_is_graded(tmp_path, venv_like_this):
    """`grade --run-as nobody` where nobody cannot run this Python (it lies under a folder of mode 700):
    exit 2 with one sentence naming the remedy, and no student gets a result, so nothing of a wrong 0
    is kept for a rerun to trust."""
    assert os.geteuid() == 0, "--run-as needs the tests to run as root"
    closed = tmp_path / "closed"
    closed.mkdir(mode=0o700)
    venv = closed / "venv"
    venv_like_this(venv, this_checkout=True, pip=False)
    submissions = make_class(tmp_path / "class")
    out = tmp_path / "out"
    ran = subprocess.run(
        [
            str(venv / "bin" / "python"),
            "-m",
            "gradekit",
            "grade",
            str(submissions),
            "--assignment",
            "cross_entropy",
            "--out",
            str(out),
            "--run-as",
            "nobody",
            "--seed",
            "1",
            "--max-examples",
            "5",
        ],
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    assert ran.returncode == 2, ran.stderr
    last = ran.stderr.strip().splitlines()[-1]
    assert "could not be started as 'nobody'" in last and "gradekit doctor --run-as nobody" in last, last
    assert not list(out.glob("results/*.json"))
