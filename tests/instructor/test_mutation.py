"""`gradekit selftest NAME --mutants`: a mutation campaign kills what the properties catch, finds by the
differential run what they miss, and counts what computes the same.

The campaign runs on `relu`, an assignment of one function written here, whose only property checks
positive inputs: cosmic-ray makes 10 mutants of its solution, which the property and the run against
the solution on inputs.py's inputs (any float in +-100) sort in about two seconds.
"""

from __future__ import annotations

import builtins
import json
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings

from gradekit import assignment
from gradekit.assignment import INPUTS
from gradekit.cli import main
from gradekit.config import GradeConfig
from gradekit.instructor import differential
from gradekit.instructor.mutation import BLIND_SPOT, EQUIVALENT, KILLED, UNJUDGED, Campaign, campaign, render

NAME = "relu"
FILES = {
    "__init__.py": '"""Relu: max(0, x)."""\n',
    "functions.py": 'def relu(x: float) -> float:\n    """max(0, x) for any x."""\n    raise NotImplementedError\n',
    "solution.py": "def relu(x):\n    if x > 0:\n        return x\n    return 0.0\n",
    "properties.py": """from hypothesis import given
from hypothesis import strategies as st

from gradekit import expect_close, prop

from .solution import relu as reference


@prop(points=1, functions=["relu"], hint="relu(x) is x where x > 0.")
@given(x=st.floats(0.5, 100.0))
def relu_matches_on_positives(sub, x):
    expect_close(sub.relu(x), reference(x))
""",
    "inputs.py": "from hypothesis import strategies as st\n\nINPUTS = {'relu': st.tuples(st.floats(-100.0, 100.0))}\n",
}
CONFIG = GradeConfig(max_examples=20)
# Each mutant of the solution, by the line it changes to, and what becomes of it.
EXPECTED = {
    "if x == 0:": KILLED,  # 0.0 for every positive x
    "if x != 0:": BLIND_SPOT,  # x for a negative x
    "if x < 0:": KILLED,
    "if x <= 0:": KILLED,
    "if x >= 0:": EQUIVALENT,  # differs at 0 alone, where x is 0 too
    "if not x > 0:": KILLED,
    "if x > 1:": KILLED,  # 0.0 for x in (0.5, 1]
    "if x > -1:": BLIND_SPOT,  # x for x in (-1, 0)
    "return 1.0": BLIND_SPOT,
    "return -1.0": BLIND_SPOT,
}


def _course(tmp_path: Path, inputs: bool = True) -> Path:
    folder = tmp_path / NAME
    folder.mkdir()
    for name, text in FILES.items():
        if inputs or name != INPUTS:
            (folder / name).write_text(text)
    return tmp_path


def _campaign(course: Path) -> Campaign:
    folders = [str(course)]
    return campaign(
        assignment.load(NAME, folders), CONFIG, jobs=2, assignment_dirs=folders, inputs=100, kinds="operators"
    )


def test_a_campaign_kills_finds_blind_spots_and_counts_an_equivalent(tmp_path):
    report = _campaign(_course(tmp_path))
    assert {v.mutant.after: v.status for v in report.verdicts} == EXPECTED
    assert (report.count(KILLED), report.count(BLIND_SPOT), report.count(EQUIVALENT)) == (5, 4, 1)
    assert report.kill_rate == pytest.approx(5 / 9)
    assert not report.ok and report.problem is None
    killed = next(v for v in report.verdicts if v.mutant.after == "if x < 0:")
    assert killed.score == 0 and killed.lost_on == ("relu_matches_on_positives",)
    spots = {v.mutant.after: v.difference for v in report.verdicts if v.status == BLIND_SPOT}
    for after, found in spots.items():
        assert found is not None and found.function == "relu", after
        (x,) = found.arguments
        assert found.expected[:2] == ("returned", 0.0), after  # what the solution answers: x is not positive
        assert x <= 0 and found.got[0] == "returned" and found.got[1] != 0.0, after
    assert spots["if x != 0:"].got[1] == spots["if x != 0:"].arguments[0]  # the negative x itself
    assert -1 < spots["if x > -1:"].arguments[0] < 0  # shrunk within the one interval that shows it
    assert spots["return 1.0"].got[1] == 1.0
    text = render(report, {"relu": ("x",)})
    assert "Kill rate: 5 of 9 non-equivalent mutants (55.6%)" in text
    assert "    - if x > 0:\n    + if x != 0:\n    relu(" in text
    assert "(ReplaceComparisonOperator_Gt_GtE, relu, line 2)" in text.split("Likely equivalent:")[1]
    assert text.rstrip().splitlines()[-1].startswith("Blind spots: 4 mutants the properties pass")


def test_without_inputs_the_survivors_are_left_unjudged(tmp_path):
    report = _campaign(_course(tmp_path, inputs=False))
    assert report.inputs is None
    survivors = {after for after, status in EXPECTED.items() if status != KILLED}
    assert {v.mutant.after for v in report.verdicts if v.status == UNJUDGED} == survivors
    assert report.kill_rate == pytest.approx(5 / 10) and not report.ok
    assert "write inputs.py" in render(report)


def test_the_command_writes_the_campaign_beside_a_release_and_exits_1_on_a_blind_spot(tmp_path, capsys):
    course = _course(tmp_path)
    out = tmp_path / "release" / "mutation.json"
    out.parent.mkdir()
    argv = ["--assignments", str(course), "selftest", NAME, "--mutants", "--mutant-kinds", "operators", "--jobs", "2"]
    argv += ["--max-examples", "20"]
    assert main([*argv, "--mutant-inputs", "50", "--mutants-out", str(out), "--format", "json"]) == 1
    written = json.loads(out.read_text())
    assert written == json.loads(capsys.readouterr().out)
    assert (written["killed"], written["blind_spots"], written["likely_equivalent"], written["unjudged"]) == (
        5,
        4,
        1,
        0,
    )
    assert written["kill_rate"] == 0.5556 and written["tool"] == "cosmic-ray"
    blind = next(v for v in written["verdicts"] if v["after"] == "return -1.0")
    assert blind["difference"]["expected"] == 0.0 and blind["difference"]["got"] == -1.0


def test_without_cosmic_ray_the_command_says_how_to_install_it(tmp_path, monkeypatch, capsys):
    real = builtins.__import__

    def without_cosmic_ray(name, *args, **kwargs):
        if name.startswith("cosmic_ray"):
            raise ImportError(f"No module named {name!r}")
        return real(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", without_cosmic_ray)
    assert main(["--assignments", str(_course(tmp_path)), "selftest", NAME, "--mutants"]) == 2
    assert capsys.readouterr().err == (
        "gradekit: the mutation campaign needs cosmic-ray: install it with pip install 'gradekit[mutation]'\n"
    )


def test_mutants_out_asks_for_a_campaign(tmp_path, capsys):
    assert main(["selftest", NAME, "--mutants-out", str(tmp_path / "m.json")]) == 2
    assert "give --mutants too" in capsys.readouterr().err


@pytest.mark.parametrize("name", ["cross_entropy", "training_step", "autograd"])
def test_every_built_in_assignment_declares_inputs_for_what_its_properties_call(name):
    """inputs.py covers every function a submission writes but a class's methods, which are called
    through the harness (autograd), and every harness function."""
    built_in = assignment.load(name)
    module = differential.declared(built_in)
    assert module is not None
    classes = {f.partition(".")[0] for f in built_in.functions if "." in f}
    wanted = set(built_in.harness_functions) | {f for f in built_in.functions if "." not in f} - classes
    assert set(module.INPUTS) == wanted


def test_the_cross_entropy_inputs_weigh_the_boundaries():
    module = differential.declared(assignment.load("cross_entropy"))
    assert module is not None
    drawn: dict[str, list] = {"softmax": [], "perplexity": []}
    for function in drawn:

        @settings(max_examples=200, database=None, derandomize=True, suppress_health_check=list(HealthCheck))
        @given(module.INPUTS[function])
        def collect(args):
            drawn[function].append(args[0])  # noqa: B023 (collect runs at once, in this iteration)

        collect()
    vectors = drawn["softmax"]
    assert {1, 127, 128, 129, 255, 256} <= {len(z) for z in vectors}
    assert any(max(z) - min(z) > 700 and max(map(abs, z)) <= 1000 for z in vectors)
    assert any(len(z) > 1 and z[0] == max(z) == z[-1] for z in vectors)  # the largest tied at both ends
    assert any(len(z) > 1 and z[-1] == max(z) > z[0] for z in vectors)
    assert {0.0, 700.0} <= set(drawn["perplexity"]) and all(0.0 <= loss <= 700.0 for loss in drawn["perplexity"])
