"""autograd diagnosed: a mistake in one method of a student's `Value`, named through the harness calls
that exercise it, however the class is written.

The files in styles_autograd/ are whole classes, right but for one mistake the bank holds, made in
another style than the bank's file makes it (micrograd's closures, NumPy scalars), and one with a
mistake the bank lacks.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from gradekit import assignment
from gradekit.config import GradeConfig, Limits
from gradekit.diagnosis import mistakes
from gradekit.diagnosis.models import declared, explains, unproven
from gradekit.errors import InvalidProperty
from gradekit.grader import grade
from gradekit.known_mistakes import known_mistake

STYLES = Path(__file__).parent / "styles_autograd"
CONFIG = GradeConfig(max_examples=20)
A_TIMES_B = [["leaf", 2.0], ["leaf", 3.0], ["mul", 0, 1]]


@pytest.fixture(scope="module")
def autograd():
    return assignment.load("autograd")


def _model(models, name):
    return next(m for m in models if m.name == name)


def test_a_class_model_answers_a_harness_call_with_the_class_standing_in(autograd):
    swapped = _model(declared(autograd), "MulGradSwapped")
    calls = [("gradients", (A_TIMES_B,))]
    assert explains(swapped, calls, [("returned", [[2.0, 3.0, 6.0], [2.0, 3.0]])])[0] == (True,)
    assert explains(swapped, calls, [("returned", [[2.0, 3.0, 6.0], [3.0, 2.0]])])[0] == (False,)


def test_a_class_model_takes_styles_but_no_free_parameter():
    with pytest.raises(InvalidProperty, match="a class"):
        known_mistake("Value.__mul__", "mul_grad_swapped_self.py", among=(1e-5,))(type("Swapped", (), {}))
    with pytest.raises(InvalidProperty, match="a class"):
        known_mistake("Value.__mul__", "mul_grad_swapped_self.py", fit=abs)(type("Swapped", (), {}))


def test_every_autograd_model_answers_its_files_probes_as_the_file_does(autograd):
    models = declared(autograd)
    assert {f for m in models for f in m.files} == {p.name for p in autograd.known("known_wrong")}
    assert unproven(models, mistakes.bank(autograd, Limits())) == []


@pytest.mark.parametrize(
    ("style", "function", "file"),
    [
        pytest.param(  # records CONFIG's examples alone (`records_first`, tests/conftest.py); the rest read them
            "closures_assign_in_every_operation.py",
            "Value.backward",
            "backward_assigns_not_accumulates.py",
            marks=pytest.mark.records_first,
        ),
        ("closures_mul_assigns_only.py", "Value.__mul__", "mul_closure_assigns.py"),
        ("closures_power_rule_without_exponent.py", "Value.__pow__", "pow_derivative_without_exponent.py"),
        ("closures_radd_cuts_the_graph.py", "Value.__radd__", "radd_missing_self_graph.py"),
        ("numpy_exp_derivative_exp_of_exp.py", "Value.exp", "exp_derivative_recomputed.py"),
    ],
)
def test_a_mistake_written_in_another_style_is_named_on_its_method(autograd, style, function, file):
    result = grade(STYLES / style, autograd, CONFIG)
    _, name, _ = mistakes.described(autograd.folder / "known_wrong" / file)
    assert result.score < result.max_score
    assert [(d.function, d.misconception, d.source) for d in result.diagnosis] == [
        (function, name, f"known_wrong/{file}")
    ]


def test_a_mistake_the_bank_lacks_is_named_nothing(autograd):
    result = grade(STYLES / "closures_exp_assigns_only.py", autograd, CONFIG)
    assert result.score < result.max_score and result.diagnosis == ()


# --- the bank, diagnosed ------------------------------------------------------------------------

NAMED_AT_LEAST = 0.95  # of the bank's files, named on the method at fault


@pytest.fixture(scope="session")
def diagnosed(selftested):
    """Each known-wrong file's method at fault, and the methods its diagnosis names, graded as a check
    grades it: by the self-test, whose grades the banks' tests share (tests/conftest.py)."""
    autograd = assignment.load("autograd")
    named = selftested("autograd")["named"]
    return {path.name: (mistakes.described(path)[0], set(named[path.name])) for path in autograd.known("known_wrong")}


@pytest.mark.longest
def test_the_bank_is_named_on_the_method_at_fault_and_never_elsewhere(diagnosed):
    named = [file for file, (function, told) in diagnosed.items() if told == {function}]
    wrongly = {file: told for file, (function, told) in diagnosed.items() if told - {function}}
    assert wrongly == {}
    assert len(named) >= NAMED_AT_LEAST * len(diagnosed), sorted(set(diagnosed) - set(named))


@pytest.mark.parametrize(
    ("file", "function"),
    [
        ("add_closure_assigns.py", "Value.__add__"),
        ("mul_closure_assigns.py", "Value.__mul__"),
        ("mul_closure_drops_out_grad.py", "Value.__mul__"),
        ("exp_closure_drops_out_grad.py", "Value.exp"),
        ("sub_closure_drops_out_grad.py", "Value.__sub__"),
        ("div_closure_drops_out_grad.py", "Value.__truediv__"),
        ("neg_closure_drops_out_grad.py", "Value.__neg__"),
        ("radd_multiplies.py", "Value.__radd__"),
        ("rsub_order_reversed.py", "Value.__rsub__"),
        ("rmul_missing.py", "Value.__rmul__"),
        ("mul_local_grads_are_values.py", "Value.__mul__"),
    ],
)
def test_the_classic_micrograd_mistakes_are_in_the_bank_and_named(diagnosed, file, function):
    assert diagnosed[file] == (function, {function})


def test_a_right_class_in_any_style_is_named_nothing(autograd):
    for path in [autograd.solution, *autograd.known("known_right")]:
        result = grade(path, autograd, CONFIG)
        assert (result.score, result.diagnosis) == (100, ()), path.name
