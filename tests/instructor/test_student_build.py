"""The student build: public properties and worked answers for students, the solution for no one else."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import nbformat
import pytest

from gradekit import assignment, worked
from gradekit.cli import main
from gradekit.config import GradeConfig
from gradekit.errors import AssignmentError, InvalidProperty, UsageError
from gradekit.grader import grade
from gradekit.instructor import student_build
from gradekit.instructor.gradescope_bundle import build as gradescope_build
from gradekit.instructor.selftest import selftest
from gradekit.jupyter import _here
from gradekit.result import Status

FAST = GradeConfig(max_examples=20)


@pytest.fixture
def course(tmp_path: Path) -> Path:
    assert main(["new", "label_smoothing", "--dir", str(tmp_path / "course")]) == 0
    return tmp_path / "course"


def _release(course: Path, out: Path) -> int:
    return main(["--assignments", str(course), "release", "label_smoothing", "--out", str(out)])


def test_release_writes_starters_that_check_against_the_build_and_a_build_without_the_solution(course, tmp_path):
    out = tmp_path / "handout"
    assert _release(course, out) == 0
    built = out / "assignments" / "label_smoothing"
    assert sorted(p.name for p in built.iterdir()) == ["__init__.py", "answers.json", "functions.py", "public.py"]
    solution = (course / "label_smoothing" / "solution.py").read_text()
    assert "fsum" in solution and not any("fsum" in p.read_text() for p in built.iterdir())
    assert "gradekit check label_smoothing.py --assignments assignments" in (out / "label_smoothing.py").read_text()
    last = nbformat.read(str(out / "label_smoothing.ipynb"), as_version=4).cells[-1].source
    assert last == "%run -m gradekit.jupyter label_smoothing --assignments assignments"


def test_the_build_grades_its_public_properties_as_the_full_grade_does(course, tmp_path):
    full = assignment.load("label_smoothing", [str(course)])
    built = assignment.load_folder(student_build.write(full, tmp_path / "handout"))
    assert built.student_build and [p.name for p in built.properties] == [p.name for p in full.properties if p.public]
    banks = [full.solution, *full.known("known_right"), *full.known("known_wrong")]
    for path in banks:
        public = {t.name: t for t in grade(path, full, FAST).tests if t.name in {p.name for p in built.properties}}
        checked = grade(path, built, FAST)
        assert {t.name: (t.status, t.score, t.message) for t in checked.tests} == {
            name: (t.status, t.score, t.message) for name, t in public.items()
        }, path.name
        assert any("public check of label_smoothing" in note for note in checked.notes)
        assert not any("public check" in note for note in grade(path, full, FAST).notes)


def test_a_worked_example_failure_shows_the_call_and_both_answers(course, tmp_path):
    full = assignment.load("label_smoothing", [str(course)])
    built = assignment.load_folder(student_build.write(full, tmp_path / "handout"))
    (not_normalised,) = [p for p in full.known("known_wrong") if p.stem == "not_normalised"]
    (test, *_) = grade(not_normalised, built, FAST).tests
    assert test.name == "log_softmax_on_worked_examples" and test.status is Status.FAILED
    assert test.counterexample is not None and test.counterexample.inputs == {"logits": [1.0, 2.0]}
    assert test.counterexample.returned == [-1.0, 0.0]
    assert test.counterexample.expected == pytest.approx([-1.3132616875182228, -0.31326168751822286])


def test_a_public_py_that_imports_the_solution_is_refused_and_nothing_is_written(course, tmp_path, capsys):
    public = course / "label_smoothing" / "public.py"
    public.write_text(public.read_text() + "\nfrom .solution import log_softmax as _peek\n")
    capsys.readouterr()
    assert _release(course, tmp_path / "handout") == 2
    error = capsys.readouterr().err
    assert "public.py imports solution (line " in error and error.count("\n") == 1
    assert not (tmp_path / "handout" / "label_smoothing.py").exists()
    assert not (tmp_path / "handout" / "assignments" / "label_smoothing").exists()


def test_the_modules_public_py_imports_travel_with_it_and_no_others(course, tmp_path):
    folder = course / "label_smoothing"
    (folder / "cases.py").write_text("from .more_cases import MORE\nCASES = [([0.5],)] + MORE\n")
    (folder / "more_cases.py").write_text("MORE = [([1.5, -1.5],)]\n")
    (folder / "notes_for_me.py").write_text("SECRET = 'kept by the instructor'\n")
    public = folder / "public.py"
    public.write_text(
        public.read_text()
        + "\nfrom .cases import CASES\n\nmore_worked = worked_examples('log_softmax', CASES, points=1, hint='h.')\n"
    )
    full = assignment.load("label_smoothing", [str(course)])
    assert student_build.files(full) == ["__init__.py", "cases.py", "functions.py", "more_cases.py", "public.py"]
    built = assignment.load_folder(student_build.write(full, tmp_path / "handout"))
    assert built.worked_answers["more_worked"] == [[0.0], [-0.04858735157374196, -3.048587351573742]]


def test_a_build_holds_its_sources_and_no_bytecode_where_python_writes_it(course, tmp_path, monkeypatch):
    """Proving the build loads compiles its modules; on a machine that keeps bytecode (most do) that
    must not travel to students."""
    monkeypatch.setattr("sys.dont_write_bytecode", False)
    full = assignment.load("label_smoothing", [str(course)])
    built = student_build.write(full, tmp_path / "handout")
    assert sorted(p.name for p in built.iterdir()) == sorted([*student_build.files(full), worked.ANSWERS])
    assert list(built.rglob("__pycache__")) == []


def test_a_build_whose_answers_are_not_its_public_py_s_says_to_release_again(course, tmp_path):
    full = assignment.load("label_smoothing", [str(course)])
    built = student_build.write(full, tmp_path / "handout")
    answers = built / worked.ANSWERS
    document = json.loads(answers.read_text())
    document["log_softmax_on_worked_examples"]["cases"][0] = [[9.0]]
    answers.write_text(json.dumps(document))
    with pytest.raises(AssignmentError, match="release again"):
        assignment.load_folder(built)
    answers.unlink()
    with pytest.raises(AssignmentError, match="answers.json is missing"):
        assignment.load_folder(built)


def test_a_build_is_neither_self_tested_nor_made_an_autograder(course, tmp_path):
    built = assignment.load_folder(
        student_build.write(assignment.load("label_smoothing", [str(course)]), tmp_path / "handout")
    )
    with pytest.raises(UsageError, match="student build"):
        selftest(built)
    with pytest.raises(UsageError, match="student build"):
        gradescope_build(built, tmp_path / "autograder.zip", seed=1)
    assert not (tmp_path / "autograder.zip").exists()


def test_an_assignment_without_public_properties_has_no_build(course, tmp_path, capsys):
    (course / "label_smoothing" / "public.py").unlink()
    with pytest.raises(UsageError, match="no public properties"):
        student_build.write(assignment.load("label_smoothing", [str(course)]), tmp_path / "handout")
    capsys.readouterr()
    assert _release(course, tmp_path / "handout") == 0
    assert "students cannot check their work themselves" in capsys.readouterr().err
    assert sorted(p.name for p in (tmp_path / "handout").iterdir()) == ["label_smoothing.ipynb", "label_smoothing.py"]


def test_a_public_property_may_not_wait_on_a_hidden_one(course):
    public = course / "label_smoothing" / "public.py"
    public.write_text(
        public.read_text().replace('"log_softmax_on_worked_examples"]', '"log_softmax_matches_reference"]')
    )
    with pytest.raises(AssignmentError, match="public property 'log_softmax_shift_invariant' requires"):
        assignment.load("label_smoothing", [str(course)])


def test_a_solution_that_fails_a_worked_example_is_an_assignment_error(course):
    solution = course / "label_smoothing" / "solution.py"
    solution.write_text(solution.read_text() + "\n\ndef log_softmax(logits):\n    raise ValueError('no')\n")
    with pytest.raises(AssignmentError, match="the solution raised ValueError on the worked example"):
        assignment.load("label_smoothing", [str(course)])


@pytest.mark.parametrize(
    ("cases", "match"),
    [
        ([], "at least one case"),
        ("abc", "at least one case"),
        ([5.0], "tuple of arguments"),
        ([(float("nan"),)], "plain data"),
    ],
)
def test_worked_examples_are_plain_argument_tuples(cases, match):
    with pytest.raises(InvalidProperty, match=match):
        worked.worked_examples("f", cases, points=1, hint="h.")


def test_comments_are_cut_and_strings_kept():
    source = 'x = "# not a comment"  # a note\n# a whole-line note\ny = 1\n'
    assert student_build.without_comments(source) == 'x = "# not a comment"\ny = 1\n'


def test_the_notebook_check_finds_the_build_from_the_notebook_s_folder(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert _here(("--assignments", "assignments", "--seed", "3")) == [
        "--assignments",
        str(tmp_path / "assignments"),
        "--seed",
        "3",
    ]
    assert _here(("--assignments=b",)) == [f"--assignments={tmp_path / 'b'}"]


def test_init_ci_refuses_a_threshold_the_public_check_cannot_reach(course, tmp_path, capsys):
    repo = tmp_path / "repo"
    repo.mkdir()
    shutil.copy(course / "label_smoothing" / "solution.py", repo / "work.py")
    capsys.readouterr()
    command = ["--assignments", str(course), "init-ci", "--dir", str(repo), "--assignment", "label_smoothing"]
    assert main([*command, "--min-score", "10"]) == 2
    assert "--min-score 10 can never be reached: its public check gives at most 6 points" in capsys.readouterr().err
    assert sorted(p.name for p in repo.iterdir()) == ["work.py"]
