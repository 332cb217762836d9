"""Containment: whatever a submission does, the grade comes back, on time, from real values only.

Each file in tests/hostile/ attacks the sandbox one way (its docstring says how) and is otherwise the
reference solution, so every property the attack does not touch must still pass with full points.
Placeholders such as __PID_FILE__ are replaced with paths under pytest's tmp_path: the worker's own
folder is deleted with it. The second half drives `gradekit.sandbox.Worker` directly.
"""

from __future__ import annotations

import errno
import functools
import hashlib
import json
import math
import os
import select
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext, suppress
from dataclasses import replace
from pathlib import Path

import gradekit.assignments
import gradekit.reference.cross_entropy
import nbformat
import numpy as np
import pytest
from nbformat import v4

import gradekit.engine.speed.read_ahead
import gradekit.sandbox.worker
from gradekit.config import MIB, GradeConfig, Limits, cache_folder
from gradekit.engine import source
from gradekit.engine.calls import Calls, FirstAnswers
from gradekit.engine.session import Session
from gradekit.engine.speed.read_ahead import AHEAD_CHUNK, ReadAhead
from gradekit.errors import CallTimedOut, GradekitError, WorkerDied
from gradekit.result import GradeResult, Status
from gradekit.sandbox import Worker, bubblewrap, clocks, isolation, landlock, process
from gradekit.sandbox.forkserver import Forked
from gradekit.sandbox.isolation import Isolation
from gradekit.sandbox.process import forked_workers
from gradekit.sandbox.worker import CALL_SEPARATOR, SEPARATOR, TooLarge, decode, encode, to_plain

HOSTILE = Path(__file__).resolve().parents[1] / "hostile"
FAST = {"call_timeout": 0.5, "load_timeout": 2.0}
SANITY_SECONDS = 60.0  # a bound on a runaway, not a speed target
NOT_TIMED = "not timed: speed counts once the values are right"
NOT_CHECKED = "not checked yet: it counts once"
# A spin at a 0.5 s timeout is stopped at its CPU limit, 0.75 s of the worker's CPU time and a poll slice
# (the messages say which limit stopped it): the worker gets at least a sixth of a CPU while other tests
# run beside these (three test processes, their graders and workers on two cores; a third of one was
# once 0.03 s short), and a restart after it takes a moment. A spin no limit stopped runs to the
# worker's CPU limit of a minute. A bound on a runaway, not a speed target.
SPIN_SECONDS = 6.0
HOGS = 8  # busy processes sharing the worker's CPU: its 0.2 s of CPU time take longer than the backstop
OUTPUT_CAP = Limits().output_bytes
FUNCTIONS = ("softmax", "cross_entropy_loss", "sequence_loss", "perplexity", "softmax_cross_entropy_grad")


GUARDED = {"isolation": "off"}


@pytest.fixture(params=["bubblewrap", "landlock", "landlock, forked", "guard, forked"])
def each_start(request):
    """Workers behind each wall: bubblewrap, each in a sandbox of its own, as `gradekit check` and a
    class grade start them where user namespaces work; Landlock, started alone as a check starts it
    where they are denied, and forked from a preloaded fork server as a class is graded there; and the
    guard alone, forked from a fork server, as a class is graded with --no-isolation: every containment
    here holds for all of them. Yields the limits that choose the way."""
    wall, _, forked = request.param.partition(", ")
    assert isolation.why_not(Isolation(wall), None) is None, isolation.why_not(Isolation(wall), None)
    limits = GUARDED if wall == "guard" else {"isolation": wall}
    if not forked:
        yield limits
        return
    with forked_workers(Limits(**limits)):
        yield limits


@pytest.fixture(params=["alone", "forked"])
def guarded(request):
    """Without the OS sandbox, the worker's own guard, which these tests check by its messages: started
    alone, as `gradekit check` on a laptop starts it, then forked from a preloaded fork server."""
    if request.param == "alone":
        yield GUARDED
        return
    with forked_workers(Limits(**GUARDED)):
        yield GUARDED


def graded(
    grade_file, name: str, config: GradeConfig = GradeConfig(), replace: dict[str, str] | None = None, **limits: float
) -> GradeResult:
    """Grade tests/hostile/NAME (placeholders replaced), checking it returns a GradeResult in bounded time."""
    path = HOSTILE / name
    submission: str | Path = path
    if replace:
        submission = path.read_text()
        for placeholder, value in replace.items():
            assert placeholder in submission, placeholder
            submission = submission.replace(placeholder, value)
    started = time.monotonic()
    result = grade_file(submission, config, **{**FAST, **limits})
    assert isinstance(result, GradeResult)
    assert time.monotonic() - started < SANITY_SECONDS
    return result


def touching(result: GradeResult, *functions: str) -> tuple[list, list]:
    """(properties that call any of `functions` and were run, the properties that call none of them).
    A property that requires one of a function whose values were wrong is not run, and pays nothing."""
    unchecked = [t for t in result.tests if t.status is Status.UNCHECKED]
    assert all(t.score == 0 and t.message.startswith((NOT_TIMED, NOT_CHECKED)) for t in unchecked), unchecked
    hit = [t for t in result.tests if set(t.functions) & set(functions) and t not in unchecked]
    return hit, [t for t in result.tests if not set(t.functions) & set(functions)]


def assert_contained(result: GradeResult, functions: tuple[str, ...], statuses: set[Status], says: str) -> None:
    """The properties of `functions` end in `statuses` with 0 points and `says` in their message;
    every other property passes with full points, so the attack cost nothing beyond its own functions."""
    hit, rest = touching(result, *functions)
    assert hit and rest
    for test in hit:
        assert test.status in statuses and test.score == 0, (test.name, test.status, test.message)
        assert says in test.message, (test.name, test.message)
    for test in rest:
        assert test.status is Status.PASSED and test.score == test.max_score, (test.name, test.message)
    assert result.error is None


def assert_timed_out(result: GradeResult, function: str, says: str) -> None:
    """`function`'s properties are timeouts worth nothing, the first saying `says` and the later ones that
    it timed out earlier (it is not called again), and every other property passes."""
    assert_contained(result, (function,), {Status.TIMEOUT}, f"`{function}`")
    first, *later = touching(result, function)[0]
    assert says in first.message, first.message
    assert all("timed out earlier in this grade" in test.message for test in later), [t.message for t in later]


def assert_worker_replaced(result: GradeResult, function: str) -> None:
    """A property that killed or hung the worker is followed by ones that pass: a fresh worker served them."""
    names = [t.name for t in result.tests]
    last_hit = max(i for i, t in enumerate(result.tests) if function in t.functions)
    after = result.tests[last_hit + 1 :]
    assert after and all(t.status is Status.PASSED for t in after), names[last_hit + 1 :]


def plain(value) -> bool:
    """Only JSON's own types: no student object (and no lying __eq__) reached the grader."""
    if isinstance(value, list):
        return all(plain(v) for v in value)
    return value is None or type(value) in (float, int, bool, str)


def alive(pid: int, marker: bytes) -> bool:
    """Whether `pid` is a running (not zombie) process whose command line contains `marker`."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
        command = Path(f"/proc/{pid}/cmdline").read_bytes()
    except (FileNotFoundError, ProcessLookupError):
        return False
    return state != "Z" and marker in command


def processes_with(marker: bytes) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit() and entry.name != str(os.getpid()) and alive(int(entry.name), marker):
            found.append(int(entry.name))
    return found


# Hangs, exits and crashes


def test_hang_at_import_is_a_load_error_not_a_hang(grade_file):
    started = time.monotonic()
    result = graded(grade_file, "hang_at_import.py")
    assert time.monotonic() - started < FAST["load_timeout"] + 5
    assert result.error is not None
    assert "could not be loaded" in result.error and "timed out" in result.error
    assert result.score == 0
    assert result.tests and all(t.status is Status.ERROR for t in result.tests)


def test_a_hang_in_one_function_times_out_only_that_function(grade_file):
    result = graded(grade_file, "hang_in_perplexity.py")
    assert_timed_out(result, "perplexity", "took more than 0.5 s of CPU time")
    assert_worker_replaced(result, "perplexity")
    assert result.score == result.max_score - 10


def test_sys_exit_in_a_function_is_an_exception_like_any_other(grade_file):
    result = graded(grade_file, "sys_exit_in_function.py")
    assert_contained(result, ("perplexity",), {Status.FAILED}, "sys.exit(3) was called")
    assert_worker_replaced(result, "perplexity")


def test_os_exit_in_a_function_kills_only_its_worker(each_start, grade_file):
    result = graded(grade_file, "os_exit_in_function.py", **each_start)
    assert_contained(result, ("perplexity",), {Status.ERROR}, "the worker process exited with code 0")
    assert_worker_replaced(result, "perplexity")


def test_a_memory_grab_is_refused_by_the_memory_limit(each_start, grade_file):
    result = graded(grade_file, "memory_grab.py", **each_start)
    assert_contained(result, ("perplexity",), {Status.FAILED}, "MemoryError")
    assert_worker_replaced(result, "perplexity")


def test_ignoring_sigterm_does_not_keep_a_worker_alive(guarded, grade_file, tmp_path):
    pid_file = tmp_path / "pids.txt"
    result = graded(grade_file, "ignore_sigterm.py", replace={"__PID_FILE__": str(pid_file)}, **guarded)
    assert_timed_out(result, "perplexity", "took more than 0.5 s of CPU time")
    pids = [int(line) for line in pid_file.read_text().split()]
    assert len(pids) >= 2, "each hung property replaces the worker, which loads (and logs) again"
    program = Path(process.worker_program()).name.encode()  # worker.py, or its bytecode
    assert not [pid for pid in pids if alive(pid, program)]


def test_ignoring_sigterm_in_the_sandbox_does_not_keep_a_worker_alive(grade_file, tmp_path):
    """Sandboxed, the pid file is out of reach: the worker names itself instead, and no process of
    that name is left once the grade is done."""
    marker = f"w{uuid.uuid4().hex[:12]}"
    source = (
        (HOSTILE / "ignore_sigterm.py")
        .read_text()
        .replace(
            'with open(PID_FILE, "a") as log:\n    log.write(f"{os.getpid()}\\n")\n',
            f"import ctypes\nctypes.CDLL(None).prctl(15, {marker.encode()!r})  # PR_SET_NAME\n",
        )
    )
    assert marker in source
    result = grade_file(source, GradeConfig(), **FAST)
    assert_timed_out(result, "perplexity", "took more than 0.5 s of CPU time")
    assert _named(marker) == []


def _named(comm: str) -> list[Path]:
    """The processes named `comm`, still there once the kernel has had a few seconds to end what was
    killed (under load a killed worker can linger a moment after its pipe hangs up): a worker left
    alive stays for ever."""
    deadline = time.monotonic() + 5
    while True:
        named = [e for e in Path("/proc").iterdir() if e.name.isdigit() and _comm(e) == comm]
        if not named or time.monotonic() > deadline:
            return named
        time.sleep(0.05)


def _comm(entry: Path) -> str:
    try:
        return (entry / "comm").read_text().strip()
    except OSError:
        return ""


# Output


def test_200_mb_of_print_is_capped(grade_file):
    result = graded(grade_file, "output_flood_print.py")
    assert result.score == result.max_score
    assert result.output.startswith("x" * 1000)
    assert len(result.output) <= OUTPUT_CAP + 1024


def test_writing_straight_to_fd_1_and_2_is_capped(each_start, grade_file):
    result = graded(grade_file, "output_flood_fd.py", **each_start)
    assert result.score == result.max_score
    assert 0 < len(result.output) <= OUTPUT_CAP + 1024


def test_output_stays_capped_when_the_worker_restarts(grade_file):
    """Every restart loads the submission, and prints its top level, again."""
    source = (HOSTILE / "os_exit_in_function.py").read_text() + '\nprint("r" * 40_000)\n'
    started = time.monotonic()
    result = grade_file(source, GradeConfig(), **FAST)
    assert time.monotonic() - started < SANITY_SECONDS
    assert result.output.startswith("r" * 40_000)
    assert len(result.output) <= OUTPUT_CAP + 1024


def test_input_at_import_fails_at_once(grade_file):
    started = time.monotonic()
    result = graded(grade_file, "input_at_import.py", load_timeout=5.0)
    assert time.monotonic() - started < 5.0
    assert result.error is not None and "EOFError" in result.error and "timed out" not in result.error
    assert result.score == 0


# Results come from real values only


def test_patched_comparison_helpers_do_not_reach_the_grader(grade_file):
    result = graded(grade_file, "patched_helpers.py")
    tests = {t.name: t for t in result.tests}
    assert tests["perplexity_matches_reference"].status is Status.FAILED
    assert result.score == result.max_score - 10  # the helpers the other properties use were untouched
    example = tests["perplexity_matches_reference"].counterexample
    loss = example.calls[-1].args[0]
    assert type(example.returned) is float and example.returned == 2.0**loss != float(np.exp(loss))


def test_fake_results_on_stdout_are_not_believed(grade_file):
    result = graded(grade_file, "fake_stdout_results.py")
    assert "Score: 100 / 100" in result.output and '"ok": true' in result.output
    assert len(result.output) <= OUTPUT_CAP + 1024
    assert result.score == result.max_score - 10
    example = {t.name: t for t in result.tests}["perplexity_matches_reference"].counterexample
    assert example.returned == 2.0 ** example.calls[-1].args[0]


def test_numbers_with_lying_comparisons_are_read_as_plain_numbers(grade_file):
    result = graded(grade_file, "lying_numbers.py")
    assert result.score == 0
    tests = {t.name: t for t in result.tests}
    for name in (
        "softmax_matches_reference",
        "loss_matches_reference",
        "sequence_loss_matches_reference",
        "perplexity_matches_reference",
        "grad_matches_identity",
    ):
        assert tests[name].status is Status.FAILED, (name, tests[name].message)
    assert "returned an Agreeable, which is not a number" in tests["loss_matches_reference"].message
    softmax = tests["softmax_matches_reference"].counterexample.returned
    assert softmax and all(type(p) is float and p == 42.0 for p in softmax)  # what float() said, not __eq__
    for test in result.tests:
        if test.counterexample is not None:
            assert plain(test.counterexample.returned)
            assert all(plain(call.returned) for call in test.counterexample.calls)


def test_replies_forged_on_the_reply_pipe_end_the_worker(grade_file):
    result = graded(grade_file, "forged_replies.py")
    assert_contained(
        result, ("perplexity", "softmax_cross_entropy_grad"), {Status.ERROR}, "the worker broke the grader's protocol"
    )


def test_replies_forged_with_a_cpu_time_the_worker_could_not_report_end_the_worker(grade_file):
    """The forged replies carry right answers to wrong functions: taken as answers, they would pay."""
    result = graded(grade_file, "forged_cpu_times.py")
    attacked = ("perplexity", "sequence_loss", "softmax_cross_entropy_grad")
    assert_contained(result, attacked, {Status.ERROR}, "the worker broke the grader's protocol")


def test_huge_returns_hit_the_reply_cap(grade_file):
    result = graded(grade_file, "huge_return.py", GradeConfig(property_budget=0.5), reply_bytes=256 * 1024)
    hit, rest = touching(result, "perplexity", "sequence_loss", "softmax_cross_entropy_grad")
    assert hit and all(t.score == 0 and t.status is not Status.PASSED for t in hit)
    assert rest and all(t.status is Status.PASSED and t.score == t.max_score for t in rest)
    tests = {t.name: t for t in result.tests}
    assert "returned an answer too large to read back (more than the 256 KiB one call may send)" in (
        tests["grad_matches_identity"].message
    )
    assert "returned a str, which is not a number" in tests["sequence_loss_matches_reference"].message


# Processes


def test_child_processes_are_refused_and_none_survive(guarded, grade_file, tmp_path):
    marker = f"301.{uuid.uuid4().int % 10**9:09d}"
    log = tmp_path / "children.log"
    result = graded(
        grade_file, "child_processes.py", replace={"__LOG_FILE__": str(log), "__MARKER__": marker}, **guarded
    )
    assert result.score == result.max_score
    lines = log.read_text().splitlines()
    refused = {tuple(line.split()[:2]): line.split()[3] for line in lines if " refused " in line}
    assert [line for line in lines if " refused " not in line] == []  # nothing started, no child logged
    attempts = ("by_fork", "by_popen", "by_system", "by_multiprocessing", "by_posix_spawn", "by_fork_exec")
    for where in ("import", "call"):
        for attempt in attempts:
            assert refused[(where, attempt)] == "PermissionError", (where, attempt)
        assert refused[(where, "by_ctypes")] == "PermissionError"
    assert processes_with(b"sleep\0" + marker.encode()) == []


def test_signalling_the_grader_and_raising_limits_are_refused(guarded, grade_file):
    result = graded(grade_file, "signal_grader.py", **guarded)
    tests = {t.name: t for t in result.tests}
    assert "signalling other processes is not allowed" in tests["perplexity_matches_reference"].message
    assert "changing resource limits is not allowed" in tests["grad_matches_identity"].message
    assert_contained(result, ("perplexity", "softmax_cross_entropy_grad"), {Status.FAILED}, "PermissionError")


# The grader's own files


def test_importing_gradekit_is_refused(grade_file):
    reference = gradekit.reference.cross_entropy.__file__
    result = graded(grade_file, "import_gradekit.py", replace={"__REFERENCE__": reference}, **GUARDED)
    tests = {t.name: t for t in result.tests}
    assert "raised ImportError: gradekit.reference is not available" in tests["perplexity_matches_reference"].message
    # importlib.import_module skips the import audit event, but still has to open gradekit's files
    assert "raised PermissionError" in tests["grad_matches_identity"].message
    assert f"raised PermissionError: {reference}" in tests["sequence_loss_matches_reference"].message
    assert_contained(result, ("perplexity", "softmax_cross_entropy_grad", "sequence_loss"), {Status.FAILED}, "raised")


def test_reading_the_reference_source_is_refused(guarded, grade_file):
    reference = gradekit.reference.cross_entropy.__file__
    result = graded(grade_file, "read_reference.py", replace={"__REFERENCE__": reference}, **guarded)
    stealing = ("cross_entropy_loss", "sequence_loss", "perplexity", "softmax_cross_entropy_grad")
    assert_contained(result, stealing, {Status.FAILED}, "PermissionError")
    tests = {t.name: t for t in result.tests}
    for name in ("loss_matches_reference", "grad_matches_identity"):  # os.link, shutil.copy
        assert f"raised PermissionError: {reference} is not open" in tests[name].message


def test_emptying_the_guards_own_tables_does_not_disarm_it(guarded, grade_file):
    """The guard's hook keeps frozen copies of what it refuses, out of reach of the worker script's
    module: clearing and rebinding its tables there changes nothing, and the reference stays closed."""
    reference = gradekit.reference.cross_entropy.__file__
    result = graded(grade_file, "disarm_the_guard.py", replace={"__REFERENCE__": reference}, **guarded)
    assert "cleared" in result.output and "refused PermissionError" in result.output, result.output
    assert result.score == 0


def test_writing_the_example_cache_is_refused(grade_file, tmp_path):
    folder = cache_folder()
    folder.mkdir(parents=True, exist_ok=True)
    sentinel = folder / f"sentinel-{uuid.uuid4().hex}.json"
    sentinel.write_text('{"key": "untouched"}')
    log = tmp_path / "cache.log"
    try:
        result = graded(
            grade_file,
            "write_cache.py",
            replace={"__CACHE__": str(folder), "__SENTINEL__": str(sentinel), "__LOG_FILE__": str(log)},
            **GUARDED,
        )
        assert sentinel.read_text() == '{"key": "untouched"}'
        assert [p.name for p in folder.iterdir() if p.name.startswith(sentinel.name)] == [sentinel.name]
    finally:  # the cache is shared with the other tests: leave nothing behind, even when containment fails
        for path in folder.glob(sentinel.name + "*"):
            if path.is_dir() and not path.is_symlink():
                path.rmdir()
            else:
                path.unlink()
    outcomes = dict(line.split() for line in log.read_text().splitlines())
    assert outcomes == {
        name: "PermissionError"
        for name in ("by_replace", "by_new_file", "by_dir_fd", "by_remove", "by_mkdir", "by_symlink")
    }
    assert_contained(result, ("perplexity",), {Status.FAILED}, f"raised PermissionError: {sentinel} is not open")


def test_opening_the_assignment_for_writing_is_refused(grade_file):
    properties = Path(gradekit.assignments.__file__).parent / "cross_entropy" / "properties.py"
    before = hashlib.sha256(properties.read_bytes()).hexdigest()
    result = graded(grade_file, "write_assignment.py", replace={"__PROPERTIES__": str(properties)}, **GUARDED)
    assert hashlib.sha256(properties.read_bytes()).hexdigest() == before
    assert_contained(result, ("perplexity",), {Status.FAILED}, f"raised PermissionError: {properties} is not open")


# The worker protocol, driven directly

PROTOCOL_SOURCE = '''
import json
import os
import select
import sys
import time

import numpy as np


class Value:
    """microgpt's Value: the number is in .data, and __eq__ is no use."""

    def __init__(self, data):
        self.data = data

    def __eq__(self, other):
        return True

    __hash__ = object.__hash__


def as_float():
    return 0.25


def as_int():
    return 3


def as_float64():
    return np.float64(0.75)


def as_float32():
    return np.float32(0.5)


def as_float16():
    return np.float16(0.5)


def as_zero_d():
    return np.array(1.5)


def as_tuple():
    return (1.0, 2)


def as_short_array():
    return np.array([0.5, 1.5])


def as_long_array():
    return np.arange(40.0) / 4


def as_value():
    return Value(2.5)


def as_values():
    return [Value(1.0), Value(2.0)]


def as_text():
    return "0.5"


def as_dict():
    return {"loss": 0.5}


def as_object():
    return object()


def add_one(xs):
    xs[0] += 1.0
    return sum(xs)


def hang():
    while True:
        pass


def crash():
    os._exit(7)


def scribble():
    os.write(json.loads(sys.argv[1])["reply_fd"], b"not a reply\\n")
    return 0.0


def echo(xs):
    return xs


def stall(xs):
    while True:
        pass


def spin_for(seconds):
    started = time.process_time()
    while time.process_time() - started < seconds:
        pass
    return 1.0


def nap(seconds):
    time.sleep(seconds)
    return 1.0


def sleep_forever():
    time.sleep(10**6)


def forge(cpu):
    """Answers in the worker's place, under the id the grader waits for, with `cpu` where the CPU time goes."""
    request_id = sys._getframe(1).f_locals["request"]["id"]
    line = '{"id": %d, %s"ok": true, "returned": 1.0}\\n' % (request_id, cpu)
    os.write(json.loads(sys.argv[1])["reply_fd"], line.encode())
    return 2.0
'''

LIMITS = Limits(call_timeout=0.5, load_timeout=5.0)


@pytest.fixture(scope="module")
def worker():
    with Worker(LIMITS) as running:
        reply = running.load(PROTOCOL_SOURCE, "protocol.py")
        assert reply["ok"], reply
        yield running


@pytest.fixture
def fresh(each_start):
    with Worker(replace(LIMITS, **each_start)) as running:
        assert running.load(PROTOCOL_SOURCE, "protocol.py")["ok"]
        yield running


def test_load_reports_each_function_with_its_line(worker):
    reply = worker.load(PROTOCOL_SOURCE, "protocol.py")
    lines = PROTOCOL_SOURCE.splitlines()
    assert reply["ok"] is True
    assert lines[reply["functions"]["as_float"] - 1] == "def as_float():"
    assert lines[reply["functions"]["add_one"] - 1] == "def add_one(xs):"
    assert "json" not in reply["functions"] and "np" not in reply["functions"]  # modules are not functions
    assert worker.last_line.startswith(b'{"id": %d, "cpu": ' % reply["id"])  # a load's CPU time, as a call's


@pytest.mark.parametrize(
    "function, expected",
    [
        ("as_float", 0.25),
        ("as_int", 3),
        ("as_float64", 0.75),
        ("as_float32", 0.5),
        ("as_float16", 0.5),
        ("as_zero_d", 1.5),
        ("as_tuple", [1.0, 2]),
        ("as_short_array", [0.5, 1.5]),
        ("as_long_array", [i / 4 for i in range(40)]),  # 32+ floats travel as IEEE doubles, out of the JSON
        ("as_value", 2.5),
        ("as_values", [1.0, 2.0]),
    ],
)
def test_returned_values_arrive_as_plain_data(worker, function, expected):
    reply = worker.call(function, "[]")
    assert reply == {"ok": True, "returned": expected, "id": reply["id"], "cpu": reply["cpu"]}
    assert json.loads(json.dumps(reply["returned"])) == reply["returned"]
    assert type(reply["returned"]) is type(expected)
    if isinstance(expected, list):
        assert [type(v) for v in reply["returned"]] == [type(v) for v in expected]


LOADED = "import sys\n\ndef loaded():\n    return ['num' + 'py' in sys.modules]\n"


@pytest.mark.parametrize("wall", ["bubblewrap", "landlock"])
def test_a_worker_started_alone_preloads_numpy_only_when_told(wall):
    """A worker imports NumPy before the submission loads where the grader says the submission names it
    (`Source.preload`), and not otherwise: a pure-Python submission does not pay for NumPy."""
    for preload, expected in (((), [False]), (("numpy",), [True])):
        with Worker(replace(LIMITS, isolation=wall), preload=preload) as running:
            assert running.load(LOADED, "loaded.py")["ok"]
            assert running.call("loaded", "[]")["returned"] == expected, preload


UNNEEDED = ("typing", "traceback", "decimal", "socket")
IMPORTED = "import sys\n\ndef imported(names):\n    return [name in sys.modules for name in names]\n"


@pytest.mark.parametrize("wall", ["bubblewrap", "landlock"])
def test_a_worker_starts_without_the_modules_only_some_submissions_need(wall):
    """typing, traceback, decimal and socket are no part of a worker's start, which every submission
    pays for (benchmarks/worker_start.py): a submission that uses one imports it, as any program does."""
    with Worker(replace(LIMITS, isolation=wall), preload=()) as running:  # a submission that names no NumPy
        assert running.load(IMPORTED, "imported.py")["ok"]
        assert running.call("imported", encode([list(UNNEEDED)]))["returned"] == [False] * len(UNNEEDED)


def test_a_submission_preloads_numpy_where_its_text_names_it(tmp_path):
    plain, numpy_style, notebook = tmp_path / "plain.py", tmp_path / "numpy_style.py", tmp_path / "cells.ipynb"
    plain.write_text("import math\n")
    numpy_style.write_text("import numpy as np\n")
    notebook.write_text(nbformat.writes(v4.new_notebook(cells=[v4.new_code_cell("from numpy import exp")])))
    assert source.read(plain).preload == ()
    assert source.read(numpy_style).preload == source.read(notebook).preload == ("numpy",)


def test_encoded_values_come_back_exactly_with_their_floats_out_of_the_json():
    table = [[(r * 27 + c) / 7 - 50.0 for c in range(27)] for r in range(27)]
    value = {"W": table, "tokens": [26, 0, 26], "z": [math.nan, math.inf, -0.0] * 11, "lr": 0.1, "who": "a\tb\x1e"}
    text = encode(value)
    head, *blobs = text.split(SEPARATOR)
    assert len(blobs) == 2 and "\n" not in text and CALL_SEPARATOR not in text
    assert json.loads(head)["W"] == {"f64": 0, "rows": 27}
    back = decode(text)
    assert back["W"] == table and back["tokens"] == [26, 0, 26] and type(back["tokens"][0]) is int
    assert [math.copysign(1, z) for z in back["z"][2::3]] == [-1.0] * 11 and math.isnan(back["z"][0])
    assert back["who"] == "a\tb\x1e"
    assert decode(encode([1, 2.5, [3.0]])) == [1, 2.5, [3.0]]


@pytest.mark.parametrize(
    ("value", "packed"),
    [
        ([[0.0] * 50_000, [0.0] * 50_001] * 100, 1),  # 200 lists of unequal lengths, over 533,000 characters each
        ([[0.0] * 1000] * 2000, 0),  # one table of 2,000,000 numbers: its size shows before it is packed
        ({"run": [[0.5] * 100_000], "loss": 2.0}, 0),
        ([[0] * 200_000] * 1000, 0),  # whole numbers are JSON text: at least two characters each
        ({str(key): 0 for key in range(600_000)}, 0),
        (["x" * 100_000] * 20, 0),  # one string named 20 times: its text 20 times over
    ],
    ids=["many lists", "a large table", "one list past the cap", "lists of ints", "a large dict", "strings"],
)
def test_a_value_past_the_cap_is_refused_before_its_numbers_are_packed(value, packed, monkeypatch):
    """A run of calls answering thousands of large lists packed them all before the reply cap was
    looked at, and the worker ran out of memory doing so: the grade then depended on which limit a
    machine met first. The least text a value comes to is counted before any is made."""
    packing = gradekit.sandbox.worker._base64
    made: list[int] = []
    monkeypatch.setattr(gradekit.sandbox.worker, "_base64", lambda floats: made.append(len(floats)) or packing(floats))
    with pytest.raises(TooLarge):
        encode(value, MIB)
    assert len(made) == packed
    assert len(encode([[0.0] * 40_000] * 3)) < 4 * MIB  # without a limit, anything is encoded
    assert decode(encode({"table": [[0.5] * 27] * 27, "ids": [0] * 1000}, MIB))["ids"] == [0] * 1000


def test_a_table_is_made_plain_into_rows_of_its_own_and_anything_unusual_still_number_by_number():
    table = [[0.5, 1], [2.0, 3]]
    plain = to_plain(table)
    assert plain == table and plain is not table and not any(p is r for p, r in zip(plain, table))
    assert [type(x) for x in plain[1]] == [float, int]
    mixed = to_plain([[True, 1.0], (np.float32(0.5),)])
    assert mixed == [[True, 1.0], [0.5]] and mixed[0][0] is True and type(mixed[1][0]) is float


def test_values_decoded_together_read_a_shared_table_once_and_each_get_lists_of_their_own():
    """The worker decodes a request's calls with one `read`: a table passed to many calls is read
    once, and a call that changes its arguments in place changes no other call's."""
    table = [[(r * 9 + c) / 3 for c in range(9)] for r in range(9)]
    read: dict[str, tuple[float, ...]] = {}
    first, second = decode(encode([table, [0.5] * 9]), read), decode(encode([table, 2.0]), read)
    assert len(read) == 2 and first[0] == second[0] == table
    first[0][0][0] = 99.0
    first[1][0] = 99.0
    assert second[0] == table and decode(encode([[0.5] * 9]), read) == [[0.5] * 9]
    assert decode(encode([table]), read)[0] is not second[0]


@pytest.mark.parametrize(
    "forged",
    [
        '{"x": {"f64": 1}}\tAAAAAAAA8D8=',  # no such blob
        '{"x": {"f64": 0, "rows": 0}}\tAAAAAAAA8D8=',  # no rows
        '{"x": {"f64": 0, "rows": 2}}\tAAAAAAAA8D8=',  # one number cannot make two rows
        '{"x": {"f64": "0"}}\tAAAAAAAA8D8=',
        '{"x": {"f64": 0}}\tnot base64!',
        '{"x": {"f64": 0}}\tAAAA',  # 3 bytes are no double
        "not json",
        "",
        ' {"x": 1}',  # encode writes no space around its JSON
        '{"x": 1} ',
        '{"x": 1}{"y": 2}',
        '{"x": [1, 2',
    ],
)
def test_text_encode_could_not_have_made_is_a_value_error(forged):
    with pytest.raises(ValueError):
        decode(forged)


def test_a_numpy_scalars_data_is_a_buffer_not_the_value(worker):
    """A 0-d array and a NumPy scalar have a .data too: a memoryview, which must not be read as microgpt's."""
    assert isinstance(np.float16(0.5).data, memoryview) and isinstance(np.array(1.5).data, memoryview)
    assert worker.call("as_float16", "[]")["returned"] == 0.5
    assert worker.call("as_zero_d", "[]")["returned"] == 1.5


@pytest.mark.parametrize("function, kind", [("as_text", "a str"), ("as_dict", "a dict"), ("as_object", "an object")])
def test_a_value_that_is_not_a_number_is_an_error(worker, function, kind):
    reply = worker.call(function, "[]")
    assert reply["ok"] is False
    assert reply["error"]["type"] == "NotANumber"
    assert reply["error"]["message"] == f"returned {kind}, which is not a number or a list of numbers"


def test_a_missing_function_is_reported_as_missing(worker):
    reply = worker.call("no_such_function", "[]")
    assert reply == {"ok": False, "missing": True, "id": reply["id"], "cpu": reply["cpu"]}


def test_want_args_returns_the_arguments_as_the_call_left_them(worker):
    reply = worker.call("add_one", json.dumps([[1.0, 2.0]]), want_args=True)
    assert reply["returned"] == 4.0
    assert reply["args_after"] == [[2.0, 2.0]]
    assert "args_after" not in worker.call("add_one", json.dumps([[1.0, 2.0]]))


def test_calls_sent_while_long_replies_wait_unread_stall_neither_side(fresh):
    """The grader sends a property's next calls before it has read the replies to earlier ones. With
    requests and replies each longer than a pipe holds, neither process may wait on the other."""
    long = encode([[i / 3 for i in range(20_000)]])  # 160 kB of doubles each way, per call
    first = fresh.send_calls([("echo", long, False)] * 4)
    second = fresh.send_calls([("echo", long, False)] * 4)  # sent while the worker waits to write its replies
    for request_id in first + second:
        assert fresh.receive(request_id)["returned"] == [i / 3 for i in range(20_000)]


def read_ahead_of(running: Worker) -> tuple[Session, ReadAhead, Calls]:
    """The protocol submission loaded in `running`, its calls read ahead (gradekit.engine.speed.read_ahead)."""
    session = Session(running, PROTOCOL_SOURCE, "protocol.py")
    assert session.load() is None
    answers = FirstAnswers()
    read_ahead = ReadAhead(session, answers)
    return session, read_ahead, Calls(session, read_ahead, answers, {})


def test_a_call_that_hangs_while_later_calls_wait_to_be_sent_is_the_one_timed_out():
    """Replay sends calls a chunk at a time; long ones cannot all wait in the pipe while the worker is
    stuck. The stuck call is reported, at its CPU limit, and the next calls go to a fresh worker."""
    long = encode([[i / 3 for i in range(20_000)]])
    calls = [("echo", long, False)] * (AHEAD_CHUNK // 2) + [("stall", long, False)]
    calls += [("echo", long, False)] * (2 * AHEAD_CHUNK)
    with Worker(LIMITS) as running:
        session, read_ahead, made = read_ahead_of(running)
        read_ahead.prefetch(calls)
        xs = [i / 3 for i in range(20_000)]
        for _ in range(AHEAD_CHUNK // 2):
            assert made.call("echo", (xs,), []).returned == xs
        started = time.monotonic()
        with pytest.raises(CallTimedOut, match="`stall` took more than 0.5 s of CPU time"):
            made.call("stall", (xs,), [])
        assert time.monotonic() - started < SPIN_SECONDS
        assert session.restarts == 1 and made.call("echo", (xs,), []).returned == xs


def test_held_replies_come_together_in_order_and_unheld_ones_at_once(fresh):
    held = fresh.send_calls([("as_float", "[]", False)] * 5 + [("stall", "[[]]", False)], hold=True)
    with pytest.raises(CallTimedOut):  # the answers made before the hang are held back with it
        fresh.receive(held[0])
    fresh.stop()
    fresh.start()
    assert fresh.load(PROTOCOL_SOURCE, "protocol.py")["ok"]
    held = fresh.send_calls([("echo", encode([float(i)]), False) for i in range(200)], hold=True)
    assert [fresh.receive(i)["returned"] for i in held] == [float(i) for i in range(200)]
    unheld = fresh.send_calls([("echo", "[1.0]", False), ("stall", "[[]]", False)])
    assert fresh.receive(unheld[0])["returned"] == 1.0


def test_a_hang_among_held_replies_replaces_the_worker_and_the_property_calls_again(monkeypatch):
    """Reading a remembered pass ahead holds the replies back; a call that hangs there keeps answers
    already made from the grader, so the worker is replaced and nothing read ahead is used."""
    monkeypatch.setattr(gradekit.engine.speed.read_ahead, "opening", lambda exchanges: b"known")
    calls = [("echo", encode([float(i)]), False) for i in range(AHEAD_CHUNK + 5)] + [("stall", "[[]]", False)]
    with Worker(LIMITS) as running:
        session, read_ahead, made = read_ahead_of(running)
        read_ahead.prefetch(calls)
        started = time.monotonic()
        assert read_ahead.read_ahead({b"known"}) is None
        assert time.monotonic() - started < SPIN_SECONDS
        assert session.restarts == 1
        assert made.call("echo", (3.0,), []).returned == 3.0  # from the fresh worker: the queue was let go


def test_a_call_that_spins_is_stopped_at_its_cpu_limit(fresh):
    """Within a poll slice or two of its limit and margin (0.75 s) of the worker's own CPU time, however
    busy the machine is; and, on the clock, well before the wall-clock backstop."""
    pid = submission_process(fresh)
    before, started = cpu_seconds(pid), time.monotonic()
    with pytest.raises(CallTimedOut, match="took more than 0.5 s of CPU time"):
        fresh.call("hang", "[]")
    assert time.monotonic() - started < SPIN_SECONDS
    tick = 1 / os.sysconf("SC_CLK_TCK")  # each reading of cpu_seconds is rounded down to a tick
    assert 0.75 - 2 * tick < cpu_seconds(pid) - before < 0.75 + 0.25


def test_sleeping_counts_as_computing_does(fresh):
    """In a sandbox nothing honest waits: a call's time asleep counts against its limit as its CPU
    time does, so a function cannot stall a grade by sleeping where it could not by computing."""
    started = time.monotonic()
    reply = fresh.call("nap", "[0.2]")
    assert reply["returned"] == 1.0 and reply["cpu"] < 0.1
    assert time.monotonic() - started >= 0.2
    with pytest.raises(CallTimedOut, match=r"did not answer within 0.5 s, computing or blocked \(a sleep"):
        fresh.call("nap", "[1.0]")


def test_a_call_that_sleeps_for_ever_is_stopped_at_its_limit(fresh):
    limit = clocks.limit(LIMITS.call_timeout)
    started = time.monotonic()
    with pytest.raises(CallTimedOut, match=r"did not answer within 0.5 s, computing or blocked \(a sleep"):
        fresh.call("sleep_forever", "[]")
    assert limit - 0.1 <= time.monotonic() - started < limit + 1.5


def test_a_call_that_returns_after_using_more_cpu_than_its_limit_has_timed_out(fresh):
    """0.6 s of CPU time is past the limit but within the grader's margin: the call's own reply
    says how long it took, and that decides."""
    with pytest.raises(CallTimedOut, match="took more than 0.5 s of CPU time"):
        fresh.call("spin_for", "[0.6]")
    assert fresh.call("as_float", "[]")["returned"] == 0.25  # it had answered: the worker is free


def test_loads_and_cells_are_timed_as_calls_are(fresh):
    assert fresh.load("import time\ntime.sleep(0.2)\n", "nap.py", fresh=False, timeout=0.5)["ok"]
    with pytest.raises(CallTimedOut, match="took more than 0.5 s of CPU time"):
        fresh.load("while True:\n    pass\n", "spin.py", fresh=False, timeout=0.5)


def test_loads_that_sleep_past_their_limit_time_out(fresh):
    with pytest.raises(CallTimedOut, match="computing or blocked"):
        fresh.load("import time\ntime.sleep(1.0)\n", "nap.py", fresh=False, timeout=0.5)


def submission_process(running: Worker) -> int:
    """The pid of the process that runs the submission: in bubblewrap, bubblewrap's child is the
    sandbox's init, and the worker is the init's child; elsewhere, the worker is the process started."""
    pid = running.proc.pid
    for _ in range(2 if running.isolation is Isolation.BUBBLEWRAP else 0):
        pid = int(Path(f"/proc/{pid}/task/{pid}/children").read_text().split()[0])
    return pid


def runtime_mount_points() -> list[str]:
    """The names bubblewrap makes in a private folder to show a runtime that lies under /tmp (a virtual
    environment made there): a worker sees them beside its own files."""
    return sorted({Path(p).relative_to("/tmp").parts[0] for p in isolation.runtime() if p.startswith("/tmp/")})


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def waiting_for_a_cpu() -> float:
    """Seconds this thread has spent ready to run but waiting for a CPU."""
    return int(Path("/proc/thread-self/schedstat").read_text().split()[1]) / 1e9


# The tests that crowd one CPU with HOGS run one at a time, whichever test process runs them: two crowds
# on the same CPU would measure each other.
BUSY = pytest.mark.crowds_a_cpu


@contextmanager
def busy_cpu(one_at_a_time: Callable[[str], AbstractContextManager[None]], *beside: int) -> Iterator[None]:
    """HOGS busy processes on one CPU, with the processes `beside` moved there too: each gets a small
    share of that CPU on any machine, and the tests pytest runs beside this one keep the others. Each
    hog is a session of its own, as the worker is, since Linux (with autogroups on) shares a CPU between
    sessions first. Where one of `beside` is this process, it gets its CPUs back after."""
    own = os.sched_getaffinity(0)
    cpu = min(own)
    hogs: list[subprocess.Popen[bytes]] = []
    with one_at_a_time("busy-cpu"):
        try:
            for _ in range(HOGS):
                hogs.append(subprocess.Popen([sys.executable, "-c", "while True: pass"], start_new_session=True))
                os.sched_setaffinity(hogs[-1].pid, {cpu})
            for pid in beside:
                os.sched_setaffinity(pid, {cpu})
            yield
        finally:
            os.sched_setaffinity(0, own)
            for hog in hogs:
                hog.kill()
                hog.wait()


@BUSY
def test_a_call_within_its_cpu_limit_answers_on_a_busy_machine(fresh, one_at_a_time):
    """0.2 s of CPU time, on a CPU the worker shares with HOGS busy processes, takes longer on the wall
    clock than the timeout and even the backstop: the call still answers, since only the worker's own
    computing counts, and its sleeping, and not its waiting for a turn on the CPU."""
    with busy_cpu(one_at_a_time, submission_process(fresh)):
        started = time.monotonic()
        reply = fresh.call("spin_for", "[0.2]")
        took = time.monotonic() - started
    assert reply["returned"] == 1.0 and 0.2 <= reply["cpu"] < LIMITS.call_timeout
    assert took > clocks.limit(LIMITS.call_timeout), f"the CPU was not busy enough to tell: {took:.2f} s"


def test_a_call_shorter_than_a_clock_tick_is_not_taken_for_a_sleep():
    """The process's CPU time counts whole clock ticks; its main thread's time on a CPU, to the
    nanosecond, tells a 3 ms call from a 3 ms sleep."""
    start = clocks.Clocks(cpu=1.0, wall=10.0, waited=0.5, ran=0.9)
    computed = clocks.Clocks(cpu=1.0, wall=10.003, waited=0.5, ran=0.903)
    slept = clocks.Clocks(cpu=1.0, wall=10.003, waited=0.5, ran=0.9)
    assert clocks.blocked(start, computed) == pytest.approx(0.0, abs=1e-9)
    assert clocks.blocked(start, slept) == pytest.approx(0.003)


def test_a_sleep_is_charged_less_the_graders_time_awake_after_the_answer():
    """1 s between two readings: the worker slept 0.9 s and waited 0.1 s for a CPU. With the grader
    awake 0.2 s after the answer woke it, 0.7 s is charged; awake 0.05 s, 0.85 s; awake longer than
    the worker slept, nothing."""
    start = clocks.Clocks(cpu=1.0, wall=10.0, waited=0.5, ran=0.9)
    end = clocks.Clocks(cpu=1.0, wall=11.0, waited=0.6, ran=0.9)
    assert clocks.blocked(start, end, answered=0.2) == pytest.approx(0.7)
    assert clocks.blocked(start, end, answered=0.05) == pytest.approx(0.85)
    assert clocks.blocked(start, end, answered=1.5) == 0.0


def test_a_worker_that_waited_for_a_cpu_while_the_grader_slept_is_not_charged_the_graders_turn():
    """A call on a busy CPU: the worker waits 11.5 ms for a CPU while the grader sleeps, computes 0.4
    ms and answers, then sleeps while the grader waits 8 ms for a CPU and reads the answer. None of the
    20 ms is the worker's sleep; the sleep past the time the grader slept (8.1 ms) would charge all of
    its own sleep."""
    start = clocks.Clocks(cpu=1.0, wall=10.0, waited=0.5, ran=0.9)
    end = clocks.Clocks(cpu=1.0, wall=10.020, waited=0.5115, ran=0.9004)
    assert clocks.blocked(start, end, answered=0.0081) == pytest.approx(0.0, abs=1e-9)


@BUSY
def test_a_worker_is_not_charged_for_the_time_its_answers_wait_for_a_busy_grader(fresh, one_at_a_time):
    """On a CPU shared with HOGS busy processes, the grader waits for a turn before it reads each answer,
    and the worker, its answer sent, sleeps meanwhile: that sleep is the busy machine's, not the
    submission's, and is not charged to it (a second of such calls was charged 0.75 s when it was, and
    0.25-0.30 s when only the sleep past the time the grader slept was taken off). A call that sleeps
    is still charged its sleep, however often the grader woke (and waited for a turn) to look at it
    meanwhile."""
    before, waited = fresh.spent(), waiting_for_a_cpu()
    with busy_cpu(one_at_a_time, submission_process(fresh), os.getpid()):
        started = time.monotonic()
        while time.monotonic() - started < 1.0:
            assert fresh.call("as_float", "[]")["returned"] == 0.25
        charged, waited = fresh.spent() - before, waiting_for_a_cpu() - waited
        before = fresh.spent()
        for _ in range(2):
            assert fresh.call("nap", "[0.5]")["returned"] == 1.0
        slept = fresh.spent() - before
    assert waited > 0.3, f"the grader waited only {waited:.2f} s for a CPU: not busy enough to tell"
    assert charged < 0.1, f"calls that compute almost nothing were charged {charged:.2f} s"
    assert slept >= 0.8, f"two calls that each slept 0.5 s were charged {slept:.2f} s"


@pytest.mark.parametrize(
    "cpu", ["", '"cpu": -0.5, ', '"cpu": "0.1", ', '"cpu": true, ', '"cpu": NaN, ', '"cpu": Infinity, ']
)
def test_a_reply_without_a_cpu_time_the_worker_could_report_is_a_broken_protocol(fresh, cpu):
    with pytest.raises(WorkerDied, match="broke the grader's protocol"):
        fresh.call("forge", json.dumps([cpu]))


def test_a_forged_reply_is_read_like_the_workers_own_when_its_cpu_time_is_one(fresh):
    """What the broken-protocol cases forge is otherwise a reply the grader reads: only its CPU time
    makes them broken."""
    assert fresh.call("forge", json.dumps(['"cpu": 0.001, ']))["returned"] == 1.0


def test_answers_alike_have_one_digest_however_long_each_took(fresh):
    quick = fresh.call("spin_for", "[0.0]")
    digest, line = fresh.last_answer, fresh.last_line
    slow = fresh.call("spin_for", "[0.1]")
    assert slow["cpu"] > quick["cpu"] + 0.05 and fresh.last_line != line
    assert fresh.last_answer == digest
    fresh.call("as_float", "[]")
    assert fresh.last_answer != digest


def test_a_killed_worker_raises_worker_died(fresh):
    """Sandboxed, the process killed is the sandbox's, and the kernel ends the worker a moment later:
    calls until then may still be answered, and the first one after is reported with the signal."""
    os.kill(fresh.proc.pid, signal.SIGKILL)
    deadline = time.monotonic() + 5.0
    with pytest.raises(WorkerDied, match="killed by SIGKILL"):
        while time.monotonic() < deadline:
            fresh.call("as_float", "[]")


def test_a_worker_that_exits_raises_worker_died_with_its_code(fresh):
    with pytest.raises(WorkerDied, match="exited with code 7"):
        fresh.call("crash", "[]")


BUSY_SOURCE = """
import time

def busy():
    time.sleep(0.5)
    return time.monotonic()

def size(xs):
    return len(xs)
"""


def test_a_chunk_of_calls_larger_than_a_pipe_is_sent_while_the_worker_is_busy(each_start, monkeypatch):
    """Calls on whole tables make a chunk larger than a pipe holds by default (64 KiB). The grader's
    write of the next chunk ends while the worker is still in a call of the last, so the grader goes
    on checking earlier answers instead of waiting for the worker to finish that call and read on.
    The pipes are as wide as on a machine of few cores (see the test below for many)."""
    monkeypatch.setattr(os, "cpu_count", lambda: 2)
    monkeypatch.setattr(process, "pipe_bytes", functools.cache(process.pipe_bytes.__wrapped__))
    tables = [encode([[float(i)] * 20_000]) for i in range(4)]  # about 210 KB each
    with Worker(replace(LIMITS, call_timeout=5.0, **each_start)) as running:
        assert running.load(BUSY_SOURCE, "busy.py")["ok"]
        (first,) = running.send_calls([("busy", "[]", False)])
        rest = running.send_calls([("size", table, False) for table in tables])
        sent = time.monotonic()
        finished = running.receive(first)["returned"]
        assert [running.receive(i)["returned"] for i in rest] == [20_000] * 4
    assert sent < finished  # the same clock on both sides: the sandbox has no time namespace


def test_the_pipes_of_a_grader_on_every_core_take_at_most_half_of_a_users_pipe_allowance(monkeypatch):
    """Past a user's allowance for pipes the kernel gives each new pipe of theirs a page or two, other
    programs' too: however many cores grade at once, their workers' pipes stay within half of it."""
    soft = int(Path("/proc/sys/fs/pipe-user-pages-soft").read_text()) * os.sysconf("SC_PAGE_SIZE")
    widths = {}
    for cores in (1, 2, 48, 128, 4096):
        monkeypatch.setattr(os, "cpu_count", lambda cores=cores: cores)
        process.pipe_bytes.cache_clear()
        widths[cores] = process.pipe_bytes()
        assert widths[cores] <= process.PIPE_BYTES
        assert soft == 0 or cores * 2 * widths[cores] <= soft // 2
    process.pipe_bytes.cache_clear()
    if soft == 0 or soft >= 64 * MIB:  # unlimited, or Linux's default allowance
        assert widths[1] == widths[2] == process.PIPE_BYTES
    if 0 < soft <= 64 * MIB:
        assert widths[48] < process.PIPE_BYTES


def test_a_line_on_the_reply_pipe_that_is_not_a_reply_raises_worker_died(fresh):
    with pytest.raises(WorkerDied, match="broke the grader's protocol"):
        fresh.call("scribble", "[]")


def test_stop_ends_the_process_and_its_group_and_removes_its_folder(fresh, tmp_path, monkeypatch):
    pid, folder = fresh.proc.pid, fresh.directory
    assert folder and Path(folder).is_dir()
    assert os.getpgid(pid) == pid  # the worker leads its own group, so the group can be killed whole
    fresh.stop()
    assert fresh.proc is None
    with pytest.raises(ProcessLookupError):
        os.killpg(pid, 0)
    assert not Path(folder).exists()
    monkeypatch.chdir(tmp_path)
    (tmp_path / "output.txt").write_text("the grader's own file")
    assert fresh.output() == ""  # a stopped worker has no output, and never reads the grader's folder


def test_other_assignment_folders_are_protected_too(tmp_path, cross_entropy):
    from gradekit.grader import Grading, grade

    course = tmp_path / "course_assignments"
    course.mkdir()
    secret = course / "answers.txt"
    secret.write_text("the answers")
    submission = tmp_path / "peek.py"
    reference = Path(gradekit.reference.cross_entropy.__file__).read_text()
    submission.write_text(
        reference
        + f"""

_right_softmax = softmax


def softmax(logits):
    try:
        open({str(secret)!r}).read()
    except PermissionError:
        return _right_softmax(logits)
    return [0.0] * len(logits)
"""
    )
    config = GradeConfig(max_examples=10, limits=Limits(**GUARDED))
    result = grade(submission, cross_entropy, config, Grading([str(course)]))
    softmax_result = next(t for t in result.tests if t.name == "softmax_matches_reference")
    assert softmax_result.status is Status.PASSED, softmax_result.message


def test_a_forked_worker_finds_numpy_loaded_but_no_way_to_call_c_through_ctypes():
    source = (
        "import sys\n"
        "import numpy\n"
        "def probe():\n"
        "    return float('numpy' in sys.modules)\n"
        "def call_c():\n"
        "    import ctypes\n"
        "    return float(ctypes.CDLL(None).getpid())\n"
    )
    unguarded = replace(LIMITS, **GUARDED)
    with forked_workers(unguarded), Worker(unguarded) as running:
        assert running.load(source, "probe.py")["ok"]
        assert running.call("probe", "[]")["returned"] == 1.0
        refused = running.call("call_c", "[]")["error"]
        assert refused["type"] == "PermissionError" and "through ctypes is not allowed" in refused["message"]


def test_workers_start_alone_again_once_their_fork_server_is_lost():
    unguarded = replace(LIMITS, **GUARDED)
    with forked_workers(unguarded):
        with Worker(unguarded) as first:
            server = first.proc.server
            assert first.load(PROTOCOL_SOURCE, "protocol.py")["ok"]
        server.proc.kill()
        with Worker(unguarded) as second:
            assert second.load(PROTOCOL_SOURCE, "protocol.py")["ok"]
            assert second.call("as_float", "[]")["returned"] == 0.25
            assert not hasattr(second.proc, "server"), "started alone, as a Popen"


TURNS_SOURCE = """
import ctypes
import os
import select
import signal


def leave(name):
    with open(name, "w") as handle:
        handle.write("for whoever comes next")
    os.mkdir(name + ".d")
    return 1.0


def found(shown):
    return float(len(set(os.listdir(".")) - set(shown)))


def ipc():
    libc = ctypes.CDLL(None, use_errno=True)
    made = libc.shmget(0, 4096, 0o1666), libc.msgget(0, 0o1666), libc.semget(0, 1, 0o1666)
    return [float(m) for m in made] + [float(ctypes.get_errno())]


def write(path):
    try:
        with open(path, "w") as handle:
            handle.write("x")
    except OSError:
        return -1.0
    return 1.0


def parent(sent):
    os.kill(os.getppid(), int(sent))
    return float(os.getppid())
"""


def test_workers_one_after_another_find_nothing_the_one_before_left(each_start):
    """Each worker has a private folder of its own, made for it and removed after it: a file or a
    folder the worker before wrote is not there for the next, and nothing else takes files (/dev
    included)."""
    limits = replace(LIMITS, **each_start)
    mount_points = encode([runtime_mount_points()])
    with Worker(limits) as first:
        assert first.load(TURNS_SOURCE, "turns.py")["ok"]
        assert first.call("leave", encode(["note"]))["returned"] == 1.0
        assert first.call("found", mount_points)["returned"] == 2.0
    with Worker(limits) as second:
        assert second.load(TURNS_SOURCE, "turns.py")["ok"]
        assert second.call("found", mount_points)["returned"] == 0.0
        if second.isolation is not Isolation.GUARD:
            closed = ["/dev/note", "/dev/shm/note", "/note"]
            closed += [] if second.isolation is Isolation.BUBBLEWRAP else ["/tmp/note"]  # there, its own folder
            for path in closed:
                assert second.call("write", encode([path]))["returned"] == -1.0, path


@pytest.mark.parametrize("start", ["bubblewrap", "landlock", "landlock, forked"])
def test_system_v_objects_that_would_outlive_a_worker_are_refused(start):
    """Shared memory, message queues and semaphores outlive the process that makes them, so a worker
    could leave them for a classmate: refused behind every OS wall."""
    wall, _, forked = start.partition(", ")
    limits = replace(LIMITS, isolation=wall)
    with forked_workers(limits) if forked else nullcontext(), Worker(limits) as running:
        assert running.load(TURNS_SOURCE, "turns.py")["ok"]
        assert running.isolation is Isolation(wall) and isinstance(running.proc, Forked) == bool(forked)
        assert running.call("ipc", "[]")["returned"] == [-1.0, -1.0, -1.0, float(errno.EPERM)]


@pytest.mark.parametrize("sent", [signal.SIGKILL, signal.SIGSTOP, signal.SIGINT, signal.SIGTERM])
@pytest.mark.parametrize("wall", ["landlock", "off"])
def test_a_forked_worker_cannot_signal_its_fork_server(sent, wall):
    """Outside bubblewrap, workers are forked from a fork server of the grader's: no signal a worker sends
    reaches it (Landlock's scope, the filter, or the guard refuse it), so the next worker is forked
    from it as before."""
    limits = replace(LIMITS, isolation=wall)
    with forked_workers(limits):
        with Worker(limits) as first:
            assert first.load(TURNS_SOURCE, "turns.py")["ok"]
            assert isinstance(first.proc, Forked)
            server = first.proc.server
            refused = first.call("parent", encode([int(sent)]))
            assert refused["ok"] is False and refused["error"]["type"] == "PermissionError", refused
        with Worker(limits) as second:
            assert second.load(PROTOCOL_SOURCE, "protocol.py")["ok"]
            assert isinstance(second.proc, Forked) and second.proc.server is server
            assert second.call("as_float", "[]")["returned"] == 0.25


@pytest.fixture
def broken_sandbox(monkeypatch):
    """A machine where bubblewrap is installed but cannot set a sandbox up (a kernel or AppArmor that
    refuses user namespaces fails the same way): every bubblewrap command here carries an option it
    refuses."""
    command = bubblewrap.command

    def refused(*args, **kwargs):
        argv, keep = command(*args, **kwargs)
        return [argv[0], "--no-such-option", *argv[1:]], keep

    monkeypatch.setattr(bubblewrap, "command", refused)
    isolation.forget()
    yield
    isolation.forget()


def test_a_sandbox_that_will_not_start_is_found_by_the_first_worker_which_runs_in_landlock(broken_sandbox):
    for request in ("auto", "require"):
        with Worker(replace(LIMITS, isolation=request)) as running:
            assert running.load(PROTOCOL_SOURCE, "protocol.py")["ok"]
            assert running.isolation is Isolation.LANDLOCK
            assert running.note is not None and "--no-such-option" in running.note, running.note
            assert running.call("as_float", "[]")["returned"] == 0.25


def test_a_sandbox_that_will_not_start_stops_a_grader_that_asks_for_it(broken_sandbox):
    with Worker(replace(LIMITS, isolation="bubblewrap")) as running, pytest.raises(GradekitError) as refused:
        running.load(PROTOCOL_SOURCE, "protocol.py")
    assert "--no-such-option" in str(refused.value) and "gradekit doctor" in str(refused.value)


def test_with_no_sandbox_at_all_a_grader_that_requires_one_stops_and_a_check_runs_behind_the_guard(
    broken_sandbox, monkeypatch
):
    monkeypatch.setattr(landlock, "abi", lambda: 0)
    with Worker(replace(LIMITS, isolation="require")) as running, pytest.raises(GradekitError, match="none works"):
        running.load(PROTOCOL_SOURCE, "protocol.py")
    with Worker(replace(LIMITS, isolation="auto")) as running:
        assert running.load(PROTOCOL_SOURCE, "protocol.py")["ok"]
        assert running.isolation is Isolation.GUARD
        assert "without OS isolation" in running.note and "no Landlock" in running.note, running.note


def test_a_worker_that_starts_is_its_own_probe():
    """No sandbox is started to find out whether one starts: the first worker is, and once it has
    said it is confined, the isolation is known to work here."""
    isolation.forget()
    with Worker(replace(LIMITS, isolation="auto")) as running:
        assert running.load(PROTOCOL_SOURCE, "protocol.py")["ok"]
        assert running.isolation is Isolation.BUBBLEWRAP and running.note is None
    assert isolation.proven(Isolation.BUBBLEWRAP, None)
    assert isolation.known("auto", None) is Isolation.BUBBLEWRAP


class _StoppedWhileWaiting:
    """`select` for gradekit.sandbox.bubblewrap alone, as if Ctrl-C or SIGTERM came while the grader
    waited for bubblewrap to say its sandbox had started."""

    POLLIN, POLLHUP = select.POLLIN, select.POLLHUP

    class _Poller:
        def register(self, fd: int, events: int) -> None:
            pass

        def poll(self, timeout: float) -> list[tuple[int, int]]:
            raise KeyboardInterrupt

    @classmethod
    def poll(cls) -> _Poller:
        return cls._Poller()


def _children() -> set[int]:
    """This process's child processes still there (exited but not waited for counts too)."""
    found = set()
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == os.getpid():
            found.add(int(stat.parent.name))
    return found


def _marked_limits() -> Limits:
    """Limits no other test's worker has: the memory cap, which every worker's command line carries,
    marks the processes started here."""
    return Limits(memory_bytes=Limits().memory_bytes + uuid.uuid4().int % 10**6 * 4096)


def _start(start: str, limits: Limits) -> None:
    """Start what a grade starts: a worker, or a class's fork server (outside bubblewrap)."""
    isolation.forget()
    if start == "a worker":
        Worker.started(limits)._confined()
    else:
        with forked_workers(replace(limits, isolation="landlock")):
            pass


def _left_behind(before: set[int], limits: Limits) -> list[str]:
    """This process's children not in `before`, and every process whose command line carries `limits`'
    memory cap (bubblewrap's, and its child's), still there once the kernel has had a few seconds to
    end what was killed: a process left waiting stays for ever."""
    marker = f'"memory_bytes": {limits.memory_bytes - limits.folder_bytes},'.encode()
    deadline = time.monotonic() + 5
    while True:
        named = []
        for cmdline in Path("/proc").glob("[0-9]*/cmdline"):
            with suppress(OSError):
                if marker in cmdline.read_bytes():
                    named.append(cmdline.parent.name)
        left = sorted({str(pid) for pid in _children() - before} | set(named))
        if not left or time.monotonic() > deadline:
            return left
        time.sleep(0.05)


def test_a_stop_while_the_sandbox_starts_leaves_no_bubblewrap_behind(monkeypatch):
    """Until bubblewrap says its sandbox has started, nothing but the wait knows it: a stop then
    (the grade's SIGTERM handler raises) must end it there, or it outlives the grader."""
    assert isolation.why_not(Isolation.BUBBLEWRAP, None) is None
    before, limits = _children(), _marked_limits()
    monkeypatch.setattr(bubblewrap, "select", _StoppedWhileWaiting)
    with pytest.raises(KeyboardInterrupt):
        _start("a worker", limits)
    assert _left_behind(before, limits) == [], "bubblewrap outlived the stop"


def test_a_worker_stopped_before_its_first_request_leaves_no_sandbox_behind():
    """The grader reads the sandbox's pid from bubblewrap at the worker's first request, not as it
    starts (bubblewrap sets the sandbox up while the grader imports): a worker stopped before then,
    its sandbox up and its pid unread, is ended all the same, the sandbox's init with it."""
    assert isolation.why_not(Isolation.BUBBLEWRAP, None) is None
    before, limits = _children(), _marked_limits()
    isolation.forget()
    worker = Worker.started(limits)
    ready = select.poll()
    ready.register(worker._reply_read, select.POLLIN)
    assert ready.poll(60_000), "the worker never said it was confined"
    assert worker._told >= 0, "the sandbox's pid was read as bubblewrap started"
    worker.stop()
    assert _left_behind(before, limits) == [], "the sandbox outlived the stop"


def _stopped_once_started(popen: type[subprocess.Popen[bytes]]) -> object:
    """`subprocess.Popen`, with Ctrl-C coming just after the fork, before the caller has the handle."""

    def start(*args: object, **kwargs: object) -> subprocess.Popen[bytes]:
        started = popen(*args, **kwargs)
        signal.raise_signal(signal.SIGINT)
        return started

    return start


@pytest.mark.parametrize("start", ["a worker", "a class's fork server"])
def test_a_stop_as_a_worker_is_forked_leaves_nothing_behind(start, monkeypatch):
    """A stop may land inside `subprocess.Popen`, after bubblewrap (or a fork server) was forked: it is
    taken once the handle is kept where the clean-up finds it, or the only handle on it is lost with
    it. Killed while it sets the sandbox up, bubblewrap must be killed with its child, which waits for it."""
    assert isolation.why_not(Isolation.BUBBLEWRAP, None) is None
    before, limits = _children(), _marked_limits()
    monkeypatch.setattr(subprocess, "Popen", _stopped_once_started(subprocess.Popen))
    handler = signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        with pytest.raises(KeyboardInterrupt):
            _start(start, limits)
    finally:
        signal.signal(signal.SIGINT, handler)
    assert _left_behind(before, limits) == [], "a process outlived the stop"
