"""Options go where users put them, and a setting the grader cannot honour is refused before grading.

Every refusal here is the grader's own input problem: one sentence on stderr, exit code 2, no
traceback, and no grade that blames the student for it.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from gradekit import grader
from gradekit.cli import Exit, build_parser, main, parse
from gradekit.commands.options import MAX_EXAMPLES, MAX_MEMORY_MIB, MIN_MEMORY_MIB
from gradekit.instructor import gradescope_bundle, scaffold

ROOT = Path(__file__).resolve().parents[2]
CORRECT = ROOT / "examples" / "submission.py"
NUMPY_SUBMISSION = ROOT / "assignments" / "cross_entropy" / "known_right" / "numpy_vectorised.py"

# Each verb with the arguments it needs, and the global option placed after the verb.
VERBS = {
    "check": ["x.py"],
    "grade": ["d", "--assignment", "a", "--out", "o"],
    "collect": ["roster.csv", "--deadline", "2026-12-01T00:00:00Z", "--out", "o"],
    "gradescope": ["build", "--assignment", "a"],
    "init-ci": [],
    "selftest": ["a"],
    "list": [],
    "new": ["a"],
    "release": ["a", "--out", "o"],
    "doctor": [],
}


def gradekit(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "gradekit", *args], capture_output=True, text=True, cwd=cwd)


def refused(capsys: pytest.CaptureFixture[str], *argv: str) -> str:
    """The one line `gradekit argv` wrote on stderr, having exited 2 and written nothing else."""
    assert main(list(argv)) == Exit.USAGE, argv
    captured = capsys.readouterr()
    assert captured.out == "" and captured.err.startswith("gradekit: "), captured
    assert len(captured.err.strip().splitlines()) == 1, captured.err
    return captured.err.strip()


def help_of(capsys: pytest.CaptureFixture[str], verb: str) -> str:
    """What `gradekit VERB --help` printed, every run of whitespace read as one space."""
    with pytest.raises(SystemExit) as exited:
        main([verb, "--help"])
    assert exited.value.code == 0
    return " ".join(capsys.readouterr().out.split())


@pytest.fixture
def never_graded(monkeypatch: pytest.MonkeyPatch) -> None:
    """Grading fails the test: what is refused must be refused before the first property runs."""

    def grade(*args: object, **kwargs: object) -> None:
        raise AssertionError("graded before the bad option was refused")

    monkeypatch.setattr(grader, "grade", grade)


def test_every_verb_takes_the_global_options_after_it_too():
    parser = build_parser()
    verbs = next(a for a in parser._actions if a.dest == "command")
    assert set(verbs.choices) == set(VERBS)
    for verb, needed in VERBS.items():
        after = parse([verb, *needed, "--assignments", "course"])
        assert after.assignments == ["course"], verb
        assert parse(["--assignments", "course", verb, *needed]).assignments == ["course"], verb
        assert parse([verb, *needed]).assignments is None, verb


def test_global_options_given_before_and_after_the_verb_are_all_kept_in_order():
    args = parse(["--assignments", "a", "selftest", "x", "--assignments", "b", "--assignments", "c"])
    assert args.assignments == ["a", "b", "c"]
    nested = parse(
        ["--assignments", "a", "gradescope", "--assignments", "b", "build", "--assignment", "x", "--assignments", "c"]
    )
    assert nested.assignments == ["a", "b", "c"]
    assert not [name for name in vars(nested) if "assignments" in name and name != "assignments"]


def test_selftest_finds_a_new_assignment_in_a_folder_named_after_the_verb(tmp_path):
    scaffold.create("label_smoothing", tmp_path)
    done = gradekit("selftest", "label_smoothing", "--assignments", str(tmp_path), "--once", "--max-examples", "5")
    assert done.returncode == Exit.PASSED, done.stderr
    assert "Grades well" in done.stdout
    listed = gradekit("list", "--assignments", str(tmp_path))
    assert listed.returncode == Exit.PASSED and "label_smoothing:" in listed.stdout


def test_an_unknown_assignment_names_the_built_in_ones_and_how_to_add_a_folder(capsys):
    line = refused(capsys, "selftest", "label_smoothing")
    assert line == (
        "gradekit: there is no assignment named 'label_smoothing' (built in: autograd, cross_entropy, training_step; "
        "add the folder that holds it with --assignments DIR)"
    )


def test_an_unknown_assignment_lists_the_instructor_s_folders_apart(capsys, tmp_path):
    scaffold.create("label_smoothing", tmp_path)
    line = refused(capsys, "release", "nope", "--out", str(tmp_path / "out"), "--assignments", str(tmp_path))
    assert "built in: autograd, cross_entropy, training_step; from your folders: label_smoothing;" in line
    assert line.endswith("add the folder that holds it with --assignments DIR)")
    assert not (tmp_path / "out").exists()


def test_an_assignments_folder_that_is_the_assignment_itself_is_named_with_its_parent(capsys, tmp_path):
    folder = scaffold.create("label_smoothing", tmp_path)
    line = refused(capsys, "selftest", "label_smoothing", "--assignments", str(folder))
    assert f"{folder} is that assignment itself: give the folder that holds it, --assignments {tmp_path})" in line


@pytest.mark.parametrize("option", ["--timeout", "--budget", "--property-budget", "--cell-timeout"])
@pytest.mark.parametrize("value", ["nan", "NaN", "inf", "-inf", "1e999", "0", "-1"])
def test_a_limit_in_seconds_is_finite_and_positive(capsys, never_graded, option, value):
    line = refused(capsys, "check", str(CORRECT), f"{option}={value}")
    assert line.startswith(f"gradekit: argument {option}: '{value}' ")
    assert line.endswith(("is not a number", "is not a finite number", "must be positive"))


def test_a_finite_limit_is_taken():
    args = parse(["check", "x.py", "--timeout", "0.5", "--budget", "1e6", "--cell-timeout", "3"])
    assert (args.timeout, args.budget, args.cell_timeout) == (0.5, 1e6, 3.0)


@pytest.mark.parametrize("value", ["nan", "inf", "-1"])
def test_a_minimum_score_is_a_finite_number_of_0_or_more(capsys, never_graded, value):
    line = refused(capsys, "check", str(CORRECT), f"--min-score={value}")
    assert line.startswith(f"gradekit: argument --min-score: '{value}' ")


def test_a_memory_cap_too_small_for_a_worker_is_refused_and_the_floor_is_documented(capsys, never_graded):
    line = refused(capsys, "check", str(CORRECT), "--memory", "10")
    assert line == (
        f"gradekit: argument --memory: 10 MiB is less than the {MIN_MEMORY_MIB} MiB "
        "a worker needs to start Python and import NumPy"
    )
    assert refused(capsys, "check", str(CORRECT), "--memory", str(MIN_MEMORY_MIB - 1)).startswith(
        "gradekit: argument --memory: "
    )
    assert refused(capsys, "check", str(CORRECT), "--memory", str(MAX_MEMORY_MIB + 1)).endswith("the largest cap")
    assert f"memory cap of the worker in MiB, from {MIN_MEMORY_MIB}" in help_of(capsys, "check")


def test_the_smallest_memory_cap_taken_grades_a_numpy_submission_in_full(tmp_path):
    report = tmp_path / "report.json"
    done = gradekit(
        "check",
        str(NUMPY_SUBMISSION),
        "--assignment",
        "cross_entropy",
        "--memory",
        str(MIN_MEMORY_MIB),
        "--max-examples",
        "5",
        "--format",
        "json",
        "--output",
        str(report),
    )
    assert done.returncode == Exit.PASSED, done.stderr + report.read_text()
    assert '"error": null' in report.read_text()


def test_more_examples_than_a_grade_can_hold_are_refused_with_the_reason(capsys, never_graded):
    assert parse(["check", "x.py", "--max-examples", str(MAX_EXAMPLES)]).max_examples == MAX_EXAMPLES
    line = refused(capsys, "check", str(CORRECT), "--max-examples", str(MAX_EXAMPLES + 1))
    assert line == (
        f"gradekit: argument --max-examples: {MAX_EXAMPLES + 1} is more than {MAX_EXAMPLES}, the most a grade "
        "can hold: every example's inputs are recorded and kept in memory"
    )
    assert refused(capsys, "selftest", "cross_entropy", "--max-examples", "5000").startswith(
        "gradekit: argument --max-examples: 5000 is more than"
    )
    assert f"examples per property, at most {MAX_EXAMPLES}" in help_of(capsys, "grade")


def test_an_output_that_is_a_folder_is_refused_before_grading(capsys, never_graded, tmp_path):
    line = refused(capsys, "check", str(CORRECT), "--output", str(tmp_path))
    assert line == f"gradekit: --output {tmp_path} is a folder; name a file to write, like {tmp_path / 'report.json'}"


def test_an_output_under_a_file_is_refused_before_grading(capsys, never_graded, tmp_path):
    notes = tmp_path / "notes.txt"
    notes.write_text("mine\n")
    line = refused(capsys, "check", str(CORRECT), "--output", str(notes / "deeper" / "report.json"))
    assert (
        line
        == f"gradekit: --output {notes / 'deeper' / 'report.json'} cannot be written: {notes} is a file, not a folder"
    )
    assert notes.read_text() == "mine\n"


def test_an_output_that_is_the_submission_itself_is_refused_before_grading(capsys, never_graded, tmp_path):
    submission = tmp_path / "work.py"
    submission.write_text(CORRECT.read_text())
    line = refused(capsys, "check", str(submission), "--output", str(tmp_path / "." / "work.py"))
    assert "is the submission itself" in line
    assert submission.read_text() == CORRECT.read_text()


def test_a_report_the_disk_refuses_is_one_sentence_after_the_grade():
    done = gradekit("check", str(CORRECT), "--max-examples", "5", "--output", "/dev/full")
    assert done.returncode == Exit.USAGE
    assert (
        done.stderr.strip().splitlines()[-1]
        == "gradekit: could not write the report to /dev/full: No space left on device"
    )
    assert "Traceback" not in done.stderr


@pytest.mark.parametrize(
    ("command", "option", "inside"),
    [(("release", "cross_entropy"), "--out", "starter"), (("new", "smoothing"), "--dir", "course")],
    ids=["release", "new"],
)
def test_a_folder_to_write_that_is_a_file_or_under_one_is_refused(capsys, tmp_path, command, option, inside):
    notes = tmp_path / "notes.txt"
    notes.write_text("mine\n")
    assert refused(capsys, *command, option, str(notes)) == (
        f"gradekit: {option} {notes} is a file; name a folder to write into"
    )
    assert refused(capsys, *command, option, str(notes / inside)) == (
        f"gradekit: {option} {notes / inside} cannot be written: {notes} is a file, not a folder"
    )
    assert notes.read_text() == "mine\n"


def test_a_gradescope_zip_that_is_a_folder_or_under_a_file_is_refused(capsys, tmp_path):
    notes = tmp_path / "notes.txt"
    notes.write_text("mine\n")
    build = ["gradescope", "build", "--assignment", "cross_entropy", "--out"]
    assert refused(capsys, *build, str(tmp_path)) == (
        f"gradekit: --out {tmp_path} is a folder; name a file to write, like {tmp_path / 'autograder.zip'}"
    )
    assert refused(capsys, *build, str(notes / "autograder.zip")) == (
        f"gradekit: --out {notes / 'autograder.zip'} cannot be written: {notes} is a file, not a folder"
    )
    assert notes.read_text() == "mine\n"


def test_a_gradescope_zip_the_disk_refuses_is_one_sentence(capsys, monkeypatch, tmp_path):
    def build(*args: object) -> None:
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(gradescope_bundle, "build", build)
    out = tmp_path / "autograder.zip"
    assert refused(capsys, "gradescope", "build", "--assignment", "cross_entropy", "--out", str(out)) == (
        f"gradekit: could not write {out}: Permission denied"
    )


def test_a_new_assignment_the_disk_refuses_is_one_sentence(capsys, monkeypatch, tmp_path):
    def create(*args: object) -> None:
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(scaffold, "create", create)
    assert refused(capsys, "new", "smoothing", "--dir", str(tmp_path)) == (
        f"gradekit: could not write the assignment into {tmp_path}: Permission denied"
    )


def test_a_class_grade_into_a_file_or_into_the_submissions_is_refused_before_grading(capsys, tmp_path):
    submissions = tmp_path / "class"
    submissions.mkdir()
    (submissions / "alice.py").write_text(CORRECT.read_text())
    notes = tmp_path / "notes.txt"
    notes.write_text("mine\n")
    grade = ["grade", str(submissions), "--assignment", "cross_entropy", "--no-isolation", "--out"]
    assert refused(capsys, *grade, str(notes)) == f"gradekit: --out {notes} is a file; name a folder to write into"
    line = refused(capsys, *grade, str(submissions / ".." / "class"))
    assert "is the submissions folder itself, where the results would be graded as students" in line
    assert sorted(p.name for p in submissions.iterdir()) == ["alice.py"]
