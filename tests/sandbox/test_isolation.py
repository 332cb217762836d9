"""Containment inside the OS sandbox: one hostile file per way of attacking the grader, graded as a course would,
behind each OS wall: bubblewrap, and Landlock alone, as on a host that denies user namespaces.

Each file in tests/hostile/ named here attacks one way (its docstring says how) and is otherwise the
reference solution, or does no work of its own. It is graded with the sandbox of
gradekit/sandbox/isolation.py in place (default Limits but for shorter timeouts, isolation "auto"),
and every test checks containment: no points the file did not earn (the attacked function's
properties pay 0, or the attack fails and the file gets exactly what its honest parts earn), a
report all the same, no file outside the sandbox changed, and nothing left running.

These tests are about the sandbox, so they refuse to run without it: the check below fails the
module on a machine with no bubblewrap or no user namespaces instead of skipping it.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import os
import re
import shutil
import signal
import site
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

import gradekit.reference.cross_entropy
import pytest

from gradekit import assignment
from gradekit.batch.class_grade import ClassConfig, grade_all
from gradekit.config import GradeConfig, Limits
from gradekit.grader import Grading, grade
from gradekit.reports import WRITERS
from gradekit.result import GradeResult, Status
from gradekit.sandbox import Worker, bubblewrap, isolation, process
from gradekit.sandbox.isolation import Isolation
from gradekit.sandbox.worker import encode

WALLS = ("bubblewrap", "landlock")
for _wall in WALLS:
    _missing = isolation.why_not(Isolation(_wall), None)
    assert _missing is None, f"the OS sandbox these tests are about is missing: {_wall}: {_missing}"

REPOSITORY = Path(__file__).resolve().parents[2]
HOSTILE = REPOSITORY / "tests" / "hostile"
EXAMPLES = REPOSITORY / "examples"
REFERENCE = Path(gradekit.reference.cross_entropy.__file__).resolve()
FAST = {"call_timeout": 0.5, "load_timeout": 2.0}
CONFIG = GradeConfig(max_examples=10)
# What refuses a path the worker may not see: in bubblewrap it is not there at all, under Landlock it
# is there and closed.
REFUSED = {"bubblewrap": "FileNotFoundError", "landlock": "PermissionError"}
SANITY_SECONDS = 60.0  # a bound on a runaway, not a speed target
SETTLE_SECONDS = 2.0  # how long a process that is being killed may take to go
UNSANDBOXED = "without OS isolation"
NOT_TIMED = "not timed: speed counts once the values are right"
NOT_CHECKED = "not checked yet: it counts once"
NOT_JUDGED = "not judged: it stops where your"  # a function that stops in the one it builds on
PLACEHOLDER = re.compile(r"__[A-Z_]+__")


def hostile(name: str, **places: str) -> str:
    """tests/hostile/NAME with its placeholders replaced (__REFERENCE__ by REFERENCE=...): every one it
    has must be given; the others given are for other files."""
    source = (HOSTILE / name).read_text()
    for key, value in places.items():
        source = source.replace(f"__{key}__", value)
    assert not PLACEHOLDER.search(source), PLACEHOLDER.search(source)
    return source


@pytest.fixture(params=WALLS)
def wall(request) -> str:
    """The OS wall a test's worker runs behind: each test is run behind both."""
    return request.param


def graded(
    grade_file,
    wall: str,
    name: str,
    config: GradeConfig = CONFIG,
    replace: dict[str, str] | None = None,
    **limits: float,
) -> GradeResult:
    """Grade tests/hostile/NAME behind `wall`: a GradeResult, in bounded time, that every writer renders."""
    started = time.monotonic()
    result = grade_file(hostile(name, **(replace or {})), config, **{**FAST, "isolation": wall, **limits})
    assert time.monotonic() - started < SANITY_SECONDS
    assert isinstance(result, GradeResult)
    assert result.isolation == wall and not [note for note in result.notes if UNSANDBOXED in note], result.notes
    for render in WRITERS.values():
        assert render(result)
    return result


def touching(result: GradeResult, functions: tuple[str, ...]) -> tuple[list, list]:
    """(properties that call any of `functions` and were run, the properties that call none of them).
    A property that requires one of a function whose values were wrong is not run, and pays nothing."""
    unchecked = [t for t in result.tests if t.status is Status.UNCHECKED]
    waiting = (NOT_TIMED, NOT_CHECKED, NOT_JUDGED)
    assert all(t.score == 0 and t.message.startswith(waiting) for t in unchecked), unchecked
    hit = [t for t in result.tests if set(t.functions) & set(functions) and t not in unchecked]
    return hit, [t for t in result.tests if not set(t.functions) & set(functions)]


def assert_earned_honestly(result: GradeResult, attacked: tuple[str, ...]) -> None:
    """The properties of the attacked functions pay nothing; every other one passes in full, so the
    score is exactly what the file's honest functions earn."""
    hit, rest = touching(result, attacked)
    assert hit and rest
    for test in hit:
        assert test.score == 0, (test.name, test.status, test.message)
    for test in rest:
        assert test.status is Status.PASSED and test.score == test.max_score, (test.name, test.message)
    assert result.error is None
    assert result.score == sum(t.max_score for t in rest)


def by_name(result: GradeResult) -> dict:
    return {t.name: t for t in result.tests}


# What is left running


def _state_and(pid: int, part: str) -> tuple[str, bytes] | None:
    """(the process's state letter, /proc/PID/PART), or None if it is gone or not ours to read."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
        return state, Path(f"/proc/{pid}/{part}").read_bytes()
    except (OSError, IndexError):
        return None


def carrying(marker: str) -> list[int]:
    """Live processes (not zombies) with `marker` in their command line or environment."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        for part in ("cmdline", "environ"):
            seen = _state_and(int(entry.name), part)
            if seen and seen[0] != "Z" and marker.encode() in seen[1]:
                found.append(int(entry.name))
                break
    return found


def children() -> set[int]:
    """Live child processes of this test process: a worker or grader left behind would be one."""
    found = set()
    for entry in Path("/proc").iterdir():
        seen = _state_and(int(entry.name), "stat") if entry.name.isdigit() else None
        if seen and seen[0] != "Z" and int(seen[1].decode().rsplit(")", 1)[1].split()[1]) == os.getpid():
            found.add(int(entry.name))
    return found


def left_running(marker: str, before: set[int]) -> list[str]:
    """What still runs once grading is over, as "PID: command line": processes carrying `marker`, and
    children of this process that were not there before. Given a moment, since a killed sandbox takes
    a little while to go."""
    deadline = time.monotonic() + SETTLE_SECONDS
    while True:
        left = sorted(set(carrying(marker)) | (children() - before))
        if not left or time.monotonic() > deadline:
            return [f"{pid}: {_command(pid)}" for pid in left]
        time.sleep(0.1)


def _command(pid: int) -> str:
    seen = _state_and(pid, "cmdline")
    return seen[1].replace(b"\0", b" ").decode("utf-8", "replace")[:160] if seen else "(gone)"


def end(pids: list[int]) -> None:
    for pid in pids:
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass


@dataclass
class Watch:
    """A token unique to one test, and this process's children before it: see `left_running`."""

    marker: str
    before: set[int]

    def left(self) -> list[str]:
        return left_running(self.marker, self.before)


@pytest.fixture
def watch():
    """Every process an attack tries to start carries the test's marker in its command line or
    environment; whatever still carries it when the test ends was started by the test, and is ended."""
    watching = Watch(f"gradekit-escape-{uuid.uuid4().hex}", children())
    yield watching
    end(carrying(watching.marker))


# 1. Reading the answer key

PLACES = {"REPOSITORY": str(REPOSITORY), "REFERENCE": str(REFERENCE)}  # what a student could guess
# Each theft, and a line of what it printed that shows it tried the real places and was refused.
THEFTS = {
    "steal_by_dir_fd.py": f"/ + {REFERENCE.relative_to('/')}: {{refused}}",
    "steal_by_chroot.py": "chroot escape: PermissionError",
    "steal_from_disk_copies.py": f"{REFERENCE}: {{refused}}",
    "steal_via_proc_cmdline.py": "folders named in /proc",
}


@pytest.mark.parametrize("name", THEFTS)
def test_a_theft_of_the_answer_key_earns_nothing(grade_file, wall, watch, name):
    """A file that does no work of its own and answers with whatever copy of the reference it can
    reach scores 0: inside the sandbox there is no copy to reach, however it looks."""
    result = graded(grade_file, wall, name, replace=PLACES)
    assert result.score == 0
    if result.error is not None:  # under Landlock a look at /proc is refused: the file does not load
        assert wall == "landlock" and "PermissionError: [Errno 13] Permission denied: '/proc'" in result.error
        return
    ran, _ = touching(result, tuple({f for test in result.tests for f in test.functions}))
    for test in ran:
        assert test.score == 0 and test.status is not Status.PASSED, (test.name, test.message)
        assert "found no copy of the reference" in test.message, (test.name, test.message)
    assert f"{Path(name).stem}: found no copy of the reference" in result.output
    assert THEFTS[name].format(refused=REFUSED[wall]) in result.output, result.output
    assert watch.left() == []


@pytest.mark.parametrize("name", THEFTS)
def test_each_theft_works_where_nothing_contains_it(tmp_path, name):
    """The thefts are real: run as plain Python, with no sandbox, each one finds the reference. (The
    /proc one is started in the checkout, as a grader run from its checkout is; the chroot escape
    needs root.)"""
    if name == "steal_by_chroot.py" and os.geteuid() != 0:
        pytest.skip("chroot needs root")
    script = tmp_path / name
    script.write_text(hostile(name, **PLACES))
    cwd = REPOSITORY if name == "steal_via_proc_cmdline.py" else tmp_path
    ran = subprocess.run([sys.executable, str(script)], cwd=cwd, capture_output=True, text=True, timeout=SANITY_SECONDS)
    assert f"{Path(name).stem}: stole the reference" in ran.stdout, ran.stdout + ran.stderr


# 2. Rewriting the grader


def test_the_graders_memory_cannot_be_rewritten(grade_file, wall, watch):
    """In bubblewrap the grader is not in the worker's PID namespace, and the parent the worker does
    see is the sandbox's own init; under Landlock the grader's /proc is out of reach, as is the
    worker's parent's: either way a wrong perplexity stays wrong."""
    grader = os.getpid()
    result = graded(grade_file, wall, "write_grader_memory.py", replace={"GRADER_PID": str(grader)})
    assert f"grader {grader}: refused {REFUSED[wall]}" in result.output
    parent = r"^parent 1: " if wall == "bubblewrap" else r"^parent \d+: refused PermissionError"
    assert re.search(parent, result.output, re.MULTILINE), result.output
    assert_earned_honestly(result, ("perplexity",))
    assert by_name(result)["perplexity_matches_reference"].status is Status.FAILED
    assert watch.left() == []


def test_a_pth_file_reaches_no_python_outside_the_sandbox(grade_file, wall, watch):
    """The runtime is mounted read-only and the user's site-packages is not there at all: no .pth file
    lands where the grader's Python, or any later one, would run it."""
    folders = [Path(p) for p in [*site.getsitepackages(), site.getusersitepackages()]]
    planted = [folder / f"zz_{watch.marker}.pth" for folder in folders]
    before = {folder: sorted(folder.glob("*.pth")) for folder in folders}
    try:
        result = graded(
            grade_file,
            wall,
            "drop_pth_files.py",
            replace={"MARKER": watch.marker, "SITE_PACKAGES": os.pathsep.join(map(str, folders))},
        )
        assert [path for path in planted if path.exists()] == []
        assert {folder: sorted(folder.glob("*.pth")) for folder in folders} == before
        later = subprocess.run([sys.executable, "-c", "pass"], capture_output=True, text=True, timeout=SANITY_SECONDS)
        assert watch.marker not in later.stdout + later.stderr
    finally:  # should containment fail, the machine's Python must not keep running the payload
        for path in planted:
            path.unlink(missing_ok=True)
    assert f"refused {folders[0] / f'zz_{watch.marker}.pth'}" in result.output
    assert result.score == result.max_score and result.error is None
    assert watch.left() == []


def test_a_pth_file_in_its_own_home_runs_in_no_later_worker(grade_file, wall, watch):
    """A worker the submission ends is started again with the same private folder as its home, and
    Python would add the user's site-packages under that home to the new interpreter's path and run
    the .pth files there as it starts, before the worker confines itself. Workers start without the
    user's site-packages: the planted line never runs and starts nothing, and only the properties
    whose call ended the worker pay nothing."""
    result = graded(grade_file, wall, "plant_in_its_own_user_site.py", replace={"MARKER": watch.marker})
    assert "ran before the worker was confined" not in result.output, result.output
    assert watch.left() == []
    hit, rest = touching(result, ("perplexity",))
    assert [t.name for t in hit if t.score == 0], hit
    assert all(t.score == t.max_score for t in rest), [(t.name, t.message) for t in rest if t.score < t.max_score]


# 3. Attacking classmates in a class grade

CLASSMATES = {
    "alice.py": EXAMPLES / "submission.py",
    "bob.py": EXAMPLES / "buggy_submission.py",
    "carol/submission.py": EXAMPLES / "submission.py",
}
CLASS_CONFIG = GradeConfig(max_examples=10, limits=Limits(**FAST))


def _class_config(wall: str) -> GradeConfig:
    return GradeConfig(max_examples=10, limits=Limits(**FAST, isolation=wall))


@dataclass
class ClassGrade:
    wall: str
    folder: Path
    out: Path
    attacker: str
    files_before: dict[Path, str]
    files_after: dict[Path, str]
    left: list[str]


def _digests(folder: Path) -> dict[Path, str]:
    return {path: hashlib.sha256(path.read_bytes()).hexdigest() for path in sorted(folder.rglob("*")) if path.is_file()}


@pytest.fixture(scope="module", params=WALLS)
def class_grade(tmp_path_factory, request) -> ClassGrade:
    """Three honest classmates (a folder student among them) and an attacker named to be graded last,
    so the others' results are on disk while it runs, graded in one `grade_all` with two graders,
    behind each wall."""
    root = tmp_path_factory.mktemp("class")
    folder, out = root / "submissions", root / "results"
    for name, source in CLASSMATES.items():
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source, folder / name)
    attacker = f"zz-{uuid.uuid4().hex}"  # also its marker: every process it starts would carry it
    (folder / f"{attacker}.py").write_text(
        hostile("attack_classmates.py", MARKER=attacker, CLASS_DIR=str(folder), RESULTS_DIR=str(out))
    )
    before = _digests(folder)
    already = children()
    started = time.monotonic()
    config = _class_config(request.param)
    grade_all(folder, assignment.load("cross_entropy"), out, config, ClassConfig(jobs=2, progress=io.StringIO()))
    assert time.monotonic() - started < SANITY_SECONDS
    left = left_running(attacker, already)
    graded_class = ClassGrade(request.param, folder, out, attacker, before, _digests(folder), left)
    yield graded_class
    end(carrying(attacker))


def _result(class_grade: ClassGrade, student: str) -> dict:
    return json.loads((class_grade.out / "results" / f"{student}.json").read_text())


def _gradebook(class_grade: ClassGrade) -> dict[str, dict[str, str]]:
    with open(class_grade.out / "gradebook.csv", newline="") as handle:
        return {row["student"]: row for row in csv.DictReader(handle)}


def test_classmates_files_are_untouched(class_grade):
    """The attacker appended a broken perplexity to every classmate's file it could open: none, byte for byte."""
    assert class_grade.files_after == class_grade.files_before


@pytest.mark.parametrize("student, file", [("alice", "alice.py"), ("bob", "bob.py"), ("carol", "carol/submission.py")])
def test_each_classmate_gets_what_they_get_alone(class_grade, student, file):
    """Graded next to the attacker or alone, a classmate's result is the same, property by property,
    in their result file and in the gradebook."""
    alone = grade(class_grade.folder / file, assignment.load("cross_entropy"), _class_config(class_grade.wall))
    in_class = _result(class_grade, student)
    assert in_class["score"] == alone.score
    assert {t["name"]: (t["status"], t["score"]) for t in in_class["tests"]} == {
        t.name: (t.status.value, t.score) for t in alone.tests
    }
    assert float(_gradebook(class_grade)[student]["score"]) == alone.score


def test_the_attacker_gets_only_what_it_earned(class_grade):
    """It could see no classmate's process or file and write no result: its copied perplexity is its
    own wrong one, which pays nothing, and the rest is the reference's full marks. Under Landlock its
    very first look, at /proc, is refused, and a file that cannot be loaded earns nothing."""
    result = _result(class_grade, class_grade.attacker)
    if class_grade.wall == "landlock":
        assert result["score"] == 0 and "PermissionError" in result["error"], result["error"]
        assert float(_gradebook(class_grade)[class_grade.attacker]["score"]) == 0
        return
    hit = [t for t in result["tests"] if "perplexity" in t["functions"]]
    rest = [t for t in result["tests"] if "perplexity" not in t["functions"]]
    assert hit and all(t["score"] == 0 for t in hit)
    assert rest and all(t["status"] == "passed" and t["score"] == t["max_score"] for t in rest)
    assert result["score"] == sum(t["max_score"] for t in rest) == 90
    assert float(_gradebook(class_grade)[class_grade.attacker]["score"]) == 90
    for outcome in (
        "saw processes [1];",
        "copied no perplexity",
        "spoiled 0 files",
        "forged 0 results",
        "no helper process: PermissionError",
    ):
        assert outcome in result["output"], result["output"]


def test_the_results_folder_holds_only_what_the_grader_wrote(class_grade):
    """No forged result (the attacker's own at full marks) and no forged gradebook row: one result per
    student, and a gradebook that agrees with them."""
    students = ["alice", "bob", "carol", class_grade.attacker]
    assert sorted(p.name for p in (class_grade.out / "results").iterdir()) == sorted(f"{s}.json" for s in students)
    assert sorted(_gradebook(class_grade)) == sorted(students)
    for student in students:
        assert float(_gradebook(class_grade)[student]["score"]) == _result(class_grade, student)["score"]


def test_the_class_grade_leaves_nothing_running(class_grade):
    """No grader, no worker, and no helper of the attacker's (its thread rewrote results every 50 ms)."""
    assert class_grade.left == []


# 4. Escaping the process-group kill

ESCAPES = ("escape_by_posixsubprocess_alias.py", "escape_by_ctypes_fork.py", "escape_by_double_fork.py")


@pytest.mark.parametrize("name", ESCAPES)
def test_no_process_outlives_grading(grade_file, wall, watch, tmp_path, name):
    """Every way of starting a process is refused, at import and in a call, so none survives to
    write outside or sleep on; and the grade is the reference's, untouched."""
    marker_file = tmp_path / f"escaped-{watch.marker}"
    result = graded(grade_file, wall, name, replace={"MARKER": watch.marker, "MARKER_FILE": str(marker_file)})
    assert result.score == result.max_score and result.error is None
    lines = result.output.splitlines()
    for where in ("import", "call"):
        tried = [line for line in lines if line.startswith(where)]
        assert tried and all("refused" in line for line in tried), lines
    assert watch.left() == []
    assert not marker_file.exists()


def test_the_sandbox_init_cannot_be_taken_over_to_outlive_grading(grade_file, wall, watch):
    """Landlock leaves no process's memory writable, the sandbox's init's (in bubblewrap) or the
    worker's parent's: the rewrite is refused, the file's functions are the reference's and earn
    full marks, and nothing outlives the grade. (Where the kernel has no Landlock, the grader kills
    bubblewrap's init itself, by pidfd, and the whole namespace goes with it.)"""
    result = graded(grade_file, wall, "escape_by_taking_over_sandbox_init.py", replace={"MARKER": watch.marker})
    assert "pid 1: refused PermissionError" in result.output or "pid 1: refused FileNotFoundError" in result.output
    assert result.score == result.max_score, [t.message for t in result.tests if t.score < t.max_score]
    assert watch.left() == []


# 5. Hanging or crashing the grader


def test_a_reply_trickled_byte_by_byte_times_out(grade_file, wall, watch):
    """Bytes that never make a reply do not move the deadline: the call, which sleeps, meets its
    limit (0.5 s, blocked counting as computing) as if it had sent nothing."""
    result = graded(grade_file, wall, "trickle_reply.py")
    assert_earned_honestly(result, ("perplexity",))
    test = by_name(result)["perplexity_matches_reference"]
    assert test.status is Status.TIMEOUT
    assert "`perplexity` did not answer within 0.5 s, computing or blocked" in test.message
    assert watch.left() == []


def test_a_realtime_signal_is_reported_by_its_name(grade_file, wall, watch):
    """SIGRTMIN+6 has no name in signal.Signals: the grader still says which signal ended its worker,
    replaces the worker, and grades the rest."""
    result = graded(grade_file, wall, "realtime_signal.py")
    assert_earned_honestly(result, ("sequence_loss",))
    for test in touching(result, ("sequence_loss",))[0]:
        assert test.status is Status.ERROR
        assert "the worker process was killed by SIGRTMIN+6" in test.message, (test.name, test.message)
    assert watch.left() == []


def test_replies_padded_to_15_mib_are_capped(grade_file, wall, watch):
    """A reply of 15 MiB of floats comes back as the worker's own error, said as a student reads it;
    15 MiB written straight into the pipe stops the worker. Encoding one costs the worker about 0.3 s:
    the timeout is the default's, so a slow encode is not mistaken for a hang, and two examples a
    property keep the calls the grader sends ahead (each encoded in vain once the first fails) few."""
    result = graded(
        grade_file, wall, "huge_replies.py", GradeConfig(max_examples=2), call_timeout=Limits().call_timeout
    )
    assert_earned_honestly(result, ("perplexity", "softmax_cross_entropy_grad"))
    tests = by_name(result)
    perplexity = tests["perplexity_matches_reference"]
    assert perplexity.status is Status.FAILED
    assert (
        "`perplexity` returned an answer too large to read back (more than the 1 MiB one call may send)"
        in perplexity.message
    )
    assert tests["grad_matches_identity"].status is Status.ERROR
    assert "the worker sent more data than the grader accepts" in tests["grad_matches_identity"].message
    assert watch.left() == []


# 6. Dodging examples


def test_running_out_the_property_budget_earns_nothing(grade_file, wall, watch):
    """A wrong function slow enough that the budget ends before a failing example is reached pays 0,
    and the message says how far the property got."""
    result = graded(grade_file, wall, "dodge_by_spinning.py", GradeConfig(max_examples=10, property_budget=1.0))
    assert_earned_honestly(result, ("perplexity",))
    test = by_name(result)["perplexity_matches_reference"]
    assert test.status is Status.TIMEOUT
    reached = re.search(
        r"the property's budget of 1 s of CPU time ran out after (\d+) of its 10 examples, none of which failed",
        test.message,
    )
    assert reached and 1 <= int(reached.group(1)) < 10, test.message
    assert watch.left() == []


def test_sleeping_runs_out_the_property_budget_as_computing_does(grade_file, wall, watch):
    """The budget counts a sleep as it counts computing: a wrong function that sleeps to run it out
    gets what a slow one gets, a timeout worth nothing, and sleeping never outlasts it. Its first ten
    calls, 0.1 s of sleep each, answer right: the budget runs out after about six of them, well before
    the wrong answers (a budget of exactly ten sleeps would leave the verdict to a few milliseconds)."""
    result = graded(grade_file, wall, "dodge_by_sleeping.py", GradeConfig(max_examples=10, property_budget=0.6))
    assert_earned_honestly(result, ("perplexity",))
    test = by_name(result)["perplexity_matches_reference"]
    assert test.status is Status.TIMEOUT and "budget of 0.6 s" in test.message, test.message
    assert watch.left() == []


# 7. Leaking


def test_the_graders_environment_does_not_leak_into_any_report(grade_file, wall, watch, monkeypatch, tmp_path):
    """A secret in the grader's environment reaches neither the worker nor, through what it prints, any
    report: not graded here, nor by `gradekit check` started with the secret in its environment, where
    the grader's own /proc/PID/environ holds it."""
    secret = f"secret-{uuid.uuid4().hex}"
    monkeypatch.setenv("GRADEKIT_TEST_SECRET", secret)
    monkeypatch.delenv("GITHUB_STEP_SUMMARY", raising=False)
    result = graded(grade_file, wall, "leak_grader_environment.py", replace={"GRADER_PID": str(os.getpid())})
    if wall == "bubblewrap":  # the grader is in no PID namespace the worker sees; its init's is Landlock's to refuse
        assert f"/proc/{os.getpid()}/environ: refused FileNotFoundError" in result.output
        assert "/proc/1/environ: refused PermissionError" in result.output and "own environment:" in result.output
        assert result.score == result.max_score
    else:  # under Landlock a look at /proc is refused: the file does not load
        assert result.score == 0 and "Permission denied: '/proc'" in result.error, result.error
    assert secret not in json.dumps(result.to_dict())
    for name, render in WRITERS.items():
        assert secret not in render(result), name
    submission = tmp_path / "leak.py"
    submission.write_text(hostile("leak_grader_environment.py", GRADER_PID=str(os.getpid())))
    report, code = check_cli(submission)
    assert code == 0 and "own environment:" in report["output"]
    assert secret not in json.dumps(report)
    assert watch.left() == []


# 8. Harsh, not hostile


def test_a_right_file_that_imports_sympy_and_numpy_gets_full_marks(grade_file, wall, watch):
    """The read-only runtime holds every installed library a student may import; sympy loads within the
    default load timeout (not the short one of the other tests)."""
    result = graded(grade_file, wall, "imports_sympy_and_numpy.py", load_timeout=Limits().load_timeout)
    assert result.error is None and result.score == result.max_score
    assert all(t.status is Status.PASSED for t in result.tests)
    assert watch.left() == []


# The command line contains them too


def failing_bubblewrap(folder: Path) -> dict[str, str]:
    """An environment whose `bwrap` fails as it fails where user namespaces are denied to it (Ubuntu
    24.04's AppArmor default, a container, a GitHub runner): a stand-in first on PATH."""
    shim = folder / "shim"
    shim.mkdir()
    (shim / "bwrap").write_text("#!/bin/sh\necho 'bwrap: setting up uid map: Permission denied' >&2\nexit 1\n")
    (shim / "bwrap").chmod(0o755)
    return {**os.environ, "PATH": f"{shim}{os.pathsep}{os.environ['PATH']}"}


def check_cli(submission: Path, env: dict[str, str] | None = None) -> tuple[dict, int]:
    """`gradekit check SUBMISSION --format json`: the report, parsed, and the exit code."""
    ran = subprocess.run(
        [
            sys.executable,
            "-m",
            "gradekit",
            "check",
            str(submission),
            "--format",
            "json",
            "--max-examples",
            "10",
            "--timeout",
            str(FAST["call_timeout"]),
        ],
        capture_output=True,
        text=True,
        timeout=SANITY_SECONDS,
        cwd=submission.parent,
        env=env,
    )
    assert ran.returncode in (0, 1), ran.stderr
    return json.loads(ran.stdout), ran.returncode


@pytest.mark.parametrize(
    "name, score",
    [
        ("steal_from_disk_copies.py", 0),
        ("escape_by_double_fork.py", 100),
        ("trickle_reply.py", 90),
    ],
)
def test_gradekit_check_contains_them(wall, watch, tmp_path, name, score):
    """`gradekit check` runs its worker in the same sandbox: a theft, an escape and a hang graded from
    the command line give a JSON report with the score earned honestly and the exit code it implies;
    where bubblewrap fails as it does on Ubuntu 24.04, behind Landlock, and the report says which."""
    marker_file = tmp_path / f"escaped-{watch.marker}"
    submission = tmp_path / "submission.py"
    submission.write_text(hostile(name, **PLACES, MARKER=watch.marker, MARKER_FILE=str(marker_file)))
    started = time.monotonic()
    report, code = check_cli(submission, failing_bubblewrap(tmp_path) if wall == "landlock" else None)
    assert time.monotonic() - started < SANITY_SECONDS
    assert report["score"] == score and report["error"] is None
    assert code == (0 if score == report["max_score"] else 1)
    assert report["isolation"] == wall
    assert not [note for note in report["notes"] if UNSANDBOXED in note]
    if wall == "landlock":
        assert any("uid map: Permission denied" in note for note in report["notes"]), report["notes"]
    assert watch.left() == []
    assert not marker_file.exists()


def test_nothing_takes_files_but_the_private_folder(wall):
    """In bubblewrap the sandbox's root is a tmpfs in the host's memory, which the memory limit does
    not count: a submission filling it would hold memory past its cap, so it is read-only once
    mounted. Under Landlock nothing but the worker's folder may be written. Either way nothing lands in
    the repository, wherever its clone lives."""
    source = (
        "import os\n"
        "def write(path):\n"
        "    try:\n"
        "        with open(path, 'wb') as handle:\n"
        "            handle.write(b'x')\n"
        "    except OSError:\n"
        "        return -1.0\n"
        "    return 1.0\n"
    )
    repository = REPOSITORY / "fill"
    # In bubblewrap /tmp is the private folder: a write to a clone under /tmp lands there if anywhere.
    private = wall == "bubblewrap" and REPOSITORY.is_relative_to("/tmp")
    with Worker(Limits(isolation=wall)) as worker:
        assert worker.load(source, "fill.py")["ok"]
        closed = ["/root/fill", "/etc/fill", "/fill", "/dev/shm/fill", *([] if private else [str(repository)])]
        closed += [] if wall == "bubblewrap" else ["/tmp/fill"]
        for path in closed:
            assert worker.call("write", encode([path]))["returned"] == -1.0, path
        if private:  # refused, or taken by the private /tmp, as what the sandbox mounts there decides
            worker.call("write", encode([str(repository)]))
        home = bubblewrap.INSIDE_HOME if wall == "bubblewrap" else worker.directory
        assert worker.call("write", encode([home + "/fill"]))["returned"] == 1.0
    assert not repository.exists(), "a write reached the repository"


def test_a_folder_inside_an_installed_gradekit_is_covered_with_it_not_again(tmp_path):
    """An installed gradekit holds its reference and assignments, which the grader also names as
    hidden: covering them again inside the read-only, covered package cannot be mounted, and no
    sandbox would start (an editable install, as these tests run under, keeps them apart)."""
    site_packages = tmp_path / "lib" / "python3.11" / "site-packages"
    package = site_packages / "gradekit"
    (package / "assignments").mkdir(parents=True)
    (package / "reference").mkdir()
    hidden = (str(package), str(package / "assignments"), str(package / "reference"))
    assert bubblewrap.covered((str(tmp_path),), hidden) == [str(package)]


def test_killing_bubblewrap_as_it_sets_a_sandbox_up_ends_its_waiting_child_too(tmp_path):
    """Until bubblewrap says the namespaces are ready, its child waits for it, with no parent-death
    signal yet: `bubblewrap.kill` ends them both. Here bubblewrap is held at that moment by
    `--userns-block-fd`, which it reads before it lets the child go on."""
    info_read, info_write = os.pipe()
    block_read, block_write = os.pipe()
    script = tmp_path / "script.py"
    script.write_text("pass\n")
    inside = [sys.executable, bubblewrap.inside(str(script))]
    argv, keep = bubblewrap.command(inside, str(script), isolation.runtime(), (), str(tmp_path), info_write)
    argv.remove("--disable-userns")  # which bubblewrap refuses beside --userns-block-fd
    argv[argv.index("--") : argv.index("--")] = ["--userns-block-fd", str(block_read)]
    started = subprocess.Popen(argv, pass_fds=(*keep, info_write, block_read), start_new_session=True)
    for fd in (*keep, info_write, block_read):
        os.close(fd)
    try:
        child = bubblewrap.sandbox_pid(info_read, 10.0)
        assert child is not None and Path(f"/proc/{child}").exists(), "the child was not waiting"
        bubblewrap.kill(started)
        deadline = time.monotonic() + 5
        while Path(f"/proc/{child}/cmdline").exists() and Path(f"/proc/{child}/cmdline").read_bytes():
            assert time.monotonic() < deadline, "bubblewrap's child outlived it"
            time.sleep(0.05)
    finally:
        os.close(info_read)
        os.close(block_write)


# 9. Crashing the grader with what it reads or what is left behind


def test_replies_no_worker_could_send_are_that_workers_breach_never_the_graders_crash(grade_file, wall, watch):
    """A reply nested 100,000 deep, and integers of 400 and 5,000 digits, forged on the reply pipe: each
    is that call's broken protocol; an integer too large for a float returned honestly is no number.
    Every writer renders the report (`graded` checks)."""
    result = graded(grade_file, wall, "forged_deep_and_huge_replies.py")
    tests = by_name(result)
    for name in ("perplexity_matches_reference", "loss_matches_reference", "sequence_loss_matches_reference"):
        assert tests[name].status is Status.ERROR and "broke the grader's protocol" in tests[name].message, name
    assert "integer too large for a float" in tests["grad_matches_identity"].message
    assert tests["softmax_matches_reference"].status is Status.PASSED
    assert watch.left() == []


def test_a_folder_left_deep_locked_and_full_is_gone_once_graded(grade_file, wall, watch, monkeypatch, tmp_path):
    """A tree 1,500 levels deep, folders of mode 000, a pipe, a link out and many files, made in the
    private folder: the worker past the folder's entries is stopped (a file that cannot load earns
    nothing), the report is written, and nothing of it is on the grader's disk once the grade is done."""
    temporary = tmp_path / "tmp"
    temporary.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(temporary))
    result = graded(grade_file, wall, "tree_left_behind.py", load_timeout=Limits().load_timeout)
    assert result.score == 0 and "wrote more than its private folder may hold" in result.error, result.error
    assert list(temporary.iterdir()) == []
    assert watch.left() == []


def test_a_tree_within_the_folders_caps_is_removed_whatever_its_modes(tmp_path):
    """What `folders.remove` takes apart once a worker is gone: depth past Python's recursion limit and
    past the system's longest path, folders of mode 000, a pipe and a link (not followed)."""
    folder = tmp_path / "private"
    folder.mkdir()
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "kept").write_text("not the worker's")
    here = os.open(folder, os.O_RDONLY)
    for _ in range(3000):
        os.mkdir("d", 0o700, dir_fd=here)
        deeper = os.open("d", os.O_RDONLY, dir_fd=here)
        os.close(here)
        here = deeper
    os.close(here)
    (folder / "sealed").mkdir(mode=0)
    (folder / "locked").mkdir()
    (folder / "locked" / "file").write_text("x")
    (folder / "locked").chmod(0)
    os.mkfifo(folder / "pipe")
    (folder / "out").symlink_to(outside)
    process.folders.remove(str(folder))
    assert not folder.exists() and (outside / "kept").read_text() == "not the worker's"


# 10. Stalling


def test_sleeping_in_every_function_ends_with_the_grades_budget(grade_file, wall, watch):
    """Every call sleeps just under its limit and answers right: a sleep counts as computing, so the
    grade's budget (5 s here) ends the check on time, and what was not checked pays nothing."""
    started = time.monotonic()
    result = graded(
        grade_file, wall, "sleeps_everywhere.py", GradeConfig(max_examples=10, check_budget=5.0), replace={"NAP": "0.4"}
    )
    assert time.monotonic() - started < 5.0 * 3
    assert result.score < result.max_score
    assert any("ran past its 5 s budget" in t.message for t in result.tests), [t.message for t in result.tests]
    assert watch.left() == []


def test_threads_spinning_from_the_first_line_spend_the_workers_budget_not_the_machines(
    cross_entropy, wall, watch, tmp_path
):
    """Every thread's CPU time counts against the worker: four threads spinning from the first line burn
    no more of the machine than the grade's budget (2 s here), and the grade ends on it."""
    submission = tmp_path / "submission.py"
    submission.write_text(hostile("spins_threads.py"))
    limits = Limits(**FAST, isolation=wall)
    config = GradeConfig(max_examples=100, check_budget=2.0, limits=limits)
    started = time.monotonic()
    with Worker(limits) as worker:
        result = grade(submission, cross_entropy, config, Grading(worker=worker))
    assert time.monotonic() - started < 2.0 * 3 + SETTLE_SECONDS
    assert worker.spent() is not None and worker.spent() < 2.0 + 1.5, worker.spent()
    assert any("ran past its 2 s budget" in t.message for t in result.tests), [t.message for t in result.tests]
    assert watch.left() == []


def test_a_frozen_cpu_clock_changes_no_grade(grade_file, wall, watch):
    """The property budget reads the worker's CPU time from the kernel, never from the worker: freezing
    time.process_time in the worker gives the grade of the honest twin that does not."""
    config = GradeConfig(max_examples=10, property_budget=1.0)
    frozen = graded(grade_file, wall, "frozen_clock.py", config, replace={"SPIN": "0.3"})
    twin = hostile("frozen_clock.py", SPIN="0.3").replace("time.process_time = lambda: 0.0", "")
    honest = grade_file(twin, config, **{**FAST, "isolation": wall})
    outcome = lambda result: {t.name: (t.status, t.score) for t in result.tests}
    assert outcome(frozen) == outcome(honest)
    assert by_name(frozen)["perplexity_matches_reference"].status is Status.TIMEOUT
    assert watch.left() == []


# 11. Exhausting the host


def test_a_worker_filling_its_folder_is_stopped_and_leaves_nothing(grade_file, wall, watch, monkeypatch, tmp_path):
    """1 MiB files, then empty ones: the folder holds at most its bytes and entries (a tmpfs of its own
    in bubblewrap, watched outside it), the worker past them is stopped, and nothing is left."""
    temporary = tmp_path / "tmp"
    temporary.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(temporary))
    result = graded(grade_file, wall, "fills_its_folder.py")
    perplexity = by_name(result)["perplexity_matches_reference"]
    said = re.search(r"bytes refused after (\d+) MiB", result.output)
    if said is not None:  # the kernel refused the bytes: the folder's own size
        assert int(said.group(1)) <= Limits().folder_bytes >> 20
    assert perplexity.status is not Status.PASSED or "files refused after" in result.output
    if perplexity.status is not Status.PASSED:
        assert "wrote more than its private folder may hold" in perplexity.message, perplexity.message
    assert list(temporary.iterdir()) == []
    assert watch.left() == []


def test_files_removed_but_held_open_count_against_the_folder(grade_file, wall, watch, monkeypatch, tmp_path):
    """Twelve 8 MiB files written, held open and unlinked leave the folder empty while the worker holds
    96 MiB of disk: they count against its 16 MiB as named files do, the worker is stopped for them,
    and nothing is left on the grader's disk."""
    temporary = tmp_path / "tmp"
    temporary.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(temporary))
    result = graded(grade_file, wall, "holds_removed_files.py")
    # The watch looks every WATCH_SECONDS while a call runs: on a busy machine the call that wrote them
    # may end first, and a later call of the grade meets the cap instead.
    stopped = [t for t in result.tests if "wrote more than its private folder may hold" in t.message]
    assert stopped and all(t.status is Status.ERROR for t in stopped), [(t.name, t.message) for t in result.tests]
    assert list(temporary.iterdir()) == []
    assert watch.left() == []


def test_the_kernels_shared_pools_and_what_classmates_share_are_refused(grade_file, wall, watch):
    """memfds, sockets, raised limits, pseudo-terminals, fallocate (in its folder and on its output),
    locks, extended attributes, modes and times on a file every worker is shown, inotify: each refused,
    and the functions keep full marks."""
    result = graded(grade_file, wall, "reaches_for_kernel_pools.py")
    tried = dict(line.split(": ", 1) for line in result.output.splitlines() if ": " in line)
    assert len(tried) == 14 and all(said.startswith("refused") for said in tried.values()), tried
    assert result.score == result.max_score
    assert watch.left() == []


def test_threads_are_capped_with_process_ids_to_spare(grade_file, wall, watch):
    """A worker gets at most THREADS threads, and the kernel refuses more before they run: in
    bubblewrap, and for a root grader on either wall (the worker runs as a uid of its own, or as root
    in a pids cgroup of its own, since the kernel does not count root's threads). Only a worker that
    shares its user with the grader's other processes outside bubblewrap may be stopped by the
    grader's watch instead."""
    result = graded(grade_file, wall, "thread_flood.py", load_timeout=Limits().load_timeout)
    said = re.search(r"threads refused after (\d+)", result.output)
    if wall == "bubblewrap" or os.geteuid() == 0:
        assert said is not None, (result.error, result.output)
    if said is not None:
        assert int(said.group(1)) < isolation.THREADS
        assert result.score == result.max_score
    else:
        assert result.score == 0 and f"more than {isolation.THREADS} threads" in result.error, result.error
    assert watch.left() == []


# 12. Harsh, not hostile, again


def test_a_right_file_that_asks_who_it_is_and_answers_in_odd_honest_types_gets_full_marks(grade_file, wall, watch):
    result = graded(grade_file, wall, "honest_oddities.py")
    assert result.error is None and result.score == result.max_score, [
        t.message for t in result.tests if t.score < t.max_score
    ]
    assert watch.left() == []


# 13. What the host's /proc shows

HOST_PROC = ("/proc/net/tcp", "/proc/self/net/tcp", "/proc/self/net/unix", "/proc/self/mounts", "/proc/self/mountinfo")


def test_the_hosts_sockets_mounts_and_processes_are_out_of_sight(grade_file, wall, watch):
    """Under Landlock nothing under /proc is open but the CPUs' description: not the worker's own
    entries, through which the host's sockets and mounts show, nor another process's, nor the list
    of them. In bubblewrap /proc is the sandbox's own: a network with no socket, its own init as pid 1.
    The hidden reference cannot be read on either wall."""
    result = graded(grade_file, wall, "reads_the_hosts_proc.py", replace=PLACES)
    said = dict(line.split(": ", 1) for line in result.output.splitlines() if ": " in line)
    assert said[str(REFERENCE)] == f"refused {REFUSED[wall]}"
    if wall == "landlock":
        looked = [*HOST_PROC, "/proc/1/cmdline", "/proc/1/environ", "listed /proc"]
        assert {path: said[path] for path in looked} == dict.fromkeys(looked, "refused PermissionError")
    else:
        assert said["/proc/net/tcp"].startswith("read 1 lines"), said  # the header alone: no socket
        assert re.match(r"read 1 lines, first '\S*bwrap ", said["/proc/1/cmdline"]), said
        assert said["listed /proc"] in ("1 processes", "2 processes"), said
    assert result.score == result.max_score and result.error is None
    assert watch.left() == []


# 14. On a kernel without Landlock's scopes (Linux before 6.12), as root without --run-as

OLDER_KERNEL = {"GRADEKIT_LANDLOCK_ABI": "5"}


@pytest.mark.parametrize("abi", ["5", "this kernel's"])
def test_signals_the_kernel_would_send_for_a_worker_reach_no_process(watch, tmp_path, abi):
    """`gradekit check` run as root without --run-as (its worker keeps uid 0 where no uid of its own
    can run the interpreter, as one under /root), behind Landlock with its ABI capped at 5 (no signal
    scope) and as this kernel offers it: SIGKILL for the grader and for a process of its user, by
    kill, killpg, tgkill, and by F_SETOWN, F_SETSIG and O_ASYNC on a pipe (with the commands' upper
    bits set too), is refused step by step. The grader lives and writes its report, the other process
    lives, and the file gets full marks."""
    decoy = subprocess.Popen(["sleep", str(SANITY_SECONDS)], start_new_session=True)
    try:
        submission = tmp_path / "submission.py"
        submission.write_text(hostile("signals_by_proxy.py", DECOY=str(decoy.pid)))
        env = {**failing_bubblewrap(tmp_path), **(OLDER_KERNEL if abi == "5" else {})}
        ran = subprocess.run(
            [sys.executable, "-m", "gradekit", "check", str(submission), "--format", "json", "--max-examples", "10"],
            capture_output=True,
            text=True,
            timeout=SANITY_SECONDS,
            cwd=tmp_path,
            env=env,
            start_new_session=True,  # a grader killed with its process group takes no test process with it
        )
        assert ran.returncode == 0, (ran.returncode, ran.stderr)
        assert decoy.poll() is None
    finally:
        decoy.kill()
        decoy.wait()
    report = json.loads(ran.stdout)
    assert report["isolation"] == "landlock" and report["score"] == report["max_score"]
    said = dict(line.split(": ", 1) for line in report["output"].splitlines() if ": " in line)
    assert len(said) == 16 and all(step.startswith("refused") for step in said.values()), said
    assert watch.left() == []


def test_no_lock_carries_a_message_between_two_workers(wall, monkeypatch):
    """Two workers graded at once, behind either wall with Landlock's ABI capped at 5: one takes read
    locks on the interpreter file they are both shown (with the commands' upper bits set too), the
    other asks whether it could lock it. No lock is taken and every probe is refused."""
    monkeypatch.setenv("GRADEKIT_LANDLOCK_ABI", OLDER_KERNEL["GRADEKIT_LANDLOCK_ABI"])
    source = hostile("locks_between_classmates.py")
    with Worker(Limits(isolation=wall)) as holder, Worker(Limits(isolation=wall)) as prober:
        assert holder.load(source, "holder.py")["ok"] and prober.load(source, "prober.py")["ok"]
        assert holder.call("hold", encode([]))["returned"] == 0.0
        assert prober.call("seen", encode([]))["returned"] == [-1.0, -1.0, -1.0]
