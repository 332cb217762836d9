"""Whatever a submission leaves where an example cache file goes, loading recorded examples returns soon
with the examples a fresh recording gives: a trick on the cache costs a recording, never a hang, a crash
or a grade.

Each load runs in a child process with a time limit and a memory limit, so that a reader that waits on a
named pipe or reads /dev/zero without end fails its test instead of hanging or starving the suite.
"""

from __future__ import annotations

import os
import pickle
import stat
import subprocess
import sys
import time
from dataclasses import replace
from pathlib import Path

import pytest

import gradekit.engine.speed.recorded as examples
from gradekit import assignment
from gradekit.config import GradeConfig
from gradekit.engine import kept_files, recording
from gradekit.engine.session import Session
from gradekit.grader import grade

ROOT = Path(__file__).resolve().parents[2]
SEED, MAX_EXAMPLES = 7, 5  # a small recording: about half a second
RECORDING_SECONDS = 6.0  # longer than the check's budget in the test that uses it
LIMIT = 60  # seconds for a child to start, import and record; a load that waits on a pipe never returns

LOAD = """
import os, pickle, resource, sys
import gradekit.engine.speed.recorded as examples
from gradekit import assignment
from gradekit.engine import recording

# Room for a recording, not for reading /dev/zero or a huge file into memory.
try:
    with open("/proc/self/statm") as statm:
        room = int(statm.read().split()[0]) * os.sysconf("SC_PAGE_SIZE") + 2 * 1024 ** 3
    resource.setrlimit(resource.RLIMIT_AS, (room, room))
except (OSError, ValueError):
    pass
recorded = recording.recorded(assignment.load("cross_entropy"), int(sys.argv[1]), int(sys.argv[2]))
sys.stdout.buffer.write(pickle.dumps(recorded))
"""


@pytest.fixture(scope="module")
def fresh(tmp_path_factory) -> tuple[str, bytes, examples.Recorded]:
    """The cache file's name and bytes, and the examples a recording gives, made once in a folder of its own."""
    folder = tmp_path_factory.mktemp("fresh-cache")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("GRADEKIT_CACHE", str(folder))
        recorded = recording.recorded(assignment.load("cross_entropy"), SEED, MAX_EXAMPLES)
    (cached,) = folder.glob("cross_entropy-*")
    return cached.name, cached.read_bytes(), recorded


@pytest.fixture
def cache(tmp_path, monkeypatch) -> Path:
    folder = tmp_path / "cache"
    folder.mkdir()
    monkeypatch.setenv("GRADEKIT_CACHE", str(folder))
    return folder


def load(cache: Path) -> examples.Recorded:
    """Recorded examples as a new grader process loads them from `cache`, within LIMIT seconds."""
    env = {
        **os.environ,
        "GRADEKIT_CACHE": str(cache),
        "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])),
    }
    try:
        done = subprocess.run(
            [sys.executable, "-c", LOAD, str(SEED), str(MAX_EXAMPLES)], env=env, capture_output=True, timeout=LIMIT
        )
    except subprocess.TimeoutExpired:
        pytest.fail(f"loading recorded examples did not return within {LIMIT} s")
    assert done.returncode == 0, done.stderr.decode(errors="replace")[-3000:]
    return pickle.loads(done.stdout)


def huge_file(folder: Path, size: int) -> Path:
    """A sparse file of `size` bytes: it takes no disk, but reading it whole would take `size` of memory."""
    path = folder / "huge"
    try:
        with open(path, "wb") as handle:
            handle.truncate(size)
    except OSError as error:
        pytest.skip(f"this file system holds no sparse file of {size} bytes: {error}")
    return path


def fifo(path: Path, whole: bytes, tmp_path: Path) -> None:
    if not hasattr(os, "mkfifo"):
        pytest.skip("no named pipes here")
    os.mkfifo(path)


def link_to_dev_zero(path: Path, whole: bytes, tmp_path: Path) -> None:
    if not os.path.exists("/dev/zero"):
        pytest.skip("no /dev/zero here")
    path.symlink_to("/dev/zero")


def link_to_huge_file(path: Path, whole: bytes, tmp_path: Path) -> None:
    path.symlink_to(huge_file(tmp_path, 1 << 40))


def link_to_a_whole_cache_file(path: Path, whole: bytes, tmp_path: Path) -> None:
    """Whole, but what a link leads to is not the grader's own file."""
    (tmp_path / "elsewhere").write_bytes(whole)
    path.symlink_to(tmp_path / "elsewhere")


def a_folder(path: Path, whole: bytes, tmp_path: Path) -> None:
    path.mkdir()
    (path / "inside").write_bytes(whole)


def garbage(path: Path, whole: bytes, tmp_path: Path) -> None:
    path.write_bytes(os.urandom(len(whole)))


@pytest.mark.parametrize(
    "hostile", [fifo, link_to_dev_zero, link_to_huge_file, link_to_a_whole_cache_file, a_folder, garbage]
)
def test_a_trick_on_the_cache_file_costs_a_recording(hostile, fresh, cache, tmp_path):
    name, whole, recorded = fresh
    path = cache / name
    hostile(path, whole, tmp_path)
    assert load(cache) == recorded
    if hostile is a_folder:  # a file cannot be renamed over a folder: every load records again
        assert path.is_dir()
    else:  # written again whole, in place of the pipe or link, not through it
        assert stat.S_ISREG(path.lstat().st_mode) and path.read_bytes() == whole
    assert [p.name for p in cache.iterdir()] == [name]  # no temporary file left behind


def test_a_file_past_the_bound_is_never_read(fresh, cache, monkeypatch):
    name, _, recorded = fresh
    huge = huge_file(cache, kept_files.LARGEST + 1)
    huge.rename(cache / name)
    read = []
    monkeypatch.setattr(kept_files, "unsealed", lambda data: read.append(len(data)))
    assert recording.recorded(assignment.load("cross_entropy"), SEED, MAX_EXAMPLES) == recorded
    assert read == []


def test_a_folder_under_another_version_s_name_is_left_alone(fresh, cache):
    name, whole, recorded = fresh
    stale = cache / (name.rsplit("-", 1)[0] + "-0123456789abcdef.marshal")
    stale.mkdir()
    assert load(cache) == recorded
    assert stale.is_dir() and (cache / name).read_bytes() == whole


def test_a_recording_of_some_properties_is_kept_beside_the_whole_ones_and_replaces_it_not(fresh, cache, monkeypatch):
    """An assignment narrowed to some of its properties (as tests narrow one) records those alone,
    under a key of its own; that recording is no newer version of the whole one's, which stays, and
    the next grade of the whole assignment reads it instead of recording again."""
    name, whole, recorded = fresh
    (cache / name).write_bytes(whole)
    built_in = assignment.load("cross_entropy")
    narrowed = replace(built_in, properties=built_in.properties[:2])
    assert narrowed.property_set != built_in.property_set
    assert recording.recorded(narrowed, SEED, MAX_EXAMPLES).keys() <= {p.name for p in narrowed.properties}
    assert len(list(cache.iterdir())) == 2 and (cache / name).read_bytes() == whole
    monkeypatch.setattr(recording, "record", lambda *args: pytest.fail("recorded again"))
    kept_files._read.clear()
    assert recording.recorded(built_in, SEED, MAX_EXAMPLES) == recorded


def test_a_cache_that_cannot_be_written_leaves_no_temporary_file(fresh, cache):
    name, _, recorded = fresh
    (cache / name).mkdir()  # os.replace cannot put a file over a folder
    assert recording.recorded(assignment.load("cross_entropy"), SEED, MAX_EXAMPLES) == recorded
    assert [p.name for p in cache.iterdir()] == [name]


def test_a_write_interrupted_before_its_rename_leaves_no_temporary_file(tmp_path, monkeypatch):
    def interrupted(source: str, destination: Path) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(os, "replace", interrupted)
    with pytest.raises(KeyboardInterrupt):
        kept_files._write(tmp_path / "cross_entropy.marshal", b"recorded")
    assert list(tmp_path.glob("*.tmp")) == [] and list(tmp_path.iterdir()) == []


def test_an_honest_cache_file_is_read_not_recorded_again(fresh, cache, monkeypatch):
    name, whole, recorded = fresh
    (cache / name).write_bytes(whole)
    monkeypatch.setattr(recording, "record", lambda *args: pytest.fail("recorded again"))
    kept_files._read.clear()
    assert recording.recorded(assignment.load("cross_entropy"), SEED, MAX_EXAMPLES) == recorded


def test_recording_is_announced_and_no_budget_of_the_students_pays_for_it(tmp_path, monkeypatch, capsys):
    """On an empty cache the grader records the examples first: that wait is announced, and the whole
    check's budget starts after it, so a correct file keeps full marks however long recording takes."""
    monkeypatch.setenv("GRADEKIT_CACHE", str(tmp_path))

    def slow_record(*args):  # recording that outlasts the whole check's budget
        time.sleep(RECORDING_SECONDS)
        return real_record(*args)

    real_record = recording.record
    monkeypatch.setattr(recording, "record", slow_record)
    config = GradeConfig(max_examples=10, check_budget=RECORDING_SECONDS - 1)
    result = grade(ROOT / "examples" / "submission.py", assignment.load("cross_entropy"), config)
    assert result.score == result.max_score, [t.message for t in result.tests if t.score < t.max_score]
    assert "gradekit: recording examples for cross_entropy (seed " in capsys.readouterr().err
    grade(ROOT / "examples" / "submission.py", assignment.load("cross_entropy"), config)
    assert "recording" not in capsys.readouterr().err  # once per machine


def test_a_grade_reads_a_kept_recording_before_the_file_loads_and_never_records_one_there(
    fresh, cache, tmp_path, monkeypatch
):
    """While its worker starts, a grade reads the recording of the assignment the file's def lines
    name, where one is kept: a file that then cannot run had nothing recorded for it."""
    broken = tmp_path / "broken.py"
    broken.write_text("def softmax(z):\n    return [\n")
    result = grade(broken, None, GradeConfig(seed=SEED, max_examples=MAX_EXAMPLES))
    assert result.assignment == "cross_entropy" and result.error is not None
    assert list(cache.glob("cross_entropy-*")) == [], "examples were recorded for a file that never ran"
    name, whole, recorded = fresh
    (cache / name).write_bytes(whole)
    held_at_load: list[bool] = []
    load = Session.load
    monkeypatch.setattr(
        Session,
        "load",
        lambda self: held_at_load.append(any(str(cache) in k[0] for k in kept_files._read)) or load(self),
    )
    grade(broken, None, GradeConfig(seed=SEED, max_examples=MAX_EXAMPLES))
    assert held_at_load == [True], "the kept recording was not read before the file loaded"
    assert recording.recorded_if_kept(assignment.load("cross_entropy"), SEED, MAX_EXAMPLES) == recorded
