"""The mutants real code makes and operator mutation does not (gradekit.instructor.slips): each kind is
made where it can go, compiles, changes one place, and a campaign of them kills what the properties
catch.

The campaign runs on `mean`, an assignment of one function written here, with a `weight` argument
that has a default and a list that one explicit example makes 300 long: every slip but the cache is
killed in a few seconds."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from gradekit import assignment
from gradekit.cli import main
from gradekit.config import GradeConfig
from gradekit.instructor import slips
from gradekit.instructor.mutants import make
from gradekit.instructor.mutation import KILLED, campaign

ROOT = Path(__file__).resolve().parents[2]
SOLUTIONS = {
    "cross_entropy": ROOT / "reference" / "cross_entropy.py",
    "training_step": ROOT / "reference" / "training_step.py",
    "autograd": ROOT / "assignments" / "autograd" / "solution.py",
}

SOLUTION = '''import math

SCALE = 2.0


def mean(xs, weight=1.0, scale=SCALE):
    """weight * scale times the mean of xs."""
    total = 0.0
    for x in xs:
        total += x
    return weight * scale * total / len(xs)
'''
FILES = {
    "__init__.py": '"""Mean: a weighted mean."""\n',
    "functions.py": (
        "def mean(xs: list[float], weight: float = 1.0, scale: float = 2.0) -> float:\n"
        '    """weight * scale times the mean of 1 to 300 floats."""\n'
        "    raise NotImplementedError\n"
    ),
    "solution.py": SOLUTION,
    "properties.py": """from hypothesis import example, given
from hypothesis import strategies as st

from gradekit import expect_close, prop

from .solution import mean as reference

LONG = [float(i % 7) for i in range(300)]


@prop(points=1, functions=["mean"], hint="Divide the weighted sum by the number of values.")
@example(xs=LONG, weight=1.5, scale=0.5)
@given(xs=st.lists(st.floats(-100.0, 100.0), min_size=1, max_size=300), weight=st.floats(-3.0, 3.0),
       scale=st.floats(-3.0, 3.0))
def mean_matches(sub, xs, weight, scale):
    expect_close(sub.mean(xs, weight, scale), reference(xs, weight, scale), scale=100.0)
""",
    "inputs.py": (
        "from hypothesis import strategies as st\n\n"
        "INPUTS = {'mean': st.tuples(st.lists(st.floats(-100.0, 100.0), min_size=1, max_size=300), "
        "st.floats(-3.0, 3.0), st.floats(-3.0, 3.0))}\n"
    ),
}


def test_each_kind_is_made_where_it_can_go():
    made = slips.make(SOLUTION)
    kinds = Counter(slip.kind for slip in made)
    # scale's default is SCALE already, so reading it as the constant is the default's mutant, made once
    assert kinds == {
        "ArgumentAsDefault": 2,  # weight = 1.0, scale = SCALE
        **{f"LengthCut{size}": 1 for size in slips.BLOCK_SIZES},  # xs: iterated and measured
        "LoopSkipsLast": 1,
        "CacheById": 1,
    }
    constant = slips.make(SOLUTION.replace("scale=SCALE", "scale=2.0"))
    assert [s.after for s in constant if s.kind == "ArgumentAsConstant"] == ["scale = SCALE"]
    first = next(slip for slip in made if slip.kind == "LengthCut16")
    assert first.after == "if hasattr(xs, '__len__'): xs = xs[:16]"
    assert "    if hasattr(xs, '__len__'): xs = xs[:16]\n    total = 0.0\n" in first.source
    loop = next(slip for slip in made if slip.kind == "LoopSkipsLast")
    assert loop.after == "for x in list(xs)[:-1]:" and loop.source.count("list(xs)[:-1]") == 1


@pytest.mark.parametrize("name", sorted(SOLUTIONS))
def test_every_slip_of_each_solution_compiles_and_changes_it(name):
    source = SOLUTIONS[name].read_text()
    made = slips.make(source)
    assert made, f"no slip of {name}'s solution"
    for slip in made:
        compile(slip.source, SOLUTIONS[name].name, "exec")
        assert slip.source != source and slip.after
    kinds = {slip.kind for slip in made}
    assert {"CacheById", "LengthCut16"} <= kinds or name == "autograd"
    assert "DataDropped" in kinds or name != "autograd"


def test_make_keeps_one_kind_or_both():
    slipped = make(SOLUTION, "slips")
    assert [m.operator for m in slipped] == [s.kind for s in slips.make(SOLUTION)]
    assert all(m.before for m in slipped)


def test_a_campaign_of_slips_kills_every_one_the_property_sees(tmp_path):
    folder = tmp_path / "mean"
    folder.mkdir()
    for name, text in FILES.items():
        (folder / name).write_text(text)
    folders = [str(tmp_path)]
    report = campaign(
        assignment.load("mean", folders),
        GradeConfig(max_examples=30),
        jobs=2,
        assignment_dirs=folders,
        inputs=100,
        kinds="slips",
    )
    statuses = {(v.mutant.operator, v.mutant.after): v.status for v in report.verdicts}
    seen = {key: status for key, status in statuses.items() if key[0] != "CacheById"}
    assert seen and all(status == KILLED for status in seen.values()), seen


def test_mutant_kinds_asks_for_a_campaign(capsys):
    assert main(["selftest", "cross_entropy", "--mutant-kinds", "slips"]) == 2
    assert "--mutant-kinds narrows a mutation campaign: give --mutants too" in capsys.readouterr().err
