"""A class's results/STUDENT.json is strict JSON, and a resumed or regraded class reads it back as written.

A submission that returns NaN or an infinity (a loss that overflowed) is common: its result must still
parse in every JSON reader, and the class grade that reads it back (to keep it, to compare a regrade
with it, for the gradebook) must find the very values the grade found.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest

from gradekit.batch import results_folder as results
from gradekit.batch.roster import Student
from gradekit.result import Adjustment, Call, Counterexample, GradeResult, PropertyResult, Status

FAILED = PropertyResult(
    "loss_matches_reference",
    ("cross_entropy_loss",),
    Status.FAILED,
    0,
    10,
    message="NaN",  # text that reads like a number stays text
    counterexample=Counterexample(
        inputs={"logits": [0.0, -math.inf], "target": 1},
        calls=(Call("cross_entropy_loss", ([0.0, -math.inf], 1), returned=math.nan, raised=None, names=("z", "t")),),
        returned=math.nan,
        expected=math.inf,
    ),
)
RESULT = GradeResult(
    "cross_entropy",
    "ann.py",
    7,
    tests=(FAILED,),
    output="Infinity",
    adjustments=(Adjustment(comment="NaN"),),
)


def refuse(name: str) -> None:
    pytest.fail(f"{name} written as a JSON literal")


@pytest.mark.parametrize("feedback", ["markdown", "text"])
def test_a_result_with_non_finite_values_is_strict_json_and_reads_back_alike(tmp_path: Path, feedback: str):
    (tmp_path / "results").mkdir()
    (tmp_path / "feedback").mkdir()
    student = Student("ann", tmp_path / "ann.py")
    results.write_student(tmp_path, student, RESULT, results.stamp(student), feedback)
    written = (tmp_path / "results" / "ann.json").read_text()
    data = json.loads(written, parse_constant=refuse)
    example = data["tests"][0]["counterexample"]
    assert example["returned"] == "NaN" and example["expected"] == "Infinity"
    assert example["calls"][0]["args"] == [[0.0, "-Infinity"], 1]
    back = GradeResult.from_dict(results.read_result(tmp_path / "results" / "ann.json"))
    assert repr(back) == repr(RESULT)  # repr: a NaN read back equals the NaN written
    assert back.tests[0].message == "NaN" and back.output == "Infinity" and back.adjustments[0].comment == "NaN"


def test_a_result_written_before_results_were_strict_still_reads_back(tmp_path: Path):
    data = {**RESULT.to_dict(), "batch": {"student": "ann"}}
    (tmp_path / "ann.json").write_text(json.dumps(data))  # NaN and Infinity as literals
    back = GradeResult.from_dict(results.read_result(tmp_path / "ann.json"))
    assert repr(back) == repr(RESULT)
