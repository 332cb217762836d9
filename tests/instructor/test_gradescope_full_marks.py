"""`gradekit gradescope build` grades the assignment's solution first, and writes no autograder whose
solution loses points: every student would lose them too."""

from __future__ import annotations

from pathlib import Path

from gradekit.cli import main


def _course(tmp_path: Path) -> Path:
    course = tmp_path / "course"
    assert main(["new", "label_smoothing", "--dir", str(course)]) == 0
    return course


def test_a_solution_that_loses_points_gets_no_autograder(tmp_path, capsys):
    course = _course(tmp_path)
    solution = course / "label_smoothing" / "solution.py"
    solution.write_text(solution.read_text().replace("return [z - top - log_total", "return [z - log_total"))
    out = tmp_path / "autograder.zip"
    capsys.readouterr()
    code = main(
        ["--assignments", str(course), "gradescope", "build", "--assignment", "label_smoothing", "--out", str(out)]
    )
    said = capsys.readouterr().err.strip().splitlines()[-1]  # after the line that says examples are recorded
    assert code == 2 and not out.exists()
    assert said.startswith("gradekit: the solution of label_smoothing scores ")
    assert (
        "(it fails log_softmax_shift_invariant)" in said and "no autograder is written until it gets full marks" in said
    )


def test_a_solution_that_cannot_be_loaded_as_a_submission_gets_no_autograder(tmp_path, capsys):
    course = _course(tmp_path)
    solution = course / "label_smoothing" / "solution.py"  # gradekit is out of a submission's reach
    solution.write_text("import gradekit.reference\n" + solution.read_text())
    out = tmp_path / "autograder.zip"
    capsys.readouterr()
    code = main(
        ["--assignments", str(course), "gradescope", "build", "--assignment", "label_smoothing", "--out", str(out)]
    )
    said = capsys.readouterr().err
    assert code == 2 and not out.exists() and "scores 0/" in said and "it could not be loaded: " in said


def test_a_solution_with_full_marks_gets_its_autograder(tmp_path):
    course = _course(tmp_path)
    out = tmp_path / "autograder.zip"
    assert (
        main(
            ["--assignments", str(course), "gradescope", "build", "--assignment", "label_smoothing", "--out", str(out)]
        )
        == 0
    )
    assert out.is_file()
