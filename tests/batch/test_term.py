"""A class over a term: a roster with one student missing and one submission it does not list, the
staff's adjustments by hand kept across a regrade and named as its cause when they change, and the
gradebook exported for Canvas and Moodle, read back by the columns each documents.
"""

from __future__ import annotations

import csv
import io
import json
import shutil
from pathlib import Path

import pytest

from gradekit.batch import class_grade
from gradekit.batch.lms import CANVAS, MOODLE
from gradekit.batch.roster import read_roster
from gradekit.cli import main
from gradekit.config import GradeConfig, Limits
from gradekit.errors import UsageError
from gradekit.reports import gradescope
from gradekit.result import GradeResult

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples"
FAST = GradeConfig(max_examples=10, limits=Limits(call_timeout=1.0, load_timeout=1.5, cell_timeout=1.0))
LOSS = "loss_matches_reference"  # the property the buggy example fails, worth 8
ROSTER = """id,name,submission,email,login,section
ann,"Lee, Ann",,ann@example.edu,alee,S1
ben,Ben Ode,ben,ben@example.edu,bode,S2
cat,Cat Ray,cat.py,cat@example.edu,cray,S1
"""
OVERRIDES = f"""student,property,add,set,comment
ben,{LOSS},,8,Your loss was right; the tolerance was too strict
ann,,-5,,Late by a day
"""


def table(path: Path) -> list[dict[str, str]]:
    with open(path, newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def by(rows: list[dict[str, str]], column: str) -> dict[str, dict[str, str]]:
    return {row[column]: row for row in rows}


@pytest.fixture(scope="module")
def term(tmp_path_factory: pytest.TempPathFactory, cross_entropy) -> Path:
    """A class graded once with a roster, overrides and both exports: ann (a right .py, named like her
    id), ben (a buggy file in the folder the roster names), cat (on the roster, nothing submitted),
    zed (a right file no roster row claims)."""
    folder = tmp_path_factory.mktemp("term")
    submissions = folder / "submissions"
    (submissions / "ben").mkdir(parents=True)
    shutil.copy(EXAMPLES / "submission.py", submissions / "ann.py")
    shutil.copy(EXAMPLES / "buggy_submission.py", submissions / "ben" / "work.py")
    shutil.copy(EXAMPLES / "submission.py", submissions / "zed.py")
    (folder / "roster.csv").write_text(ROSTER)
    out = folder / "results"
    out.mkdir()
    (out / "overrides.csv").write_text(OVERRIDES)
    class_grade.grade_all(
        submissions,
        cross_entropy,
        out,
        FAST,
        class_grade.ClassConfig(
            jobs=2, progress=io.StringIO(), roster=read_roster(folder / "roster.csv"), exports=("canvas", "moodle")
        ),
    )
    return folder


def test_every_roster_student_has_a_row_a_missing_one_as_missing_and_an_unlisted_one_is_flagged(term):
    rows = by(table(term / "results" / "gradebook.csv"), "student")
    assert list(rows) == ["ann", "ben", "cat", "zed"]
    assert [rows[s]["status"] for s in rows] == ["graded", "graded", "missing", "unlisted"]
    assert rows["ann"]["name"] == "Lee, Ann" and rows["zed"]["name"] == ""
    assert rows["cat"]["score"] == "0"
    assert rows["cat"]["error"] == "no submission: cat.py is not in the submissions folder"
    assert rows["zed"]["score"] == "100"
    summary = (term / "results" / "summary.md").read_text()
    assert "0 could not be graded · 1 missing" in summary
    assert "## Missing (1)" in summary and "- **cat** (Cat Ray)" in summary
    assert "## Not on the roster (1)" in summary and "- **zed**" in summary
    assert "Could not be graded" not in summary  # the missing student is named as missing, not as broken
    assert "no submission" in (term / "results" / "feedback" / "cat.md").read_text()


def test_feedback_names_a_submission_within_the_submissions_folder_and_a_missing_one_as_nothing(term):
    """Never the grader's own path to a file, and never a file's name for a student who sent none."""
    feedback = term / "results" / "feedback"
    assert (feedback / "ann.md").read_text().startswith("# gradekit: ann.py (cross_entropy)\n")
    assert (feedback / "ben.md").read_text().startswith("# gradekit: ben/work.py (cross_entropy)\n")
    assert (feedback / "cat.md").read_text().startswith("# gradekit: cat: nothing submitted (cross_entropy)\n")
    assert str(term) not in "".join(path.read_text() for path in feedback.iterdir())


def test_adjustments_change_the_score_never_what_the_properties_found(term):
    out = term / "results"
    rows = by(table(out / "gradebook.csv"), "student")
    ben = GradeResult.from_dict(json.loads((out / "results" / "ben.json").read_text()))
    paid = {t.name: t.score for t in ben.tests}
    assert paid[LOSS] == 0  # the property's own outcome stays as found
    assert ben.score == ben.found + 8
    assert rows["ben"][LOSS] == "0" and rows["ben"]["score"] == f"{ben.score:g}" and rows["ben"]["adjustment"] == "8"
    assert rows["ben"]["comment"] == "Your loss was right; the tolerance was too strict"
    assert (
        rows["ann"]["score"] == "95" and rows["ann"]["adjustment"] == "-5" and rows["ann"]["comment"] == "Late by a day"
    )
    assert rows["cat"]["adjustment"] == "" and rows["zed"]["comment"] == ""
    feedback = (out / "feedback" / "ben.md").read_text()
    assert f"**Score: {ben.score:g} / 100**" in feedback
    assert f"- `{LOSS}`: set to 8 of 8. Your loss was right" in feedback
    results = json.loads(gradescope.render(ben))
    assert results["score"] == ben.score and {t["name"]: t["score"] for t in results["tests"]}[LOSS] == 0
    assert f"{LOSS}: set to 8 of 8. Your loss was right; the tolerance was too strict" in results["output"]
    assert "## Adjusted by hand" in (out / "summary.md").read_text()


def test_the_exports_read_back_by_the_columns_canvas_and_moodle_document(term):
    out = term / "results"
    scores = {row["student"]: row["score"] for row in table(out / "gradebook.csv")}
    with open(out / "canvas.csv", newline="") as handle:
        header, points, *students = list(csv.reader(handle))
    assert header == [*CANVAS, "cross_entropy"] and tuple(header[:5]) == (
        "Student",
        "ID",
        "SIS User ID",
        "SIS Login ID",
        "Section",
    )
    assert points[0] == "Points Possible" and points[5] == "100"
    canvas = by([dict(zip(header, row)) for row in students], "SIS User ID")
    assert list(canvas) == ["ann", "ben", "cat"]  # zed has no id an LMS knows
    assert {s: row["cross_entropy"] for s, row in canvas.items()} == {s: scores[s] for s in canvas}
    assert canvas["cat"]["cross_entropy"] == "0" and canvas["ben"]["SIS Login ID"] == "bode"
    assert canvas["ann"]["Student"] == "Lee, Ann" and canvas["ann"]["Section"] == "S1" and canvas["ann"]["ID"] == ""
    moodle = by(table(out / "moodle.csv"), "ID number")
    assert tuple(table(out / "moodle.csv")[0])[:4] == MOODLE
    assert list(moodle) == ["ann", "ben", "cat"]
    assert moodle["ann"]["Email address"] == "ann@example.edu" and moodle["ann"]["Username"] == "alee"
    assert moodle["ann"]["cross_entropy"] == "95" and moodle["ann"]["Feedback"] == "Late by a day"


def test_adjustments_last_across_a_regrade_and_a_changed_one_is_its_cause(term, tmp_path, cross_entropy):
    out = tmp_path / "results"
    shutil.copytree(term / "results", out)
    roster = read_roster(term / "roster.csv")

    def grade(**options: object) -> str:
        return class_grade.grade_all(
            term / "submissions",
            cross_entropy,
            out,
            FAST,
            class_grade.ClassConfig(jobs=1, progress=io.StringIO(), roster=roster, **options),
        )

    account = grade(again=["ben"])  # ben's properties run again; his adjustment is put back
    assert "1 graded now" in account and "0 of 1 score graded again changed" in account
    assert by(table(out / "gradebook.csv"), "student")["ben"]["adjustment"] == "8"
    (out / "overrides.csv").write_text(OVERRIDES.replace("-5,,Late by a day", "-10,,Late by two days"))
    account = grade()
    assert "0 graded now" in account and "1 result kept with new adjustments by hand" in account
    report = json.loads((out / "regrades" / "2" / "regrade.json").read_text())
    assert [c["student"] for c in report["changed"]] == ["ann"]
    (change,) = report["changed"][0]["properties"]
    assert change["name"] == "the whole score" and (change["before"], change["after"]) == ("-5", "-10")
    assert change["causes"] == [{"cause": "the course staff's adjustment", "detail": "-5 → -10"}]
    ann = (out / "feedback" / "ann.md").read_text()
    assert "Your score changed from 95/100 to 90/100" in ann and "10 points taken off. Late by two days" in ann
    (out / "overrides.csv").write_text(OVERRIDES + "zed,,7,,Extra credit\n")
    assert "; adjustments by hand take 1 score past 0 to 100: zed (107)" in grade()
    (out / "overrides.csv").unlink()  # no file: every adjustment is taken out, and the columns with them
    grade()
    rows = by(table(out / "gradebook.csv"), "student")
    assert rows["ann"]["score"] == "100" and "adjustment" not in rows["ann"]


def test_the_command_takes_a_roster_and_exports(term, tmp_path):
    out = tmp_path / "out"
    argv = ["grade", str(term / "submissions"), "--assignment", "cross_entropy", "--out", str(out)]
    assert main([*argv, "--export", "canvas"]) == 2 and not out.exists()
    roster = str(term / "roster.csv")
    assert main([*argv, "--roster", roster, "--export", "moodle", "--max-examples", "10", "--jobs", "2"]) == 0
    assert list(by(table(out / "moodle.csv"), "ID number")) == ["ann", "ben", "cat"]


def test_an_export_without_a_roster_is_one_sentence_before_anything_is_written(tmp_path, capsys):
    with pytest.raises(UsageError, match="--export needs --roster"):
        class_grade.ClassConfig(exports=("canvas",))
    submissions = tmp_path / "submissions"
    submissions.mkdir()
    shutil.copy(ROOT / "examples" / "submission.py", submissions / "ann.py")
    out = tmp_path / "results"
    assert (
        main(["grade", str(submissions), "--assignment", "cross_entropy", "--out", str(out), "--export", "canvas"]) == 2
    )
    assert "--export needs --roster" in capsys.readouterr().err
    assert not out.exists()
