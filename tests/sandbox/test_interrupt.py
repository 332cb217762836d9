"""Stopping gradekit: Ctrl-C or SIGTERM ends a run cleanly, and the same command resumes a class grade.

Each test starts the real command in a session of its own, with TMPDIR pointed at an empty folder,
waits for an event (a student's function hanging in its sandboxed worker, which names itself in
/proc/PID/comm so the host can see it; for the self-test, a grader's first worker), signals it, and
then checks what it left: its exit code, one line on stderr and no traceback, no process of its tree
or of its session, and nothing in TMPDIR.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterable
from contextlib import suppress
from dataclasses import dataclass
from pathlib import Path

from gradekit.sandbox import isolation
from gradekit.sandbox.isolation import Isolation

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples"
HOSTILE = Path(__file__).resolve().parents[1] / "hostile"
# A third perplexity after the file's two: the last definition is the one graded. It names its process
# (at most 15 characters) before it spins, which the host sees.
HANG = """

def perplexity(loss):
    import ctypes
    ctypes.CDLL(None).prctl(15, {marker!r}.encode())  # PR_SET_NAME
    while True:
        pass
"""
WAIT = 120.0  # the most seconds a test waits for an event before it gives up (never an assertion on time)
SETTLE = 10.0  # the most seconds the processes of a stopped run get to disappear


@dataclass(frozen=True)
class Stopped:
    """How a command ended after it was signalled, and what it left behind."""

    code: int
    stdout: str
    stderr: str
    left: list[str]  # processes of its tree or its session still running
    temporary: list[str]  # what is left in its TMPDIR


def test_ctrl_c_stops_a_class_grade_cleanly_and_the_same_command_resumes_it(tmp_path):
    marker = f"hang{os.getpid()}"
    argv, out = _grade_command(tmp_path, marker, timeout=5)
    stopped = _stop(
        argv, tmp_path / "tmp", lambda tree: marker in tree.values() and _results(out), _ctrl_c, tmp_path / "logs"
    )
    _assert_clean(stopped, 128 + signal.SIGINT, "gradekit: stopped; run the same command again to resume")
    finished = _results(out)
    assert "alice" in finished or "bob" in finished
    assert "carol" not in finished, "an interrupted student's result was written"
    before = {name: (out / "results" / f"{name}.json").read_bytes() for name in finished}
    stamps = {name: (out / "results" / f"{name}.json").stat().st_mtime_ns for name in finished}

    again = subprocess.run(argv, capture_output=True, text=True, env=_environment(tmp_path / "tmp"), timeout=600)
    assert again.returncode == 0, again.stderr
    assert again.stderr.splitlines()[-1].startswith(
        f"gradekit: 4 students in {out} ({4 - len(finished)} graded now, {len(finished)} kept from before)"
    )
    for name in finished:
        path = out / "results" / f"{name}.json"
        assert path.read_bytes() == before[name] and path.stat().st_mtime_ns == stamps[name]
    assert _results(out) == {"alice", "bob", "carol", "dave"}
    carol = json.loads((out / "results" / "carol.json").read_text())
    assert {t["name"]: t["status"] for t in carol["tests"]}["perplexity_matches_reference"] == "timeout"
    assert not list((tmp_path / "tmp").iterdir())


def test_sigterm_to_the_grade_process_alone_stops_every_grader_and_worker(tmp_path):
    marker = f"hang{os.getpid()}"
    argv, out = _grade_command(tmp_path, marker, timeout=600)
    stopped = _stop(
        argv,
        tmp_path / "tmp",
        lambda tree: marker in tree.values() and _results(out),
        lambda pid: os.kill(pid, signal.SIGTERM),
        tmp_path / "logs",
    )
    _assert_clean(stopped, 128 + signal.SIGTERM, "gradekit: stopped; run the same command again to resume")
    assert "carol" not in _results(out), "an interrupted student's result was written"
    assert not list((out / "results").glob(".*")), "a result was left half-written"


def test_ctrl_c_stops_a_check_and_says_nothing_was_written(tmp_path):
    marker = f"hang{os.getpid()}"
    submission = tmp_path / "carol.py"
    submission.write_text((HOSTILE / "hang_in_perplexity.py").read_text() + HANG.format(marker=marker))
    argv = [*_gradekit("check", str(submission), "--assignment", "cross_entropy"), "--timeout", "600"]
    stopped = _stop(argv, tmp_path / "tmp", lambda tree: marker in tree.values(), _ctrl_c, tmp_path / "logs")
    _assert_clean(stopped, 128 + signal.SIGINT, "gradekit: stopped; nothing was written")
    assert stopped.stdout == ""


def test_sigterm_stops_a_selftest_and_says_nothing_was_written(tmp_path):
    temporary = tmp_path / "tmp"
    argv = _gradekit("selftest", "cross_entropy", "--jobs", "2", "--max-examples", "10")
    stopped = _stop(
        argv,
        temporary,
        # A grader has started a worker: a sandbox of its own, or a folder in the pool's.
        lambda tree: "bwrap" in tree.values() or any(temporary.glob("gradekit-pool-*/gradekit-*")),
        lambda pid: os.kill(pid, signal.SIGTERM),
        tmp_path / "logs",
    )
    _assert_clean(stopped, 128 + signal.SIGTERM, "gradekit: stopped; nothing was written")
    assert stopped.stdout == ""


def _grade_command(tmp_path: Path, marker: str, timeout: int) -> tuple[list[str], Path]:
    """`gradekit grade` over a class of four, carol's perplexity hanging, and the folder it writes."""
    submissions = tmp_path / "class"
    submissions.mkdir()
    shutil.copy(EXAMPLES / "submission.py", submissions / "alice.py")
    shutil.copy(EXAMPLES / "buggy_submission.py", submissions / "bob.py")
    (submissions / "carol.py").write_text((HOSTILE / "hang_in_perplexity.py").read_text() + HANG.format(marker=marker))
    shutil.copy(EXAMPLES / "submission.py", submissions / "dave.py")
    out = tmp_path / "results"
    argv = _gradekit("grade", str(submissions), "--assignment", "cross_entropy", "--out", str(out), "--jobs", "2")
    return [*argv, "--max-examples", "10", "--timeout", str(timeout)], out


def _gradekit(*args: str) -> list[str]:
    """The command line, in the OS sandbox where this machine has one (`grade` refuses to run without)."""
    sandboxed = any(isolation.why_not(wall, None) is None for wall in (Isolation.BUBBLEWRAP, Isolation.LANDLOCK))
    return [sys.executable, "-m", "gradekit", *args, *([] if sandboxed else ["--no-isolation"])]


def _environment(temporary: Path) -> dict[str, str]:
    temporary.mkdir(exist_ok=True)
    return {**os.environ, "TMPDIR": str(temporary)}


def _ctrl_c(pid: int) -> None:
    """What Ctrl-C does: SIGINT to every process of the terminal's foreground group."""
    os.killpg(pid, signal.SIGINT)


def _stop(
    argv: list[str],
    temporary: Path,
    ready: Callable[[dict[int, str]], bool],
    send: Callable[[int], None],
    logs: Path,
) -> Stopped:
    """Run `argv` in a session of its own until `ready` says so of its process tree (pid -> name),
    then `send` it a signal; how it ended, and what it left once its processes had time to go."""
    logs.mkdir()
    with open(logs / "stdout", "w") as stdout, open(logs / "stderr", "w") as stderr:
        child = subprocess.Popen(
            argv,
            stdin=subprocess.DEVNULL,
            stdout=stdout,
            stderr=stderr,
            env=_environment(temporary),
            cwd=ROOT,
            start_new_session=True,
        )
    said = lambda: (logs / "stderr").read_text()
    try:
        started = lambda: child.poll() is not None or ready(_names(pid for pid, _ in _tree(child.pid)))
        assert _wait_for(started), f"the run never got to the point to stop it at: {said()}"
        assert child.poll() is None, f"the run ended before it could be stopped: {said()}"
        # A worker outside bubblewrap has its folder there; in bubblewrap nothing of the run is on disk.
        assert list(temporary.iterdir()) or "bwrap" in _names(p for p, _ in _tree(child.pid)), "no worker found"
        members = _tree(child.pid)
        send(child.pid)
        code = child.wait(timeout=WAIT)
    finally:
        if child.poll() is None:  # the test failed: nothing of the run may outlive it
            _kill(pid for pid, _ in _tree(child.pid))
            child.wait()
    _wait_for(lambda: not _left(members, child.pid), SETTLE)
    left = _left(members, child.pid)
    named = _named(left)
    _kill(left)  # a failed test must not leave a worker spinning on the machine
    return Stopped(code, (logs / "stdout").read_text(), said(), named, sorted(p.name for p in temporary.iterdir()))


def _assert_clean(stopped: Stopped, code: int, said: str) -> None:
    assert "Traceback" not in stopped.stderr, stopped.stderr
    assert stopped.code == code, stopped.stderr
    assert [line for line in stopped.stderr.splitlines() if "stopped" in line] == [said], stopped.stderr
    assert stopped.stderr.splitlines()[-1] == said
    assert stopped.left == [], "processes outlived the run"
    assert stopped.temporary == [], "temporary files outlived the run"


def _results(out: Path) -> set[str]:
    """The students with a result written."""
    return {path.stem for path in (out / "results").glob("*.json")} if (out / "results").is_dir() else set()


def _wait_for(event: Callable[[], bool], seconds: float = WAIT) -> bool:
    """Whether `event` happened within `seconds`, looking every 50 ms."""
    deadline = time.monotonic() + seconds
    while not event():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True


def _processes() -> dict[int, tuple[int, int, int, str]]:
    """Every process now: pid -> (parent's pid, session id, start time, state), from /proc."""
    table = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                fields = Path(f"/proc/{entry}/stat").read_bytes().rpartition(b")")[2].split()
            except OSError:
                continue
            table[int(entry)] = (int(fields[1]), int(fields[3]), int(fields[19]), fields[0].decode())
    return table


def _tree(root: int) -> set[tuple[int, int]]:
    """`root` and every process descended from it now, as (pid, start time): a pid alone can be reused.
    A sandboxed worker is in its own session, under bubblewrap, so only its ancestry ties it to the run."""
    table = _processes()
    children: dict[int, list[int]] = {}
    for pid, (parent, *_) in table.items():
        children.setdefault(parent, []).append(pid)
    found, todo = set(), [root]
    while todo:
        pid = todo.pop()
        if pid in table:
            found.add((pid, table[pid][2]))
            todo += children.get(pid, [])
    return found


def _names(pids: Iterable[int]) -> dict[int, str]:
    """pid -> the name each process gives itself (/proc/PID/comm), for those still there."""
    names = {}
    for pid in pids:
        try:
            names[pid] = Path(f"/proc/{pid}/comm").read_text().strip()
        except OSError:
            continue
    return names


def _left(members: set[tuple[int, int]], session: int) -> list[int]:
    """Those of `members`, and the processes of `session`, still running (a zombie has ended)."""
    table = _processes()
    running = {pid for pid, start in members if pid in table and table[pid][2] == start}
    running |= {pid for pid, row in table.items() if row[1] == session}
    return sorted(pid for pid in running if table[pid][3] != "Z")


def _kill(pids: Iterable[int]) -> None:
    for pid in pids:
        with suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)


def _named(pids: list[int]) -> list[str]:
    return [f"{pid} {name}" for pid, name in sorted(_names(pids).items())]


def test_a_stop_raised_inside_a_garbage_collector_callback_is_not_lost():
    """Python drops what a gc callback raises (Hypothesis keeps one): the stop is raised again after it."""
    code = """
import gc, signal, time
from gradekit.sandbox.stops import stops_kept

def interrupted(signum, frame):
    raise KeyboardInterrupt(signum)

signal.signal(signal.SIGTERM, interrupted)
stops_kept(lambda error: error.args[0] if isinstance(error, KeyboardInterrupt) and error.args else None)

def once(phase, info):
    gc.callbacks.clear()
    signal.raise_signal(signal.SIGTERM)

gc.callbacks.append(once)
try:
    gc.collect()
    time.sleep(10)
    print("not stopped")
except KeyboardInterrupt as stop:
    print("stopped by", stop.args[0])
"""
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert (done.stdout, done.stderr) == (f"stopped by {int(signal.SIGTERM)}\n", "")
