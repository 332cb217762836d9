"""The grader's promises: determinism, gating, missing functions, honest errors (replay equivalence:
tests/engine/test_speed_off.py)."""

from __future__ import annotations

import sys
import time
from dataclasses import replace
from pathlib import Path

import pytest
from conftest import without_times

from gradekit import assignment, strategies
from gradekit.config import GradeConfig
from gradekit.engine import kept_files, recording
from gradekit.grader import Grading, grade
from gradekit.result import Status

ROOT = Path(__file__).resolve().parents[2]
BUGGY = ROOT / "examples" / "buggy_submission.py"
CORRECT = ROOT / "examples" / "submission.py"
FAST = GradeConfig(max_examples=30)
SANITY_SECONDS = 60.0  # a bound on a runaway, not a speed target

CONSTANT = """
def softmax(z): return [1.0 / len(z)] * len(z)
def cross_entropy_loss(z, t): return 1.0
def sequence_loss(Z, T): return 1.0
def perplexity(loss): return 1.0
def softmax_cross_entropy_grad(z, t): return [0.0] * len(z)
"""


def test_grading_the_same_file_twice_gives_identical_json(cross_entropy):
    first = grade(BUGGY, cross_entropy, FAST)
    second = grade(BUGGY, cross_entropy, FAST)
    assert without_times(first) == without_times(second)


def test_a_seed_changes_the_examples_but_not_a_correct_grade(cross_entropy):
    result = grade(CORRECT, cross_entropy, replace(FAST, seed=7))
    assert result.seed == 7 and result.score == result.max_score == 100


@pytest.mark.parametrize("value", ["1.0", "0.0"])  # a loss of 0.0 is the reference's for a certain guess
def test_constant_functions_score_zero(grade_file, value):
    result = grade_file(CONSTANT.replace("return 1.0", f"return {value}"), FAST)
    assert result.score == 0
    unchecked = [t for t in result.tests if t.status is Status.UNCHECKED]
    assert unchecked, "a property that a constant could pass must wait for its function's values"
    # A constant sequence loss matches the mean of a constant loss: built on one answer to every
    # input, it cannot be told right, so it is not judged (gradekit.authoring.expect_built_on).
    constant = (
        "not judged: it answers every input tried alike, and so does your own `cross_entropy_loss` where it was asked"
    )
    assert all(t.message.startswith(("not checked yet: it counts once", "not timed", constant)) for t in unchecked)
    assert any(t.message == constant for t in unchecked)
    assert not [t for t in result.tests if t.status is Status.PASSED], "a constant passed a property"


def test_a_missing_function_costs_only_its_own_points(grade_file):
    source = CORRECT.read_text().replace("def perplexity(loss):", "def renamed_perplexity(loss):")
    result = grade_file(source, FAST)
    lost = {t.name for t in result.tests if t.score < t.max_score}
    assert lost == {t.name for t in result.tests if "perplexity" in t.functions}
    assert all(t.message == "`perplexity` is not defined" for t in result.tests if t.name in lost)
    assert result.score == 90


def test_a_syntax_error_is_one_sentence_naming_its_line(grade_file):
    result = grade_file("def softmax(z):\n    return [1.0 for x in z\n", FAST)
    assert result.error is not None and "SyntaxError on line 2" in result.error
    assert result.assignment == "cross_entropy", "the assignment is still inferred from the def lines"
    assert result.score == 0 and all(t.status is Status.ERROR for t in result.tests)


def test_the_def_lines_above_a_run_of_blank_lines_are_read_once(tmp_path):
    """The assignment is guessed from a source's def lines, while its worker starts, and chosen from
    them where the file cannot run: a run of blank lines, which a pattern spanning lines would read
    again from each line (hours for a million), is read once."""
    started = time.monotonic()
    path = tmp_path / "submission.py"
    path.write_text("def softmax(z):\n    return [1.0 for x in z\n" + "\n" * 200_000 + "x = 1\n")
    result = grade(path, None, FAST)
    assert time.monotonic() - started < SANITY_SECONDS
    assert result.assignment == "cross_entropy" and result.error is not None
    assert "SyntaxError on line 2" in result.error


def test_of_a_source_naming_hundreds_of_thousands_of_functions_only_the_assignments_are_kept(tmp_path):
    """A file that cannot run may define millions of functions and classes in its text (up to
    source.LARGEST bytes): the choice keeps the names some assignment declares, and no more."""
    started = time.monotonic()
    many = "".join(f"class A{i}:\n def f{i}(self): pass\n\t\tdef g{i}(): pass\n" for i in range(120_000))
    path = tmp_path / "submission.py"
    path.write_text("def softmax(z):\n    return [\n" + many)
    result = grade(path, None, FAST)
    assert time.monotonic() - started < SANITY_SECONDS
    assert result.assignment == "cross_entropy" and "SyntaxError on line 2" in result.error
    declared = {"softmax", "Value", "Value.backward", "f7", "A7.f7"}
    assert assignment.named_in(many, declared) == {"f7", "A7.f7"}


def test_the_def_lines_of_a_source_are_read_as_written():
    source = "def softmax(z):\n\tdef inner(): pass\n    def  loss(x): pass\n"
    source += "class V:\n def backward(self): ...\n\tclass Inner: pass\nx = 'def no'\n"
    assert assignment.named_in(source) == {"softmax", "inner", "loss", "backward", "V", "V.backward"}


def test_a_class_s_methods_are_read_as_a_loaded_file_names_them():
    """Read ahead of the load, and where a file cannot load: an autograd file is autograd's."""
    source = (ROOT / "examples" / "autograd_submission.py").read_text()
    assert assignment.infer(assignment.named_in(source)).name == "autograd"
    assert {"Value", "Value.__add__", "Value.backward"} <= assignment.named_in(source)
    after = assignment.named_in(source + "\ndef after_the_class(): pass\n")
    assert "after_the_class" in after and "Value.after_the_class" not in after


def test_an_exception_at_import_is_reported_with_its_line(grade_file):
    result = grade_file("x = 1\nraise ValueError('oops')\ndef softmax(z): return z\n", FAST)
    assert result.error == "submission.py could not be loaded: ValueError: oops (line 2)"


def test_a_function_that_answers_one_input_two_ways_is_named(grade_file):
    source = CORRECT.read_text() + (
        "\n_calls = [0]\n_right = softmax\n"
        "def softmax(logits):\n    _calls[0] += 1\n"
        "    p = _right(logits)\n    return [x + 1e-3 * (_calls[0] % 2) for x in p]\n"
    )
    result = grade_file(source, FAST)
    named = [t for t in result.tests if "`softmax` gave two different answers to the same input" in t.message]
    own = [t for t in named if "softmax" in t.functions]
    assert own and all(t.status is Status.FAILED for t in own)
    # Reported where it was seen, not shrunk: a smaller input may or may not show it again.
    assert all(t.counterexample.calls[-1].function == "softmax" for t in own)
    # Where a property of another function caught it, that function is not blamed for softmax's fault.
    assert all(t.status is Status.UNCHECKED and t.message.startswith("not judged: ") for t in named if t not in own)


def test_an_exception_in_student_code_is_shrunk_and_named(grade_file):
    source = CORRECT.read_text().replace("    return math.exp(loss)", "    return 1 / (loss - loss)")
    result = grade_file(source, FAST)
    failed = next(t for t in result.tests if t.name == "perplexity_matches_reference")
    assert failed.status is Status.FAILED
    assert failed.message.startswith("`perplexity` raised ZeroDivisionError")
    assert "line" in failed.message and failed.counterexample.calls[-1].function == "perplexity"


def test_a_check_that_evaluates_no_graph_imports_neither_sympy_nor_mpmath(tmp_path):
    """sympy derives the reference's identities in the tests alone, and mpmath is the autograd
    reference's: importing either would cost a cross_entropy check time for nothing."""
    import subprocess

    code = (
        f"import sys, gradekit.cli; gradekit.cli.main(['check', {str(CORRECT)!r}, '--max-examples', '5']); "
        "print(sorted({'sympy', 'mpmath', 'gradekit.reference.autograd'} & set(sys.modules)))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.stdout.strip().splitlines()[-1] == "[]"


def test_inferring_the_assignment_loads_only_the_one_chosen(tmp_path):
    """Choosing reads each assignment's functions.py alone: another course's properties are never run
    for this submission, so one that cannot even load does not stop its check."""
    other = tmp_path / "other"
    other.mkdir()
    (other / "functions.py").write_text('def unrelated(x: float) -> float:\n    """Not graded here."""\n')
    (other / "properties.py").write_text("raise RuntimeError('a broken property file')\n")
    result = grade(CORRECT, None, FAST, Grading([str(tmp_path)]))
    assert result.assignment == "cross_entropy" and result.error is None
    assert result.score == result.max_score


def test_a_damaged_example_cache_costs_speed_never_a_grade(cross_entropy, tmp_path, monkeypatch):
    monkeypatch.setenv("GRADEKIT_CACHE", str(tmp_path))
    config = GradeConfig(max_examples=3)
    assert grade(CORRECT, cross_entropy, config).score == 100
    (cached,) = tmp_path.glob("cross_entropy-*")

    def damage(change):  # a file that passes its digest check, with `change` made to what it holds
        stored = kept_files.unsealed(cached.read_bytes())  # written again whole by the last grade
        change(stored)
        cached.write_bytes(kept_files.sealed(stored))
        assert grade(CORRECT, cross_entropy, config).score == 100

    def cut_call(stored):
        first = next(iter(stored["properties"].values()))
        first["calls"][0] = first["calls"][0][:2]

    def floats_not_held(stored):
        packed = next(call for p in stored["properties"].values() for call in p["calls"] if call[2])
        packed[2][0] = len(stored["blobs"])

    def zeros(stored):  # the call is not one a property makes
        stored["blobs"][0] = "A" * len(stored["blobs"][0])

    def inputs_not_examples(stored):
        next(iter(stored["properties"].values()))["inputs"] = [[1.0]]

    def no_calls(stored):
        stored["properties"] = {name: [] for name in stored["properties"]}

    for change in (cut_call, floats_not_held, zeros, inputs_not_examples, no_calls):
        damage(change)
    whole = cached.read_bytes()
    for broken in (whole[: len(whole) // 2], whole[:-1] + bytes([whole[-1] ^ 1]), b"{not marshal", b""):
        assert kept_files.unsealed(broken) is None
        cached.write_bytes(broken)
        assert grade(CORRECT, cross_entropy, config).score == 100
    assert cached.read_bytes() == whole  # each miss recorded the examples again, the same


RECORD = """
import json, sys
sys.path.insert(0, {folder!r})
{extra}
from gradekit import assignment
from gradekit.engine import recording, runner
from gradekit.sandbox.worker import encode
recorded = recording.record(assignment.load("cross_entropy"), 5, 15)
print(encode({{k: v["inputs"] for k, v in recorded.items()}}))
"""


def test_examples_do_not_depend_on_what_local_code_is_loaded(tmp_path):
    import subprocess

    (tmp_path / "course_helpers.py").write_text(
        "CONSTANTS = [" + ", ".join(f"{x / 7:.6f}" for x in range(-300, 300, 13)) + "]\n"
    )

    def draw(extra: str) -> str:
        code = RECORD.format(folder=str(tmp_path), extra=extra)
        done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=tmp_path)
        assert done.returncode == 0, done.stderr
        return done.stdout

    assert draw("") == draw("import course_helpers")


def test_nothing_is_written_into_the_students_folder(tmp_path):
    import subprocess

    folder = tmp_path / "student"
    folder.mkdir()
    (folder / "submission.py").write_text(BUGGY.read_text())
    subprocess.run(
        [sys.executable, "-m", "gradekit", "check", "submission.py", "--max-examples", "10"],
        cwd=folder,
        capture_output=True,
    )
    assert sorted(p.name for p in folder.iterdir()) == ["submission.py"]


def test_unfilled_starter_stubs_score_zero_and_say_not_implemented(grade_file, cross_entropy):
    stubs = (ROOT / "assignments" / "cross_entropy" / "functions.py").read_text()
    result = grade_file(stubs, FAST)
    assert result.error is None and result.score == 0
    oracles = [t for t in result.tests if not any(t.name == p.name and p.requires for p in cross_entropy.properties)]
    assert {t.message for t in oracles} == {f"`{t.functions[0]}` is not implemented yet" for t in oracles}


def test_a_clamped_loss_shows_on_two_logits(cross_entropy):
    """Raising the true logit must lower the loss; a clamp at 1e-12 breaks that on two logits, far apart."""
    chosen = replace(
        cross_entropy,
        properties=tuple(p for p in cross_entropy.properties if p.name == "loss_falls_as_true_logit_rises"),
    )
    [test] = grade(BUGGY, chosen, GradeConfig()).tests
    assert test.status is Status.FAILED
    assert [len(call.args[0]) for call in test.counterexample.calls] == [2, 2]


HANGS_IN_PERPLEXITY = ROOT / "tests" / "hostile" / "hang_in_perplexity.py"


def test_a_function_that_hangs_is_waited_for_once_and_its_other_properties_settle_at_once(cross_entropy):
    quick = replace(FAST, limits=replace(FAST.limits, call_timeout=0.5))
    for config in (quick, replace(quick, shortcuts=False)):
        result = grade(HANGS_IN_PERPLEXITY, cross_entropy, config)
        hung = [t for t in result.tests if "perplexity" in t.functions]
        first, *later = hung
        assert first.status is Status.TIMEOUT and "timed out earlier" not in first.message
        assert later and all(t.seconds < 0.25 and t.score == 0 for t in later), [(t.name, t.seconds) for t in later]
        # One that requires the first is not checked; another would not call `perplexity` again.
        waiting = [t for t in later if t.status is Status.UNCHECKED]
        assert all(first.name in t.message for t in waiting), waiting
        rest = [t for t in later if t not in waiting]
        assert all(t.status is Status.TIMEOUT for t in rest)
        assert all(t.message == "`perplexity` timed out earlier in this grade, on loss = 0.0" for t in rest)
        rest = [t for t in result.tests if "perplexity" not in t.functions]
        assert all(t.score == t.max_score for t in rest)


def test_a_right_but_quadratic_softmax_loses_only_the_scale_points(grade_file):
    quadratic = (ROOT / "assignments" / "cross_entropy" / "known_slow" / "quadratic_softmax.py").read_text()
    result = grade_file(quadratic, replace(FAST, limits=replace(FAST.limits, call_timeout=0.5)))
    slow = {t.name for t in result.tests if t.score < t.max_score}
    assert slow == {"softmax_scales_to_large_vocabularies", "grad_scales_to_large_vocabularies"}
    assert result.score == 100 - 4
    grew = "as long on a vocabulary of 10,000 as on a vocabulary of 1,000: its time grows faster than the input"
    assert all(grew in t.message and "is it quadratic" in t.message for t in result.tests if t.name in slow)


def test_speed_is_not_timed_until_the_values_are_right(grade_file):
    result = grade_file(CONSTANT, FAST)
    scale = [t for t in result.tests if t.name.endswith(("_scales_to_large_vocabularies", "_scales_to_long_documents"))]
    assert len(scale) == 4
    assert all(t.status is Status.UNCHECKED and t.score == 0 and t.counterexample is None for t in scale)
    assert all(t.message.startswith("not timed: speed counts once the values are right") for t in scale)


# The size of the one example each built-in scale property runs: the largest its strategy draws.
LARGEST = {
    "softmax_scales_to_large_vocabularies": strategies.SCALE_VOCABULARIES[0],
    "loss_scales_to_large_vocabularies": strategies.SCALE_VOCABULARIES[0],
    "grad_scales_to_large_vocabularies": strategies.SCALE_VOCABULARIES[0],
    "sequence_loss_scales_to_long_documents": strategies.SCALE_POSITIONS[0],
    "bigram_loss_scales_to_long_documents": strategies.SCALE_TOKENS[0],
    "bigram_grad_scales_to_long_documents": strategies.SCALE_TOKENS[0],
    "adam_scales_to_many_parameters": strategies.SCALE_PARAMETERS,
}


def _longest(value) -> int:
    """The length of the longest list anywhere in a drawn input."""
    if isinstance(value, dict):
        return max(map(_longest, value.values()), default=0)
    if isinstance(value, (list, tuple)):
        return max([len(value), *map(_longest, value)])
    return 0


# The properties that benchmarks/example_counts.py finds catching some known-wrong file only from 30 or
# 100 examples on, or catching none (cross_entropy's three that wait on a property catching their files
# first: nothing shows fewer examples would do), and autograd's relu and whole graphs, kept at the full
# count for what random graphs and kinks find beyond the bank; every other correctness property catches
# its files from 10 on, and runs 30.
NEEDS_THE_FULL_COUNT = {
    "cross_entropy": {
        "loss_falls_as_true_logit_rises",
        "sequence_loss_single_position",
        "perplexity_of_uniform_is_v",
        "grad_matches_identity",
    },
    "autograd": {
        "relu_values_and_grads",
        "forward_values",
        "leaf_gradients",
        "shared_nodes_accumulate",
        "gradients_linear_in_output",
        "off_path_gradients_are_zero",
    },
}


@pytest.mark.parametrize("name", sorted(NEEDS_THE_FULL_COUNT))
def test_correctness_properties_run_30_examples_where_the_bank_needs_no_more(name):
    chosen = assignment.load(name)
    inputs = recording.recorded(chosen, chosen.default_seed, GradeConfig().max_examples)
    counts = {p.name: len(inputs[p.name]["inputs"]) - _explicit(p) for p in chosen.properties if not p.scale}
    full = NEEDS_THE_FULL_COUNT[name]
    assert {prop for prop, count in counts.items() if count == 100} == full
    assert {count for prop, count in counts.items() if prop not in full} == {30}


def test_a_max_examples_below_a_propertys_own_count_wins(cross_entropy):
    small = grade(CORRECT, cross_entropy, GradeConfig(max_examples=4))
    explicit = {p.name: _explicit(p) for p in cross_entropy.properties if not p.scale}
    assert {t.examples - explicit[t.name] for t in small.tests if t.name in explicit} == {4}


def _explicit(prop) -> int:
    """The examples a property always tries first (@example), beside the ones it draws."""
    return len(getattr(prop.test, "hypothesis_explicit_examples", ()))


@pytest.mark.parametrize("name", ["cross_entropy", "training_step"])
def test_each_scale_property_runs_one_example_at_the_largest_size(name):
    chosen = assignment.load(name)
    scale = [p for p in chosen.properties if p.scale]
    inputs = recording.recorded(chosen, chosen.default_seed, GradeConfig().max_examples)
    assert {p.name for p in scale} <= set(LARGEST)
    for prop in scale:
        (example,) = inputs[prop.name]["inputs"]
        assert _longest(example) == LARGEST[prop.name], prop.name
