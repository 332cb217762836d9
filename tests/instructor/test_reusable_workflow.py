"""`gradekit init-ci --course OWNER/REPO`: the grading job as the course repository's reusable workflow, and
the one-line caller students' repositories hold, as Classroom 50 does."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

import gradekit
from gradekit.cli import main
from gradekit.instructor.github_workflow import CALLER_FILE, COURSE_FOLDER, REUSABLE

ROOT = Path(__file__).resolve().parents[2]
WHEEL = f"gradekit-{gradekit.__version__}-py3-none-any.whl"


def _course(tmp_path: Path, *options: str) -> Path:
    course = tmp_path / "course"
    course.mkdir()
    assert main(["init-ci", "--dir", str(course), "--course", "uni/ml-course", *options]) == 0
    return course


def test_the_course_holds_a_reusable_workflow_and_students_a_one_line_caller(tmp_path, capsys):
    course = _course(tmp_path, "--assignment", "cross_entropy", "--min-score", "60")
    said = capsys.readouterr().err
    reusable = yaml.safe_load((course / REUSABLE).read_text())
    assert reusable[True] == {"workflow_call": None}  # YAML 1.1 reads `on` as True
    steps = reusable["jobs"]["grade"]["steps"]
    checkout = [s for s in steps if s.get("uses", "").startswith("actions/checkout@")]
    assert checkout[0] == {"uses": "actions/checkout@v4"}  # the caller's repository: the student's
    assert checkout[1]["with"] == {"repository": "uni/ml-course", "ref": "main", "path": COURSE_FOLDER}
    install = next(s["run"] for s in steps if "pip install" in s.get("run", ""))
    assert f"python -m pip install {COURSE_FOLDER}/.gradekit/{WHEEL}" in install
    assert (course / ".gradekit" / WHEEL).is_file()
    grades = [s["run"] for s in steps if " check " in s.get("run", "")]
    assert (
        len(grades) == 1
        and "gradekit check . --assignment cross_entropy" in grades[0]
        and "--min-score 60" in grades[0]
    )
    caller = yaml.safe_load((course / CALLER_FILE).read_text())
    assert set(caller[True]) == {"push", "workflow_dispatch"}
    assert caller["jobs"] == {"grade": {"uses": "uni/ml-course/.github/workflows/grade.yml@main"}}
    assert "the grade that counts is the one gradekit collect takes at the deadline" in said
    assert f"add {REUSABLE.as_posix()} .gradekit" in said


def test_a_course_s_own_assignment_is_read_from_the_course_s_repository(tmp_path):
    folder = tmp_path / "assignments"
    assert main(["new", "label_smoothing", "--dir", str(folder)]) == 0
    course = _course(tmp_path, "--assignments", str(folder), "--assignment", "label_smoothing", "--course-ref", "v2")
    text = (course / REUSABLE).read_text()
    assert f"gradekit --assignments {COURSE_FOLDER}/.gradekit/assignments check ." in text
    assert (course / ".gradekit" / "assignments" / "label_smoothing" / "__init__.py").is_file()
    assert "uses: uni/ml-course/.github/workflows/grade.yml@v2" in (course / CALLER_FILE).read_text()


@pytest.mark.parametrize(
    "options, said",
    [
        (["--course", "not a repo"], "is not a repository's OWNER/NAME"),
        (["--course", "uni/ml", "--course-ref", "main\nx"], "is not a branch or tag name"),
        (["--course", "uni/ml", "--assignments", "ASSIGNMENTS"], "name the assignment with --assignment"),
    ],
    ids=["repository", "ref", "unnamed"],
)
def test_a_course_or_ref_yaml_would_misread_is_refused(tmp_path, options, said, capsys):
    folder = tmp_path / "assignments"
    assert main(["new", "label_smoothing", "--dir", str(folder)]) == 0
    options = [str(folder) if o == "ASSIGNMENTS" else o for o in options]
    capsys.readouterr()
    assert main(["init-ci", "--dir", str(tmp_path), *options]) == 2
    assert said in capsys.readouterr().err and not (tmp_path / REUSABLE).exists()


def test_the_reusable_grade_step_grades_the_student_s_file_not_the_course_s(tmp_path, activated):
    """The step run as the runner runs it, in a workspace holding the student's repository with the
    course's checked out beside it: `check .` picks the student's file, never one in the course's folder."""
    course = _course(tmp_path, "--assignment", "cross_entropy")
    workspace = tmp_path / "workspace"
    workspace.mkdir()
    shutil.copy(ROOT / "examples" / "buggy_submission.py", workspace / "submission.py")
    shutil.copytree(course, workspace / COURSE_FOLDER)
    steps = yaml.safe_load((course / REUSABLE).read_text())["jobs"]["grade"]["steps"]
    (script,) = [s["run"] for s in steps if " check " in s.get("run", "")]
    script = script.replace("--format json", "--max-examples 20 --format json")
    activated.pop("GITHUB_STEP_SUMMARY", None)
    done = subprocess.run(["bash", "-e", "-c", script], cwd=workspace, env=activated, capture_output=True, text=True)
    assert done.returncode == 1, done.stderr  # the buggy file fails the job
    assert "::error file=submission.py" in done.stdout
    assert (workspace / "gradekit-junit.xml").is_file()
