"""A strategy made once and given again draws what one made afresh draws: every grade is the same.

gradekit.strategies gives the strategy it made before for the same arguments, so Hypothesis checks
each strategy object once instead of at every draw. Here submissions that fail on every kind of
input (logits, documents, optimizer states, tables) are graded with that and with every strategy made
afresh at each call, with every shortcut off so that Hypothesis draws and shrinks every example:
each grade, counterexamples and all, must be the same.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import without_times

from gradekit import assignment, strategies
from gradekit.config import GradeConfig
from gradekit.grader import grade

ROOT = Path(__file__).resolve().parents[2]
FEW = GradeConfig(max_examples=10, property_budget=600.0, diagnose=False, shortcuts=False)
FILES = [
    ("cross_entropy", ROOT / "examples" / "buggy_submission.py"),
    ("cross_entropy", ROOT / "assignments" / "cross_entropy" / "known_wrong" / "sequence_sums.py"),
    ("training_step", ROOT / "examples" / "training_step_buggy.py"),
    ("training_step", ROOT / "assignments" / "training_step" / "known_wrong" / "adam_no_bias_correction.py"),
]


class _KeepsNothing(dict):
    """A cache that keeps nothing: every strategy is made afresh, as without `_made_once`."""

    def __setitem__(self, key, value):
        pass


def _graded(name: str, path: Path) -> str:
    return without_times(grade(path, assignment.load(name), FEW))


@pytest.mark.parametrize(("name", "path"), FILES, ids=[f"{name}-{path.stem}" for name, path in FILES])
def test_strategies_made_once_grade_as_strategies_made_afresh(name, path, monkeypatch):
    assert path.is_file()
    once = _graded(name, path)
    monkeypatch.setattr(strategies, "_MADE", _KeepsNothing())
    afresh = _graded(name, path)
    assert '"counterexample": {' in once, "nothing failed: no shrinking was compared"
    assert once == afresh
