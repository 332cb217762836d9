"""`gradekit new`: the scaffold is a working assignment from the first minute."""

from __future__ import annotations

import pytest

from gradekit import assignment, scaffold
from gradekit.config import GradeConfig
from gradekit.errors import UsageError
from gradekit.grader import grade

FAST = GradeConfig(max_examples=20)


def test_a_new_assignment_grades_its_own_banks(tmp_path):
    folder = scaffold.create("my_log_softmax", tmp_path)
    made = assignment.load("my_log_softmax", [str(tmp_path)])
    assert made.title.startswith("My log softmax")
    assert list(made.functions) == ["log_softmax"] and made.max_score == 10
    assert grade(made.solution, made, FAST).score == 10
    (right,) = made.known("known_right")
    no_max_shift, not_normalised = made.known("known_wrong")
    assert grade(right, made, FAST).score == 10
    assert grade(not_normalised, made, FAST).score == 0
    assert grade(no_max_shift, made, FAST).score == 6  # caught by shift invariance alone
    assert {assignment.blamed_function(w) for w in (no_max_shift, not_normalised)} == {"log_softmax"}
    assert (folder / "properties.py").read_text().count("@prop") == 2


@pytest.mark.parametrize("name", ["Bad", "two words", "class", "9lives"])
def test_bad_names_are_refused(tmp_path, name):
    with pytest.raises(UsageError, match="lowercase Python identifier"):
        scaffold.create(name, tmp_path)


def test_an_existing_folder_is_never_overwritten(tmp_path):
    scaffold.create("taken", tmp_path)
    with pytest.raises(UsageError, match="already exists"):
        scaffold.create("taken", tmp_path)
