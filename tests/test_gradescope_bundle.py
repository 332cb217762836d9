"""The Gradescope bundle, run end to end against a fake /autograder tree in a temporary folder.

setup.sh needs root, apt and PyPI, so it is syntax-checked and only its Python, which records the
examples for the bundle's course seed, is run; the wheel it installs is installed here with pip,
offline, into a folder of its own. run_autograder runs for real, with the gradekit already installed
here standing in for /opt/gradekit.
"""

from __future__ import annotations

import json
import os
import pwd
import shutil
import stat
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

import pytest

import gradekit
from gradekit import assignment, course_seed, gradescope_bundle, scaffold
from gradekit.config import Limits
from gradekit.errors import GradekitError
from gradekit.sandbox import Worker

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"
WHEEL = f"gradekit-{gradekit.__version__}-py3-none-any.whl"
SPEC_VISIBILITY = {"hidden", "after_due_date", "after_published", "visible"}


def can_run_as(user: str) -> bool:
    """Whether the worker could run as `user` here: root, and the user may run this Python and read gradekit."""
    if os.geteuid() != 0:
        return False
    try:
        done = subprocess.run(
            [sys.executable, "-c", f"open({str(Path(gradescope_bundle.__file__))!r}).close()"],
            user=user,
            capture_output=True,
            timeout=30,
        )
    except (OSError, KeyError, subprocess.SubprocessError):
        return False
    return done.returncode == 0


RUN_AS = "nobody" if can_run_as("nobody") else ""


def unpack(bundle: Path, tree: Path) -> Path:
    """Lay the zip out as Gradescope does: contents in source/, run_autograder beside it."""
    (tree / "source").mkdir(parents=True)
    with zipfile.ZipFile(bundle) as archive:
        archive.extractall(tree / "source")
        for info in archive.infolist():  # extractall drops the mode bits
            os.chmod(tree / "source" / info.filename, (info.external_attr >> 16) & 0o777)
    shutil.copy2(tree / "source" / "run_autograder", tree / "run_autograder")
    (tree / "submission").mkdir()
    return tree


def run_autograder(tree: Path, gradekit: str | None = None) -> dict:
    done = autograder_run(tree, gradekit)
    assert done.returncode == 0, done.stderr
    return json.loads((tree / "results" / "results.json").read_text())


def autograder_run(tree: Path, gradekit: str | None = None) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "GRADEKIT_AUTOGRADER_ROOT": str(tree),
        "GRADEKIT_RUN_AS": RUN_AS,
        "GRADEKIT": gradekit or f"{sys.executable} -m gradekit",
    }
    return subprocess.run(
        [str(tree / "run_autograder")], cwd=tree, env=env, capture_output=True, text=True, timeout=300
    )


def build(out: Path, *options: str) -> Path:
    """`gradekit gradescope build` of cross_entropy into `out`, with `options`."""
    done = subprocess.run(
        [sys.executable, "-m", "gradekit", "gradescope", "build", "--assignment", "cross_entropy", "--out", str(out)]
        + list(options),
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stderr
    return out


def seed_in(bundle: Path) -> int:
    with zipfile.ZipFile(bundle) as archive:
        return int(archive.read(course_seed.FILE_NAME))


def assert_gradescope_results(results: dict) -> None:
    assert isinstance(results["score"], (int, float)) and isinstance(results["output"], str)
    for test in results["tests"]:
        assert {"name", "score", "max_score", "status", "output", "visibility"} <= set(test)
        assert test["status"] in {"passed", "failed"} and test["visibility"] in SPEC_VISIBILITY


@pytest.fixture(scope="module")
def bundle(tmp_path_factory) -> Path:
    return build(tmp_path_factory.mktemp("bundle") / "autograder.zip")


def test_the_zip_holds_setup_run_autograder_and_a_wheel_at_its_root(bundle, tmp_path):
    with zipfile.ZipFile(bundle) as archive:
        names = archive.namelist()
        modes = {i.filename: (i.external_attr >> 16) & 0o777 for i in archive.infolist()}
    assert names == ["setup.sh", "run_autograder", course_seed.FILE_NAME, WHEEL]
    assert modes["setup.sh"] & stat.S_IXUSR and modes["run_autograder"] & stat.S_IXUSR
    assert modes[course_seed.FILE_NAME] == 0o600, "the course seed is readable by its owner, root, alone"
    tree = unpack(bundle, tmp_path / "autograder")
    for script in ("setup.sh", "run_autograder"):
        check = subprocess.run(["bash", "-n", str(tree / "source" / script)], capture_output=True, text=True)
        assert check.returncode == 0, check.stderr
    setup = (tree / "source" / "setup.sh").read_text()
    assert f"pip install ./{WHEEL}" in setup and "assignment.load('cross_entropy', None)" in setup
    assert "chmod 600 course-seed" in setup and "course_seed.read(Path('course-seed'))" in setup
    assert '--seed-file "$ROOT/source/course-seed"' in (tree / "source" / "run_autograder").read_text()


def test_the_wheel_installs_offline_and_carries_the_assignment_and_the_plugin(bundle, tmp_path):
    with zipfile.ZipFile(bundle) as archive:
        wheel = tmp_path / WHEEL
        wheel.write_bytes(archive.read(wheel.name))
    target = tmp_path / "site"
    done = subprocess.run(
        [sys.executable, "-m", "pip", "install", "--no-deps", "--no-index", "--target", str(target), str(wheel)],
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stderr
    probe = (
        "import gradekit, gradekit.assignment as a; print(gradekit.__file__); "
        "print(a.load('cross_entropy').solution.is_file())"
    )
    done = subprocess.run(
        [sys.executable, "-I", "-c", f"import sys; sys.path.insert(0, {str(target)!r}); {probe}"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == [str(target / "gradekit" / "__init__.py"), "True"]
    info = target / f"gradekit-{gradekit.__version__}.dist-info"
    assert "gradekit = gradekit.pytest_plugin" in (info / "entry_points.txt").read_text()
    assert "Requires-Dist: hypothesis==" in (info / "METADATA").read_text()


def test_run_autograder_grades_the_submission_into_results_json(bundle, tmp_path):
    tree = unpack(bundle, tmp_path / "autograder")
    shutil.copy(EXAMPLES / "buggy_submission.py", tree / "submission" / "my_work.py")
    results = run_autograder(tree)
    assert_gradescope_results(results)
    assert 0 < results["score"] < 100 and len(results["tests"]) == len(assignment.load("cross_entropy").properties)
    failed = next(t for t in results["tests"] if t["name"] == "loss_matches_reference")
    assert failed["status"] == "failed" and "you returned:" in failed["output"]
    seed = seed_in(bundle)
    assert f"course seed, digest {course_seed.digest(seed)}" in results["output"]
    assert str(seed) not in json.dumps(results)
    if RUN_AS:  # as root, the bundle (which holds the solution) is closed to the student's user
        assert stat.S_IMODE((tree / "source").stat().st_mode) == 0o700


def test_run_autograder_writes_results_for_a_notebook_and_for_nothing_gradable(bundle, tmp_path):
    tree = unpack(bundle, tmp_path / "notebook")
    cells = [
        {
            "cell_type": "code",
            "metadata": {},
            "execution_count": None,
            "outputs": [],
            "source": (EXAMPLES / "submission.py").read_text(),
        }
    ]
    (tree / "submission" / "cross_entropy.ipynb").write_text(
        json.dumps({"nbformat": 4, "nbformat_minor": 5, "metadata": {}, "cells": cells})
    )
    (tree / "submission" / "scratch.py").write_text("print('not this one')\n")
    results = run_autograder(tree)
    assert results["score"] == 100 and all(t["status"] == "passed" for t in results["tests"])

    empty = unpack(bundle, tmp_path / "empty")
    (empty / "submission" / "README.txt").write_text("I forgot to upload")
    results = run_autograder(empty)
    assert_gradescope_results(results)
    assert results["score"] == 0 and "holds no .py or .ipynb file" in results["output"]


def test_run_autograder_grades_a_notebook_over_its_export_and_names_two_unrelated_files(bundle, tmp_path):
    tree = unpack(bundle, tmp_path / "exported")
    solution = (EXAMPLES / "submission.py").read_text()
    cells = [{"cell_type": "code", "metadata": {}, "execution_count": None, "outputs": [], "source": solution}]
    notebook = {"nbformat": 4, "nbformat_minor": 4, "metadata": {}, "cells": cells}
    (tree / "submission" / "cross_entropy.ipynb").write_text(json.dumps(notebook))
    shutil.copy(EXAMPLES / "buggy_submission.py", tree / "submission" / "cross_entropy.py")  # an older export
    results = run_autograder(tree)
    assert results["score"] == 100 and all(t["status"] == "passed" for t in results["tests"])

    unrelated = unpack(bundle, tmp_path / "unrelated")
    shutil.copy(EXAMPLES / "submission.py", unrelated / "submission" / "mine.py")
    shutil.copy(EXAMPLES / "buggy_submission.py", unrelated / "submission" / "helpers.py")
    results = run_autograder(unrelated)
    assert_gradescope_results(results)
    why = "submission holds 2 files (helpers.py, mine.py); name the one to grade cross_entropy.ipynb or"
    assert results["score"] == 0 and why in results["output"]


def test_run_autograder_still_writes_results_when_gradekit_itself_fails(bundle, tmp_path):
    tree = unpack(bundle, tmp_path / "autograder")
    shutil.copy(EXAMPLES / "submission.py", tree / "submission")
    results = run_autograder(tree, gradekit="false")
    assert results["score"] == 0 and "gradekit exited with code 1" in results["output"]


def test_an_assignment_of_the_course_s_own_travels_in_the_bundle(tmp_path):
    course = tmp_path / "course"
    folder = scaffold.create("my_log_softmax", course)
    made = assignment.load("my_log_softmax", [str(course)])
    bundle = gradescope_bundle.build(made, tmp_path / "autograder.zip", course_seed.fresh())
    with zipfile.ZipFile(bundle) as archive:
        names = archive.namelist()
    assert "assignments/my_log_softmax/properties.py" in names
    assert all(not n.endswith(".pyc") for n in names)
    tree = unpack(bundle, tmp_path / "autograder")
    assert "'/autograder/source/assignments'" in (tree / "source" / "setup.sh").read_text()
    shutil.copy(next((folder / "known_right").glob("*.py")), tree / "submission" / "answer.py")
    results = run_autograder(tree)
    assert results["score"] == made.max_score


def test_setup_records_the_examples_for_the_bundle_s_course_seed_which_every_grade_replays(
    bundle, tmp_path, monkeypatch
):
    monkeypatch.setenv("GRADEKIT_CACHE", str(tmp_path / "cache"))
    tree = unpack(bundle, tmp_path / "autograder")
    setup = (tree / "source" / "setup.sh").read_text()
    python = setup.split("<<'PYTHON'\n", 1)[1].split("\nPYTHON\n", 1)[0]
    done = subprocess.run([sys.executable, "-c", python], cwd=tree / "source", capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert "recording examples for cross_entropy" in done.stderr
    shutil.copy(EXAMPLES / "submission.py", tree / "submission")
    graded = autograder_run(tree)
    assert graded.returncode == 0 and "recording examples" not in graded.stderr, graded.stderr
    assert json.loads((tree / "results" / "results.json").read_text())["score"] == 100


def test_each_build_makes_a_course_seed_unless_given_the_course_s_seed_file(tmp_path):
    seed_file = tmp_path / "course-seed"
    first = build(tmp_path / "first.zip", "--seed-file", str(seed_file))
    assert stat.S_IMODE(seed_file.stat().st_mode) == 0o600
    again = build(tmp_path / "again.zip", "--seed-file", str(seed_file))
    assert seed_in(first) == seed_in(again) == course_seed.read(seed_file)
    assert first.read_bytes() == again.read_bytes(), "the same files and seed give the same zip"
    assert seed_in(build(tmp_path / "fresh.zip")) != seed_in(build(tmp_path / "other.zip"))


PROBE = """
import contextlib, json, os
from gradekit.config import Limits
from gradekit.sandbox import Worker
from gradekit.sandbox.process import forked_workers

SOURCE = (
    "import os\\n"
    "UID = os.getuid()\\n"
    "def uid():\\n"
    "    return UID\\n"
    "def read_shadow():\\n"
    "    try:\\n"
    "        return len(open('/etc/shadow').read())\\n"
    "    except PermissionError:\\n"
    "        return -1\\n"
    "def swap_output():\\n"
    "    os.symlink('/etc/shadow', 'output.txt')\\n"
    "    print('swapped')\\n"
    "    return len(os.listdir('.'))\\n"
)
reports = []
GUARDED = Limits(run_as="nobody", isolation="off")  # the separate user is the wall where there is no OS sandbox
for start in (contextlib.nullcontext(), forked_workers(GUARDED)):  # alone, then as a class is graded
    with start, Worker(GUARDED) as worker:
        assert worker.load(SOURCE, "probe.py")["ok"]
        calls = [worker.call(name, "[]")["returned"] for name in ("uid", "read_shadow", "swap_output")]
        reports.append({"calls": calls, "output": worker.output(), "owner": os.stat(worker.directory).st_uid})
print(json.dumps(reports))
"""


def _python_for_nobody() -> str | None:
    """An interpreter of 3.10 or newer that the user nobody may run: this one, else the system's."""
    if os.geteuid() != 0:
        return None
    for python in (sys.executable, shutil.which("python3", path="/usr/bin:/bin")):
        if not python:
            continue
        try:
            done = subprocess.run(
                [python, "-c", "import sys; sys.exit(sys.version_info < (3, 10))"],
                user="nobody",
                capture_output=True,
                timeout=30,
            )
        except (OSError, KeyError, subprocess.SubprocessError):
            continue
        if done.returncode == 0:
            return python
    return None


@pytest.mark.skipif(_python_for_nobody() is None, reason="needs root and a Python the user nobody may run")
def test_run_as_runs_the_submission_as_that_user_who_cannot_read_the_graders_files(bundle):
    """Without the OS sandbox, the worker runs with nobody's uid in a folder nobody owns, which holds
    nothing of the grader's: its output file has no name, so a link made there leaks nothing. gradekit is
    installed from the bundle's wheel where nobody can read it (pytest's own tmp_path is private)."""
    python = _python_for_nobody()
    site = Path(tempfile.mkdtemp(prefix="gradekit-run-as-"))
    try:
        with zipfile.ZipFile(bundle) as archive:
            wheel = site / WHEEL
            wheel.write_bytes(archive.read(wheel.name))
        done = subprocess.run(
            [
                sys.executable,
                "-m",
                "pip",
                "install",
                "--no-deps",
                "--no-index",
                "--target",
                str(site / "lib"),
                str(wheel),
            ],
            capture_output=True,
            text=True,
        )
        assert done.returncode == 0, done.stderr
        for folder, dirs, files in os.walk(site):
            for name in dirs + files:
                os.chmod(os.path.join(folder, name), 0o755)
        os.chmod(site, 0o755)
        done = subprocess.run(
            [python, "-c", PROBE],
            env={"PYTHONPATH": str(site / "lib"), "PATH": "/usr/bin:/bin"},
            capture_output=True,
            text=True,
            cwd=site,
            timeout=60,
        )
        assert done.returncode == 0, done.stderr
        reports = json.loads(done.stdout)
    finally:
        shutil.rmtree(site, ignore_errors=True)
    nobody = pwd.getpwnam("nobody").pw_uid
    assert len(reports) == 2, "a worker started alone and one forked from a template"
    for report in reports:
        assert report["calls"] == [nobody, -1, 1] and report["owner"] == nobody
        assert report["output"] == "swapped\n"


def test_run_as_an_unknown_user_or_without_root_is_a_usage_error(tmp_path):
    submission = tmp_path / "s.py"
    shutil.copy(EXAMPLES / "submission.py", submission)
    done = subprocess.run(
        [sys.executable, "-m", "gradekit", "check", str(submission), "--run-as", "no-such-user-x"],
        capture_output=True,
        text=True,
    )
    assert done.returncode == 2 and "there is no such user" in done.stderr
    with pytest.raises(GradekitError), Worker(Limits(run_as="no-such-user-x")):
        pass
