"""The numeric reference is held to identities derived from the definition of the loss.

Three layers: sympy proves each identity in gradekit.reference.identities (the difference simplifies to exactly 0)
for small concrete vocabularies; the numeric reference agrees with the lambdified derivations at many
random points; and the reference stays exact (against 50-digit mpmath) where naive code overflows or
clamps, and reproduces the course's worked examples. The training step's reference (bigram loss and
gradient, Adam) is held to its identities the same way, for vocabularies small enough for sympy.
"""

import math

import mpmath
import numpy as np
import pytest
import sympy as sp
from gradekit.reference import cross_entropy as ref
from gradekit.reference import identities as ids
from gradekit.reference import training_step as step_ref

SEED = 20240611
SYMBOLIC_CASES = [(V, t) for V in (1, 2, 3, 4) for t in range(V)]
NUMERIC_CASES = [(V, t) for V in (1, 2, 3, 5, 8) for t in sorted({0, V // 2, V - 1})]
POINTS = 200
# The lambdified forms are the naive formulas: log(sum exp z) - z_t and p_t - 1 cancel to an absolute
# error of a few ulps (~1e-15 here), so those two, and only those, get a small absolute floor.
RTOL, ATOL = 1e-12, 1e-13
# Below the smallest normal float, results carry fewer digits than 1e-12: compare them absolutely.
TINY = 1e-300


def vanishes(difference: sp.Basic | list | tuple) -> bool:
    """Whether every entry of a sympy expression, list or matrix simplifies to exactly 0."""
    entries = difference if isinstance(difference, (list, tuple, sp.MatrixBase)) else [difference]
    return all(sp.simplify(entry) == 0 for entry in entries)


# --- Symbolic proofs ----------------------------------------------------------------------------


def test_checker_rejects_wrong_claims():
    z = ids.logits(3)
    p = ids.softmax(z)
    plus_one_hot = [pj + sp.KroneckerDelta(j, 1) for j, pj in enumerate(p)]
    wrong_gradient = [d - c for d, c in zip(ids.gradient(z, 1), plus_one_hot)]
    wrong_hessian = ids.hessian(z, 1) - sp.diag(*p)
    assert not vanishes(wrong_gradient)
    assert not vanishes(wrong_hessian)
    assert not vanishes(ids.loss(z, 0) - ids.loss(z, 1))


@pytest.mark.parametrize("V, t", SYMBOLIC_CASES)
def test_gradient_is_softmax_minus_one_hot(V, t):
    assert vanishes(ids.gradient_identity(V, t))


def test_the_gradient_of_one_logit_is_zero_not_minus_zero():
    """softmax([z]) is [1.0], and 1.0 - 1.0 is 0.0: a report shows `expected: [0.0]`, never [-0.0]."""
    assert repr(ref.softmax_cross_entropy_grad([0.0], 0)) == "[0.0]"


@pytest.mark.parametrize("V, t", SYMBOLIC_CASES)
def test_gradient_sums_to_zero(V, t):
    assert vanishes(ids.gradient_sum(V, t))


@pytest.mark.parametrize("V, t", SYMBOLIC_CASES)
def test_hessian_is_diag_p_minus_p_p_transpose(V, t):
    difference = ids.hessian_identity(V, t)
    assert difference.shape == (V, V)
    assert vanishes(difference)


@pytest.mark.parametrize("V, t", SYMBOLIC_CASES)
def test_hessian_quadratic_form_is_a_variance(V, t):
    assert vanishes(ids.hessian_quadratic_form_identity(V, t))


@pytest.mark.parametrize("V, t", SYMBOLIC_CASES)
def test_loss_is_invariant_under_a_common_shift(V, t):
    assert vanishes(ids.shift_invariance(V, t))


@pytest.mark.parametrize("V, t", SYMBOLIC_CASES)
def test_uniform_logits_cost_log_V(V, t):
    assert vanishes(ids.uniform_loss_identity(V, t))


@pytest.mark.parametrize("V", [1, 2, 3, 4])
def test_cross_entropy_is_entropy_plus_kl(V):
    assert vanishes(ids.cross_entropy_decomposition(V))


@pytest.mark.parametrize("V, t", SYMBOLIC_CASES)
def test_one_hot_target_has_no_entropy_so_cross_entropy_is_kl(V, t):
    assert ids.one_hot_entropy(V, t) == 0
    assert ids.one_hot_cross_entropy_identity(V, t) == 0


@pytest.mark.parametrize("V, t", SYMBOLIC_CASES)
def test_one_hot_cross_entropy_is_the_loss(V, t):
    assert vanishes(ids.one_hot_cross_entropy_is_loss(V, t))


def test_perplexity_is_its_own_derivative():
    assert vanishes(ids.perplexity_derivative_identity())


@pytest.mark.parametrize("V, targets", [(2, [1]), (2, [0, 1, 1]), (3, [2, 0, 1]), (3, [0, 0])])
def test_sequence_gradient_is_position_gradient_over_n(V, targets):
    for k in range(len(targets)):
        assert vanishes(ids.sequence_gradient_identity(V, targets, k))


@pytest.mark.parametrize(
    "V, tokens", [(3, [0, 1, 1, 2, 0]), (3, [0, 1, 0, 1]), (3, [2, 2, 2]), (3, [1, 0, 2, 1, 1, 0, 0]), (2, [1, 0])]
)
def test_bigram_gradient_matches_closed_form(V, tokens):
    assert vanishes(ids.bigram_gradient_identity(V, tokens))


def test_bigram_rows_never_used_as_context_get_zero_gradient():
    derived = ids.bigram_gradient(ids.bigram_table(3), [0, 1, 0, 1])
    assert all(entry == 0 for entry in derived.row(2))
    assert not vanishes(derived.row(0))


def test_decay_rate_spans_exactly_the_open_unit_interval():
    beta = ids.decay_rate("beta")
    (s,) = beta.free_symbols
    assert (beta > 0) is sp.true and (beta < 1) is sp.true
    assert sp.solve(sp.Eq(beta, sp.Rational(9, 10)), s) == [sp.Rational(1, 9)]


def test_adam_first_step_unbiases_to_g_and_g_squared():
    m_difference, v_difference = ids.adam_first_moments_identity()
    assert vanishes(m_difference) and vanishes(v_difference)
    assert vanishes(ids.adam_first_update_identity())


def test_adam_first_update_tends_to_lr_times_sign_of_g():
    positive, negative = ids.adam_first_update_sign_limits()
    assert vanishes(positive) and vanishes(negative)


def test_bias_correction_fades():
    correction, moment = ids.bias_correction_limit()
    assert vanishes(correction) and vanishes(moment)


@pytest.mark.parametrize(
    "call",
    [
        lambda: ids.loss(ids.logits(3), 3),
        lambda: ids.loss(ids.logits(3), -1),
        lambda: ids.gradient_identity(2, 2),
        lambda: ids.logits(0),
        lambda: ids.sequence_loss([], []),
        lambda: ids.bigram_loss(ids.bigram_table(2), [0]),
    ],
)
def test_out_of_range_inputs_are_refused(call):
    with pytest.raises(ValueError):
        call()


# --- The numeric reference agrees with the derivations ------------------------------------------


def random_logits(rng: np.random.Generator, V: int) -> np.ndarray:
    return rng.normal(0.0, 3.0, size=V)


@pytest.mark.parametrize("V, t", NUMERIC_CASES)
def test_reference_softmax_loss_and_gradient_agree_with_sympy(V, t):
    rng = np.random.default_rng([SEED, V, t])
    softmax, loss, gradient = ids.compiled_softmax(V), ids.compiled_loss(V, t), ids.compiled_gradient(V, t)
    for _ in range(POINTS):
        z = random_logits(rng, V)
        np.testing.assert_allclose(ref.softmax(z.tolist()), softmax(z), rtol=RTOL, atol=0)
        np.testing.assert_allclose(ref.cross_entropy_loss(z.tolist(), t), loss(z), rtol=RTOL, atol=ATOL)
        computed, derived = np.asarray(ref.softmax_cross_entropy_grad(z.tolist(), t)), gradient(z)
        np.testing.assert_allclose(np.delete(computed, t), np.delete(derived, t), rtol=RTOL, atol=0)
        np.testing.assert_allclose(computed[t], derived[t], rtol=RTOL, atol=ATOL)


@pytest.mark.parametrize("V", [1, 2, 3, 5])
def test_reference_sequence_loss_agrees_with_sympy(V):
    rng = np.random.default_rng([SEED, V])
    for n in (1, 2, 4):
        targets = rng.integers(0, V, size=n).tolist()
        mean_loss = ids.compiled_sequence_loss(V, targets)
        for _ in range(POINTS // 4):
            zs = rng.normal(0.0, 3.0, size=(n, V))
            np.testing.assert_allclose(ref.sequence_loss(zs.tolist(), targets), mean_loss(zs), rtol=RTOL, atol=ATOL)


def test_reference_perplexity_agrees_with_sympy():
    rng = np.random.default_rng(SEED)
    perplexity = ids.compiled_perplexity()
    for mean_loss in rng.uniform(0.0, 50.0, size=POINTS):
        np.testing.assert_allclose(ref.perplexity(float(mean_loss)), perplexity(mean_loss), rtol=RTOL, atol=0)


@pytest.mark.parametrize("V, t", NUMERIC_CASES)
def test_hessian_is_positive_semidefinite_and_matches_reference_softmax(V, t):
    rng = np.random.default_rng([SEED, V, t, 1])
    hessian = ids.compiled_hessian(V, t)
    for _ in range(POINTS // 4):
        z = random_logits(rng, V)
        H = hessian(z)
        p = np.asarray(ref.softmax(z.tolist()))
        np.testing.assert_allclose(H, np.diag(p) - np.outer(p, p), rtol=RTOL, atol=1e-15)
        np.testing.assert_allclose(H, H.T, rtol=0, atol=1e-15)
        assert np.linalg.eigvalsh(H).min() >= -1e-12
        np.testing.assert_allclose(H @ np.ones(V), 0.0, atol=1e-14)


# --- Worked examples from the course ------------------------------------------------------------


def test_course_example_loss_and_gradient():
    z, t = [0.0, 3.0, -2.0, 1.0], 3
    expected_gradient = [0.04177257051535046, 0.8390245074625321, 0.00565330266221633, -0.8864503806400987]
    assert ref.cross_entropy_loss(z, t) == pytest.approx(2.1755153626167143, rel=0, abs=1e-12)
    assert ref.softmax_cross_entropy_grad(z, t) == pytest.approx(expected_gradient, rel=0, abs=1e-12)
    assert float(ids.compiled_loss(4, t)(z)) == pytest.approx(2.1755153626167143, rel=0, abs=1e-12)
    assert ids.compiled_gradient(4, t)(z).tolist() == pytest.approx(expected_gradient, rel=0, abs=1e-12)


def test_course_example_uniform_over_27_tokens_costs_ln_27():
    assert ref.cross_entropy_loss([0.0] * 27, 11) == pytest.approx(3.295836866004329, rel=0, abs=1e-12)
    assert math.log(27) == pytest.approx(3.295836866004329, rel=0, abs=1e-15)


def test_course_example_sequence():
    logits_list = [
        [0, 0, 0, 0, 0],
        [0, 0, 0, 0, 1.791759469],
        [0, -1, -1, -1, -1.405465108],
        [-2, -2, 2.772588722, 0, -2],
    ]
    targets = [3, 4, 0, 2]
    losses = [ref.cross_entropy_loss(z, t) for z, t in zip(logits_list, targets)]
    assert [round(value, 4) for value in losses] == [1.6094, 0.5108, 0.8539, 0.0842]
    mean_loss = ref.sequence_loss(logits_list, targets)
    assert round(mean_loss, 4) == 0.7646
    assert round(ref.perplexity(mean_loss), 4) == 2.1482
    first_gradient = ref.softmax_cross_entropy_grad(logits_list[0], 3)
    assert first_gradient == pytest.approx([0.2, 0.2, 0.2, -0.8, 0.2], rel=0, abs=1e-15)
    assert float(ids.compiled_sequence_loss(5, targets)(logits_list)) == pytest.approx(mean_loss, rel=1e-12)


# --- Exact where naive code breaks --------------------------------------------------------------


def exact_values(z: list[float], t: int) -> tuple[float, list[float], list[float]]:
    """Loss, softmax and gradient at 50 digits from the exact binary values of z, each rounded once.

    Everything is measured relative to the target's logit, r = sum_{j != t} exp(z_j - z_t), so no step
    cancels and 50 digits stay enough however far apart the logits are: L = log1p(r),
    p_j = exp(z_j - z_t) / (1 + r) and p_t - 1 = -r / (1 + r).
    """
    with mpmath.workdps(50):
        values = [mpmath.mpf(x) for x in z]
        ratios = [mpmath.exp(x - values[t]) for x in values]
        rest = mpmath.fsum(ratio for j, ratio in enumerate(ratios) if j != t)
        probabilities = [ratio / (1 + rest) for ratio in ratios]
        gradient = list(probabilities)
        gradient[t] = -rest / (1 + rest)
        return float(mpmath.log1p(rest)), [float(p) for p in probabilities], [float(g) for g in gradient]


def assert_exact(z: list[float], t: int) -> None:
    loss, probabilities, gradient = exact_values(z, t)
    computed_loss = ref.cross_entropy_loss(z, t)
    computed_softmax = ref.softmax(z)
    computed_gradient = ref.softmax_cross_entropy_grad(z, t)
    assert math.isfinite(computed_loss) and all(map(math.isfinite, computed_softmax + computed_gradient))
    np.testing.assert_allclose(computed_loss, loss, rtol=RTOL, atol=TINY)
    np.testing.assert_allclose(computed_softmax, probabilities, rtol=RTOL, atol=TINY)
    np.testing.assert_allclose(computed_gradient, gradient, rtol=RTOL, atol=TINY)


HAND_PICKED_LARGE_LOGITS = [
    ([1e4, 1e4 - 2.5, -1e4], 1),
    ([1e4, 1e4 - 2.5, -1e4], 0),
    ([1e4, 1e4 - 2.5, -1e4], 2),
    ([-1e4, -1e4 + 3.0, -9990.0], 0),
    ([5000.0, -5000.0, 4999.999], 2),
    ([1e4, 1e4], 1),
]


def large_logit_cases() -> list[tuple[list[float], int]]:
    """The hand-picked cases, then |z| up to 1e4 drawn at random: spreads of thousands."""
    rng = np.random.default_rng([SEED, 2])
    cases = list(HAND_PICKED_LARGE_LOGITS)
    for V in (2, 5, 50):
        for _ in range(20):
            z = rng.uniform(-1e4, 1e4, size=V)
            cases += [
                (z.tolist(), int(np.argmax(z))),
                (z.tolist(), int(np.argmin(z))),
                (z.tolist(), int(rng.integers(V))),
            ]
    return cases


def naive_loss_is_finite(z: list[float], t: int) -> bool:
    with np.errstate(all="ignore"):
        return math.isfinite(float(ids.compiled_loss(len(z), t)(z)))


def test_large_logit_cases_break_naive_code():
    assert not any(naive_loss_is_finite(z, t) for z, t in HAND_PICKED_LARGE_LOGITS)
    cases = large_logit_cases()
    assert sum(not naive_loss_is_finite(z, t) for z, t in cases) >= 0.9 * len(cases)


def test_reference_is_exact_for_huge_logits_and_spreads():
    for z, t in large_logit_cases():
        assert_exact(z, t)


def test_reference_is_exact_for_a_single_token_vocabulary():
    for z in ([0.0], [1e4], [-1e4], [123.456]):
        assert ref.cross_entropy_loss(z, 0) == 0.0
        assert ref.softmax(z) == [1.0]
        assert ref.softmax_cross_entropy_grad(z, 0) == [0.0]
        assert float(ids.compiled_loss(1, 0)(z)) == 0.0


def test_reference_is_exact_for_a_ten_thousand_token_vocabulary():
    rng = np.random.default_rng([SEED, 10_000])
    z = (rng.normal(0.0, 5.0, size=10_000) + 5000.0).tolist()
    for t in (0, int(np.argmax(z)), 9_999):
        assert_exact(z, t)
    assert math.fsum(ref.softmax(z)) == pytest.approx(1.0, abs=1e-12)


def test_confidently_wrong_prediction_costs_its_full_loss():
    assert ref.cross_entropy_loss([0.0, 1000.0], 0) == 1000.0
    assert ref.softmax_cross_entropy_grad([0.0, 1000.0], 0) == [-1.0, 1.0]
    assert ref.perplexity(ref.cross_entropy_loss([0.0, 1000.0], 0)) == math.inf


def test_confident_right_prediction_keeps_its_tiny_loss():
    z = [0.0, -46.0517018598809]
    assert_exact(z, 0)
    assert ref.cross_entropy_loss(z, 0) == pytest.approx(1e-20, rel=1e-9)


# --- The training step: bigram loss, its gradient, Adam ----------------------------------------

BIGRAM_CASES = [(3, [0, 1, 1, 2, 0]), (3, [2, 2, 2]), (2, [1, 0]), (3, [1, 0, 2, 1, 1, 0, 0])]


@pytest.mark.parametrize("V, tokens", BIGRAM_CASES)
def test_bigram_loss_is_invariant_under_a_row_shift(V, tokens):
    for row in range(V):
        assert vanishes(ids.bigram_row_shift_invariance(V, tokens, row))


@pytest.mark.parametrize("V, tokens", BIGRAM_CASES)
def test_bigram_constant_table_costs_log_V(V, tokens):
    assert vanishes(ids.bigram_uniform_loss_identity(V, tokens))


@pytest.mark.parametrize("V, tokens", BIGRAM_CASES)
def test_bigram_gradient_rows_sum_to_zero(V, tokens):
    assert vanishes(ids.bigram_gradient_row_sums(V, tokens))


def test_bigram_checker_rejects_a_gradient_missing_its_softmax():
    W = ids.bigram_table(3)
    tokens = [0, 1, 1, 2]
    n = len(tokens) - 1
    only_one_hot = sp.zeros(3, 3)
    for a, b in zip(tokens, tokens[1:]):
        only_one_hot[a, b] -= sp.Rational(1, n)
    assert not vanishes(ids.bigram_gradient(W, tokens) - only_one_hot)


def test_adam_update_is_invariant_to_gradient_scale_without_eps():
    assert vanishes(ids.adam_scale_invariance())


def random_table(rng: np.random.Generator, V: int, spread: float = 3.0) -> np.ndarray:
    return rng.normal(0.0, spread, size=(V, V))


@pytest.mark.parametrize(
    "V, tokens", [(2, [0, 1]), (3, [0, 1, 1, 2, 0]), (3, [2, 2, 2]), (4, [3, 0, 2, 2, 1, 3]), (4, [1, 1, 1, 1, 0])]
)
def test_reference_bigram_loss_and_gradient_agree_with_sympy(V, tokens):
    rng = np.random.default_rng([SEED, V, len(tokens)])
    loss, gradient = ids.compiled_bigram_loss(V, tokens), ids.compiled_bigram_gradient(V, tokens)
    for _ in range(POINTS // 4):
        W = random_table(rng, V)
        np.testing.assert_allclose(step_ref.bigram_loss(W.tolist(), tokens), loss(W), rtol=RTOL, atol=ATOL)
        np.testing.assert_allclose(step_ref.bigram_grad(W.tolist(), tokens), gradient(W), rtol=RTOL, atol=ATOL)


def test_reference_bigram_loss_stays_exact_where_naive_exp_overflows():
    rng = np.random.default_rng([SEED, 27])
    tokens = step_ref.encode("emma")
    W = random_table(rng, 27)
    shifted = W.copy()
    shifted[tokens[:-1]] += 900.0  # exp(900) overflows; each row's loss must not notice the shift
    assert step_ref.bigram_loss(shifted.tolist(), tokens) == pytest.approx(
        step_ref.bigram_loss(W.tolist(), tokens), rel=1e-12
    )
    np.testing.assert_allclose(
        step_ref.bigram_grad(shifted.tolist(), tokens), step_ref.bigram_grad(W.tolist(), tokens), rtol=1e-9, atol=1e-15
    )


def test_reference_adam_agrees_with_sympy():
    rng = np.random.default_rng([SEED, 8])
    adam = ids.compiled_adam_step()
    for _ in range(POINTS):
        g, m = rng.normal(0.0, 1.0, size=2) * 10.0 ** rng.uniform(-8, 0, size=2)
        v = m * m * rng.uniform(0.5, 4.0)
        step = int(rng.integers(0, 1000))
        lr, beta1, beta2, eps = rng.uniform(0, 0.1), rng.uniform(0.5, 0.95), rng.uniform(0.9, 0.999), 1e-8
        p = float(rng.uniform(-5, 5))
        new_m, new_v, decrement = adam([g, m, v, step, lr, beta1, beta2, eps])
        params, ms, vs = step_ref.adam_update([p], [g], [m], [v], step, lr, beta1, beta2, eps)
        np.testing.assert_allclose(ms, [new_m], rtol=RTOL, atol=0)
        np.testing.assert_allclose(vs, [new_v], rtol=RTOL, atol=0)
        np.testing.assert_allclose(params, [p - decrement], rtol=RTOL, atol=1e-15 * abs(p))


def test_reference_train_step_is_loss_gradient_schedule_then_adam():
    rng = np.random.default_rng([SEED, 9])
    W, m = random_table(rng, 27, 0.5), random_table(rng, 27, 0.01)
    v = m * m * 2.0
    tokens, step = step_ref.encode("olivia"), 123
    loss, new_W, new_m, new_v = step_ref.train_step(W.tolist(), tokens, m.tolist(), v.tolist(), step, 500, 0.05)
    assert loss == step_ref.bigram_loss(W.tolist(), tokens)
    gradient = np.ravel(step_ref.bigram_grad(W.tolist(), tokens)).tolist()
    lr = step_ref.linear_lr(step, 500, 0.05)
    expected = step_ref.adam_update(W.ravel().tolist(), gradient, m.ravel().tolist(), v.ravel().tolist(), step, lr)
    for computed, flat in zip((new_W, new_m, new_v), expected):
        np.testing.assert_allclose(np.ravel(computed), flat, rtol=1e-15, atol=0)


def test_course_training_step_facts():
    assert step_ref.encode("ava") == [26, 0, 21, 0, 26]
    zeros = [[0.0] * 27 for _ in range(27)]
    assert step_ref.bigram_loss(zeros, step_ref.encode("ava")) == pytest.approx(3.295836866004329, rel=0, abs=1e-12)
    assert step_ref.linear_lr(0, 1000, 0.01) == 0.01 and step_ref.linear_lr(1000, 1000, 0.01) == 0.0
    # At step 0 from m = v = 0, every parameter with |g| >> eps moves by lr * sign(g).
    grads = [0.3, -2.0, 1e-3, -5e-4]
    params, m, v = step_ref.adam_update([0.0] * 4, grads, [0.0] * 4, [0.0] * 4, 0, 0.01)
    assert params == pytest.approx([-0.01, 0.01, -0.01, 0.01], rel=1e-4)
    assert m == pytest.approx([0.15 * g for g in grads]) and v == pytest.approx([0.01 * g * g for g in grads])
