"""The training_step assignment: how its properties are built and what they catch.

Its banks (the reference, known_right/, known_slow/, known_wrong/) are graded in tests/batch/test_banks.py with
every other assignment's; the sympy identities behind its reference are proven in tests/kit/test_identities.py.
"""

from __future__ import annotations

import importlib.util
import re
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
from gradekit.reference import training_step as ref
from gradekit.reference.course import BOS, decode
from hypothesis import find, given, settings

from gradekit import assignment, strategies
from gradekit.config import GradeConfig, Limits
from gradekit.engine import recording
from gradekit.errors import PropertyFailure
from gradekit.grader import Grading, grade
from gradekit.reports import text
from gradekit.result import Status
from gradekit.sandbox.worker import encode, to_plain
from gradekit.strategies import build_moments, build_table

ROOT = Path(__file__).resolve().parents[2]
CORRECT = ROOT / "examples" / "training_step_submission.py"
BUGGY = ROOT / "examples" / "training_step_buggy.py"
KNOWN_WRONG = ROOT / "assignments" / "training_step" / "known_wrong"
RUN = "train_step_run_matches_reference"

CONSTANT = """
import math
def encode(name): return [26, 26]
def bigram_loss(W, tokens): return math.log(27)
def bigram_grad(W, tokens): return [[0.0] * 27 for _ in range(27)]
def sgd_update(params, grads, lr): return list(params)
def linear_lr(step, num_steps, base_lr): return 0.01
def adam_update(params, grads, m, v, step, lr, beta1=0.85, beta2=0.99, eps=1e-8): return params, m, v
def train_step(W, tokens, m, v, step, num_steps=1000, base_lr=0.01): return math.log(27), W, m, v
"""


@pytest.fixture(scope="module")
def training_step() -> assignment.Assignment:
    loaded = assignment.load("training_step")
    recording.recorded(loaded, loaded.default_seed, GradeConfig().max_examples)  # before any part is graded
    return loaded


def only(a: assignment.Assignment, *names: str) -> assignment.Assignment:
    return replace(a, properties=tuple(p for p in a.properties if p.name in names))


# A failing grade of an assignment narrowed to some properties would work out the known mistakes'
# answers to those properties' probes, for that set alone (gradekit.diagnosis.mistakes): the tests that
# narrow one read the properties' own verdicts and counterexamples, and the diagnosis is tested whole.
ALONE = GradeConfig(diagnose=False)


def test_points_total_100_and_every_function_has_a_property_that_pays_on_its_own(training_step):
    assert training_step.max_score == 100
    for function in training_step.functions:
        own = [p for p in training_step.properties if p.functions == (function,) and not p.requires]
        assert own, f"`{function}` has no reference property that pays on its own"


def test_metamorphic_properties_require_their_functions_reference_property(training_step):
    standalone = {p.name for p in training_step.properties if not p.requires}
    for p in training_step.properties:
        if p.requires:
            assert set(p.requires) <= standalone, p.name


def test_constant_functions_score_zero(tmp_path, training_step):
    path = tmp_path / "constant.py"
    path.write_text(CONSTANT)
    result = grade(path, training_step, GradeConfig())
    assert result.error is None and result.score == 0
    unchecked = [t for t in result.tests if t.status is Status.UNCHECKED]
    assert unchecked, "a property that a constant could pass must wait for its function's values"
    assert all(t.message.startswith(("not checked yet: ", "not timed")) for t in unchecked)
    assert not [t for t in result.tests if t.status is Status.PASSED], "a constant passed a property"


def test_the_assignment_is_inferred_from_the_functions_defined():
    defined = set(re.findall(r"^def (\w+)", CORRECT.read_text(), re.MULTILINE))
    assert assignment.infer(defined).name == "training_step"
    assert assignment.infer(defined - {"train_step", "adam_update"}).name == "training_step"


def test_the_buggy_example_loses_points_on_both_of_its_bugs(training_step):
    # A check of every function but train_step, as `--function` narrows one: the whole assignment's
    # recording and known mistakes serve it, as they serve every check.
    functions = tuple(function for function in training_step.functions if function != "train_step")
    result = grade(BUGGY, training_step, GradeConfig(), Grading(functions=functions))
    failed = {t.name for t in result.tests if t.status is Status.FAILED}
    assert {"bigram_grad_matches_identity", "adam_matches_reference"} <= failed
    unchecked = {t.name for t in result.tests if t.status is Status.UNCHECKED}
    assert "adam_first_step_moves_by_lr" in unchecked  # it requires adam_matches_reference: not blamed twice
    assert all(t.status is Status.PASSED for t in result.tests if t.functions[0] in ("encode", "bigram_loss"))


def test_the_run_is_several_consecutive_steps_over_several_names(training_step):
    recorded = recording.recorded(training_step, training_step.default_seed, GradeConfig().max_examples)[RUN]
    runs = [example["run"] for example in recorded["inputs"]]
    assert all(len(run) >= 2 for run in runs) and any(len(run) >= 3 for run in runs)
    assert any(len(set(run)) > 1 for run in runs), "the run should train on several names"
    calls = [call for call in recorded["calls"] if call[0] == "train_step"]
    assert len(calls) == sum(map(len, runs)), "one train_step call per name of the run"


def test_every_correctness_property_runs_fewer_examples_and_whole_steps_fewest(training_step):
    correctness = [p for p in training_step.properties if not p.scale]
    steps = {p.name for p in correctness if p.functions == ("train_step",)}
    counts = {p.name: p.max_examples for p in correctness}
    effect = {"train_step_lowers_loss_on_repeated_name", "train_step_is_repeatable_and_leaves_caller_state_consistent"}
    assert effect <= steps and {counts[name] for name in effect} == {10}  # what they catch shows at once
    assert {counts[name] for name in steps - effect - {RUN}} == {25} and counts[RUN] == 10  # a run is 2 or 3 steps
    # linear_lr's run makes hundreds of calls an example, and its explicit example catches what it is for
    assert counts.pop("linear_lr_through_a_run") == 5
    assert {count for name, count in counts.items() if name not in steps} == {30}
    result = grade(CORRECT, only(training_step, RUN, "encode_matches_reference"), GradeConfig())
    # encode's own count, and its two names past every block size, given on purpose
    assert {t.name: t.examples for t in result.tests} == {RUN: 10, "encode_matches_reference": 32}
    small = grade(CORRECT, only(training_step, RUN), GradeConfig(max_examples=4))
    assert [t.examples for t in small.tests] == [4], "--max-examples below a property's own count wins"


@pytest.mark.parametrize("bug", ["train_step_gradient_buffer_never_reset", "train_step_counts_steps_itself"])
def test_the_run_alone_catches_state_kept_between_calls(bug, training_step):
    """On a fresh worker the first call of such a submission is right: the run must catch the rest."""
    result = grade(KNOWN_WRONG / f"{bug}.py", only(training_step, RUN), ALONE)
    (run,) = result.tests
    assert run.status is Status.FAILED and run.score == 0
    assert "`train_step`" in run.message


def test_one_step_alone_cannot_see_a_buffer_that_is_fresh():
    """Why the run exists: graded on its own, a fresh worker's first call of the buggy file is right."""
    from gradekit.engine.session import Session
    from gradekit.sandbox import Worker

    source = (KNOWN_WRONG / "train_step_gradient_buffer_never_reset.py").read_text()
    W = [[0.0] * 27 for _ in range(27)]
    tokens = ref.encode("ava")
    with Worker() as worker:
        session = Session(worker, source, "buffer.py")
        assert session.load() is None
        first = worker.call("train_step", encode([W, tokens, W, W, 0]))["returned"]
        second = worker.call("train_step", encode([W, tokens, W, W, 1]))["returned"]
    assert np.allclose(first[1], ref.train_step(W, tokens, W, W, 0)[1], rtol=1e-12, atol=1e-15)
    # The second step uses the sum of both gradients: its moments show it (from m = v = 0 the step
    # itself hardly does, as Adam's first step does not depend on the gradient's size).
    assert not np.allclose(second[2], ref.train_step(W, tokens, W, W, 1)[2], rtol=1e-6, atol=1e-9)


def test_a_table_built_again_from_its_recipe_is_a_fresh_copy_of_the_same_numbers():
    recipe = {"scale": 0.08, "seed": 7, "set": [[3, 4, -0.0]]}
    first = build_table(recipe)
    first[3][4] = 99.0
    first[0].append(1.0)
    again = build_table(recipe)
    assert len(again) == 27 and all(len(row) == 27 for row in again)
    assert np.copysign(1.0, again[3][4]) == -1.0 and again[0] != first[0]
    positive = build_table({**recipe, "set": [[3, 4, 0.0]]})  # == cannot tell the two recipes apart
    assert np.copysign(1.0, positive[3][4]) == 1.0
    m, v = build_moments({"scale": 0.1, "seed": 3})
    m[0][0] = v[0][0] = -1.0
    m_again, v_again = build_moments({"scale": 0.1, "seed": 3})
    assert m_again[0][0] != -1.0 and v_again[0][0] >= 0.0


@pytest.mark.filterwarnings("error::RuntimeWarning")
def test_a_table_far_from_the_expected_one_fails_without_a_warning():
    """The student sees a verdict, never NumPy's overflow warning in the grader's output."""
    from gradekit.assignments.training_step.properties import expect_table

    from gradekit.errors import PropertyFailure

    with pytest.raises(PropertyFailure, match="W differs"):
        expect_table([[1e308] * 27] * 27, [[-1e308] * 27] * 27, "W differs")


BANK = ROOT / "assignments" / "training_step" / "known_wrong"


def test_a_wrong_gradient_shows_on_the_zero_table_and_a_name_in_a_short_block(training_step):
    """The smallest failing input, in the course's terms: W all zeros, the tokens of "a", one entry."""
    chosen = only(training_step, "bigram_grad_matches_identity")
    [test] = grade(BANK / "bigram_grad_sign_flipped.py", chosen, ALONE).tests
    shown = "\n".join(text.block(test))
    assert "W = all zeros;" in shown and 'tokens = "a" [BOS, a, BOS]' in shown
    # the entry by its row's and column's tokens: the current token a, the next BOS
    assert re.search(r"most different at \[[a-z]\]\[(BOS|[a-z])\]: -?0\.481 vs -?0\.481 \(and \d+ more\)", shown)
    assert len(shown) < 600
    assert len(test.counterexample.returned) == 27, "the JSON report keeps the whole table"


def test_a_step_that_answers_twice_differently_names_the_table_that_differs(training_step):
    """A step counter of its own: the second answer's tables are named as the step was given them (W, m,
    v), not by their place in (loss, W, m, v)."""
    chosen = only(training_step, "train_step_matches_reference")
    [test] = grade(BANK / "train_step_counts_steps_itself.py", chosen, ALONE).tests
    shown = "\n".join(text.block(test))
    assert "gave two different answers to the same input" in shown
    assert re.search(r"most different at [Wmv]\[(BOS|[a-z])\]\[(BOS|[a-z])\]: ", shown), shown
    assert "most different at [" not in shown


def test_an_adam_mistake_shrinks_to_one_parameter(training_step):
    chosen = only(training_step, "adam_matches_reference")
    [test] = grade(BANK / "adam_no_bias_correction.py", chosen, ALONE).tests
    [call] = test.counterexample.calls
    params, grads, m, v = call.args[:4]
    assert len(params) == len(grads) == len(m) == len(v) == 1
    assert call.names[:4] == ("params", "grads", "m", "v")


@pytest.mark.parametrize(
    "bug, returned", [("adam_betas_swapped.py", [1.5]), ("adam_v_from_g.py", [1.5]), ("adam_m_and_v_aliased.py", [3.0])]
)
def test_a_moment_averaged_wrongly_shows_on_one_parameter_with_whole_answers(bug, returned, training_step):
    """The moments' first example is the smallest that tells each of these apart: one parameter, a
    gradient of 2 (so g ** 2 is not g) and betas of 0.5 and 0.25 (so swapping them shows), where
    the right m and v are 1 and 3, eps left at its default (the moments do not read it). A student
    checks them by hand."""
    chosen = only(training_step, "adam_moments_match")
    [test] = grade(BANK / bug, chosen, ALONE).tests
    [call] = test.counterexample.calls
    assert call.args == ([1.0], [2.0], [0.0], [0.0], 0, 0.01, 0.5, 0.25)
    assert test.counterexample.returned == returned
    assert ref.adam_update(*call.args)[1:] == ([1.0], [3.0])


@pytest.mark.parametrize("bug", ["adam_ignores_eps.py", "adam_eps_inside_sqrt.py", "adam_v_hat_not_square_rooted.py"])
def test_what_is_done_with_eps_shows_on_one_parameter(bug, training_step):
    """A gradient of 1e-7 on one parameter, where sqrt(v_hat) is below an eps of 1e-6: eps ignored,
    added under the root, or the root left out, each moves that one parameter elsewhere."""
    chosen = only(training_step, "adam_matches_reference")
    [test] = grade(BANK / bug, chosen, ALONE).tests
    [call] = test.counterexample.calls
    assert call.args == ([1.0], [1e-7], [0.0], [0.0], 0, 0.01, 0.9, 0.95, 1e-6)


@pytest.mark.parametrize(
    "bug",
    [
        "train_step_uses_sgd.py",
        "train_step_aliases_state.py",
        "train_step_counts_steps_itself.py",
        "train_step_gradient_buffer_never_reset.py",
    ],
)
def test_a_step_that_is_no_adams_or_keeps_state_of_its_own_shows_on_training_s_first_step(bug, training_step):
    """Training's first step, on "a" with every table zero and microgpt's schedule, is the first input
    a training step is given: a step that is no Adam's, or that keeps state between calls, shows there."""
    chosen = only(training_step, "train_step_matches_reference")
    [test] = grade(BANK / bug, chosen, ALONE).tests
    assert test.status is Status.FAILED
    assert 'W = m = v = all zeros; tokens = "a" [BOS, a, BOS]; step = 0' in "\n".join(text.block(test))


def test_a_loss_taken_after_the_update_shows_on_training_s_first_step(training_step):
    chosen = only(training_step, "train_step_returns_pre_update_loss")
    [test] = grade(BANK / "train_step_loss_after_update.py", chosen, ALONE).tests
    shown = "\n".join(text.block(test))
    assert "returned the loss after the update" in shown
    assert 'W = m = v = all zeros; tokens = "a" [BOS, a, BOS]; step = 0' in shown


# --- float32 answers ------------------------------------------------------------------------------

FLOAT32 = ROOT / "assignments" / "training_step" / "known_right" / "float32_numpy.py"


def _float32(values):
    return np.asarray(values, dtype=np.float32).astype(np.float64).tolist()


def test_a_zero_step_may_round_the_parameters_to_float32_only_in_a_float32_answer():
    from gradekit.assignments.training_step.properties import expect_unchanged

    params = [0.1, -2.7, 9.3]
    expect_unchanged(params, params, "with lr = 0")
    expect_unchanged(_float32(params), params, "with lr = 0")
    moved = _float32([0.1, -2.7, 9.3 + 1e-3])  # float32 values, but not the parameters rounded
    with pytest.raises(PropertyFailure, match="`sgd_update` with lr = 0 changed the parameters"):
        expect_unchanged(moved, params, "with lr = 0")
    with pytest.raises(PropertyFailure):
        expect_unchanged([0.1, -2.7, float(np.nextafter(9.3, 10.0))], params, "with lr = 0")


# From m = v = 0, a gradient entry of -1.46e-7 (the target's p within 1.5e-7 of 1) moves its parameter
# up by 0.94 * lr; float32 rounds p - 1 to -6e-8, which moves it up by 0.86 * lr.
NEAR_ONE = {"scale": 0.0, "seed": 0, "set": [[0, 0, 19.0]]}


def test_a_float32_step_may_go_where_the_gradients_float32_rounding_takes_it_and_a_float64_one_may_not():
    from gradekit.assignments.training_step.properties import expect_train_step

    module = _load(FLOAT32)
    W, tokens, schedule = build_table(NEAR_ONE), [0, 0], (0,)
    m, v = build_moments({"scale": None})
    answer = module.train_step(W, tokens, m, v, *schedule)
    expect_train_step(answer, W, tokens, m, v, schedule, loss=True)
    _, expected_W, expected_m, expected_v = ref.train_step(W, tokens, m, v, *schedule)
    off = np.abs(np.subtract(answer[1], expected_W)).max()
    assert off > 1e-5, "the example must need more than float32's own tolerance"
    in_float64 = np.array(expected_W)
    in_float64[0, 0] += off
    with pytest.raises(PropertyFailure, match="left W different"):
        expect_train_step((answer[0], in_float64.tolist(), expected_m, expected_v), W, tokens, m, v, schedule)


def _load(path):
    spec = importlib.util.spec_from_file_location(path.stem, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


# --- scale ----------------------------------------------------------------------------------------

SCALE = {
    "bigram_loss_scales_to_long_documents": "bigram_loss_matches_reference",
    "bigram_grad_scales_to_long_documents": "bigram_grad_matches_identity",
    "adam_scales_to_many_parameters": "adam_matches_reference",
}


def test_each_scale_property_takes_two_points_from_the_property_it_requires(training_step):
    by_name = {p.name: p for p in training_step.properties}
    assert {p.name for p in training_step.properties if p.scale} == set(SCALE)
    for name, required in SCALE.items():
        assert by_name[name].requires == (required,) and by_name[name].max_examples == 1
        assert by_name[name].points == 2 and by_name[required].points == 6


@settings(max_examples=10, deadline=None)
@given(tokens=strategies.long_token_sequences())
def test_long_documents_are_names_joined_with_bos_between_them(tokens):
    assert len(tokens) in strategies.SCALE_TOKENS and all(type(t) is int and 0 <= t <= BOS for t in tokens)
    assert tokens[0] == tokens[-1] == BOS
    assert all(1 <= len(name) <= strategies.MAX_NAME for name in _names(tokens))
    assert len(set(tokens[:-1])) == BOS + 1, "every letter and BOS is a context"


def _names(tokens):
    """The names between the BOS tokens of a document."""
    bos = [i for i, t in enumerate(tokens) if t == BOS]
    return [decode(tokens[a : b + 1]) for a, b in zip(bos, bos[1:])]


LARGE_REPR = "ignore:Generating overly large repr"  # find() shows the 10,000 parameters it found


@pytest.mark.filterwarnings(LARGE_REPR)
def test_a_scale_property_meets_the_longest_document_and_many_parameters_first():
    assert len(find(strategies.long_token_sequences(), lambda tokens: True)) == strategies.SCALE_TOKENS[0] == 6_000
    assert len(find(strategies.large_adam_cases(), lambda case: True)[0]) == 10_000


@settings(max_examples=10, deadline=None)
@given(case=strategies.large_adam_cases())
def test_large_adam_cases_are_bounded_plain_numbers_with_v_non_negative(case):
    params, grads, m, v, step, lr = case
    assert len(params) == len(grads) == len(m) == len(v) == strategies.SCALE_PARAMETERS
    assert all(type(x) is float for x in params + grads + m + v)
    assert max(map(abs, params)) <= 10.0 and max(map(abs, grads)) <= 1.0 and max(map(abs, m)) <= 1.0
    assert min(v) >= 0.0 and max(v) <= 4.0
    assert type(step) is int and 0 <= step <= strategies.MAX_STEPS and 0.0 <= lr <= strategies.MAX_LR
    if any(m):
        ratios = [abs(a) / np.sqrt(b) for a, b in zip(m, v) if b > 1e-300]
        assert all(0.5 - 1e-12 <= r <= np.sqrt(2.0) + 1e-12 for r in ratios)
    else:
        assert not any(v) and step == 0


@pytest.mark.filterwarnings(LARGE_REPR)
def test_the_largest_adam_reply_stays_well_under_the_reply_cap():
    """Returned, or written back into the arguments: either reply takes under half of one reply's cap."""
    case = find(strategies.large_adam_cases(), lambda case: True)
    returned = {"id": 1, "cpu": 0.5, "ok": True, "returned": to_plain(ref.adam_update(*case))}
    in_place = {"id": 1, "cpu": 0.5, "ok": True, "returned": None, "args_after": list(case)}
    cap = Limits().reply_bytes
    assert len(encode(returned)) < cap / 2 and len(encode(in_place)) < cap / 2
    assert len(encode({**returned, "args_after": list(case)})) < cap


def test_a_quadratic_gradient_keeps_its_correctness_points_and_is_found_slow(training_step):
    slow = ROOT / "assignments" / "training_step" / "known_slow" / "quadratic_bigram_grad.py"
    chosen = only(training_step, "bigram_grad_matches_identity", "bigram_grad_scales_to_long_documents")
    identity, scale = grade(slow, chosen, ALONE).tests
    assert identity.status is Status.PASSED and identity.score == identity.max_score
    assert scale.status is Status.FAILED and scale.score == 0
    assert scale.message.startswith("`bigram_grad` ")
    assert "as long on a document of 6,000 tokens as on a document of 600 tokens" in scale.message
    assert scale.message.endswith("where linear work takes about 10 times as long: is it quadratic in the tokens?")


def test_a_recursion_too_deep_at_scale_is_told_as_that_not_as_slowness(training_step):
    """microgpt's Value sorts its graph with a recursive function: linear, but one call deeper per node,
    so a document of 6,000 tokens goes past Python's recursion limit."""
    recursive = ROOT / "assignments" / "training_step" / "known_slow" / "value_recursive_topo.py"
    chosen = only(training_step, "bigram_grad_matches_identity", "bigram_grad_scales_to_long_documents")
    identity, scale = grade(recursive, chosen, ALONE).tests
    assert identity.status is Status.PASSED
    assert scale.status is Status.FAILED and "raised RecursionError" in scale.message
    assert scale.message.endswith("past Python's limit: walk it with a loop and a list instead")
    assert "quadratic" not in scale.message


ADAM_LEAVES_HATS = """
def adam_update(params, grads, m, v, step, lr, beta1=0.85, beta2=0.99, eps=1e-8):
    new_params, new_m, new_v = [], [], []
    for p, g, m_i, v_i in zip(params, grads, m, v):
        m_i = beta1 * m_i + (1 - beta1) * g
        v_i = beta2 * v_i + (1 - beta2) * g**2
        new_params.append(p - lr * (m_i / (1 - beta1 ** (step + 1))) / ((v_i / (1 - beta2 ** (step + 1))) ** 0.5 + eps))
        new_m.append(m_i)
        new_v.append(v_i)
    m[:] = [m_i / (1 - beta1 ** (step + 1)) for m_i in new_m]  # the caller's m left as m_hat
    return new_params, new_m, new_v


def train_step(W, tokens, m, v, step, num_steps=1000, base_lr=0.01):
    loss, grad, lr = bigram_loss(W, tokens), bigram_grad(W, tokens), linear_lr(step, num_steps, base_lr)
    rows = [adam_update(W[r], grad[r], m[r], v[r], step, lr) for r in range(len(W))]
    return loss, [p for p, _, _ in rows], [m_r for _, m_r, _ in rows], [v_r for _, _, v_r in rows]
"""


def test_a_step_right_in_itself_is_not_failed_for_its_adams_left_behind_moments(training_step, tmp_path):
    """adam_update returns the right lists but leaves the caller's m as m_hat; a train_step that calls it
    row by row on the caller's rows leaves them so too. Only adam_update is FAILED, and its message
    says what the caller's m holds against what was returned: no "you returned" line stands for it."""
    source = (ROOT / "examples" / "training_step_submission.py").read_text()
    start = source.index("def adam_update(")
    path = tmp_path / "hats.py"
    path.write_text(source[:start] + ADAM_LEAVES_HATS.lstrip())
    names = ("adam_leaves_caller_state_consistent", "train_step_is_repeatable_and_leaves_caller_state_consistent")
    result = grade(path, only(training_step, *names), GradeConfig(max_examples=10))
    statuses = {t.name: t.status for t in result.tests}
    assert statuses == {names[0]: Status.FAILED, names[1]: Status.UNCHECKED}, statuses
    [failed] = [t for t in result.tests if t.status is Status.FAILED]
    assert re.search(r"left the caller's m changed to something else: \[.+\], where it returned \[.+\]", failed.message)
    assert "you returned" not in "\n".join(text.block(failed))
