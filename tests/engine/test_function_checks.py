"""A student's check of the functions written so far, and stubs told once per function.

`gradekit check FILE --function NAME` grades the properties that belong to NAME (a property belongs
to the first function it names), runs the properties they require or are checked after, and scores
NAME out of its own points; a function still raising NotImplementedError is one line in the human
reports, however many properties wait on it.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import pytest

import gradekit
from gradekit import assignment, grader, jupyter
from gradekit.cli import main
from gradekit.config import GradeConfig
from gradekit.errors import UsageError
from gradekit.grader import Grading, grade, needed, selected
from gradekit.instructor.starter import release
from gradekit.reports import WRITERS
from gradekit.result import GradeResult

ROOT = Path(__file__).resolve().parents[2]
SOLUTION = (ROOT / "examples" / "submission.py").read_text()
FAST = GradeConfig(max_examples=10)
FUNCTIONS = "softmax, cross_entropy_loss, sequence_loss, perplexity, softmax_cross_entropy_grad"


def stubbed(*names: str) -> str:
    """The example solution with `names` left as the starter leaves them (the last definition wins)."""
    stubs = "".join(f"\n\ndef {name}(*args):\n    raise NotImplementedError\n" for name in names)
    return SOLUTION + stubs


def points(chosen: assignment.Assignment, function: str) -> float:
    return sum(p.points for p in chosen.properties if p.functions[0] == function)


@pytest.mark.parametrize("name", ["cross_entropy", "training_step", "autograd"])
def test_each_property_belongs_to_one_function_and_their_points_add_up_to_the_assignments(name):
    loaded = assignment.load(name)
    graded = [selected(loaded, (function,)) for function in loaded.functions]
    assert sum(g.max_score for g in graded) == loaded.max_score
    assert sorted(p.name for g in graded for p in g.properties) == sorted(p.name for p in loaded.properties)


def test_what_runs_is_the_graded_properties_and_everything_they_require_or_come_after(cross_entropy):
    graded = selected(cross_entropy, ("perplexity",))
    assert {p.name for p in graded.properties} == {
        "perplexity_matches_reference",
        "perplexity_stable_on_large_losses",
        "perplexity_of_uniform_is_v",
        "perplexity_is_pure",
    }
    ran = {p.name for p in needed(cross_entropy, graded).properties}
    assert ran == {p.name for p in graded.properties} | {"loss_matches_reference"}
    autograd = assignment.load("autograd")
    ran = {p.name for p in needed(autograd, selected(autograd, ("Value.__neg__",))).properties}
    chain = {"backward_seeds_the_output", "mul_values_and_grads", "backward_applies_the_chain_rule"}
    assert ran == {"neg_values_and_grads", "add_values_and_grads", "pow_values_and_grads"} | chain


def test_a_check_of_one_function_scores_it_out_of_its_own_points(tmp_path, cross_entropy):
    path = tmp_path / "work.py"
    path.write_text(stubbed("cross_entropy_loss", "sequence_loss", "perplexity", "softmax_cross_entropy_grad"))
    result = grade(path, cross_entropy, FAST, Grading(functions=("softmax",)))
    assert result.checked == ("softmax",)
    assert {t.functions[0] for t in result.tests} == {"softmax"}
    assert result.score == result.max_score == points(cross_entropy, "softmax")
    assert result.all_passed
    text = WRITERS["text"](result)
    assert f"Score: {points(cross_entropy, 'softmax'):g} / {points(cross_entropy, 'softmax'):g} for `softmax` " in text
    assert "a partial check" in text
    assert GradeResult.from_dict(json.loads(WRITERS["json"](result))).checked == ("softmax",)


def test_a_notebook_is_checked_one_function_at_a_time(tmp_path, cross_entropy):
    _, notebook = release(cross_entropy, tmp_path)
    result = grade(notebook, cross_entropy, FAST, Grading(functions=("softmax",)))
    worth = points(cross_entropy, "softmax")
    assert (result.score, result.max_score, result.checked) == (0, worth, ("softmax",))
    text = WRITERS["text"](result)
    assert f"Score: 0 / {worth:g} for `softmax` (a partial check" in text
    assert f"`softmax`: not implemented yet ({len(result.tests)} properties, {worth:g} points)" in text
    junit = WRITERS["junit"](result)
    assert '<property name="checked" value="softmax" />' in junit and junit.count("<testcase ") == len(result.tests)


def test_a_required_property_of_another_function_runs_and_is_judged_but_not_scored(tmp_path, cross_entropy):
    path = tmp_path / "work.py"
    path.write_text(stubbed("cross_entropy_loss"))  # the perplexity of a uniform guess needs the loss right
    result = grade(path, cross_entropy, FAST, Grading(functions=("perplexity",)))
    waiting = {t.name: t for t in result.tests}["perplexity_of_uniform_is_v"]
    assert waiting.status.value == "unchecked" and "`loss_matches_reference`" in waiting.message
    assert "loss_matches_reference" not in {t.name for t in result.tests}
    worth = points(cross_entropy, "perplexity")
    assert (result.score, result.max_score) == (worth - 3, worth)
    path.write_text(SOLUTION)
    whole = grade(path, cross_entropy, FAST, Grading(functions=("perplexity",)))
    assert whole.score == whole.max_score == worth


def test_a_property_needing_a_function_the_file_does_not_define_yet_waits_with_a_note(tmp_path, cross_entropy):
    """A check of what the student has written so far: the perplexity of a uniform guess needs their
    loss, which is not written yet, so its points wait; the rest of `perplexity` is graded."""
    path = tmp_path / "work.py"
    path.write_text("import math\n\n\ndef perplexity(loss):\n    return math.exp(loss)\n")
    result = grade(path, cross_entropy, FAST, Grading(functions=("perplexity",)))
    assert "perplexity_of_uniform_is_v" not in {t.name for t in result.tests}
    assert result.all_passed and result.score == result.max_score == points(cross_entropy, "perplexity") - 3
    assert result.notes == (
        "1 property of `perplexity` (3 points) waits on `cross_entropy_loss`, which this file does not define yet",
    )


def test_a_check_of_one_method_runs_the_properties_it_is_checked_after():
    autograd = assignment.load("autograd")
    assert autograd.solution is not None
    result = grade(autograd.solution, autograd, FAST, Grading(functions=("Value.__neg__",)))
    assert [t.name for t in result.tests] == ["neg_values_and_grads"] and result.all_passed


def test_a_check_of_some_functions_replays_the_whole_assignments_recording(monkeypatch, tmp_path, cross_entropy):
    asked = []
    real = grader.recorded
    monkeypatch.setattr(grader, "recorded", lambda a, *rest: asked.append(a) or real(a, *rest))
    path = tmp_path / "work.py"
    path.write_text(SOLUTION)
    grade(path, cross_entropy, FAST, Grading(functions=("softmax",)))
    assert [a.properties for a in asked] == [cross_entropy.properties]


def test_an_unknown_function_is_a_usage_error_naming_the_assignments_functions(tmp_path, capsys, cross_entropy):
    with pytest.raises(UsageError):
        selected(cross_entropy, ("softmax", "sofmax"))
    path = tmp_path / "work.py"
    path.write_text(SOLUTION)
    for assigned in (["--assignment", "cross_entropy"], []):  # known before grading, or inferred
        assert main(["check", str(path), "--function", "sofmax", *assigned]) == 2
        captured = capsys.readouterr()
        assert captured.out == ""
        assert captured.err == (
            f"gradekit: --function 'sofmax': cross_entropy has no such function; its functions are {FUNCTIONS}\n"
        )


def test_the_command_line_checks_the_functions_named_and_says_whose_score_it_is(tmp_path):
    path = tmp_path / "work.py"
    path.write_text(stubbed("sequence_loss", "perplexity"))
    args = ["check", str(path), "--max-examples", "10", "--function", "softmax", "--function", "cross_entropy_loss"]
    done = subprocess.run([sys.executable, "-m", "gradekit", *args], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert " for `softmax` and `cross_entropy_loss` (a partial check" in done.stdout.splitlines()[1]
    out = tmp_path / "report.json"
    assert main([*args, "--format", "json", "--output", str(out)]) == 0
    report = json.loads(out.read_text())
    assert report["checked"] == ["softmax", "cross_entropy_loss"]
    assert {t["functions"][0] for t in report["tests"]} == {"softmax", "cross_entropy_loss"}


STUBS = {  # the functions an untouched starter's grade finds not implemented: autograd's others wait on backward
    "cross_entropy": list(assignment.load("cross_entropy").functions),
    "training_step": list(assignment.load("training_step").functions),
    "autograd": ["Value.backward"],
}


@pytest.mark.parametrize("name", list(STUBS))
def test_an_untouched_starter_is_a_line_per_function_in_the_human_reports(tmp_path, name):
    loaded = assignment.load(name)
    script, _ = release(loaded, tmp_path)
    result = grade(script, loaded, FAST)
    assert len(result.tests) == len(loaded.properties)  # the result, and its JSON, stay complete
    text = WRITERS["text"](result).splitlines()
    markdown = WRITERS["markdown"](result).splitlines()
    stubs = [line for line in text if ": not implemented yet (" in line]
    assert stubs == [f"`{f}`: not implemented yet (" + line.partition("(")[2] for f, line in zip(STUBS[name], stubs)]
    notes = len(result.notes) + 2 if result.notes else 0  # on a host without bubblewrap, why not
    assert len(text) == 5 + notes + len(stubs)  # title, score, passed, isolation, blank, the stubs
    assert [f"- {line}" for line in stubs] == [line for line in markdown if ": not implemented yet (" in line]
    assert not {"## Not passed", "## Not checked yet"} & set(markdown)


def test_a_stub_line_counts_its_properties_and_points(tmp_path, cross_entropy):
    path = tmp_path / "work.py"
    path.write_text(stubbed("perplexity"))
    result = grade(path, cross_entropy, FAST)
    text = WRITERS["text"](result)
    # its four properties, one of which also waits on the loss, which passes here
    assert "`perplexity`: not implemented yet (4 properties, 10 points)\n" in text
    assert "perplexity_matches_reference" not in text and "NotImplementedError" not in text
    github = WRITERS["github"](result)
    assert github.count("::error") == 1 and "title=NOT IMPLEMENTED perplexity%3A 0/10" in github


def test_properties_waiting_on_a_stub_of_another_function_join_its_line(tmp_path):
    autograd = assignment.load("autograd")
    script, _ = release(autograd, tmp_path)
    result = grade(script, autograd, FAST)
    [line] = [line for line in WRITERS["text"](result).splitlines() if "not implemented yet" in line]
    own = [p for p in autograd.properties if p.functions[0] == "Value.backward"]
    rest = len(autograd.properties) - len(own)
    assert line == (
        f"`Value.backward`: not implemented yet ({len(own)} properties, {sum(p.points for p in own):g} points; "
        f"{rest} more properties, {autograd.max_score - sum(p.points for p in own):g} points, wait on it)"
    )


def shell(*cells: str) -> SimpleNamespace:
    """An IPython-like shell whose kernel ran `cells` in order, the last one running the check."""
    return SimpleNamespace(history_manager=SimpleNamespace(input_hist_raw=["", *cells]))


def test_the_check_cell_takes_the_functions_after_the_assignment(monkeypatch, capsys, cross_entropy):
    ran = shell(stubbed("perplexity"), "%run -m gradekit.jupyter cross_entropy softmax perplexity --max-examples 10")
    monkeypatch.setattr(jupyter, "_running_shell", lambda: ran)
    assert jupyter.main(["cross_entropy", "softmax", "perplexity", "--max-examples", "10"]) == 0
    out = capsys.readouterr().out
    softmax, perplexity = points(cross_entropy, "softmax"), points(cross_entropy, "perplexity")
    assert f"Score: {softmax:g} / {softmax + perplexity:g} for `softmax` and `perplexity` (a partial check" in out
    assert "`perplexity`: not implemented yet (4 properties, 10 points)" in out


def test_version_prints_gradekits_version_and_exits_0():
    done = subprocess.run([sys.executable, "-m", "gradekit", "--version"], capture_output=True, text=True)
    assert (done.returncode, done.stdout, done.stderr) == (0, f"gradekit {gradekit.__version__}\n", "")
