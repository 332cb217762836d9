"""Who a worker runs as, and the kernel's bounds on its threads: a root grader runs each worker as a uid
of its own where one can run the interpreter (else as root in a pids cgroup of its own), no two
workers share such a uid, a shared --run-as user is no wall between workers, and a worker can signal
no classmate whoever it runs as.

The end-to-end tests start a root grader with a Python that a uid of no group of its own may run (a
venv over the system's interpreter, readable by all, where this one lies under a closed folder), since
only there may a worker run as a uid of its own; the tests of this folder run the other case, a grader
whose interpreter such a uid cannot reach, behind both walls.
"""

from __future__ import annotations

import fcntl
import json
import os
import pwd
import re
import shutil
import subprocess
import sys
import sysconfig
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from gradekit.config import Limits
from gradekit.errors import HostFailure
from gradekit.sandbox import Worker, accounts, cgroups, host, isolation, landlock
from gradekit.sandbox.accounts import Account, Kind
from gradekit.sandbox.isolation import Isolation

REPOSITORY = Path(__file__).resolve().parents[2]
HOSTILE = REPOSITORY / "tests" / "hostile"
SANITY_SECONDS = 120.0  # a bound on a runaway, not a speed target
ROOT = pytest.mark.skipif(os.geteuid() != 0, reason="only a root grader chooses who its workers run as")
SHARED = "nobody"  # a --run-as user every worker shares


# What a uid of its own is taken from


@ROOT
def test_workers_held_at_once_never_share_a_uid():
    """Uids held in this process, and one taken by another grader process meanwhile, are all distinct,
    all in the reserved range; a uid let go is held by no lock any more."""
    held = [accounts.reserve() for _ in range(3)]
    assert all(reserved is not None for reserved in held)
    uids = [reserved.account.ids[0] for reserved in held if reserved is not None]
    other = subprocess.run(
        [sys.executable, "-c", "from gradekit.sandbox import accounts; print(accounts.reserve().account.ids[0])"],
        capture_output=True,
        text=True,
        timeout=SANITY_SECONDS,
        check=True,
    )
    uids.append(int(other.stdout))
    assert len(set(uids)) == 4 and all(uid in accounts.RESERVED for uid in uids), uids
    for reserved in held:
        assert reserved is not None and reserved.account.kind is Kind.OWN
        reserved.release()
    folder = accounts.folder()
    assert folder is not None
    with open(os.path.join(folder, str(uids[0]))) as lock:
        fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)  # would raise were it still held


@ROOT
def test_a_uid_some_process_runs_as_is_not_taken():
    """A uid whose lock is free but that a process still runs as (a worker whose grader died) is skipped."""
    first = accounts.reserve()
    assert first is not None and first.account.ids is not None
    uid = first.account.ids[0]
    first.release()
    sleeper = subprocess.Popen(["sleep", str(SANITY_SECONDS)], user=uid, group=uid, extra_groups=[])
    try:
        taken = accounts.reserve()
        assert taken is not None and taken.account.ids is not None and taken.account.ids[0] != uid
        taken.release()
    finally:
        sleeper.kill()
        sleeper.wait()


@pytest.fixture
def open_tmp() -> Iterator[Path]:
    """A temporary folder others may reach (pytest's own folders are closed to them)."""
    top = Path(tempfile.mkdtemp(prefix="gradekit-reach-"))
    top.chmod(0o755)
    yield top
    shutil.rmtree(top)


def test_what_a_uid_of_no_group_reaches_is_what_others_may(open_tmp):
    """Only "other" bits let such a uid in: a folder closed to others anywhere above a path closes it,
    a file must be readable, a program runnable."""
    open_folder = open_tmp / "open"
    closed = open_tmp / "closed"
    for folder in (open_folder, closed):
        folder.mkdir(mode=0o755)
        (folder / "program").write_text("")
        (folder / "program").chmod(0o755)
        (folder / "data").write_text("")
        (folder / "data").chmod(0o644)
    closed.chmod(0o750)
    (open_folder / "secret").write_text("")
    (open_folder / "secret").chmod(0o640)
    found = [str(open_folder / "program"), str(open_folder / "data"), str(open_folder)]
    assert accounts.closed_to_others(found) is None
    assert accounts.closed_to_others([*found, str(closed / "data")]) == str(closed)
    assert accounts.closed_to_others([str(open_folder / "secret")]) == str(open_folder / "secret")


def test_a_shared_run_as_user_is_no_wall_between_workers(monkeypatch):
    """Outside bubblewrap, on a kernel without Landlock's signal scope, only a uid of the worker's own
    keeps its signals home; a user every worker shares does not, nor does root."""
    monkeypatch.setattr(landlock, "abi", lambda: 5)
    shared = Account(Kind.SHARED, (65534, 65534))
    assert not isolation.signals_kept_home(Isolation.LANDLOCK, shared)
    assert not isolation.signals_kept_home(Isolation.LANDLOCK, Account(Kind.ROOT))
    assert isolation.signals_kept_home(Isolation.LANDLOCK, Account(Kind.OWN, (accounts.RESERVED.start,) * 2))
    assert isolation.signals_kept_home(Isolation.BUBBLEWRAP, shared)


# The kernel's bound on a root worker's threads

FLOOD = """
import sys, threading
input()
hold, started = threading.Event(), 0
threading.stack_size(1 << 15)
try:
    while started < 5000:
        threading.Thread(target=hold.wait, daemon=True).start()
        started += 1
except RuntimeError:
    pass
print(started)
"""


@ROOT
@pytest.mark.skipif(cgroups.parent() is None, reason="no pids cgroup can be made on this host")
@pytest.mark.parametrize("entered", ["moved in by the grader", "entering as it starts"])
def test_a_pids_cgroup_refuses_a_root_process_threads_past_its_cap(entered):
    """Root is not held to RLIMIT_NPROC, but a pids cgroup holds it: a process in one of at most 10
    tasks starts 9 threads and no more, whether the grader moved it in or it entered as it started
    (`entering`, as a worker does: the grader moving it would wait on the kernel), and the cgroup is
    gone once the process is."""
    group = cgroups.Pids.made(10)
    assert group is not None
    itself = entered == "entering as it starts"
    command = [sys.executable, "-c", FLOOD]
    flood = subprocess.Popen(
        group.entering(command) if itself else command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )
    try:
        if not itself:
            group.hold([flood.pid])
        started, _ = flood.communicate("\n", timeout=SANITY_SECONDS)
    finally:
        flood.kill()
        flood.wait()
    assert int(started) == 9
    group.remove()
    assert not os.path.exists(group.path)


def test_a_root_worker_whose_pids_cgroup_refuses_its_bound_is_a_host_failure(monkeypatch):
    """The report names a pids cgroup as what holds a root worker's threads wherever one can be made
    (isolation.account_note): one made whose bound the kernel refuses starts no worker, and no grade
    is given."""

    def refused(most: int) -> cgroups.Pids:
        raise PermissionError(13, "Permission denied", "pids.max")

    monkeypatch.setattr(cgroups.Pids, "made", staticmethod(refused))
    monkeypatch.setattr(Worker, "_account_for", lambda self, wall, script: Account(Kind.ROOT))
    with pytest.raises(HostFailure, match="could not be capped by a pids cgroup: .*Permission denied"):
        Worker(Limits(isolation="off")).start()


# A root grader whose interpreter a uid of its own can run


def _reaches_all(python: str) -> bool:
    """Whether a uid of no group of its own may run `python` and read its libraries."""
    ask = (
        "import json, sys, sysconfig; print(json.dumps([sys.executable, sys.prefix, *sysconfig.get_paths().values()]))"
    )
    done = subprocess.run([python, "-c", ask], capture_output=True, text=True, timeout=SANITY_SECONDS, check=True)
    wanted = [path for path in json.loads(done.stdout) if os.path.exists(path)]
    return accounts.closed_to_others(wanted) is None


# Where the installed package's folders lie in the repository (pyproject.toml's package-dir).
PACKAGE_FOLDERS = {"": "gradekit", "reference": "reference", "assignments": "assignments"}


@pytest.fixture(scope="module")
def open_python() -> Iterator[list[str]]:
    """The command that starts a Python others may run, with this environment's packages (gradekit
    among them) on the grader's own path only: this interpreter where it lies open, else a venv over
    the system's interpreter of this version, in a folder readable by all. Where the repository lies
    in a folder closed to others (a clone in `mktemp -d`'s), gradekit is copied into that open folder
    and imported from there, as an installed gradekit would be: a worker run as a uid of its own must
    read its own script."""
    if os.geteuid() != 0:
        pytest.skip("only a root grader chooses who its workers run as")
    closed = accounts.closed_to_others([str(REPOSITORY / "gradekit")]) is not None
    if _reaches_all(sys.executable) and not closed:
        yield [sys.executable]
        return
    version = f"python{sys.version_info.major}.{sys.version_info.minor}"
    base = next((p for p in (f"/usr/bin/{version}", f"/usr/local/bin/{version}") if os.path.isfile(p)), None)
    if base is None or not _reaches_all(base):
        pytest.skip(f"no {version} here that a uid of no group of its own may run")
    folder = Path(tempfile.mkdtemp(prefix="gradekit-open-python-"))  # pytest's own folders are closed to others
    try:
        folder.chmod(0o755)
        subprocess.run([base, "-m", "venv", "--without-pip", str(folder / "venv")], check=True)
        sites = [sysconfig.get_path("purelib"), sysconfig.get_path("platlib")]
        adds = "; ".join(f"site.addsitedir({site!r})" for site in dict.fromkeys(sites))
        if closed:
            ignored = shutil.ignore_patterns("__pycache__")
            for inside, source in PACKAGE_FOLDERS.items():
                shutil.copytree(REPOSITORY / source, folder / "lib" / "gradekit" / inside, ignore=ignored)
            adds += f"; sys.path.insert(0, {str(folder / 'lib')!r})"
        yield [
            str(folder / "venv" / "bin" / "python"),
            "-c",
            f"import site, runpy, sys; {adds}; runpy.run_path(sys.argv[1], run_name='__main__')",
        ]
    finally:
        shutil.rmtree(folder, ignore_errors=True)


SCENARIO = """
import json, os, sys, tempfile, threading
from pathlib import Path
from gradekit import assignment
from gradekit.config import GradeConfig, Limits
from gradekit.grader import grade
from gradekit.sandbox import Worker

HOSTILE = Path(sys.argv[2])
SOURCE = "import os\\ndef who():\\n    return [os.getuid(), os.getgid()]\\n"
SOURCE += "def kill(pid):\\n    try:\\n        os.kill(int(pid), 9)\\n"
SOURCE += "    except OSError as e:\\n        return -e.errno\\n    return 0\\n"


def graded(name, limits, **places):
    source = (HOSTILE / name).read_text()
    for key, value in places.items():
        source = source.replace(f"__{key}__", value)
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "submission.py"
        path.write_text(source)
        result = grade(path, assignment.load("cross_entropy"), GradeConfig(max_examples=10, limits=limits))
    return {"score": result.score, "max_score": result.max_score, "error": result.error, "output": result.output,
            "isolation": result.isolation, "notes": list(result.notes)}


wall = sys.argv[3]
run_as = sys.argv[4] or None
limits = Limits(isolation=wall, run_as=run_as, call_timeout=0.5, load_timeout=10.0)
found = {}
with Worker(limits) as victim, Worker(limits) as attacker:
    for worker in (victim, attacker):
        assert worker.load(SOURCE, "who.py")["ok"]
    found["uids"] = [w.call("who", "[]")["returned"] for w in (victim, attacker)]
    found["owners"] = [os.stat(w.directory).st_uid for w in (victim, attacker)]
    found["pids"] = [w._worker_pid() for w in (victim, attacker)]
    found["killed"] = attacker.call("kill", json.dumps([victim._worker_pid()]))["returned"]
    found["graded"] = graded("kill_a_classmate.py", limits, VICTIM=str(victim._worker_pid()))
    found["flood"] = graded("thread_flood.py", limits)
    found["victim"] = victim.call("who", "[]")["returned"]
found["honest"] = graded("../../examples/submission.py", limits)
print(json.dumps(found))
"""


def scenario(command: list[str], wall: str, run_as: str, abi: str | None, folder: Path) -> dict:
    """SCENARIO run by a root grader started with `command`, behind `wall`, as `run_as` ("": a uid of
    its own per worker), with Landlock's ABI capped at `abi` (None: the kernel's)."""
    env = {} if abi is None else {"GRADEKIT_LANDLOCK_ABI": abi}
    return run_grader(command, SCENARIO, [str(HOSTILE), wall, run_as], env, folder)


def run_grader(command: list[str], source: str, args: list[str], env: dict[str, str], folder: Path) -> dict:
    """`source`, a grader's script printing JSON on its last line, run by `command` with `args` and
    this environment updated with `env`: what it printed."""
    script = folder / "grader.py"
    script.write_text(source)
    environment = {key: value for key, value in os.environ.items() if not key.startswith("PYTHON")}
    done = subprocess.run(
        [*command, str(script), *args],
        capture_output=True,
        text=True,
        timeout=SANITY_SECONDS,
        cwd=REPOSITORY,
        env={**environment, **env},
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.splitlines()[-1])


WALLS = ("bubblewrap", "landlock")


@pytest.mark.parametrize("wall", WALLS)
def test_a_root_grader_runs_each_worker_as_a_uid_of_its_own(open_python, wall, tmp_path):
    """No worker keeps uid 0: two workers held at once run as two uids of the reserved range (in
    bubblewrap, the sandbox's own user, mapped to such a uid), each owning its private folder; one
    cannot signal the other even with Landlock's signal scope taken away, and a thread flood is
    refused by the kernel short of THREADS. A right file gets full marks, as it does as root."""
    found = scenario(open_python, wall, "", "5", tmp_path)
    owners = found["owners"]
    assert len(set(owners)) == 2 and all(uid in accounts.RESERVED for uid in owners), owners
    if wall == "landlock":
        assert [uid for uid, _ in found["uids"]] == owners
    assert found["killed"] != 0 and found["victim"] == found["uids"][0]
    assert "kill: refused" in found["graded"]["output"], found["graded"]
    assert found["graded"]["score"] == found["graded"]["max_score"]
    said = re.search(r"threads refused after (\d+)", found["flood"]["output"])
    assert said is not None and int(said.group(1)) < isolation.THREADS, found["flood"]
    assert found["honest"]["score"] == found["honest"]["max_score"] == 100 and found["honest"]["error"] is None


@pytest.mark.parametrize("abi", ["5", None], ids=["abi-5", "this-kernel"])
@pytest.mark.parametrize("wall", WALLS)
def test_a_classmate_run_as_the_same_user_cannot_be_killed(open_python, wall, abi, tmp_path):
    """Two workers graded at once as the one --run-as user: the attacker's kill() of the other's pid
    fails (behind Landlock without its signal scope, the filter refuses it, since a shared user is
    no wall), the classmate answers on, and the attacker gets the full marks its functions earn."""
    found = scenario(open_python, wall, SHARED, abi, tmp_path)
    shared = pwd.getpwnam(SHARED)
    assert found["owners"] == [shared.pw_uid] * 2
    if wall == "landlock":
        assert found["uids"] == [[shared.pw_uid, shared.pw_gid]] * 2
    assert found["killed"] != 0 and found["victim"] == found["uids"][0]
    assert "kill: refused" in found["graded"]["output"], found["graded"]
    assert found["graded"]["score"] == found["graded"]["max_score"]
    assert found["honest"]["score"] == 100 and found["honest"]["error"] is None


WHO = """
import json, os
from gradekit.config import Limits
from gradekit.sandbox import Worker

with Worker(Limits(isolation="bubblewrap")) as worker:
    assert worker.load("def f():\\n    return 1.0\\n", "f.py")["ok"]
    assert worker.call("f", "[]")["returned"] == 1.0
    print(json.dumps({"owner": os.stat(worker.directory).st_uid, "isolation": worker.isolation.value}))
"""
# bubblewrap where unprivileged user namespaces are off (Debian's kernel.unprivileged_userns_clone=0):
# it starts for root alone.
ROOT_ONLY_BWRAP = """#!/bin/sh
[ "$(id -u)" = 0 ] || {{ echo 'bwrap: setting up uid map: Permission denied' >&2; exit 1; }}
exec {bwrap} "$@"
"""


def test_where_bubblewrap_starts_for_root_alone_a_worker_runs_in_it_as_root(open_python, open_tmp):
    """bubblewrap started as a uid of the worker's own fails before the worker is confined: the
    worker is started behind bubblewrap again, as root (in a pids cgroup of its own), rather than
    behind the weaker Landlock."""
    bwrap = shutil.which("bwrap")
    assert bwrap is not None
    (open_tmp / "bwrap").write_text(ROOT_ONLY_BWRAP.format(bwrap=bwrap))
    (open_tmp / "bwrap").chmod(0o755)
    path = {"PATH": f"{open_tmp}{os.pathsep}{os.environ['PATH']}"}
    found = run_grader(open_python, WHO, [], path, open_tmp)
    assert found == {"owner": 0, "isolation": "bubblewrap"}


# What a report and the doctor say of it


def test_the_doctor_says_whom_workers_run_as_and_what_holds_their_threads():
    """The doctor's isolation line names the account and the bound: here, a shared --run-as user's."""
    walls = host.Walls(Isolation.LANDLOCK, {Isolation.BUBBLEWRAP: "denied", Isolation.LANDLOCK: None})
    found = host.wall_used(walls, SHARED).found
    assert found.endswith(
        "; each worker runs as the user --run-as names, shared by every worker, its threads held by the kernel, "
        "by an RLIMIT_NPROC its user's other processes share, and the grader's watch"
    ), found


def test_a_root_worker_no_kernel_bound_holds_is_named_in_the_report(monkeypatch):
    """Where no pids cgroup can be made, a worker run as root is held by the grader's watch alone,
    and the report's note says so behind either wall; where one can, a report says nothing of it."""
    root = Account(Kind.ROOT)
    assert isolation.note(Isolation.BUBBLEWRAP, Limits(), root) is None or cgroups.parent() is None
    monkeypatch.setattr(cgroups, "parent", lambda: None)
    for wall in (Isolation.BUBBLEWRAP, Isolation.LANDLOCK):
        said = isolation.note(wall, Limits(isolation=wall.value), root)
        assert said is not None and "as root, its threads capped by the grader's watch alone" in said, said
    assert isolation.note(Isolation.BUBBLEWRAP, Limits(), Account(Kind.OWN, (accounts.RESERVED.start,) * 2)) is None
