"""The course seed: a course's grade draws inputs no student can look up, and no report shows its seed.

The public seed's inputs ship inside gradekit, so a file that looks up the reference's answers to
them scores full marks on the public check with no implementation at all. Graded with the course's
own seed, it draws other inputs and loses its points; every report names that seed by its digest,
and a grade with the same seed file is the same grade.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import shutil
import stat
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import pytest

from gradekit import course_seed, grader
from gradekit.assignment import Assignment
from gradekit.cli import Exit, main, parse
from gradekit.config import GradeConfig
from gradekit.engine import recording
from gradekit.grader import grade
from gradekit.reports import WRITERS, github
from gradekit.result import GradeResult
from gradekit.sandbox.worker import decode

ROOT = Path(__file__).resolve().parents[2]
BUGGY = ROOT / "examples" / "buggy_submission.py"
EXAMPLES = 10
SEED = 0x5EED_C0FF_EE00_0000_0000_0000_0000_0001  # 128 bits, as a course seed has


def gradekit(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "gradekit", *args], capture_output=True, text=True, cwd=cwd)


def lookup_table(chosen: Assignment, seed: int) -> str:
    """A submission with no implementation: the reference's answer to every call a grade at `seed`
    makes, from the recorded inputs, looked up by a digest of the call; 0.0 for any other call."""
    spec = importlib.util.spec_from_file_location("reference_solution", chosen.solution)
    assert spec is not None and spec.loader is not None
    solution = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(solution)
    answers = {}
    for recorded in recording.recorded(chosen, seed, EXAMPLES).values():
        for function, encoded, _ in recorded["calls"]:
            arguments = decode(encoded)
            key = hashlib.sha256(repr([function, arguments]).encode()).hexdigest()[:16]
            answers[key] = getattr(solution, function)(*arguments)
    lines = [
        "import hashlib",
        f"ANSWERS = {answers!r}",
        "def look_up(function, arguments):",
        "    key = hashlib.sha256(repr([function, list(arguments)]).encode()).hexdigest()[:16]",
        "    return ANSWERS.get(key, 0.0)",
    ]
    for function in chosen.functions:
        lines += [f"def {function}(*arguments):", f"    return look_up({function!r}, arguments)"]
    return "\n".join(lines) + "\n"


def without_timings(data: dict) -> dict:
    data = {key: value for key, value in data.items() if key not in ("seconds", "submission", "batch")}
    data["tests"] = [{key: value for key, value in test.items() if key != "seconds"} for test in data["tests"]]
    return data


@pytest.mark.longest
def test_a_class_graded_with_its_course_seed_draws_inputs_no_table_of_the_public_ones_answers(tmp_path, cross_entropy):
    submissions = tmp_path / "class"
    submissions.mkdir()
    (submissions / "table.py").write_text(lookup_table(cross_entropy, cross_entropy.default_seed))
    shutil.copy(BUGGY, submissions / "bob.py")

    public = gradekit("check", str(submissions / "table.py"), "--max-examples", str(EXAMPLES), "--format", "json")
    assert public.returncode == 0, public.stderr
    assert json.loads(public.stdout)["score"] == 100, "the table answers every call of the public check"

    out = tmp_path / "results"
    graded = gradekit(
        "grade", str(submissions), "--assignment", "cross_entropy", "--out", str(out), "--max-examples", str(EXAMPLES)
    )
    assert graded.returncode == 0, graded.stderr
    kept = out / course_seed.FILE_NAME
    assert stat.S_IMODE(kept.stat().st_mode) == 0o600
    seed = course_seed.read(kept)
    assert seed.bit_length() > 64
    assert graded.stderr.count(f"made the course seed in {kept}") == 1
    table = json.loads((out / "results" / "table.json").read_text())
    assert table["score"] < 50, "under the course seed the table meets inputs it has no answer to"
    assert table["seed"] is None and table["seed_digest"] == course_seed.digest(seed)

    written = [p for p in out.rglob("*") if p.is_file() and p != kept]
    assert written and all(str(seed) not in p.read_text() for p in written), "no file of the class shows the seed"

    again = gradekit(
        "grade", str(submissions), "--assignment", "cross_entropy", "--out", str(out), "--max-examples", str(EXAMPLES)
    )
    assert again.returncode == 0, again.stderr
    assert "(0 graded now, 2 kept from before)" in again.stderr and "made the course seed" not in again.stderr
    assert course_seed.read(kept) == seed

    checked = gradekit(
        "check", str(BUGGY), "--max-examples", str(EXAMPLES), "--format", "json", "--seed-file", str(kept)
    )
    assert checked.returncode == 1, checked.stderr
    result = json.loads(checked.stdout)
    bob = json.loads((out / "results" / "bob.json").read_text())
    assert without_timings(result) == without_timings(bob), "checked with the seed file, a file gets its class grade"
    back = GradeResult.from_dict(result)
    reports = {name: render(back) for name, render in WRITERS.items()} | {"summary": github.summary(back)}
    assert all(str(seed) not in report for report in reports.values())
    named = {name for name, report in reports.items() if course_seed.digest(seed) in report}
    assert named == set(reports) - {"github"}, "every format that names a seed names this one by its digest"


def test_the_same_seed_file_gives_the_same_report_twice(tmp_path):
    seed_file = tmp_path / "course-seed"
    course_seed.write(seed_file, SEED)
    check = ["check", str(BUGGY), "--max-examples", str(EXAMPLES), "--seed-file", str(seed_file)]
    first, second = gradekit(*check), gradekit(*check)
    assert first.returncode == second.returncode == 1, first.stderr
    assert first.stdout == second.stdout and f"(course seed, digest {course_seed.digest(SEED)})" in first.stdout
    assert str(SEED) not in first.stdout


def test_a_128_bit_seed_is_recorded_and_replayed_as_hypothesis_draws_it(cross_entropy):
    chosen = replace(cross_entropy, properties=cross_entropy.properties[:6])
    recorded = recording.recorded(chosen, SEED, EXAMPLES)
    assert set(recorded) == {p.name for p in chosen.properties}
    assert recorded == recording.recorded(chosen, SEED, EXAMPLES) != recording.recorded(chosen, SEED + 1, EXAMPLES)
    config = GradeConfig(seed=SEED, course_seed=True, max_examples=EXAMPLES)
    replayed, drawn = grade(BUGGY, chosen, config), grade(BUGGY, chosen, replace(config, shortcuts=False))
    assert without_timings(replayed.to_dict()) == without_timings(drawn.to_dict())
    assert replayed.seed is None and replayed.seed_digest == course_seed.digest(SEED)


def test_a_course_seed_is_128_random_bits_kept_by_its_owner_alone_and_named_by_a_digest(tmp_path):
    path = tmp_path / "course-seed"
    seed, made = course_seed.kept(path)
    assert made and 0 <= seed < 2**course_seed.BITS and path.read_text() == f"{seed}\n"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert course_seed.kept(path) == (seed, False)
    assert course_seed.fresh() != course_seed.fresh()
    named = course_seed.digest(seed)
    assert len(named) == 12 and set(named) <= set("0123456789abcdef") and named != course_seed.digest(seed + 1)


@pytest.fixture
def never_graded(monkeypatch: pytest.MonkeyPatch) -> None:
    """Grading fails the test: a bad seed option must be refused before the first property runs."""

    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("graded before the seed was refused")

    monkeypatch.setattr(grader, "grade", refuse)


def refused(capsys: pytest.CaptureFixture[str], *argv: str) -> str:
    """The one line `gradekit argv` wrote on stderr, having exited 2 and written nothing else."""
    assert main(list(argv)) == Exit.USAGE, argv
    captured = capsys.readouterr()
    assert captured.out == "" and captured.err.startswith("gradekit: "), captured
    assert len(captured.err.strip().splitlines()) == 1, captured.err
    return captured.err.strip()


def test_a_seed_file_that_cannot_be_read_or_holds_no_integer_is_one_sentence(tmp_path, capsys, never_graded):
    submission = tmp_path / "submission.py"
    shutil.copy(BUGGY, submission)
    words = tmp_path / "words"
    words.write_text("not a seed\n")
    empty = tmp_path / "empty"
    empty.write_text("")
    for bad, why in [(tmp_path / "missing", "cannot be read"), (tmp_path, "cannot be read"), (words, "no integer")]:
        assert why in refused(capsys, "check", str(submission), "--seed-file", str(bad))
    assert "no integer" in refused(capsys, "check", str(submission), "--seed-file", str(empty))
    class_folder = tmp_path / "class"
    class_folder.mkdir()
    grading = ["grade", str(class_folder), "--assignment", "cross_entropy", "--out", str(tmp_path / "out")]
    assert "no integer" in refused(capsys, *grading, "--seed-file", str(words), "--no-isolation")
    out = tmp_path / "bundle.zip"
    building = ["gradescope", "build", "--assignment", "cross_entropy", "--out", str(out)]
    assert "no integer" in refused(capsys, *building, "--seed-file", str(words))
    assert not out.exists()


def test_the_seed_file_variable_names_a_seed_file_too(tmp_path, capsys, never_graded, monkeypatch):
    submission = tmp_path / "submission.py"
    shutil.copy(BUGGY, submission)
    monkeypatch.setenv(course_seed.VARIABLE, str(tmp_path / "missing"))
    assert "cannot be read" in refused(capsys, "check", str(submission))


def test_seed_and_seed_file_together_are_a_usage_error(tmp_path, capsys, never_graded, monkeypatch):
    submission = tmp_path / "submission.py"
    shutil.copy(BUGGY, submission)
    seed_file = tmp_path / "course-seed"
    course_seed.write(seed_file, SEED)
    line = refused(capsys, "check", str(submission), "--seed", "7", "--seed-file", str(seed_file))
    assert "--seed and --seed-file" in line and str(SEED) not in line
    class_folder = tmp_path / "class"
    class_folder.mkdir()
    out = tmp_path / "out"
    grading = ["grade", str(class_folder), "--assignment", "cross_entropy", "--out", str(out), "--no-isolation"]
    assert "--seed and --seed-file" in refused(capsys, *grading, "--seed", "7", "--seed-file", str(seed_file))
    assert not (out / course_seed.FILE_NAME).exists()


def test_selftest_keeps_the_public_seed_which_proves_the_assignment():
    assert not hasattr(parse(["selftest", "cross_entropy"]), "seed_file")
    assert parse(["check", "x.py"]).seed_file is None
