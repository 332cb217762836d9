"""Known mistakes as models: a mistake is named however it is written, and never a wrong one.

The files in styles/ make mistakes the bank holds, written otherwise than the bank's files: another
epsilon, the other neighbour of the target, another block size, two mistakes at once.
"""

from __future__ import annotations

import math
from pathlib import Path

import pytest
from gradekit.reference import cross_entropy as ref
from hypothesis import given, settings
from hypothesis import strategies as st

from gradekit import assignment
from gradekit.config import GradeConfig
from gradekit.diagnosis.diagnose import _wrong_first
from gradekit.diagnosis.models import declared, explaining, explains
from gradekit.engine.calls import CHANGED, KEPT, watched
from gradekit.errors import InvalidProperty
from gradekit.grader import grade
from gradekit.known_mistakes import known_mistake

STYLES = Path(__file__).parent / "styles"
CONFIG = GradeConfig(max_examples=20)
ARGUMENTS = [([0.5, -1.0, 2.0], 0), ([0.0, 0.0], 1), ([3.0, 1.0, -2.0, 0.25], 3), ([10.0], 0)]
CALLS = [("cross_entropy_loss", args) for args in ARGUMENTS]


@known_mistake(
    "cross_entropy_loss",
    "loss_epsilon_inside_log.py",
    fit=lambda z, t, loss: math.exp(-loss) - ref.softmax(z)[t],
    within=(1e-300, 1e-2),
)
def epsilon(z, t, eps):
    """adds {:.2g} inside the log"""
    return -math.log(ref.softmax(z)[t] + eps)


@known_mistake("cross_entropy_loss", "loss_missing_minus.py")
def negated(z, t):
    return -ref.cross_entropy_loss(z, t)


@known_mistake("cross_entropy_loss", "loss_log10.py")
def negated_again(z, t):
    return -ref.cross_entropy_loss(z, t) + 0.0


@known_mistake("cross_entropy_loss", "loss_no_max_shift.py")
def no_max_shift(z, t):
    return math.log(sum(math.exp(x) for x in z)) - z[t]


OVERFLOWING = [*CALLS, ("cross_entropy_loss", ([800.0, 0.0], 1))]


def answers(function):
    return [("returned", function(*args)) for args in ARGUMENTS]


def test_a_free_parameter_is_found_from_the_students_own_answers():
    told = explaining([epsilon, negated], CALLS, answers(lambda z, t: -math.log(ref.softmax(z)[t] + 3e-5)))
    ((model, parameter),) = told
    assert model is epsilon and parameter == pytest.approx(3e-5, rel=1e-6)
    assert model.told(parameter)[0] == "adds 3e-05 inside the log"


def test_a_parameter_outside_its_bounds_explains_nothing():
    found, _ = explains(epsilon, CALLS, answers(lambda z, t: -math.log(ref.softmax(z)[t] + 0.5)))
    assert not any(found)


def test_right_answers_and_unexplained_ones_are_told_nothing():
    assert explaining([epsilon, negated], CALLS, answers(lambda z, t: 2 * ref.cross_entropy_loss(z, t))) == ()


def test_two_models_that_explain_the_answers_alike_tell_nothing():
    assert explaining([negated, negated_again], CALLS, answers(negated.answers)) == ()


def test_a_model_that_explains_every_answer_with_one_value_is_not_asked_with_the_next():
    asked = []

    @known_mistake("cross_entropy_loss", "loss_log10.py", among=(2.0, 3.0))
    def scaled(z, t, k):
        asked.append(k)
        return k * ref.cross_entropy_loss(z, t)

    assert explaining([scaled], CALLS, answers(lambda z, t: 2.0 * ref.cross_entropy_loss(z, t))) == ((scaled, 2.0),)
    assert asked == [2.0] * len(CALLS), "2.0 explains every answer: 3.0 is never tried"
    asked.clear()
    assert explaining([scaled], CALLS, answers(lambda z, t: 3.0 * ref.cross_entropy_loss(z, t))) == ((scaled, 3.0),)
    assert asked == [2.0, 3.0, 3.0, 3.0, 3.0], "2.0 stops at the first answer it does not explain"


def test_two_mistakes_are_told_together_where_one_explains_the_finite_answers_and_one_the_overflows():
    both = [("returned", -ref.cross_entropy_loss(*args)) for args in ARGUMENTS] + [("raised", "OverflowError")]
    told = explaining([no_max_shift, negated, epsilon], OVERFLOWING, both)
    assert [model for model, _ in told] == [negated, no_max_shift]


TOLD = [epsilon, negated, no_max_shift]  # one told alone, two told together
STUDENTS = {  # the models asked, and a student's answers
    "one parameter": (TOLD, [("returned", -math.log(ref.softmax(z)[t] + 3e-5)) for _, (z, t) in OVERFLOWING]),
    "two mistakes": (TOLD, answers(negated.answers) + [("raised", "OverflowError")]),
    "two alike": ([*TOLD, negated_again], answers(negated.answers) + [("raised", "OverflowError")]),
    "none": (TOLD, answers(lambda z, t: 2 * ref.cross_entropy_loss(z, t)) + [("returned", 1.0)]),
}


@settings(max_examples=20, deadline=None)
@given(order=st.permutations(range(len(OVERFLOWING))), student=st.sampled_from(sorted(STUDENTS)))
def test_what_explaining_tells_is_the_same_whatever_the_order_of_the_calls(order, student):
    """A diagnosis asks the calls a function got wrong first (diagnose._wrong_first): that may change
    how soon a model is done with, never what is told."""
    models, said = STUDENTS[student]
    told = explaining(models, OVERFLOWING, said)
    assert len(told) == {"one parameter": 1, "two mistakes": 2}.get(student, 0)
    assert explaining(models, [OVERFLOWING[i] for i in order], [said[i] for i in order]) == told


def test_the_calls_got_wrong_go_first_and_none_is_left_out():
    """A counterexample's call whose right answer is not known (an assignment without a solution)
    is still asked, after the calls got wrong."""
    said = [("returned", float(i)) for i in range(len(OVERFLOWING))]
    calls, ordered = _wrong_first(OVERFLOWING, tuple(said), [True, False, True, False])
    assert calls == [OVERFLOWING[i] for i in (1, 3, 0, 2, 4)]
    assert ordered == [said[i] for i in (1, 3, 0, 2, 4)]


def test_a_model_is_declared_with_a_file_and_its_parameter_found_one_way():
    with pytest.raises(InvalidProperty, match="must name a file of known_wrong"):
        known_mistake("cross_entropy_loss", "known_wrong/loss_log10.py")
    with pytest.raises(InvalidProperty, match="give `fit` or `among`"):
        known_mistake("cross_entropy_loss", "loss_log10.py", fit=abs, among=(1, 2))


def test_every_built_in_model_names_a_function_and_files_of_its_bank():
    for name in ("cross_entropy", "training_step", "autograd"):
        for model in declared(assignment.load(name)):
            assert model.function in assignment.load(name).functions


def test_what_the_watch_found_is_read_back_from_its_words():
    changed = CHANGED.format(function="softmax", which="`logits` and `out`")
    assert watched(changed) == ("softmax", ("logits", "out"), False)
    assert watched(KEPT.format(function="softmax")) == ("softmax", (), True)
    assert watched("`softmax` differs from the reference") is None


def test_a_function_that_changes_its_callers_list_another_way_is_told_what_it_changes():
    result = grade(STYLES / "softmax_writes_into_callers_list.py", assignment.load("cross_entropy"), CONFIG)
    told = [(d.function, d.misconception, d.agreement) for d in result.diagnosis]
    assert told == [
        ("softmax", "changes its argument `logits` in place, though the answer it returns is right", (0, 0))
    ]


@pytest.mark.parametrize(
    ("style", "told"),
    [
        (
            "epsilon_1e7_numpy.py",
            {
                (
                    "cross_entropy_loss",
                    "adds 1e-07 inside the log, -log(p + eps), which biases every loss and caps it at -log(eps)",
                )
            },
        ),
        ("target_plus_one_wraps.py", {("cross_entropy_loss", "reads the true logit at true_id +1 instead of true_id")}),
        (
            "block_size_64.py",
            {("sequence_loss", "scores only the first 64 positions, as if the document were cut at a block size")},
        ),
        (
            "missing_minus_and_no_max_shift.py",
            {
                ("cross_entropy_loss", "returns log p (z[t] - logsumexp) without the minus sign"),
                ("cross_entropy_loss", "logsumexp without the max shift, so exp overflows on large logits"),
            },
        ),
    ],
)
def test_a_mistake_written_in_another_style_is_named(style, told):
    result = grade(STYLES / style, assignment.load("cross_entropy"), CONFIG)
    assert result.score < result.max_score
    assert {(d.function, d.misconception) for d in result.diagnosis} == told
