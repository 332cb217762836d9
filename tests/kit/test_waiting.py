"""The properties not checked yet read as one line per function and what it waits on."""

from __future__ import annotations

from gradekit.reports.waiting import waiting
from gradekit.result import PropertyResult, Status


def held(name: str, function: str, points: float, message: str) -> PropertyResult:
    return PropertyResult(name, (function,), Status.UNCHECKED, 0, points, message=message)


LOSS = "not checked yet: it counts once `loss_matches_reference` passes"
BOTH = "not checked yet: it counts once `sequence_loss_matches_reference` and `loss_matches_reference` pass"
SEQUENCE = "not checked yet: it counts once `sequence_loss_matches_reference` passes"
TIMED = "not timed: speed counts once the values are right, and `loss_matches_reference` did not pass"
AFTER = (
    "not checked yet: `a_matches` and `b_matches` did not pass, and what this checks may be built on it: fix that first"
)


def test_each_function_is_one_line_its_speed_joins_where_it_waits_on_the_same():
    tests = [
        held("loss_non_negative", "cross_entropy_loss", 2, LOSS),
        held("loss_is_pure", "cross_entropy_loss", 1, LOSS),
        held("sequence_loss_is_mean", "sequence_loss", 3, BOTH),
        held("sequence_loss_order", "sequence_loss", 3, SEQUENCE),
        held("loss_scales", "cross_entropy_loss", 2, TIMED),
        held("perplexity_of_uniform", "perplexity", 3, LOSS),
    ]
    assert waiting(tests) == [
        "`cross_entropy_loss`: 2 properties (3 points) and its speed (2 points) count once "
        "`loss_matches_reference` passes",
        "`sequence_loss`: 2 properties (6 points) count once `sequence_loss_matches_reference` and "
        "`loss_matches_reference` pass",
        "`perplexity`: 1 property (3 points) counts once `loss_matches_reference` passes",
    ]


def test_a_property_held_after_others_names_each_once_not_a_growing_chain():
    tests = [held("c", "softmax", 1, AFTER), held("d", "softmax", 2, AFTER)]
    assert waiting(tests) == ["`softmax`: 2 properties (3 points) count once `a_matches` and `b_matches` pass"]


def test_a_property_waiting_on_one_that_waits_names_what_failed_instead():
    failed = PropertyResult("exp_values", ("Value.exp",), Status.FAILED, 0, 5, message="a.grad is wrong")
    waits = held("leaf_gradients", "Value.backward", 4, "not checked yet: `exp_values` did not pass, and ...")
    deeper = held("deep_chains", "Value.backward", 4, "not checked yet: it counts once `leaf_gradients` passes")
    every = [failed, waits, deeper]
    assert waiting([waits, deeper], every) == [
        "`Value.backward`: 2 properties (8 points) count once `exp_values` passes"
    ]


def test_properties_not_judged_take_one_line_with_their_reason():
    reason = "not judged: it builds on your own `softmax`, which is wrong"
    tests = [held("grad_sums_to_zero", "grad", 3, reason), held("grad_slope", "grad", 4, reason)]
    assert waiting(tests) == [
        "`grad`: 2 properties (7 points) not judged: it builds on your own `softmax`, which is wrong"
    ]


def test_a_speed_waiting_on_other_properties_keeps_a_line_of_its_own():
    other = "not timed: speed counts once the values are right, and `softmax_matches_reference` did not pass"
    tests = [held("loss_is_pure", "cross_entropy_loss", 1, LOSS), held("loss_scales", "cross_entropy_loss", 2, other)]
    assert waiting(tests) == [
        "`cross_entropy_loss`: 1 property (1 point) counts once `loss_matches_reference` passes",
        "`cross_entropy_loss`: its speed (2 points) is timed once `softmax_matches_reference` passes",
    ]


def test_a_reason_not_judged_is_given_as_it_is_even_where_it_names_a_waiting_property():
    """A reason quotes what the student's own function raised, whose words may be a property's name."""
    waits = held("loss_is_pure", "cross_entropy_loss", 1, LOSS)
    reason = "not judged: it stops where your `softmax` does: `softmax` raised ValueError: `loss_is_pure`"
    quoted = held("grad_slope", "grad", 4, reason)
    assert waiting([waits, quoted]) == [
        "`cross_entropy_loss`: 1 property (1 point) counts once `loss_matches_reference` passes",
        "`grad`: 1 property (4 points) not judged: it stops where your `softmax` does: `softmax` raised "
        "ValueError: `loss_is_pure`",
    ]


def test_a_property_waiting_on_one_not_judged_names_that_one_not_the_function_in_its_reason():
    reason = "not judged: `cross_entropy_loss` gave two different answers to the same input"
    unjudged = held("sequence_loss_matches_reference", "sequence_loss", 6, reason)
    waits = held("sequence_loss_is_mean", "sequence_loss", 2, SEQUENCE)
    assert waiting([waits, unjudged]) == [
        "`sequence_loss`: 1 property (2 points) counts once `sequence_loss_matches_reference` passes",
        f"`sequence_loss`: 1 property (6 points) {reason}",
    ]


def test_functions_that_wait_alike_share_one_line():
    """A broken backward holds back every reflected operation on one property, and leaves a dozen
    operations not judged for one reason: each is one line naming the functions, not a line each."""
    seeds = "not checked yet: it counts once `backward_seeds_the_output` passes"
    why = "not judged: every operation's gradient comes out wrong on a graph of its own: backward may be why"
    tests = [
        held("add_values", "Value.__add__", 5, why),
        held("radd_values", "Value.__radd__", 1.5, seeds),
        held("mul_values", "Value.__mul__", 5, why),
        held("rsub_values", "Value.__rsub__", 1.5, seeds),
        held("exp_values", "Value.exp", 5, why),
    ]
    assert waiting(tests) == [
        "`Value.__add__`, `Value.__mul__` and `Value.exp`: 3 properties (15 points) not judged: every operation's "
        "gradient comes out wrong on a graph of its own: backward may be why",
        "`Value.__radd__` and `Value.__rsub__`: 2 properties (3 points) count once `backward_seeds_the_output` passes",
    ]
