"""The recordings the built-in assignments carry: each equals a fresh recording, a first check reads it
instead of recording, and a recording made under another key is never read. So do the answers of
their known mistakes (gradekit.misconceptions)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import zlib
from pathlib import Path

import pytest

import gradekit.speed.recorded as recorded
from gradekit import assignment, kept_files, misconceptions, runner
from gradekit.config import Limits

ROOT = Path(__file__).resolve().parent.parent
STALE = "stale: run `python scripts/ship_recordings.py` and commit assignments/*/recorded/"


@pytest.mark.longest
@pytest.mark.parametrize("name", ["cross_entropy", "training_step", "autograd"])
def test_a_shipped_recording_is_a_fresh_recording(name):
    built_in = assignment.load(name)
    path = runner.shipped(built_in)
    assert path.is_file(), f"{name} carries no recording for this machine's versions: {STALE}"
    stored = kept_files.unsealed(zlib.decompress(path.read_bytes()))
    fresh = runner.record(built_in, built_in.default_seed, 100)
    assert stored["properties"].keys() == fresh.keys()
    assert recorded._unpacked(stored) == recorded._unpacked(recorded._packed(fresh)), f"{path.name} is {STALE}"
    carried = misconceptions.carried(built_in)
    assert sorted(p.name for p in path.parent.iterdir()) == sorted([path.name, carried.name])  # none of an older key


@pytest.mark.parametrize("name", ["cross_entropy", "training_step", "autograd"])
def test_the_carried_known_mistakes_are_freshly_worked_out(name):
    built_in = assignment.load(name)
    path = misconceptions.carried(built_in)
    assert path.is_file(), f"{name} carries no known mistakes for this machine's versions: {STALE}"
    stored = misconceptions._read(kept_files.unsealed(zlib.decompress(path.read_bytes())))
    fresh = misconceptions._worked_out(built_in, Limits(), None)
    assert repr(stored) == repr(fresh), f"{path.name} is {STALE}"  # repr: a NaN answer equals itself


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
    assert "recording examples" not in first.stderr
    built_in = assignment.load("cross_entropy")
    carried = [zlib.decompress(p.read_bytes()) for p in (runner.shipped(built_in), misconceptions.carried(built_in))]
    assert sorted(p.read_bytes() for p in (tmp_path / "empty").iterdir()) == sorted(carried)  # the files kept
    course = _copy_without_recordings(tmp_path)  # the same sources, so the same key, and no file
    recording = _check(submission, tmp_path / "cache", assignments=course)
    assert "recording examples for cross_entropy" in recording.stderr
    assert "working out what the known mistakes of cross_entropy answer" in recording.stderr
    assert json.loads(first.stdout)["diagnosis"]
    assert first.returncode == recording.returncode == 1
    assert _without_times(first.stdout) == _without_times(recording.stdout)


def test_a_recording_of_another_key_is_not_read(tmp_path):
    course = _copy_without_recordings(tmp_path)
    shutil.copytree(ROOT / "assignments" / "cross_entropy" / "recorded", course / "cross_entropy" / "recorded")
    properties = course / "cross_entropy" / "properties.py"
    properties.write_text(properties.read_text() + "\n# an edit: the recording was made for other sources\n")
    done = _check(ROOT / "examples" / "submission.py", tmp_path / "cache", assignments=course)
    assert done.returncode == 0, done.stderr
    assert "recording examples for cross_entropy" in done.stderr


def _copy_without_recordings(tmp_path: Path) -> Path:
    course = tmp_path / "course"
    ignored = shutil.ignore_patterns(kept_files.CARRIED, "__pycache__", "known_right", "known_slow")
    shutil.copytree(ROOT / "assignments" / "cross_entropy", course / "cross_entropy", ignore=ignored)
    return course


def _without_times(report: str) -> str:
    result = json.loads(report)
    result.pop("seconds")
    for test in result["tests"]:
        test.pop("seconds")
    return json.dumps(result, sort_keys=True)
