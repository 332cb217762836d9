"""Shared fixtures: a repository-local example cache, the built-in assignment, a grading helper, work
done once per session for every test process, this environment as an activated one, and virtual
environments with its packages."""

from __future__ import annotations

import fcntl
import gc
import json
import os
import subprocess
import sys
import sysconfig
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager, suppress
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from gradekit.cli import GC_THRESHOLD, one_blas_thread

ROOT = Path(__file__).resolve().parent.parent
KIT = ROOT / "tests" / "kit"
os.environ.setdefault("GRADEKIT_CACHE", str(ROOT / ".gradekit-test-cache"))
# One BLAS thread, asked for before anything imports NumPy, as the command line asks: these processes
# grade as a check's grader does, and the thread pool OpenBLAS would start takes CPU from the other test
# process and the sandboxed workers.
one_blas_thread(os.environ)
# The collector's pace the command line sets, for the same reason: a test process holds what a grader
# holds for as long as it lives, and every test it collected besides.
gc.set_threshold(GC_THRESHOLD, 20, 20)

from gradekit import assignment  # noqa: E402
from gradekit.config import GradeConfig, Limits  # noqa: E402
from gradekit.grader import grade  # noqa: E402
from gradekit.result import GradeResult  # noqa: E402


def pytest_xdist_auto_num_workers(config: pytest.Config) -> int | None:
    """`-n auto`, the README's test command: one test process more than the cores. A grading test
    spends part of its time waiting (a grader on its sandboxed worker's answer, a test on the deadline
    it proves, a command it started), so one process per core leaves the cores idle a quarter of the
    time; the extra process uses some of it. `-n N` still means N, and pytest-xdist's own setting
    PYTEST_XDIST_AUTO_NUM_WORKERS still sets what `auto` means."""
    if config.option.numprocesses != "auto" or os.environ.get("PYTEST_XDIST_AUTO_NUM_WORKERS"):
        return None
    return len(os.sched_getaffinity(0)) + 1


@pytest.hookimpl(trylast=True)
def pytest_sessionfinish(session: pytest.Session) -> None:
    """After pytest has removed a passing run's base folder (pytest-of-USER/pytest-N): the folder
    above it too, where nothing else is left in it but the link to that run, so that a run on a clean
    machine leaves nothing in its temporary folder. Another run's folders keep it; so does a failing
    run, whose base folder pytest keeps for reading."""
    if hasattr(session.config, "workerinput"):  # a pytest-xdist worker: its base folder is the controller's
        return
    basetemp = session.config._tmp_path_factory._basetemp  # type: ignore[attr-defined]
    if basetemp is None or basetemp.exists():
        return
    root = basetemp.parent
    current = root / "pytest-current"  # the link pytest points at its latest run's base folder
    with suppress(OSError):
        if current.is_symlink() and not current.exists():
            current.unlink()
        root.rmdir()


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """The tests marked `records_first` first, then those marked `longest`, then those marked
    `crowds_a_cpu`, then the rest in their order, tests/kit's last: pytest-xdist hands tests out in
    collection order. Tests that need one recording (examples for a seed and count no assignment
    ships) sit side by side, and the test processes that take them at once would each record it: the
    one marked `records_first` records it alone at the start, beside the others' first tests, and the
    rest read it from the suite's cache. A long test handed out last would run alone on one core at the
    end, as would the other cores' processes wait on a crowded one there. tests/kit starts no worker
    and waits on nothing: many short tests that keep every core busy to the end, where the sandbox's
    tests, waiting on their workers' deadlines, would leave some idle."""
    items.sort(
        key=lambda item: (
            item.get_closest_marker("records_first") is None,
            item.get_closest_marker("longest") is None,
            item.get_closest_marker("crowds_a_cpu") is None,
            item.path.resolve().is_relative_to(KIT),
        )
    )


@pytest.fixture(scope="session")
def cross_entropy() -> assignment.Assignment:
    return assignment.load("cross_entropy")


@pytest.fixture
def grade_file(tmp_path: Path):
    """grade_file(source_or_path, **limits) -> GradeResult for the cross_entropy assignment."""

    def run(submission: str | Path, config: GradeConfig = GradeConfig(), **limits: float) -> GradeResult:
        path = Path(submission) if isinstance(submission, Path) else tmp_path / "submission.py"
        if not isinstance(submission, Path):
            path.write_text(submission)
        if limits:
            config = replace(config, limits=replace(Limits(), **limits))
        return grade(path, assignment.load("cross_entropy"), config)

    return run


@pytest.fixture(scope="session")
def once_per_session(
    tmp_path_factory: pytest.TempPathFactory,
    worker_id: str,
    one_at_a_time: Callable[[str], AbstractContextManager[None]],
) -> Callable[[str, Callable[[], Any]], Any]:
    """once_per_session(key, make) -> make()'s value, kept as JSON: made by the first test process of
    the session to ask for `key` and read back by every other. pytest-xdist runs a session fixture once
    per process, and a bank graded alike in two processes is the same grade paid for twice. The others
    wait for it under a lock; a `make` that raises leaves nothing behind, so the next to ask makes it."""
    folder = _shared_folder(tmp_path_factory, worker_id)

    def shared(key: str, make: Callable[[], Any]) -> Any:
        path = folder / f"once-{key}.json"
        with one_at_a_time(f"once-{key}"):
            if not path.exists():
                path.write_text(json.dumps(make()))
            return json.loads(path.read_text())

    return shared


@pytest.fixture(scope="session")
def one_at_a_time(
    tmp_path_factory: pytest.TempPathFactory, worker_id: str
) -> Callable[[str], AbstractContextManager[None]]:
    """one_at_a_time(key) -> a context that no two test processes of the session are in at once for
    one `key`: for tests that would measure each other (see `crowds_a_cpu`). pytest-xdist's groups
    (`xdist_group`) no longer keep tests in one process under pytest 9.2's structured node ids, so a
    lock does, whichever process runs them; `once_per_session` makes each value under one too."""
    folder = _shared_folder(tmp_path_factory, worker_id)

    @contextmanager
    def held(key: str) -> Iterator[None]:
        with open(folder / f"{key}.lock", "w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            yield

    return held


def _shared_folder(tmp_path_factory: pytest.TempPathFactory, worker_id: str) -> Path:
    """The folder every test process of one session shares: the one above its own (pytest-xdist's
    documented recipe)."""
    return tmp_path_factory.getbasetemp() if worker_id == "master" else tmp_path_factory.getbasetemp().parent


@pytest.fixture(scope="session")
def selftested(once_per_session: Callable[[str, Callable[[], Any]], Any]) -> Callable[[str], dict[str, Any]]:
    """selftested(name) -> the assignment's self-test behind bubblewrap, its files graded once as a
    check grades them, made once per session for every test process: its problems, its files' full
    marks, each known-right file's outcome (the bubblewrap leg of the comparison of every wall,
    tests/batch/test_banks.py) and the functions each known-wrong file's diagnosis names
    (tests/diagnosis/test_autograd_diagnosis.py). A bank graded alike twice is paid for once."""
    from gradekit.instructor.selftest import selftest

    def make(name: str) -> dict[str, Any]:
        config = GradeConfig(limits=Limits(isolation="bubblewrap"))
        report = selftest(assignment.load(name), config, jobs=2, repeat=False)
        files = report.files
        return {
            "problems": report.problems,
            "full_marks": sorted({f.max_score for f in files}),
            "right": {f.path.stem: outcome(f.score, f.outcomes) for f in files if f.kind == "known_right"},
            "named": {f.path.name: list(f.named) for f in files if f.kind == "known_wrong"},
        }

    return lambda name: once_per_session(f"selftest-{name}", lambda: make(name))


# The banks graded fast, as two tests share them (tests/engine/test_speed_off.py, which compares the
# shortcuts on and off, and tests/batch/test_seed_stability.py, which compares seeds): few examples, and
# a property budget no busy machine reaches, so a clock does not decide what is compared. The per-call
# limits stay as they are, as they count the worker's CPU time, which a busy machine does not change.
# No diagnosis (it never changes a score, and is made after the grade from its outcomes and the file),
# and no OS sandbox: the bank files are the course's own, and the walls are compared on their own
# (tests/batch/test_banks.py).
FEW = GradeConfig(max_examples=3, property_budget=600.0, diagnose=False, limits=Limits(isolation="off"))
EXAMPLES = {  # the examples/ files graded with each assignment's banks
    "cross_entropy": ["submission.py", "buggy_submission.py"],
    "training_step": ["training_step_submission.py", "training_step_buggy.py"],
    "autograd": ["autograd_submission.py", "autograd_buggy.py"],
}


def bank_students(name: str) -> list[Any]:
    """The reference, the examples and every bank file of the assignment, named by folder and file."""
    from gradekit.assignment import BANKS
    from gradekit.batch.roster import Student

    chosen = assignment.load(name)
    examples = [ROOT / "examples" / example for example in EXAMPLES[name]]
    files = [chosen.solution, *examples, *(path for kind in BANKS for path in chosen.known(kind))]
    return [Student(f"{path.parent.name}/{path.name}", path) for path in files]


def graded_alike(
    students: list[Any], chosen: assignment.Assignment, config: GradeConfig, remember: bool
) -> dict[str, str]:
    """Each student's grade, in a pool of two graders, as JSON without its timings and what the
    submission printed: a replay asks the recorded inputs first, so a file that prints (a NumPy
    warning on one of them) may print what a run under Hypothesis alone, failing at another input,
    never asked; every verdict, point and counterexample is kept."""
    from gradekit.batch.pool import run_pool

    results: dict[str, str] = {}
    kept = lambda s, r: results.setdefault(s.name, without_times(r, "output"))
    run_pool(students, chosen, config, None, 2, kept, remember=remember)
    return results


def without_times(result: GradeResult, *left_out: str) -> str:
    """A grade as JSON without its timings (the grade's and each property's), nor the members named in
    `left_out`: what two grades of one file must share."""
    data = result.to_dict()
    for member in ("seconds", *left_out):
        data.pop(member)
    for test in data["tests"]:
        test.pop("seconds")
    return json.dumps(data, sort_keys=True)


@pytest.fixture(scope="session")
def graded_on(once_per_session: Callable[[str, Callable[[], Any]], Any]) -> Callable[[str], dict[str, str]]:
    """graded_on(name) -> every file's grade (see `graded_alike`) with every shortcut on, the verdict
    memory of a class grade included, made once per session for every test process."""
    return lambda name: once_per_session(
        f"speed-on-{name}", lambda: graded_alike(bank_students(name), assignment.load(name), FEW, remember=True)
    )


def outcome(score: float, properties: Any) -> list[Any]:
    """A grade as JSON keeps it (`once_per_session`): its score, and each property's status and points."""
    return [score, {name: [status, points] for name, status, points in properties}]


@pytest.fixture
def activated() -> dict[str, str]:
    """This process's environment as a reader's activated one: the `gradekit` installed beside the
    Python running these tests comes first, even where that environment's scripts are not on PATH."""
    return {**os.environ, "PATH": os.pathsep.join([str(Path(sys.executable).parent), os.environ.get("PATH", "")])}


@pytest.fixture(scope="session")
def venv_like_this() -> Callable[..., None]:
    """venv_like_this(folder, this_checkout=True|False, pip=True): a virtual environment at `folder`
    with the packages these tests run with. A venv made from a venv's Python sees the base
    interpreter's packages alone (--system-site-packages), which need not include the dependencies, so
    where these tests run in a venv of their own, its folders are named in a .pth file. With `this_checkout` they
    are added as site folders, their own .pth files read, so this checkout's editable install (which
    maps gradekit.reference to reference/) works there as here; without it only the folders are named,
    and the checkout stays out (a runner that installs a wheel of its own)."""

    def make(folder: Path, *, this_checkout: bool, pip: bool = True) -> None:
        subprocess.run(
            [sys.executable, "-m", "venv", "--system-site-packages", *([] if pip else ["--without-pip"]), str(folder)],
            check=True,
        )
        if sys.prefix == sys.base_prefix:
            return
        ask = "import sysconfig; print(sysconfig.get_path('purelib'))"
        site = subprocess.run([folder / "bin" / "python", "-c", ask], capture_output=True, text=True, check=True)
        named = dict.fromkeys([sysconfig.get_path("purelib"), sysconfig.get_path("platlib")])
        line = "import site; site.addsitedir({!r})\n" if this_checkout else "{}\n"
        Path(site.stdout.strip(), "tests-environment.pth").write_text("".join(line.format(f) for f in named))

    return make


@contextmanager
def scratch_in(folder: Path) -> Iterator[dict[str, str]]:
    """Dask's scratch folders made in `folder`, one of pytest's own temporary folders (which it clears
    away in time), and not left behind in the machine's; yields the environment variables that send there
    the temporary files of a worker process a cluster starts (a course's own assignment is written there)."""
    import dask  # only the cluster tests need it

    with dask.config.set({"temporary-directory": str(folder)}):
        yield {"TMPDIR": str(folder)}
