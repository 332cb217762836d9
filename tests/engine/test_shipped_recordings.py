"""The recordings the built-in assignments carry: each equals a fresh recording, a first check reads it
instead of recording, and a recording made under another key is never read. So do the answers of
their known mistakes (gradekit.diagnosis.mistakes).

A carried file is read only on a machine whose floating-point results are those of the machine that
made it (gradekit.engine.kept_files.fingerprint). Elsewhere it is no error that it differs from a fresh one:
there these tests prove that it is not read, and that a fresh one is made and announced instead.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import zlib
from pathlib import Path
from typing import Any

import pytest

import gradekit.engine.speed.recorded as recorded
from gradekit import assignment
from gradekit.config import GradeConfig, Limits
from gradekit.diagnosis import mistakes
from gradekit.engine import kept_files, provenance, recording

ROOT = Path(__file__).resolve().parents[2]
NAMES = ["cross_entropy", "training_step", "autograd"]
# What a changed source (the assignment's, gradekit/strategies.py, gradekit/sandbox/worker.py, the bank)
# or version calls for. Any machine may ship: the files hold its floating-point results, and a machine
# whose results differ makes its own.
STALE = (
    "stale: run `python scripts/ship_recordings.py`, then `git add assignments/*/recorded` (which takes "
    "the files it wrote and the ones it removed) and commit"
)
# training_step bank files graded with the shipped recording and with a fresh one: the two that keep
# state between calls (a step counter, a gradient buffer), whose answers show every call the worker
# was sent, and a right file.
STATEFUL = ["known_wrong/train_step_counts_steps_itself.py", "known_wrong/train_step_gradient_buffer_never_reset.py"]
TRAINING_STEP_FILES = [*STATEFUL, "known_right/numpy_vectorised.py"]


@pytest.mark.longest
@pytest.mark.parametrize("name", NAMES)
def test_a_shipped_recording_is_a_fresh_recording(name, tmp_path, monkeypatch, capsys):
    built_in = assignment.load(name)
    path = recording.shipped(built_in)
    assert path.is_file(), f"{name} carries no recording for its sources and versions: {STALE}"
    carried = [mistakes.carried(built_in), *(provenance.carried(module) for module in _property_modules(built_in))]
    # none of an older key
    assert sorted(p.name for p in path.parent.iterdir()) == sorted([path.name, *(c.name for c in carried)])
    stored = _carried(path)
    fresh = recording.record(built_in, built_in.default_seed, 100)
    if not _made_here(stored):
        monkeypatch.setenv("GRADEKIT_CACHE", str(tmp_path))
        capsys.readouterr()
        made = recorded.recorded_inputs(built_in, built_in.default_seed, 100, lambda *_: fresh)
        assert f"recording examples for {name}" in capsys.readouterr().err
        assert made == recorded._unpacked(recorded._packed(fresh))
        return
    assert stored["properties"].keys() == fresh.keys()
    assert recorded._unpacked(stored) == recorded._unpacked(recorded._packed(fresh)), f"{path.name} is {STALE}"


@pytest.mark.parametrize("name", NAMES)
def test_the_carried_known_mistakes_are_freshly_worked_out(name, tmp_path, monkeypatch, capsys):
    built_in = assignment.load(name)
    path = mistakes.carried(built_in)
    assert path.is_file(), f"{name} carries no known mistakes for its sources and versions: {STALE}"
    stored = _carried(path)
    if not _made_here(stored):
        monkeypatch.setenv("GRADEKIT_CACHE", str(tmp_path))
        capsys.readouterr()
        assert mistakes.bank(built_in, Limits()) is not None
        assert f"working out what the known mistakes of {name} answer" in capsys.readouterr().err
        return
    fresh = mistakes._worked_out(built_in, Limits(), None)
    assert repr(mistakes._read(stored)) == repr(fresh), f"{path.name} is {STALE}"  # a NaN answer equals itself


@pytest.mark.parametrize("name", NAMES)
def test_the_carried_parts_of_the_properties_are_made_afresh_and_read_on_a_first_check(name, tmp_path, monkeypatch):
    """What a first check reads for its properties' provenance instead of walking their syntax: what
    walking it gives now. Parts hold no floats, so this holds on every machine, whatever its results."""
    built_in = assignment.load(name)
    if _made_here(_carried(recording.shipped(built_in))):  # where the carried files are read at all
        monkeypatch.setenv("GRADEKIT_CACHE", str(tmp_path))
        monkeypatch.setattr(provenance, "_made_parts", _not_walked)
        provenance._module_parts.cache_clear()
        provenance._source_parts.cache_clear()
        assert all(provenance.property_parts(p, built_in, GradeConfig()) for p in built_in.properties)
        monkeypatch.undo()
    for module in _property_modules(built_in):
        path = provenance.carried(module)
        assert path.parent == built_in.folder / kept_files.CARRIED
        assert path.is_file(), f"{name} carries no parts for {module.name}: {STALE}"
        stored = _carried(path)
        assert stored["key"] == provenance._parts_key(module.read_text())
        fresh = provenance._made_parts(module.read_text())["parts"]
        assert stored["parts"] == fresh, f"{path.name} is {STALE}"
        defined_at_top = [p.body for p in built_in.properties if p.body.__qualname__ == p.body.__name__]
        assert {body.__name__ for body in defined_at_top if Path(body.__code__.co_filename) == module} <= set(fresh)


def test_carrying_the_parts_writes_what_the_built_in_assignment_carries(tmp_path):
    """`provenance.carry`, as scripts/ship_recordings.py runs it, on a copy of the assignment that
    carries nothing: it writes the file the built-in one carries, under the same name."""
    copied = assignment.load_folder(_copy_without_recordings(tmp_path, "autograd") / "autograd")
    written = provenance.carry(copied)
    assert [path.parent for path in written] == [copied.folder / kept_files.CARRIED]
    carried = provenance.carried(assignment.load("autograd").folder / "properties.py")
    assert written[0].name == carried.name
    assert _carried(written[0])["parts"] == _carried(carried)["parts"]


def _not_walked(source: str) -> dict[str, Any]:
    raise AssertionError("a module's syntax was walked where its folder carries its parts")


def _property_modules(built_in: assignment.Assignment) -> list[Path]:
    """The modules of the assignment's folder that define its properties."""
    return sorted({Path(p.body.__code__.co_filename) for p in built_in.properties} & set(built_in.folder.glob("*.py")))


def _carried(path: Path) -> dict[str, Any]:
    stored = kept_files.unsealed(zlib.decompress(path.read_bytes()))
    assert type(stored) is dict, f"{path.name} is damaged: {STALE}"
    return stored


def _made_here(stored: dict[str, Any]) -> bool:
    """Whether a carried file was made where floating-point results are this machine's."""
    return bool(stored["fingerprint"] == kept_files.fingerprint())


def _check(path: Path, cache: Path, *options: str, assignments: Path | None = None) -> subprocess.CompletedProcess:
    extra = ["--assignments", str(assignments)] if assignments else []
    return subprocess.run(
        [sys.executable, "-m", "gradekit", *extra, "check", str(path), "--format", "json", *options],
        capture_output=True,
        text=True,
        env={**os.environ, "GRADEKIT_CACHE": str(cache)},
        timeout=300,
    )


def test_a_first_check_reads_the_shipped_recording_and_grades_as_a_fresh_recording(tmp_path):
    submission = ROOT / "examples" / "buggy_submission.py"
    first = _check(submission, tmp_path / "empty")
    built_in = assignment.load("cross_entropy")
    parts = [provenance.carried(module) for module in _property_modules(built_in)]
    shipped = [recording.shipped(built_in), mistakes.carried(built_in), *parts]
    read = all(_made_here(_carried(path)) for path in shipped)
    assert ("recording examples" not in first.stderr) == read, first.stderr
    if read:  # the files kept are the carried ones, the properties' parts included (gradekit.engine.provenance)
        carried = [zlib.decompress(path.read_bytes()) for path in shipped]
        assert sorted(p.read_bytes() for p in (tmp_path / "empty").iterdir()) == sorted(carried)
    course = _copy_without_recordings(tmp_path)  # the same sources, so the same key, and no file
    again = _check(submission, tmp_path / "cache", assignments=course)
    assert "recording examples for cross_entropy" in again.stderr
    assert "working out what the known mistakes of cross_entropy answer" in again.stderr
    assert json.loads(first.stdout)["diagnosis"]
    assert first.returncode == again.returncode == 1
    assert _without_times(first.stdout) == _without_times(again.stdout)


@pytest.mark.longest
def test_training_step_files_grade_alike_with_the_shipped_recording_and_a_fresh_one(tmp_path):
    """training_step's run of steps calls with the tables the reference returned at the step before,
    which machines work out differently in their last bits. Read on a machine whose results differ, the
    shipped recording's calls would not be the property's: the worker would be sent calls nobody
    asked, and a file that keeps state between calls would answer the next ones otherwise, with the
    same score and another counterexample. The shipped recording is read where it is valid, and
    grades as a fresh one; elsewhere it is not read."""
    folder = ROOT / "assignments" / "training_step"
    read = _made_here(_carried(recording.shipped(assignment.load("training_step"))))
    course = _copy_without_recordings(tmp_path, "training_step")
    for name in TRAINING_STEP_FILES:
        shipped = _check(folder / name, tmp_path / "shipped", "--assignment", "training_step")
        fresh = _check(folder / name, tmp_path / "fresh", "--assignment", "training_step", assignments=course)
        if name == TRAINING_STEP_FILES[0]:  # the first check of each cache
            assert ("recording examples" not in shipped.stderr) == read, shipped.stderr
            assert "recording examples for training_step" in fresh.stderr
        assert shipped.returncode == fresh.returncode == (0 if name.startswith("known_right") else 1), fresh.stderr
        assert _without_times(shipped.stdout) == _without_times(fresh.stdout), name


def test_a_recording_of_another_key_is_not_read(tmp_path):
    course = _copy_without_recordings(tmp_path)
    shutil.copytree(ROOT / "assignments" / "cross_entropy" / "recorded", course / "cross_entropy" / "recorded")
    properties = course / "cross_entropy" / "properties.py"
    properties.write_text(properties.read_text() + "\n# an edit: the recording was made for other sources\n")
    done = _check(ROOT / "examples" / "submission.py", tmp_path / "cache", assignments=course)
    assert done.returncode == 0, done.stderr
    assert "recording examples for cross_entropy" in done.stderr


def test_files_made_where_floating_point_results_differ_are_not_read(tmp_path):
    """The carried files of the very key, made on a machine whose floating-point results are not
    this one's: this machine records its own and works its known mistakes out, and says so."""
    course = _copy_without_recordings(tmp_path)
    (course / "cross_entropy" / kept_files.CARRIED).mkdir()
    built_in = assignment.load("cross_entropy")
    for path in (recording.shipped(built_in), mistakes.carried(built_in)):
        stored = {**_carried(path), "fingerprint": "of a machine whose floating-point results differ"}
        copy = course / "cross_entropy" / kept_files.CARRIED / path.name
        copy.write_bytes(zlib.compress(kept_files.sealed(stored)))
    done = _check(ROOT / "examples" / "buggy_submission.py", tmp_path / "cache", assignments=course)
    assert done.returncode == 1 and json.loads(done.stdout)["diagnosis"], done.stderr
    assert "recording examples for cross_entropy" in done.stderr
    assert "working out what the known mistakes of cross_entropy answer" in done.stderr
    made = [p for p in (tmp_path / "cache").iterdir() if not p.name.startswith("provenance-")]
    kept = [kept_files.unsealed(p.read_bytes()) for p in made]
    assert [k["fingerprint"] for k in kept] == [kept_files.fingerprint()] * 2


def _copy_without_recordings(tmp_path: Path, name: str = "cross_entropy") -> Path:
    course = tmp_path / "course"
    ignored = shutil.ignore_patterns(kept_files.CARRIED, "__pycache__", "known_right", "known_slow")
    shutil.copytree(ROOT / "assignments" / name, course / name, ignore=ignored)
    return course


def _without_times(report: str) -> str:
    result = json.loads(report)
    result.pop("seconds")
    for test in result["tests"]:
        test.pop("seconds")
    return json.dumps(result, sort_keys=True)
