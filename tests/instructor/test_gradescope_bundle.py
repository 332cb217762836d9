"""The Gradescope bundle, run end to end against a fake /autograder tree in a temporary folder.

setup.sh needs root, apt and PyPI, so it is syntax-checked and only its Python, which records the
examples for the bundle's course seed, is run; the wheel it installs is installed here with pip,
offline, into a folder of its own. run_autograder runs for real, with the gradekit already installed
here standing in for /opt/gradekit.

As root, it also runs as Gradescope runs it in a container that denies user namespaces (`denied`):
the student's code run as a user of the tests' own, from a virtual environment that user can read
(as setup.sh installs /opt/gradekit), with a bwrap first on PATH that fails as bwrap fails there.
Hostile uploads are graded that way: a link to the installed reference, and files that start
processes meant to outlive the grade.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import pwd
import re
import secrets
import shutil
import stat
import subprocess
import sys
import tempfile
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

import pytest
from gradekit.reference import cross_entropy as cross_entropy_reference

import gradekit
from gradekit import assignment, course_seed
from gradekit.config import Limits
from gradekit.errors import GradekitError
from gradekit.instructor import gradescope_bundle, scaffold
from gradekit.sandbox import Worker, landlock

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples"
HOSTILE = Path(__file__).resolve().parents[1] / "hostile"
WHEEL = f"gradekit-{gradekit.__version__}-py3-none-any.whl"
SPEC_VISIBILITY = {"hidden", "after_due_date", "after_published", "visible"}


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


def run_autograder(tree: Path, gradekit: str | None = None, **how: str) -> dict:
    done = autograder_run(tree, gradekit, **how)
    assert done.returncode == 0, done.stderr
    return results_of(tree)


def results_of(tree: Path) -> dict:
    return json.loads((tree / "results" / "results.json").read_text())


def failed_in(results: dict) -> str:
    """The tests a grade did not pass, with what each told the student, for an assertion's message."""
    return "\n\n".join(f"{t['name']}: {t.get('output', '')}" for t in results["tests"] if t["status"] != "passed")


def autograder_run(
    tree: Path, gradekit: str | None = None, run_as: str = "", path: str | None = None
) -> subprocess.CompletedProcess[str]:
    """run_autograder on `tree`, grading with `gradekit` (default: this gradekit) with the student's code
    run as `run_as` (default: the grader's user, so no test ends another user's processes)."""
    env = {
        **os.environ,
        "GRADEKIT_AUTOGRADER_ROOT": str(tree),
        "GRADEKIT_RUN_AS": run_as,
        "GRADEKIT": gradekit or f"{sys.executable} -m gradekit",
        "PATH": path or os.environ["PATH"],
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
    assert stat.S_IMODE(bundle.stat().st_mode) == 0o600, "the zip holds the course seed: its owner's alone"
    tree = unpack(bundle, tmp_path / "autograder")
    for script in ("setup.sh", "run_autograder"):
        assert (tree / "source" / script).read_text().startswith("#!/bin/sh\n")
        check = subprocess.run(["sh", "-n", str(tree / "source" / script)], capture_output=True, text=True)
        assert check.returncode == 0, check.stderr
    setup = (tree / "source" / "setup.sh").read_text()
    assert f"pip install ./{WHEEL}" in setup and "assignment.load('cross_entropy', None)" in setup
    assert "chmod 600 course-seed" in setup and "course_seed.read(Path('course-seed'))" in setup
    assert "umask 022" in setup, "/opt/gradekit is readable by the user the student's code runs as"
    assert "apt-get install -y bubblewrap ||" in setup, "an image without bubblewrap still builds"
    assert "/opt/gradekit/bin/gradekit doctor --run-as student ||" in setup, "the build's log names the wall"
    run = (tree / "source" / "run_autograder").read_text()
    assert '--seed-file "$ROOT/source/course-seed" --require-sandbox' in run


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
    assert results["score"] == 100 and all(t["status"] == "passed" for t in results["tests"]), failed_in(results)

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
    assert results["score"] == 100 and all(t["status"] == "passed" for t in results["tests"]), failed_in(results)

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
    assert len(reports) == 2, "a worker started alone and one forked from a fork server"
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


def test_check_require_sandbox_refuses_the_guard_it_is_given():
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "gradekit",
            "check",
            str(EXAMPLES / "submission.py"),
            "--require-sandbox",
            "--no-isolation",
        ],
        capture_output=True,
        text=True,
    )
    assert done.returncode == 2
    assert done.stderr == "gradekit: --require-sandbox and --no-isolation ask for two walls; give one\n"


# What Gradescope's container does to bwrap: Docker's default seccomp profile denies its namespaces.
DENIED_BWRAP = "#!/bin/sh\necho 'bwrap: setting up uid map: Permission denied' >&2\nexit 1\n"
# gradekit on a kernel without Landlock as well: no OS sandbox at all.
NO_LANDLOCK = """import runpy, sys
from gradekit.sandbox import landlock
landlock.abi = lambda: 0
sys.argv[0] = "gradekit"
runpy.run_module("gradekit", run_name="__main__")
"""
# The tests' own user, one for each test process: run_autograder ends every process of the user it runs
# code as (kill -1, made as that user), so two processes sharing one user would end each other's
# workers mid-grade, and pytest-xdist's groups do not promise to keep a group in one process.
STUDENT_PREFIX = "gradekit-student-"
STUDENT = f"{STUDENT_PREFIX}{os.getpid()}"
# The tests that run code as the student share one `denied` environment, built once where they run together.
AS_THE_STUDENT = pytest.mark.xdist_group("as-the-student")
PURELIB = "import sysconfig; print(sysconfig.get_path('purelib'))"
NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*")  # a requirement's distribution, before any version or marker


@dataclass(frozen=True)
class Container:
    """How run_autograder is run: with `python`'s gradekit (setup.sh's /opt/gradekit/bin/python), the
    student's code run as `user` ("" for the grader's own), with `path` for PATH. `reference` is the
    reference solution inside that gradekit, which the grader can read."""

    python: Path
    user: str
    path: str
    reference: Path

    def run(self, tree: Path, gradekit: str | None = None, path: str | None = None) -> subprocess.CompletedProcess[str]:
        return autograder_run(tree, gradekit or f"{self.python} -m gradekit", self.user, path or self.path)


def runs_as(user: str, python: str) -> bool:
    """Whether `user` may run `python` (an interpreter under a home folder of mode 700 is closed to them)."""
    try:
        done = subprocess.run([python, "-c", "pass"], user=user, capture_output=True, timeout=30)
    except (OSError, subprocess.SubprocessError):
        return False
    return done.returncode == 0


def readable_python(bundle: Path, user: str, folder: Path) -> Path | None:
    """A virtual environment in `folder` that `user` can read, as setup.sh makes /opt/gradekit: the
    bundle's wheel and the packages it requires, taken from the environment these tests run in (no
    index is asked), over an interpreter of this one's version that `user` may run; None where there
    is none."""
    version = f"python{sys.version_info.major}.{sys.version_info.minor}"
    bases = [os.path.realpath(sys.executable), f"/usr/bin/{version}", f"/usr/local/bin/{version}"]
    base = next((b for b in bases if os.path.isfile(b) and runs_as(user, b)), None)
    if base is None:
        return None
    subprocess.run([base, "-m", "venv", "--without-pip", str(folder)], check=True)
    python = folder / "bin" / "python"
    site = Path(subprocess.run([python, "-c", PURELIB], capture_output=True, text=True, check=True).stdout.strip())
    with zipfile.ZipFile(bundle) as archive, zipfile.ZipFile(io.BytesIO(archive.read(WHEEL))) as wheel:
        wheel.extractall(site)
        fields = wheel.read(f"gradekit-{gradekit.__version__}.dist-info/METADATA").decode().splitlines()
    requires = [field.removeprefix("Requires-Dist: ") for field in fields if field.startswith("Requires-Dist: ")]
    for distribution in required(names(requires)):
        for file in distribution.files or ():
            if ".." not in file.parts:  # a script beside the interpreter is not needed
                readable_copy(Path(str(distribution.locate_file(file))), site / file)
    for inside in [folder, *folder.rglob("*")]:
        if inside.is_dir() and not inside.is_symlink():
            inside.chmod(0o755)
    return python


def required(wanted: list[str]) -> list[metadata.Distribution]:
    """The installed distributions named in `wanted` and everything they require, extras left out."""
    found: dict[str, metadata.Distribution] = {}
    while wanted:
        name = wanted.pop().lower().replace("_", "-")
        if name in found:
            continue
        try:
            found[name] = metadata.distribution(name)
        except metadata.PackageNotFoundError:  # required only on another Python (exceptiongroup)
            continue
        wanted += names(found[name].requires or [])
    return list(found.values())


def names(requires: list[str]) -> list[str]:
    """The distributions `requires` names, those an extra asks for left out."""
    return [match[0] for r in requires if "extra ==" not in r and (match := NAME.match(r))]


def readable_copy(source: Path, target: Path) -> None:
    """`source` at `target`, readable by all: a hard link where it already is, else a copy."""
    if not source.is_file():
        return
    target.parent.mkdir(parents=True, exist_ok=True)
    if source.stat().st_mode & 0o444 == 0o444:
        with contextlib.suppress(OSError):
            os.link(source, target)
            return
    shutil.copyfile(source, target)
    target.chmod(0o644)


def end_processes_of(user: str) -> None:
    """End every process of `user`, the tests' own, as run_autograder's sweep does."""
    gid = str(pwd.getpwnam(user).pw_gid)
    subprocess.run(
        ["setpriv", f"--reuid={user}", f"--regid={gid}", "--clear-groups", "sh", "-c", "kill -KILL -1 2>/dev/null"]
    )


def running(uid: int | None = None, marker: str | None = None) -> list[str]:
    """The command lines of the live processes (not zombies) run as `uid`, or holding `marker`."""
    found = []
    for entry in Path("/proc").iterdir():
        try:
            status = (entry / "status").read_text()
            line = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except (OSError, NotADirectoryError):
            continue
        fields = dict(row.split(":", 1) for row in status.splitlines() if ":" in row)
        if fields["State"].split()[0] in "ZX":
            continue
        if (uid is not None and int(fields["Uid"].split()[0]) == uid) or (marker is not None and marker in line):
            found.append(line)
    return found


@pytest.fixture(scope="module")
def shims() -> Iterator[Path]:
    """A folder every user can read holding a bwrap that fails as Docker's seccomp profile makes it
    fail (`DENIED_BWRAP`, put first on PATH) and `NO_LANDLOCK`, to run gradekit with."""
    folder = Path(tempfile.mkdtemp(prefix="gradekit-shims-"))  # pytest's own folders are closed to other users
    try:
        (folder / "bwrap").write_text(DENIED_BWRAP)
        (folder / "no_landlock.py").write_text(NO_LANDLOCK)
        (folder / "bwrap").chmod(0o755)
        folder.chmod(0o755)
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def _left_by_ended_sessions() -> list[str]:
    """The tests' users made by test processes that are gone (a session killed before its teardown)."""
    users = [entry.pw_name for entry in pwd.getpwall() if entry.pw_name.startswith(STUDENT_PREFIX)]
    return [user for user in users if not Path(f"/proc/{user.removeprefix(STUDENT_PREFIX)}").exists()]


@pytest.fixture(scope="session")
def student_user() -> Iterator[str]:
    """This test process's own user, made for it and removed, with its processes, when it is done;
    users an ended session left behind are removed first."""
    if os.geteuid() != 0 or not all(shutil.which(tool) for tool in ("useradd", "userdel", "setpriv")):
        pytest.skip("needs root, useradd and setpriv")
    for user in _left_by_ended_sessions():
        end_processes_of(user)
        subprocess.run(["userdel", user], check=False)
    subprocess.run(["useradd", "--system", "--no-create-home", "--shell", "/usr/sbin/nologin", STUDENT], check=True)
    try:
        yield STUDENT
    finally:
        end_processes_of(STUDENT)
        subprocess.run(["userdel", STUDENT], check=False)


@pytest.fixture(scope="module")
def denied(bundle, shims, student_user) -> Iterator[Container]:
    """As Gradescope grades in a container that denies user namespaces, as root, running the student's
    code as `student_user`; the processes that user left are ended after."""
    if landlock.abi() < 1:
        pytest.skip("needs a kernel with Landlock")
    folder = Path(tempfile.mkdtemp(prefix="gradekit-opt-"))
    try:
        python = readable_python(bundle, student_user, folder / "venv")
        if python is None:
            pytest.skip(f"needs a Python {sys.version_info.major}.{sys.version_info.minor} that {student_user} may run")
        folder.chmod(0o755)
        site = subprocess.run([python, "-c", PURELIB], capture_output=True, text=True, check=True).stdout.strip()
        reference = Path(site) / "gradekit" / "reference" / "cross_entropy.py"
        yield Container(python, student_user, f"{shims}{os.pathsep}{os.environ['PATH']}", reference)
    finally:
        end_processes_of(student_user)
        shutil.rmtree(folder, ignore_errors=True)


HERE = Container(Path(sys.executable), "", os.environ["PATH"], Path(cross_entropy_reference.__file__))


@pytest.fixture(params=["here", "denied"])
def host(request) -> Container:
    """run_autograder as these tests run it (this gradekit, the student's code run as the grader's
    user), and as Gradescope runs it where user namespaces are denied (`denied`)."""
    return HERE if request.param == "here" else request.getfixturevalue("denied")


@AS_THE_STUDENT
def test_where_bwrap_is_denied_a_right_file_gets_full_marks_behind_landlock_run_as_the_student(
    bundle, denied, tmp_path
):
    tree = unpack(bundle, tmp_path / "autograder")
    source = (EXAMPLES / "submission.py").read_text() + "\nimport os\nprint('uid', os.getuid())\n"
    (tree / "submission" / "cross_entropy.py").write_text(source)
    done = denied.run(tree)
    assert done.returncode == 0, done.stderr
    results = results_of(tree)
    assert_gradescope_results(results)
    assert results["score"] == 100 and all(t["status"] == "passed" for t in results["tests"]), failed_in(results)
    assert (
        results["extra_data"]["isolation"] == "landlock"
        and results["extra_data"]["provenance"]["isolation"] == "landlock"
    )
    assert "bwrap: setting up uid map: Permission denied" in results["output"]  # why not bubblewrap
    assert f"uid {pwd.getpwnam(STUDENT).pw_uid}" in results["output"].splitlines()
    assert stat.S_IMODE((tree / "source").stat().st_mode) == 0o700, "the bundle is closed to the student's user"


@AS_THE_STUDENT
def test_an_upload_that_is_a_link_to_the_installed_reference_scores_0_in_one_sentence(bundle, host, tmp_path):
    assert host.reference.is_file()
    tree = unpack(bundle, tmp_path / "autograder")
    (tree / "submission" / "cross_entropy.py").symlink_to(host.reference)
    done = host.run(tree)
    assert done.returncode == 0, done.stderr
    results = results_of(tree)
    assert_gradescope_results(results)
    assert results["score"] == 0 and all(t["status"] == "failed" for t in results["tests"])
    why = "submission holds no .py or .ipynb file but cross_entropy.py, a symbolic link; submit the file itself"
    assert why in results["output"]


@AS_THE_STUDENT
def test_where_no_sandbox_works_nothing_is_graded_and_results_json_has_no_score(bundle, host, shims, tmp_path):
    tree = unpack(bundle, tmp_path / "autograder")
    shutil.copy(EXAMPLES / "submission.py", tree / "submission")
    done = host.run(tree, f"{host.python} {shims / 'no_landlock.py'}", path=f"{shims}{os.pathsep}{host.path}")
    assert done.returncode == 1, done.stderr
    assert "student code must run in an OS sandbox, and none works here" in done.stderr  # check refused
    assert json.loads(done.stdout)["isolation"] in (None, "guard")  # the doctor's report, for the staff
    results = results_of(tree)
    assert "score" not in results and results["tests"] == [] and results["stdout_visibility"] == "hidden"
    assert results["output"].startswith(
        "The autograder could not run this submission in a sandbox, so it graded nothing"
    )


@AS_THE_STUDENT
@pytest.mark.parametrize("hostile", ["child_processes.py", "escape_by_double_fork.py"], ids=["forks", "double-fork"])
def test_nothing_the_student_started_outlives_run_autograder(bundle, denied, tmp_path, hostile):
    """The sandbox refuses the file's forks; a helper started as the student's user beside the worker,
    in a session of its own and orphaned at once, is ended by run_autograder's sweep."""
    marker, helper = f"3011.{secrets.randbelow(10**6)}", f"3023.{secrets.randbelow(10**6)}"
    source = (HOSTILE / hostile).read_text().replace("__MARKER__", marker)
    tree = unpack(bundle, tmp_path / "autograder")
    (tree / "submission" / "cross_entropy.py").write_text(
        source.replace("__LOG_FILE__", os.devnull).replace("__MARKER_FILE__", os.devnull)
    )
    # The helper closes its standard streams: a survivor then fails the test, not hangs it on the pipes.
    start = f"setsid sh -c 'sleep {helper} <&- >&- 2>&- &'"
    with_helper = tmp_path / "gradekit"
    with_helper.write_text(
        f"#!/bin/sh\nsetpriv --reuid={STUDENT} --regid={pwd.getpwnam(STUDENT).pw_gid} --clear-groups {start}\n"
        f'exec {denied.python} -m gradekit "$@"\n'
    )
    with_helper.chmod(0o755)
    done = denied.run(tree, str(with_helper))
    assert done.returncode == 0, done.stderr
    assert results_of(tree)["extra_data"]["isolation"] == "landlock"
    assert running(marker=marker) == [] and running(marker=helper) == []
    assert running(uid=pwd.getpwnam(STUDENT).pw_uid) == []
