"""The course seed leaves no trace where a student could read it: not on stderr, not in a file name
of the example cache, and the cache folder is its owner's alone; nor does what a submission printed
once called reach any file of the class.

The examples recorded for a course's seed are the grade's inputs, and the seed draws them all again:
printed while a class is graded (in a log a TA shares, in Gradescope's build output) or listed in a
cache folder anyone on the machine can read, either would hand a student the course's grade.
"""

from __future__ import annotations

import os
import shutil
import stat
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

from gradekit import course_seed
from gradekit.engine import recording

ROOT = Path(__file__).resolve().parents[2]
SEED = 0x5EED_C0FF_EE00_0000_0000_0000_0000_0003  # 128 bits, as a course seed has
EXAMPLES = 5


def test_a_class_grade_with_a_seed_file_names_its_seed_nowhere_and_keeps_its_cache_private(tmp_path):
    submissions, out, cache = tmp_path / "class", tmp_path / "results", tmp_path / "cache"
    submissions.mkdir()
    shutil.copy(ROOT / "examples" / "submission.py", submissions / "alice.py")
    shutil.copy(ROOT / "tests" / "hostile" / "print_the_inputs.py", submissions / "bob.py")
    seed_file = tmp_path / "course-seed"
    course_seed.write(seed_file, SEED)
    cache.mkdir(mode=0o755)
    os.chmod(cache, 0o755)  # as an older gradekit, or a shared folder, left it
    env = {**os.environ, "GRADEKIT_CACHE": str(cache)}
    graded = subprocess.run(
        [sys.executable, "-m", "gradekit", "grade", str(submissions), "--assignment", "cross_entropy"]
        + ["--out", str(out), "--seed-file", str(seed_file), "--max-examples", str(EXAMPLES), "--jobs", "1"],
        capture_output=True,
        text=True,
        env=env,
    )
    assert graded.returncode == 0, graded.stderr
    assert f"seed with digest {course_seed.digest(SEED)}" in graded.stderr, "recording was announced"
    assert str(SEED) not in graded.stderr + graded.stdout
    kept = list(cache.rglob("*"))
    assert kept and all(str(SEED) not in path.name for path in kept)
    assert all(str(SEED) not in path.name for path in out.rglob("*"))
    written = [path for path in out.rglob("*") if path.is_file()]
    assert all("CALLED-WITH" not in path.read_text() for path in written), "nothing printed once called"
    assert "are not shown" in (out / "feedback" / "bob.md").read_text()
    assert stat.S_IMODE(cache.stat().st_mode) == 0o700
    assert all(stat.S_IMODE(path.stat().st_mode) == 0o600 for path in kept if path.is_file())


def test_the_public_seed_is_named_by_its_number_when_examples_are_recorded(
    tmp_path, cross_entropy, capsys, monkeypatch
):
    monkeypatch.setenv("GRADEKIT_CACHE", str(tmp_path / "made" / "here"))
    (tmp_path / "made" / "here").mkdir(parents=True)
    named_by_seed = tmp_path / "made" / "here" / f"cross_entropy-{SEED}-100-154988f1-8c63a741b0e5dce8.marshal"
    named_by_seed.write_bytes(b"as gradekit named a recording before digests did")
    narrowed = replace(cross_entropy, properties=cross_entropy.properties[:2])
    recording.recorded(narrowed, cross_entropy.default_seed, EXAMPLES)
    recording.recorded(narrowed, SEED, EXAMPLES)
    err = capsys.readouterr().err
    assert f"(seed {cross_entropy.default_seed}, {EXAMPLES} per property)" in err
    assert f"(seed with digest {course_seed.digest(SEED)}, " in err and str(SEED) not in err
    assert stat.S_IMODE((tmp_path / "made" / "here").stat().st_mode) == 0o700
    assert not named_by_seed.exists() and all(str(SEED) not in p.name for p in (tmp_path / "made").rglob("*"))


def test_a_seed_file_others_may_read_is_narrowed_to_its_owner_when_read(tmp_path):
    path = tmp_path / "course-seed"
    path.write_text(f"{SEED}\n")
    os.chmod(path, 0o644)  # copied, or written under a wide umask
    assert course_seed.read(path) == SEED
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
