"""The files a course writes by hand for a term, read without grading anyone: the roster, the overrides,
and an adjusted result as the result model, the regrade comparison and the writers see it."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pytest

from gradekit.batch.overrides import past_bounds, read_overrides
from gradekit.batch.regrade import compare
from gradekit.batch.roster import Enrolled, enrolled_students, read_roster
from gradekit.errors import UsageError
from gradekit.reports import adjustments
from gradekit.result import Adjustment, GradeResult, PropertyResult, Status

RESULT = GradeResult(
    "cross_entropy",
    "ann.py",
    7,
    tests=(
        PropertyResult("loss_matches_reference", ("cross_entropy_loss",), Status.FAILED, 0, 8),
        PropertyResult("softmax_matches_reference", ("softmax",), Status.PASSED, 6, 6),
    ),
)


def written(tmp_path: Path, text: str, name: str = "file.csv") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_a_roster_is_read_with_its_header_in_any_order_and_its_extra_columns_kept(tmp_path):
    path = written(tmp_path, '\ufeffName,ID,Submission,Repository\n\n"Lee, Ann",ann,,https://x/ann.git\n')
    (ann,) = read_roster(path)
    assert (ann.id, ann.name, ann.submission) == ("ann", "Lee, Ann", "")
    assert ann.columns["repository"] == "https://x/ann.git"


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("id,name\nann,Ann\n", "has no submission column"),
        ("id,name,submission\nann,Ann,a.py\nann,Ann B,b.py\n", "row 3: id ann is on row 2 too"),
        ("id,name,submission\nann,Ann,a.py\nben,Ben,a.py\n", "row 3: submission a.py is on row 2 too"),
        ("id,name,submission\n../ann,Ann,a.py\n", "row 2: the id '../ann' cannot name the student's files"),
        ("id,name,submission\n.ann,Ann,a.py\n", "cannot name the student's files"),
        ("id,name,submission\nann,Ann,../elsewhere/a.py\n", "is not inside the submissions folder"),
        ("id,name,submission\nann,Ann,/home/ann/a.py\n", "is not inside the submissions folder"),
    ],
)
def test_a_roster_that_would_lose_or_merge_a_student_is_refused_naming_the_row(tmp_path, text, says):
    with pytest.raises(UsageError, match=says.replace("(", r"\(").replace(".", r"\.")):
        read_roster(written(tmp_path, text))


def test_roster_students_find_their_submissions_and_the_unclaimed_entries_are_kept(tmp_path):
    folder = tmp_path / "submissions"
    (folder / "s1" / "ben").mkdir(parents=True)
    (folder / "ann.py").write_text("x = 1\n")
    (folder / "s1" / "ben" / "cross_entropy.py").write_text("x = 1\n")
    (folder / "zed.ipynb").write_text("{}")
    (folder / "link.py").symlink_to(folder / "ann.py")
    roster = [Enrolled("ann", "Ann"), Enrolled("ben", "Ben", "s1/ben"), Enrolled("cat", "Cat", "cat.py")]
    roster.append(Enrolled("dee", "Dee", "link.py"))
    students = {s.name: s for s in enrolled_students(folder, roster, assignment="cross_entropy")}
    assert list(students) == ["ann", "ben", "cat", "dee", "zed"]  # s1 holds ben's folder: no student
    assert students["ann"].path == folder / "ann.py" and students["ann"].problem is None
    assert students["ben"].path == folder / "s1" / "ben" and students["ben"].problem is None
    assert students["cat"].missing
    assert students["cat"].problem == "no submission: cat.py is not in the submissions folder"
    assert not students["dee"].missing and "is a symbolic link" in (students["dee"].problem or "")
    assert students["zed"].enrolled is None and students["ann"].enrolled == roster[0]
    (folder / "cat").mkdir()  # not claimed: the roster names cat.py, yet it would take cat's files
    with pytest.raises(UsageError, match="is not on the roster, but cat is the id of a roster student"):
        enrolled_students(folder, roster)


@pytest.mark.parametrize(
    ("row", "says"),
    [
        ("bob,,1,,", "row 2: there is no student 'bob' in this class"),
        ("ann,loss_typo,1,,", "row 2: the assignment has no property 'loss_typo'"),
        ("ann,,1,2,", "row 2: give add or set, not both"),
        ("ann,,two,,", "row 2: add is 'two', not a number of points"),
        ("ann,,nan,,", "row 2: add is 'nan', not a number of points"),
        ("ann,,1,,\nann,,,3,", "row 3: ann's the whole score is adjusted on row 2 too"),
    ],
)
def test_an_override_that_would_be_dropped_unseen_is_refused_naming_the_row(tmp_path, row, says):
    path = written(tmp_path, f"student,property,add,set,comment\n{row}\n")
    with pytest.raises(UsageError, match=says):
        read_overrides(path, {"ann"}, {"loss_matches_reference"})


def test_overrides_are_read_per_student_in_the_file_order(tmp_path):
    text = "Comment,Student,Set,Property,Add\nwell done,ann,,,\n,ann,6,loss_matches_reference,\nlate,ben,,,-2.5\n"
    found = read_overrides(written(tmp_path, text), {"ann", "ben"}, {"loss_matches_reference"})
    assert found == {
        "ann": (Adjustment(comment="well done"), Adjustment("loss_matches_reference", set=6.0)),
        "ben": (Adjustment(add=-2.5, comment="late"),),
    }


def test_adjustments_apply_to_properties_then_the_whole_score_and_survive_json():
    adjusted = replace(
        RESULT, adjustments=(Adjustment(add=-1), Adjustment("loss_matches_reference", set=6, comment="fair"))
    )
    assert (RESULT.score, adjusted.found, adjusted.score, adjusted.max_score) == (6, 6, 11, 14)
    assert replace(adjusted, adjustments=(Adjustment(set=3), Adjustment("loss_matches_reference", add=2))).score == 3
    assert GradeResult.from_dict(json.loads(json.dumps(adjusted.to_dict()))) == adjusted
    older = {k: v for k, v in adjusted.to_dict().items() if k != "adjustments"}
    assert GradeResult.from_dict(older).adjustments == ()  # a result written before adjustments reads as none
    assert adjustments.change(adjusted) == "5" and adjustments.comments(adjusted) == "fair"
    assert adjustments.lines(adjusted) == [
        "From the course staff: your score is 11 / 14; the properties found 6, adjusted by hand as below.",
        "  the whole score: 1 point taken off",
        "  loss_matches_reference: set to 6 of 8. fair",
    ]
    assert adjustments.lines(RESULT) == [] and adjustments.change(RESULT) == ""


def test_a_changed_adjustment_is_a_cause_on_its_property_and_an_unchanged_one_is_none():
    before = replace(RESULT, adjustments=(Adjustment("loss_matches_reference", set=4),))
    after = replace(RESULT, adjustments=(Adjustment("loss_matches_reference", set=6),))
    (change,) = compare("ann", before, after).changes
    assert (change.property, change.before, change.after) == (
        "loss_matches_reference",
        "failed 0/8, adjusted set 4",
        "failed 0/8, adjusted set 6",
    )
    assert [str(c) for c in change.causes] == ["the course staff's adjustment (set 4 → set 6)"]
    assert compare("ann", after, after).changes == ()
    line = compare("ann", before, after).line()
    assert line.endswith("loss_matches_reference (the course staff's adjustment).")


def test_adjustments_that_take_a_score_past_its_bounds_are_named():
    def result(found: float, *adjustments: Adjustment) -> GradeResult:
        prop = PropertyResult("p", ("f",), Status.PASSED, found, 10.0)
        return GradeResult("cross_entropy", "x.py", 0, (prop,), adjustments=adjustments)

    graded = [
        ("ann", result(10.0, Adjustment(add=2.0))),
        ("ben", result(3.0, Adjustment(add=-5.0))),
        ("cat", result(10.0, Adjustment(set=10.0))),
        ("dan", result(10.0)),
        ("eve", result(4.0, Adjustment("p", set=12.0))),
    ]
    assert past_bounds(graded, 10.0) == ["ann (12)", "ben (-2)", "eve (12)"]
