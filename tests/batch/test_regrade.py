"""Results that know what they were made from: provenance, resume, and the regrade report.

A course's own assignment (gradekit new's label_smoothing) is changed as an instructor changes one
mid-term (a tolerance, points, a property's code, the seed, a resubmission, nothing at all), and the
class graded again after each: the run grades exactly the students whose results no longer hold, and
the report names exactly the students whose scores changed, with the cause.
"""

from __future__ import annotations

import hashlib
import io
import json
import shutil
from dataclasses import replace
from pathlib import Path

import pytest

from gradekit import assignment
from gradekit.batch import class_grade
from gradekit.cli import main
from gradekit.config import GradeConfig, Limits
from gradekit.engine.provenance import property_parts
from gradekit.grader import grade
from gradekit.reports import gradescope, junit
from gradekit.result import GradeResult

FAST = GradeConfig(seed=1, max_examples=10, limits=Limits(call_timeout=1.0, load_timeout=1.5))
MATCHES = "log_softmax_matches_reference"
OFF = """import math


def log_softmax(logits):
    top = max(logits)
    log_total = math.log(sum(math.exp(z - top) for z in logits))
    return [(z - top - log_total) * (1 + 1e-7) for z in logits]
"""


@pytest.fixture
def course(tmp_path: Path) -> Path:
    assert main(["new", "label_smoothing", "--dir", str(tmp_path / "course")]) == 0
    return tmp_path / "course"


def edit(course: Path, old: str, new: str) -> None:
    path = course / "label_smoothing" / "properties.py"
    text = path.read_text()
    assert old in text, old
    path.write_text(text.replace(old, new))


def parts(course: Path) -> dict[str, dict[str, object]]:
    loaded = assignment.load("label_smoothing", [str(course)])
    return {p.name: property_parts(p, loaded, FAST) for p in loaded.properties}


def changed(before: dict[str, object], after: dict[str, object]) -> set[str]:
    return {k for k in before if before[k] != after[k]}


def test_each_kind_of_change_to_a_property_changes_its_own_part_alone(course):
    first = parts(course)[MATCHES]
    edit(
        course,
        '"log_softmax differs from the solution", scale',
        '"log_softmax differs from the solution", rtol=1e-5, scale',
    )
    tolerance = parts(course)[MATCHES]
    assert changed(first, tolerance) == {"tolerance"} and tolerance["tolerance"] == ["rtol=1e-05"]
    edit(course, "@prop(points=4,", "@prop(points=8,")
    points = parts(course)[MATCHES]
    assert changed(tolerance, points) == {"points"}
    edit(course, "@given(z=logits())", "@given(z=logits(bound=5.0))")
    strategy = parts(course)[MATCHES]
    assert changed(points, strategy) == {"strategy"}
    edit(course, "expect_close(sub.log_softmax(z), reference(z)", "expect_close(sub.log_softmax(z), reference(z[:])")
    code = parts(course)[MATCHES]
    assert changed(strategy, code) == {"code"}
    edit(course, "\n\n@prop(points=8", "\n\n# moved down, reformatted: the same property\n\n\n@prop(points=8")
    assert parts(course)[MATCHES] == code


def test_a_worked_examples_tolerance_is_its_tolerance_alone(course):
    before = parts(course)["log_softmax_on_worked_examples"]
    public = course / "label_smoothing" / "public.py"
    public.write_text(public.read_text().replace("    points=2,\n", "    points=2,\n    rtol=1e-6,\n"))
    after = parts(course)["log_softmax_on_worked_examples"]
    assert changed(before, after) == {"tolerance"} and after["tolerance"] == ["rtol=1e-06", "atol=1e-12"]


def test_a_helper_the_property_uses_is_part_of_its_code(course):
    edit(
        course,
        "from .solution import log_softmax as reference\n",
        "from .solution import log_softmax\n\n\ndef reference(z):\n    return log_softmax(z)\n",
    )
    before = parts(course)[MATCHES]
    edit(course, "    return log_softmax(z)\n", "    return log_softmax(list(z))\n")
    assert changed(before, parts(course)[MATCHES]) == {"code"}


def test_every_report_carries_what_the_result_was_made_from(course, tmp_path):
    chosen = assignment.load("label_smoothing", [str(course)])
    submission = tmp_path / "off.py"
    submission.write_text(OFF)
    result = grade(submission, chosen, FAST)
    made = result.provenance
    assert made is not None and made.submission == hashlib.sha256(OFF.encode()).hexdigest()
    assert made.seed == "1" and made.examples == 10 and made.isolation == result.isolation
    assert set(made.properties) == {p.name for p in chosen.properties} and set(made.libraries) == {
        "hypothesis",
        "numpy",
    }
    assert GradeResult.from_dict(json.loads(json.dumps(result.to_dict()))).provenance == made
    extra = json.loads(gradescope.render(result))["extra_data"]
    assert extra["provenance"] == made.to_dict()
    assert f'name="submission_sha256" value="{made.submission}"' in junit.render(result)


def grade_class(submissions: Path, course: Path, out: Path, config: GradeConfig = FAST, again=()) -> str:
    chosen = assignment.load("label_smoothing", [str(course)])
    return class_grade.grade_all(
        submissions,
        chosen,
        out,
        config,
        class_grade.ClassConfig(jobs=2, assignment_dirs=[str(course)], progress=io.StringIO(), again=again),
    )


def latest_report(out: Path) -> tuple[Path, dict[str, object]]:
    folder = max((p for p in (out / "regrades").iterdir()), key=lambda p: int(p.name))
    return folder, json.loads((folder / "regrade.json").read_text())


def causes_by_student(report: dict[str, object]) -> dict[str, set[str]]:
    return {
        entry["student"]: {c["cause"] for prop in entry["properties"] for c in prop["causes"]}
        for entry in report["changed"]  # type: ignore[union-attr]
    }


def test_a_class_graded_again_after_each_kind_of_change_names_who_changed_and_why(course, tmp_path):
    submissions = tmp_path / "class"
    submissions.mkdir()
    shutil.copy(course / "label_smoothing" / "solution.py", submissions / "right.py")
    shutil.copy(course / "label_smoothing" / "known_wrong" / "not_normalised.py", submissions / "wrong.py")
    (submissions / "off.py").write_text(OFF)
    out = tmp_path / "results"
    assert "(3 graded now, 0 kept from before)" in grade_class(submissions, course, out)

    account = grade_class(submissions, course, out)
    assert "(0 graded now, 3 kept from before)" in account and not (out / "regrades").exists()

    edit(
        course,
        '"log_softmax differs from the solution", scale',
        '"log_softmax differs from the solution", rtol=1e-5, scale',
    )
    account = grade_class(submissions, course, out)
    assert "(3 graded now, 0 kept from before)" in account and "3 made under another assignment" in account
    folder, report = latest_report(out)
    assert folder.name == "1" and report["regraded"] == 3 and report["unchanged"] == 2
    assert causes_by_student(report) == {"off": {"the tolerance"}}
    assert json.loads((folder / "earlier" / "off.json").read_text())["score"] == 0
    assert "Your score changed from 0/10 to 4/10" in (out / "feedback" / "off.md").read_text()
    assert "score changed" not in (out / "feedback" / "right.md").read_text()

    edit(course, "@prop(points=4,", "@prop(points=8,")
    grade_class(submissions, course, out)
    _, report = latest_report(out)
    assert causes_by_student(report) == {"right": {"its points"}, "wrong": {"its points"}, "off": {"its points"}}

    edit(
        course,
        "expect_close(sub.log_softmax(z), reference(z)",
        "expect_close(sub.log_softmax(z), [x - max(z) for x in z]",
    )
    grade_class(submissions, course, out)
    _, report = latest_report(out)
    assert causes_by_student(report) == {name: {"the property's code"} for name in ("right", "wrong", "off")}

    account = grade_class(submissions, course, out, replace(FAST, seed=2))
    _, report = latest_report(out)
    assert "3 made with another seed" in account and report["regraded"] == 3 and report["changed"] == []

    shutil.copy(course / "label_smoothing" / "solution.py", submissions / "off.py")
    account = grade_class(submissions, course, out, replace(FAST, seed=2))
    _, report = latest_report(out)
    assert "(1 graded now, 2 kept from before)" in account and "1 resubmitted" in account
    # the worked examples now pass, and shift invariance, which requires them, pays
    assert causes_by_student(report) == {"off": {"the submission itself", "a property it requires"}}

    account = grade_class(submissions, course, out, replace(FAST, seed=2), again=["wrong"])
    folder, report = latest_report(out)
    assert "(1 graded now, 2 kept from before)" in account and "1 asked for" in account
    assert folder.name == "6" and report["regraded"] == 1 and report["changed"] == []
    csv_rows = (out / "regrades" / "2" / "regrade.csv").read_text().splitlines()
    assert len(csv_rows) == 4 and all(",its points (4 → 8)" in row for row in csv_rows[1:])


def test_an_interrupted_regrade_resumes_and_reports_every_student_graded_again(course, tmp_path, monkeypatch):
    submissions = tmp_path / "class"
    submissions.mkdir()
    for name in ("ann", "ben", "cat"):
        shutil.copy(course / "label_smoothing" / "solution.py", submissions / f"{name}.py")
    out = tmp_path / "results"
    grade_class(submissions, course, out)
    edit(course, "@prop(points=4,", "@prop(points=8,")
    real = class_grade.run_pool

    def interrupted(students, *args, **kwargs):
        real(students[:1], *args, **kwargs)
        raise KeyboardInterrupt

    monkeypatch.setattr(class_grade, "run_pool", interrupted)
    with pytest.raises(KeyboardInterrupt):
        grade_class(submissions, course, out)
    assert sorted(p.name for p in (out / "regrades" / "under-way" / "earlier").iterdir()) == [
        "ann.json",
        "ben.json",
        "cat.json",
    ]
    monkeypatch.setattr(class_grade, "run_pool", real)
    account = grade_class(submissions, course, out)
    assert "(2 graded now, 1 kept from before)" in account
    folder, report = latest_report(out)
    assert folder.name == "1" and not (out / "regrades" / "under-way").exists()
    assert causes_by_student(report) == {name: {"its points"} for name in ("ann", "ben", "cat")}


def test_regrading_a_student_not_in_the_class_is_a_usage_error(course, tmp_path, capsys):
    submissions = tmp_path / "class"
    submissions.mkdir()
    shutil.copy(course / "label_smoothing" / "solution.py", submissions / "ann.py")
    argv = ["--assignments", str(course), "grade", str(submissions), "--assignment", "label_smoothing"]
    assert main([*argv, "--out", str(tmp_path / "out"), "--seed", "1", "--regrade", "bob"]) == 2
    assert "--regrade bob: there is no student of that name" in capsys.readouterr().err
