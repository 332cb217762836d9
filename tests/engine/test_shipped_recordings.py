"""The recordings the built-in assignments carry: each equals a fresh recording, a first check reads it
instead of recording, and a recording made under another key is never read. So do the answers of
their known mistakes (gradekit.diagnosis.mistakes).

A carried file is read only on a machine whose floating-point results are those of the machine that
made it (gradekit.engine.kept_files.fingerprint), from the folder named for them: an assignment
carries one per kind of machine that has shipped. Elsewhere it is no error that a file differs from
a fresh one: on a machine of no such folder these tests prove that none is read, and that a fresh one
is made and announced instead. The properties' provenance parts hold no floats: they are carried
once, and read on every machine.
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
from gradekit.reference import autograd

import gradekit.engine.speed.recorded as recorded
from gradekit import assignment
from gradekit.config import GradeConfig, Limits
from gradekit.diagnosis import mistakes
from gradekit.engine import kept_files, provenance, recording
from gradekit.engine.speed import exact

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
    floats = [path.name, mistakes.carried(built_in).name]
    parts = [provenance.carried(module).name for module in _property_modules(built_in)]
    _, answers, key = exact._files(built_in)  # the reference's exact answers, where it works any out
    for_all = [*parts, *([answers.name] if answers.is_file() else [])]  # the same on every machine: carried once
    carried = built_in.folder / kept_files.CARRIED
    assert sorted(p.name for p in carried.iterdir() if p.is_file()) == sorted(for_all), STALE  # none of an older key
    folders = [p for p in carried.iterdir() if p.is_dir()]
    assert folders, f"{name} carries no recording: {STALE}"
    for folder in folders:  # one per kind of machine that shipped, of the current keys, none of an older
        assert sorted(p.name for p in folder.iterdir()) == sorted(floats), f"{folder.name}: {STALE}"
        assert all(_carried(folder / file)["fingerprint"].startswith(folder.name) for file in floats)
    before = exact.worked()
    fresh = recording.record(built_in, built_in.default_seed, 100)
    carried_answers = _carried(answers)["answers"] if answers.is_file() else {}
    assert exact.worked() - before <= set(carried_answers), f"{answers.name} is {STALE}"
    assert not answers.is_file() or _carried(answers)["key"] == key
    for graph, lists in carried_answers.items():
        worked = autograd._evaluated(graph)
        assert [worked.values, worked.grads, worked.value_scales, worked.grad_scales] == lists, STALE
    if not path.is_file():  # no machine whose floating-point results are this one's has shipped
        monkeypatch.setenv("GRADEKIT_CACHE", str(tmp_path))
        capsys.readouterr()
        made = recorded.recorded_inputs(built_in, built_in.default_seed, 100, lambda *_: fresh)
        assert f"recording examples for {name}" in capsys.readouterr().err
        assert made == recorded._unpacked(recorded._packed(fresh))
        return
    stored = _carried(path)
    assert _made_here(stored) and stored["properties"].keys() == fresh.keys()
    assert recorded._unpacked(stored) == recorded._unpacked(recorded._packed(fresh)), f"{path.name} is {STALE}"


@pytest.mark.parametrize("name", NAMES)
def test_the_carried_known_mistakes_are_freshly_worked_out(name, tmp_path, monkeypatch, capsys):
    built_in = assignment.load(name)
    path = mistakes.carried(built_in)
    if not path.is_file():  # no machine whose floating-point results are this one's has shipped
        monkeypatch.setenv("GRADEKIT_CACHE", str(tmp_path))
        capsys.readouterr()
        assert mistakes.bank(built_in, Limits()) is not None
        assert f"working out what the known mistakes of {name} answer" in capsys.readouterr().err
        return
    stored = _carried(path)
    fresh = mistakes._worked_out(built_in, Limits(), None)
    assert _made_here(stored)
    assert repr(mistakes._read(stored)) == repr(fresh), f"{path.name} is {STALE}"  # a NaN answer equals itself


@pytest.mark.parametrize("name", NAMES)
def test_the_carried_parts_of_the_properties_are_made_afresh_and_read_on_a_first_check(name, tmp_path, monkeypatch):
    """What a first check reads for its properties' provenance instead of walking their syntax: what
    walking it gives now. Parts hold no floats, so this holds on every machine, whatever its results,
    and whichever kinds of machine have shipped."""
    built_in = assignment.load(name)
    monkeypatch.setenv("GRADEKIT_CACHE", str(tmp_path))
    monkeypatch.setattr(kept_files, "fingerprint", lambda: "0" * 32)  # a kind of machine that has not shipped
    monkeypatch.setattr(provenance, "_made_parts", _not_walked)
    provenance._module_parts.cache_clear()
    provenance._source_parts.cache_clear()
    assert all(provenance.property_parts(p, built_in, GradeConfig()) for p in built_in.properties)
    monkeypatch.undo()
    provenance._module_parts.cache_clear()
    provenance._source_parts.cache_clear()
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


def test_each_kind_of_machine_reads_its_own_folder_and_a_kind_that_has_not_shipped_reads_none(tmp_path, monkeypatch):
    """A machine whose floating-point results no shipping machine had reads no carried file, though
    other kinds' folders lie beside: its first check records, as it would with none carried."""
    monkeypatch.setenv("GRADEKIT_CACHE", str(tmp_path))
    built_in = assignment.load("cross_entropy")
    assert len(list((built_in.folder / kept_files.CARRIED).iterdir())) >= 1
    monkeypatch.setattr(kept_files, "fingerprint", lambda: "0" * 32)  # a kind of machine that has not shipped
    assert recording.shipped(built_in).parent.name == "0" * kept_files.FOLDER_DIGITS
    assert recording.recorded_if_kept(built_in, built_in.default_seed, 100) is None
    assert list(tmp_path.iterdir()) == []  # nothing of another kind's written to the cache either


def test_shipping_keeps_what_other_kinds_of_machine_shipped_for_the_same_key_and_no_older_key(tmp_path, monkeypatch):
    """`kept_files.carry`, as scripts/ship_recordings.py runs it: a machine writes its own folder, and
    removes every machine's files of an older key, emptied folders with them."""
    machines = {"a": "a" * 32, "b": "b" * 32}
    for machine in machines.values():
        monkeypatch.setattr(kept_files, "fingerprint", lambda machine=machine: machine)
        kept_files.carry(kept_files.carried(tmp_path) / "stem-1111.zlib", "1111", {"made": machine})
        kept_files.carry(kept_files.carried(tmp_path) / "other-2222.zlib", "2222", {"made": machine})
    held = lambda: sorted(str(p.relative_to(tmp_path / kept_files.CARRIED)) for p in tmp_path.rglob("*.zlib"))
    a, b = ("a" * kept_files.FOLDER_DIGITS, "b" * kept_files.FOLDER_DIGITS)
    assert held() == [f"{a}/other-2222.zlib", f"{a}/stem-1111.zlib", f"{b}/other-2222.zlib", f"{b}/stem-1111.zlib"]
    kept_files.carry(kept_files.carried(tmp_path) / "stem-3333.zlib", "3333", {"made": "b, later"})
    assert held() == [f"{a}/other-2222.zlib", f"{b}/other-2222.zlib", f"{b}/stem-3333.zlib"]
    monkeypatch.setattr(kept_files, "fingerprint", lambda: machines["a"])
    kept_files.carry(kept_files.carried(tmp_path) / "other-4444.zlib", "4444", {"made": "a, later"})
    assert held() == [f"{a}/other-4444.zlib", f"{b}/stem-3333.zlib"]
    kept_files.carry(kept_files.carried(tmp_path) / "stem-5555.zlib", "5555", {"made": "a, later"})
    assert held() == [f"{a}/other-4444.zlib", f"{a}/stem-5555.zlib"]  # b's folder, emptied, is gone
    assert sorted(p.name for p in (tmp_path / kept_files.CARRIED).iterdir()) == [a]
    for key in ("6666", "7777"):  # what is the same on every machine: one file, beside the machines' folders
        for_all = kept_files.carried(tmp_path, per_machine=False)
        kept_files.carry(for_all / f"parts-{key}.zlib", key, {}, per_machine=False)
    assert held() == [f"{a}/other-4444.zlib", f"{a}/stem-5555.zlib", "parts-7777.zlib"]
    monkeypatch.setattr(kept_files, "fingerprint", lambda: machines["b"])
    made_by_a = kept_files.unsealed(zlib.decompress((tmp_path / kept_files.CARRIED / "parts-7777.zlib").read_bytes()))
    assert made_by_a["fingerprint"] == kept_files.ANY_MACHINE and kept_files._accepted(
        kept_files.sealed(made_by_a), "7777", dict
    )


def _not_walked(source: str) -> dict[str, Any]:
    raise AssertionError("a module's syntax was walked where its folder carries its parts")


def _property_modules(built_in: assignment.Assignment) -> list[Path]:
    """The modules of the assignment's folder that define its properties."""
    return sorted({Path(p.body.__code__.co_filename) for p in built_in.properties} & set(built_in.folder.glob("*.py")))


def _carried(path: Path) -> dict[str, Any]:
    stored = kept_files.unsealed(zlib.decompress(path.read_bytes()))
    assert type(stored) is dict, f"{path.name} is damaged: {STALE}"
    return stored


def _shipped_by_any(path: Path) -> Path:
    """The file named as `path` that any machine shipped, whatever its floating-point results."""
    shipped = sorted(path.parent.parent.glob(f"*/{path.name}"))
    assert shipped, f"no machine shipped {path.name}: {STALE}"
    return shipped[0]


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
    """Where this machine's kind has shipped, a first check reads the carried files and writes them to
    its cache as they are. Beside it, a course carrying the very key's files made where floating-point
    results are not this machine's: that machine records its own and works its known mistakes out,
    says so, keeps them under its own fingerprint, and grades as the carried files do."""
    submission = ROOT / "examples" / "buggy_submission.py"
    first = _check(submission, tmp_path / "empty")
    built_in = assignment.load("cross_entropy")
    parts = [provenance.carried(module) for module in _property_modules(built_in)]
    per_machine = [recording.shipped(built_in), mistakes.carried(built_in)]  # floating-point results: kept per machine
    shipped = [*per_machine, *parts]
    read = [path.is_file() for path in shipped]  # where machines whose results are this one's have shipped
    assert ("recording examples" not in first.stderr) == read[0], first.stderr
    if all(read):  # the files kept are the carried ones, the properties' parts included (gradekit.engine.provenance)
        carried = [zlib.decompress(path.read_bytes()) for path in shipped]
        assert sorted(p.read_bytes() for p in (tmp_path / "empty").iterdir()) == sorted(carried)
    course = _copy_without_recordings(tmp_path)  # the same sources, so the same key
    folder = kept_files.carried(course / "cross_entropy")  # where this machine looks
    folder.mkdir(parents=True)
    for path in per_machine:
        stored = {**_carried(_shipped_by_any(path)), "fingerprint": "of a machine whose floating-point results differ"}
        (folder / path.name).write_bytes(zlib.compress(kept_files.sealed(stored)))
    again = _check(submission, tmp_path / "cache", assignments=course)
    assert "recording examples for cross_entropy" in again.stderr
    assert "working out what the known mistakes of cross_entropy answer" in again.stderr
    made = [p for p in (tmp_path / "cache").iterdir() if not p.name.startswith("provenance-")]
    assert [kept_files.unsealed(p.read_bytes())["fingerprint"] for p in made] == [kept_files.fingerprint()] * 2
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
    read = recording.shipped(assignment.load("training_step")).is_file()
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
