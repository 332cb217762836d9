"""Blame is the function at fault, and only it (gradekit.authoring.expect_built_on): a function specified
in terms of the file's own (a sequence loss as the mean of its loss, a gradient from its softmax) that
is right in itself keeps its points, with a note, while what it builds on is wrong; where that cannot
be told it is "not judged", never FAILED; and a mistake of its own is still FAILED."""

from __future__ import annotations

import pytest

from gradekit.config import GradeConfig
from gradekit.result import Status

FAST = GradeConfig(max_examples=30)

RIGHT_SOFTMAX = """
import math
def softmax(z):
    m = max(z)
    e = [math.exp(x - m) for x in z]
    s = sum(e)
    return [x / s for x in e]
"""
UNSHIFTED_SOFTMAX = """
import math
def softmax(z):
    e = [math.exp(x) for x in z]
    s = sum(e)
    return [x / s for x in e]
"""
UNSHIFTED_NUMPY_SOFTMAX = """
import numpy as np
def softmax(z):
    e = np.exp(np.asarray(z, dtype=float))
    return (e / e.sum()).tolist()
"""
UNNORMALISED_SOFTMAX = """
import math
def softmax(z):
    m = max(z)
    return [math.exp(x - m) for x in z]
"""
RIGHT_LOSS = """
def cross_entropy_loss(z, t):
    m = max(z)
    return m + math.log(sum(math.exp(x - m) for x in z)) - z[t]
"""
LOG10_LOSS = """
def cross_entropy_loss(z, t):
    m = max(z)
    return m + math.log10(sum(math.exp(x - m) for x in z)) - z[t]
"""
REST = """
def sequence_loss(Z, T):
    return sum(cross_entropy_loss(z, t) for z, t in zip(Z, T)) / len(Z)
def perplexity(loss):
    return math.exp(loss)
"""
GRAD_FROM_SOFTMAX = """
def softmax_cross_entropy_grad(z, t):
    g = list(softmax(z))
    g[t] -= 1.0
    return g
"""
GRAD_INLINE_UNSHIFTED = """
def softmax_cross_entropy_grad(z, t):
    e = [math.exp(x) for x in z]
    s = sum(e)
    g = [x / s for x in e]
    g[t] -= 1.0
    return g
"""


def statuses(result, function):
    return {t.name: t.status for t in result.tests if t.functions[0] == function}


def failed(result):
    return {t.functions[0] for t in result.tests if t.status is Status.FAILED}


def test_a_sequence_loss_built_on_a_wrong_loss_keeps_its_points(grade_file):
    result = grade_file("import math\n" + RIGHT_SOFTMAX + LOG10_LOSS + REST + GRAD_FROM_SOFTMAX, FAST)
    assert failed(result) == {"cross_entropy_loss"}
    built = next(t for t in result.tests if t.name == "sequence_loss_matches_reference")
    assert built.status is Status.PASSED and built.score == built.max_score
    assert built.note == "right against your own `cross_entropy_loss`, which is wrong"
    # One long document at scale is one input: no sentence may call a log10 loss a constant.
    scaled = next(t for t in result.tests if t.name == "sequence_loss_scales_to_long_documents")
    assert scaled.status is Status.PASSED and scaled.note
    assert not [t.message for t in result.tests if "one answer" in t.message]
    # Two of its properties wait on the loss's own: the note counts only the points it was paid.
    own = [t for t in result.tests if t.functions[0] == "sequence_loss"]
    assert any(t.status is Status.UNCHECKED for t in own)
    paid = sum(t.score for t in own)
    assert 0 < paid < sum(t.max_score for t in own)
    because = "it is right against your own `cross_entropy_loss`, which is wrong"
    assert f"`sequence_loss` keeps {paid:g} points: {because}" in result.notes


@pytest.mark.records_first  # FAST's examples, which the other tests of this file read
def test_a_gradient_built_on_a_wrong_softmax_keeps_its_points(grade_file):
    result = grade_file(UNNORMALISED_SOFTMAX + RIGHT_LOSS + REST + GRAD_FROM_SOFTMAX, FAST)
    assert failed(result) == {"softmax"}
    built = next(t for t in result.tests if t.name == "grad_matches_identity")
    assert built.status is Status.PASSED and "your own `softmax`" in built.note
    # Its stability properties wait on softmax's own: only what it was paid is kept.
    own = [t for t in result.tests if t.functions[0] == "softmax_cross_entropy_grad"]
    assert any(t.status is Status.UNCHECKED for t in own)
    kept = f"`softmax_cross_entropy_grad` keeps {sum(t.score for t in own):g} points: it is right against"
    assert any(note.startswith(kept) for note in result.notes), result.notes


@pytest.mark.parametrize("softmax", [UNSHIFTED_SOFTMAX, UNSHIFTED_NUMPY_SOFTMAX], ids=["math", "numpy"])
def test_a_gradient_that_stops_where_its_softmax_does_is_not_judged(grade_file, softmax):
    result = grade_file(softmax + "import math\n" + RIGHT_LOSS + REST + GRAD_FROM_SOFTMAX, FAST)
    assert failed(result) == {"softmax"}
    stable = next(t for t in result.tests if t.name == "grad_stable_on_extreme_logits")
    assert stable.status is Status.UNCHECKED and stable.score == 0
    assert stable.message.startswith("not judged: ")
    assert "`softmax`" in stable.message


def test_a_mistake_of_the_gradient_s_own_is_still_failed(grade_file):
    # The softmax shifts; the gradient computes its own, unshifted: its overflow is its own fault.
    result = grade_file(RIGHT_SOFTMAX + RIGHT_LOSS + REST + GRAD_INLINE_UNSHIFTED, FAST)
    assert failed(result) == {"softmax_cross_entropy_grad"}
    assert statuses(result, "softmax_cross_entropy_grad")["grad_stable_on_extreme_logits"] is Status.FAILED


def test_a_mistake_of_its_own_beside_a_wrong_callee_is_still_failed(grade_file):
    # Both unshifted, each on its own: not judged where both overflow, never passed on that alone.
    result = grade_file(UNSHIFTED_SOFTMAX + RIGHT_LOSS + REST + GRAD_INLINE_UNSHIFTED, FAST)
    stable = next(t for t in result.tests if t.name == "grad_stable_on_extreme_logits")
    assert stable.score == 0 and stable.status is not Status.PASSED


def test_a_sum_where_the_mean_is_asked_fails_though_its_loss_is_wrong_too(grade_file):
    summed = REST.replace(") / len(Z)", ")")
    result = grade_file("import math\n" + RIGHT_SOFTMAX + LOG10_LOSS + summed + GRAD_FROM_SOFTMAX, FAST)
    assert failed(result) >= {"cross_entropy_loss", "sequence_loss"}
    assert statuses(result, "sequence_loss")["sequence_loss_matches_reference"] is Status.FAILED


def test_a_sequence_loss_that_stops_in_an_unwritten_loss_is_not_judged(grade_file):
    stub = "\ndef cross_entropy_loss(z, t):\n    raise NotImplementedError\n"
    result = grade_file("import math\n" + RIGHT_SOFTMAX + stub + REST + GRAD_FROM_SOFTMAX, FAST)
    built = next(t for t in result.tests if t.name == "sequence_loss_matches_reference")
    assert built.status is Status.UNCHECKED and built.score == 0
    assert built.message.startswith("not judged: it stops where your `cross_entropy_loss` does")
    assert "sequence_loss" not in failed(result)


@pytest.mark.parametrize("value", ["1.0", "0.0"])  # 0.0 is the reference's own answer to a certain guess
def test_a_constant_built_on_a_constant_is_not_judged(grade_file, value):
    constant = f"\ndef cross_entropy_loss(z, t):\n    return {value}\n"
    result = grade_file("import math\n" + RIGHT_SOFTMAX + constant + REST + GRAD_FROM_SOFTMAX, FAST)
    built = next(t for t in result.tests if t.name == "sequence_loss_matches_reference")
    assert built.status is Status.UNCHECKED and built.score == 0
    alike = "it answers every input tried alike, and so does your own `cross_entropy_loss` where it was asked"
    assert built.message == f"not judged: {alike}"


def test_a_gradient_that_changes_its_argument_is_failed_for_it(grade_file):
    # The call fails before it answers: there is no answer to hold against its softmax's.
    in_place = GRAD_FROM_SOFTMAX.replace(
        "    g = list(softmax(z))", "    z.append(0.0)\n    z.pop()\n    z[0] += 0.5\n    g = list(softmax(z))"
    )
    result = grade_file(RIGHT_SOFTMAX + "import math\n" + RIGHT_LOSS + REST + in_place, FAST)
    built = next(t for t in result.tests if t.name == "grad_matches_identity")
    assert built.status is Status.FAILED
    assert "changed `logits`" in built.message


def test_a_gradient_whose_softmax_changes_the_argument_is_not_judged(grade_file):
    changing = RIGHT_SOFTMAX.replace("    m = max(z)", "    z[0] += 0.5\n    m = max(z)")
    result = grade_file(changing + "import math\n" + RIGHT_LOSS + REST + GRAD_FROM_SOFTMAX, FAST)
    assert "softmax" in failed(result)
    built = next(t for t in result.tests if t.name == "grad_matches_identity")
    assert built.status is Status.UNCHECKED and built.score == 0
    assert built.message.startswith("not judged: your `softmax` fails on the same input too: `softmax` changed")


ID_CACHED_LOSS = """
_CACHE = {}
def cross_entropy_loss(z, t):
    key = (id(z), t)  # a list's id is reused once it is freed: a new list gets the old answer
    if key not in _CACHE:
        m = max(z)
        _CACHE[key] = m + math.log(sum(math.exp(x - m) for x in z)) - z[t]
    return _CACHE[key]
"""


def test_a_loss_cached_by_identity_is_caught_and_blamed_on_the_loss_alone(grade_file):
    result = grade_file("import math\n" + RIGHT_SOFTMAX + ID_CACHED_LOSS + REST + GRAD_FROM_SOFTMAX, FAST)
    assert failed(result) == {"cross_entropy_loss"}
    elsewhere = [
        t for t in result.tests if "`cross_entropy_loss`" in t.message and "cross_entropy_loss" not in t.functions
    ]
    assert elsewhere and all(t.status is Status.UNCHECKED and t.score == 0 for t in elsewhere), [
        (t.name, t.status) for t in elsewhere
    ]


def test_a_sequence_loss_over_a_loss_giving_inf_and_minus_inf_is_not_judged(grade_file):
    # The file's own losses add to inf - inf, which math.fsum refuses: the property still reaches a verdict.
    unshifted = "\ndef cross_entropy_loss(z, t):\n    import numpy as np\n    z = np.asarray(z, dtype=float)\n"
    unshifted += "    return float(np.log(np.exp(z).sum()) - z[t])\n"
    result = grade_file("import math\n" + RIGHT_SOFTMAX + unshifted + REST + GRAD_FROM_SOFTMAX, FAST)
    built = next(t for t in result.tests if t.name == "sequence_loss_matches_reference")
    assert built.status is Status.UNCHECKED and built.message.startswith("not judged: your `cross_entropy_loss` gives")
    assert not [t.name for t in result.tests if t.message.startswith("the property stopped with")]
