"""The identities the numeric oracles in reference/ are held to, derived once with sympy.

reference/cross_entropy.py computes softmax, the loss and its gradient with float tricks (a shift by
the largest logit, log1p, expm1) that nobody can check by eye. This module starts from one given, the
definition of the loss

    L(z, t) = log(sum_j exp(z_j)) - z_t,

and derives everything else from it: gradients and Hessians come from ``sympy.diff``, limits from
``sympy.limit``, never from a formula typed in beside the claim it is meant to prove. Each ``*_identity``
function returns the derived quantity minus its claimed closed form, an expression (or list, or matrix)
that tests/kit/test_identities.py simplifies to exactly zero for small concrete vocabularies. The
``compiled_*`` functions lambdify the derived expressions so the same tests can show that the numeric
reference agrees with them at many points.

The training step adds two more givens, each a definition rather than a claim: the bigram loss (the
mean of that loss over positions, row = current token, of a table W) and one Adam update as microgpt
writes it. Its gradient, the row-shift invariance, Adam's first step and the fading of bias
correction are derived from them the same way, and reference/training_step.py is compared with the
compiled forms.

That split is why sympy may be imported at the top of this module: it runs in tests and tools only.
While a submission is graded, the reference alone is trusted, and sympy never runs.
"""

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import sympy as sp
from gradekit.reference.autograd import BINARY

Logits = tuple[sp.Symbol, ...]
NumericForm = Callable[[npt.ArrayLike], np.ndarray]


# --- The definition: the only given -------------------------------------------------------------


def logits(V: int, name: str = "z") -> Logits:
    """Real symbols name_0 .. name_{V-1}: the logits of a vocabulary of V tokens.

    Symbols are equal whenever their names and assumptions are, so two calls give the same logits.
    """
    if V < 1:
        raise ValueError(f"a vocabulary needs at least one token, got V={V}")
    return tuple(sp.Symbol(f"{name}_{j}", real=True) for j in range(V))


def _checked_target(z: Sequence[sp.Expr], t: int) -> int:
    """t itself, once it is known to index z; a negative t would silently mean another token."""
    if not 0 <= t < len(z):
        raise ValueError(f"target {t} is outside a vocabulary of {len(z)} tokens")
    return t


def softmax(z: Sequence[sp.Expr]) -> list[sp.Expr]:
    """p_j = exp(z_j) / sum_k exp(z_k), written out naively: sympy needs no stabilising shift."""
    total = sp.Add(*(sp.exp(zj) for zj in z))
    return [sp.exp(zj) / total for zj in z]


def loss(z: Sequence[sp.Expr], t: int) -> sp.Expr:
    """Cross-entropy of the logits z against the target token t: log(sum_j exp(z_j)) - z_t."""
    return sp.log(sp.Add(*(sp.exp(zj) for zj in z))) - z[_checked_target(z, t)]


# --- Gradient -----------------------------------------------------------------------------------


def gradient(z: Sequence[sp.Symbol], t: int) -> list[sp.Expr]:
    """dL/dz_j for every j, by differentiating the definition."""
    total_loss = loss(z, t)
    return [sp.diff(total_loss, zj) for zj in z]


def claimed_gradient(z: Sequence[sp.Expr], t: int) -> list[sp.Expr]:
    """The closed form the reference implements: p_j - [j == t]."""
    t = _checked_target(z, t)
    return [pj - sp.KroneckerDelta(j, t) for j, pj in enumerate(softmax(z))]


def gradient_identity(V: int, t: int) -> list[sp.Expr]:
    """Derived minus claimed gradient, entry by entry: each entry simplifies to 0."""
    z = logits(V)
    return [d - c for d, c in zip(gradient(z, t), claimed_gradient(z, t))]


def gradient_sum(V: int, t: int) -> sp.Expr:
    """Sum of the derived gradient's entries, which is 0: raising every logit at once changes nothing."""
    return sp.Add(*gradient(logits(V), t))


# --- Hessian and convexity ----------------------------------------------------------------------


def hessian(z: Sequence[sp.Symbol], t: int) -> sp.Matrix:
    """d^2 L / dz_i dz_j, by differentiating the definition twice."""
    return sp.hessian(loss(z, t), z)


def claimed_hessian(z: Sequence[sp.Expr]) -> sp.Matrix:
    """The closed form p_i ([i == j] - p_j), i.e. diag(p) - p p^T; note it does not depend on t."""
    p = softmax(z)
    return sp.Matrix(len(z), len(z), lambda i, j: p[i] * (sp.KroneckerDelta(i, j) - p[j]))


def hessian_identity(V: int, t: int) -> sp.Matrix:
    """Derived minus claimed Hessian: every entry simplifies to 0."""
    z = logits(V)
    return hessian(z, t) - claimed_hessian(z)


def hessian_quadratic_form_identity(V: int, t: int) -> sp.Expr:
    """x^T H x minus sum_i p_i (x_i - sum_k p_k x_k)^2, which simplifies to 0.

    The second term is the variance of x under the distribution p, so x^T H x >= 0 for every x: the
    Hessian is positive semidefinite and the loss is convex in the logits.
    """
    z = logits(V)
    x = sp.symbols(f"x_0:{V}", real=True)
    p = softmax(z)
    column = sp.Matrix(x)
    quadratic_form = (column.T * hessian(z, t) * column)[0, 0]
    mean = sp.Add(*(pk * xk for pk, xk in zip(p, x)))
    variance = sp.Add(*(pi * (xi - mean) ** 2 for pi, xi in zip(p, x)))
    return quadratic_form - variance


# --- Invariance and a special value -------------------------------------------------------------


def shift_invariance(V: int, t: int) -> sp.Expr:
    """L(z + c) - L(z) for a real symbol c, which simplifies to 0.

    This is what licenses the reference's subtraction of the largest logit before exponentiating.
    """
    z = logits(V)
    c = sp.Symbol("c", real=True)
    return loss([zj + c for zj in z], t) - loss(z, t)


def uniform_loss_identity(V: int, t: int) -> sp.Expr:
    """L at logits all equal to a real symbol c, minus log V: 0, the loss of knowing nothing."""
    c = sp.Symbol("c", real=True)
    return loss([c] * V, t) - sp.log(V)


# --- Cross-entropy, entropy and KL divergence ---------------------------------------------------


def cross_entropy(q: Sequence[sp.Expr], p: Sequence[sp.Expr]) -> sp.Expr:
    """CE(q, p) = -sum_j q_j log p_j."""
    return -sp.Add(*(qj * sp.log(pj) for qj, pj in zip(q, p)))


def entropy(q: Sequence[sp.Expr]) -> sp.Expr:
    """H(q) = -sum_j q_j log q_j."""
    return -sp.Add(*(qj * sp.log(qj) for qj in q))


def kl_divergence(q: Sequence[sp.Expr], p: Sequence[sp.Expr]) -> sp.Expr:
    """KL(q || p) = sum_j q_j log(q_j / p_j)."""
    return sp.Add(*(qj * sp.log(qj / pj) for qj, pj in zip(q, p)))


def _distributions(V: int) -> tuple[Logits, Logits]:
    """Positive symbols q_0.. and p_0..: positivity is what lets the logarithms split."""
    q = tuple(sp.Symbol(f"q_{j}", positive=True) for j in range(V))
    p = tuple(sp.Symbol(f"p_{j}", positive=True) for j in range(V))
    return q, p


def cross_entropy_decomposition(V: int) -> sp.Expr:
    """CE(q, p) - H(q) - KL(q || p) for positive symbols q, p: simplifies to 0."""
    q, p = _distributions(V)
    return cross_entropy(q, p) - entropy(q) - kl_divergence(q, p)


def one_hot_limit(expr: sp.Expr, q: Sequence[sp.Symbol], t: int) -> sp.Expr:
    """expr as q tends to the one-hot vector on t: every other q_j -> 0+, then q_t -> 1.

    Taking limits instead of substituting 0 is what gives 0 log 0 its conventional value 0.
    """
    t = _checked_target(q, t)
    for j, qj in enumerate(q):
        if j != t:
            expr = sp.limit(expr, qj, 0, "+")
    return sp.limit(expr, q[t], 1)


def one_hot_entropy(V: int, t: int) -> sp.Expr:
    """H(q) in the limit of a one-hot q: 0, a certain target carries no entropy."""
    q, _ = _distributions(V)
    return one_hot_limit(entropy(q), q, t)


def one_hot_cross_entropy_identity(V: int, t: int) -> sp.Expr:
    """CE(q, p) - KL(q || p) in the limit of a one-hot q: 0, so against a one-hot target CE = KL."""
    q, p = _distributions(V)
    return one_hot_limit(cross_entropy(q, p) - kl_divergence(q, p), q, t)


def one_hot_cross_entropy_is_loss(V: int, t: int) -> sp.Expr:
    """CE(one-hot on t, softmax(z)) - L(z, t): simplifies to 0, the loss is a cross-entropy.

    No limit is needed here: 0 only multiplies log p_j, and p_j > 0.
    """
    z = logits(V)
    t = _checked_target(z, t)
    one_hot = [sp.KroneckerDelta(j, t) for j in range(V)]
    return cross_entropy(one_hot, softmax(z)) - loss(z, t)


# --- Perplexity and sequences -------------------------------------------------------------------


def perplexity(mean_loss: sp.Expr) -> sp.Expr:
    """PPL = exp(L): the vocabulary size of a uniform guess that would score the same loss."""
    return sp.exp(mean_loss)


def perplexity_derivative_identity() -> sp.Expr:
    """d PPL / dL - PPL: 0, so perplexity grows by its own value per nat of loss."""
    mean_loss = sp.Symbol("L", real=True)
    return sp.diff(perplexity(mean_loss), mean_loss) - perplexity(mean_loss)


def position_logits(n: int, V: int) -> list[Logits]:
    """One set of logits per position: z{i}_0 .. z{i}_{V-1} for i in 0 .. n-1."""
    return [logits(V, name=f"z{i}") for i in range(n)]


def sequence_loss(zs: Sequence[Sequence[sp.Expr]], targets: Sequence[int]) -> sp.Expr:
    """Mean of the per-position losses over n positions."""
    if len(zs) != len(targets) or not targets:
        raise ValueError("a sequence needs one target per position and at least one position")
    return sp.Add(*(loss(z, t) for z, t in zip(zs, targets))) / len(targets)


def sequence_gradient_identity(V: int, targets: Sequence[int], k: int) -> list[sp.Expr]:
    """d(mean loss)/d(position k's logits) minus (1/n) times position k's own gradient: all 0.

    Positions share no logits, so the mean only scales each position's gradient by 1/n.
    """
    zs = position_logits(len(targets), V)
    mean_loss = sequence_loss(zs, targets)
    own = gradient(zs[k], targets[k])
    return [sp.diff(mean_loss, zj) - gj / len(targets) for zj, gj in zip(zs[k], own)]


# --- Bigram model -------------------------------------------------------------------------------


def bigram_table(V: int) -> sp.Matrix:
    """A V x V table of real symbols w_r_c: row r holds the logits for the token after token r."""
    return sp.Matrix(V, V, lambda r, c: sp.Symbol(f"w_{r}_{c}", real=True))


def bigram_loss(W: sp.Matrix, tokens: Sequence[int]) -> sp.Expr:
    """Mean over positions i of -log softmax(W[tokens[i]])[tokens[i + 1]]."""
    pairs = list(zip(tokens, tokens[1:]))
    if not pairs:
        raise ValueError("a bigram loss needs at least two tokens")
    return sp.Add(*(-sp.log(softmax(list(W.row(a)))[b]) for a, b in pairs)) / len(pairs)


def bigram_gradient(W: sp.Matrix, tokens: Sequence[int]) -> sp.Matrix:
    """d(bigram loss)/dW, entry by entry, by differentiating the loss."""
    total_loss = bigram_loss(W, tokens)
    return W.applyfunc(lambda w: sp.diff(total_loss, w))


def claimed_bigram_gradient(W: sp.Matrix, tokens: Sequence[int]) -> sp.Matrix:
    """Row r gets the sum over positions with context r of (softmax(W[r]) - onehot(next)) / n.

    A row never used as context gets nothing: its logits never reach the loss.
    """
    pairs = list(zip(tokens, tokens[1:]))
    claimed = sp.zeros(*W.shape)
    for a, b in pairs:
        p = softmax(list(W.row(a)))
        for c in range(W.cols):
            claimed[a, c] += (p[c] - sp.KroneckerDelta(c, b)) / len(pairs)
    return claimed


def bigram_gradient_identity(V: int, tokens: Sequence[int]) -> sp.Matrix:
    """Derived minus claimed bigram gradient: every entry simplifies to 0."""
    W = bigram_table(V)
    return bigram_gradient(W, tokens) - claimed_bigram_gradient(W, tokens)


def bigram_row_shift_invariance(V: int, tokens: Sequence[int], row: int) -> sp.Expr:
    """The bigram loss with a real symbol c added to every entry of one row, minus the loss: 0.

    Each row is a softmax of its own, so this is what licenses shifting each row by its max.
    """
    W = bigram_table(V)
    c = sp.Symbol("c", real=True)
    shifted = W.copy()
    shifted[row, :] = W.row(row).applyfunc(lambda w: w + c)
    return bigram_loss(shifted, tokens) - bigram_loss(W, tokens)


def bigram_uniform_loss_identity(V: int, tokens: Sequence[int]) -> sp.Expr:
    """The bigram loss of a table whose entries all equal a real symbol c, minus log V: 0.

    An untrained (zero) table costs ln V at every position: ln 27 for microgpt.
    """
    c = sp.Symbol("c", real=True)
    return bigram_loss(sp.Matrix(V, V, lambda r, k: c), tokens) - sp.log(V)


def bigram_gradient_row_sums(V: int, tokens: Sequence[int]) -> list[sp.Expr]:
    """The sum of each row of the derived bigram gradient: every one simplifies to 0."""
    gradient = bigram_gradient(bigram_table(V), tokens)
    return [sp.Add(*gradient.row(r)) for r in range(V)]


# --- Adam ---------------------------------------------------------------------------------------


def decay_rate(name: str) -> sp.Expr:
    """A symbolic rate in (0, 1), written 1 / (1 + s) with s > 0.

    sympy cannot assume 0 < beta < 1 of a bare symbol; this form takes every value in (0, 1) and no
    other, so limits that depend on beta < 1 (as beta^t -> 0 does) can be taken.
    """
    return 1 / (1 + sp.Symbol(f"s_{name}", positive=True))


def bias_correction(beta: sp.Expr, step: sp.Expr) -> sp.Expr:
    """1 - beta^(step + 1): the divisor that unbiases a moment after step + 1 updates from 0."""
    return 1 - beta ** (step + 1)


@dataclass(frozen=True)
class AdamStep:
    """One Adam update: the new moments, their bias-corrected forms, and the parameter decrement."""

    m: sp.Expr
    v: sp.Expr
    m_hat: sp.Expr
    v_hat: sp.Expr
    update: sp.Expr


def adam_step(
    g: sp.Expr, m: sp.Expr, v: sp.Expr, step: sp.Expr, lr: sp.Expr, beta1: sp.Expr, beta2: sp.Expr, eps: sp.Expr
) -> AdamStep:
    """Adam at zero-based step index `step`, from moments m, v and gradient g."""
    m_new = beta1 * m + (1 - beta1) * g
    v_new = beta2 * v + (1 - beta2) * g**2
    m_hat = m_new / bias_correction(beta1, step)
    v_hat = v_new / bias_correction(beta2, step)
    return AdamStep(m_new, v_new, m_hat, v_hat, lr * m_hat / (sp.sqrt(v_hat) + eps))


def adam_first_step(g: sp.Expr) -> AdamStep:
    """Adam's first step (m0 = v0 = 0, step index 0) for gradient g, positive lr and eps."""
    lr = sp.Symbol("lr", positive=True)
    eps = sp.Symbol("eps", positive=True)
    zero = sp.Integer(0)
    return adam_step(g, zero, zero, zero, lr, decay_rate("beta1"), decay_rate("beta2"), eps)


def adam_first_moments_identity() -> tuple[sp.Expr, sp.Expr]:
    """(m_hat - g, v_hat - g^2) on the first step: both 0, bias correction exactly undoes the decay."""
    g = sp.Symbol("g", real=True)
    first = adam_first_step(g)
    return first.m_hat - g, first.v_hat - g**2


def adam_first_update_identity() -> sp.Expr:
    """The first update minus lr * g / (|g| + eps): 0."""
    g = sp.Symbol("g", real=True)
    lr = sp.Symbol("lr", positive=True)
    eps = sp.Symbol("eps", positive=True)
    return adam_first_step(g).update - lr * g / (sp.Abs(g) + eps)


def adam_first_update_sign_limits() -> tuple[sp.Expr, sp.Expr]:
    """lim_{eps -> 0+} of the first update, minus lr * sign(g), for g > 0 and for g < 0: both 0.

    So Adam's first step moves every parameter by lr, whatever the gradient's size.
    """
    eps = sp.Symbol("eps", positive=True)
    lr = sp.Symbol("lr", positive=True)
    differences = []
    for g in (sp.Symbol("g", positive=True), sp.Symbol("g", negative=True)):
        differences.append(sp.limit(adam_first_step(g).update, eps, 0, "+") - lr * sp.sign(g))
    return differences[0], differences[1]


def bias_correction_limit() -> tuple[sp.Expr, sp.Expr]:
    """(lim 1 - beta^(t+1) minus 1, lim m / (1 - beta^(t+1)) minus m) as t -> oo, 0 < beta < 1.

    Both are 0: bias correction fades, and late in training m_hat is just m.
    """
    beta = decay_rate("beta")
    t = sp.Symbol("t", integer=True, nonnegative=True)
    m = sp.Symbol("m", real=True)
    correction = bias_correction(beta, t)
    return (sp.limit(correction, t, sp.oo) - 1, sp.limit(m / correction, t, sp.oo) - m)


def adam_scale_invariance() -> sp.Expr:
    """With eps = 0, the update from (c g, c m, c^2 v) minus the update from (g, m, v), for c > 0: 0.

    Adam divides m_hat by sqrt(v_hat), so the size of the gradient cancels; eps is what breaks the
    symmetry, by about eps / sqrt(v_hat) of the step.
    """
    g, m = sp.Symbol("g", real=True), sp.Symbol("m", real=True)
    v = sp.Symbol("v", nonnegative=True)
    c, lr = sp.Symbol("c", positive=True), sp.Symbol("lr", positive=True)
    step = sp.Symbol("t", integer=True, nonnegative=True)
    beta1, beta2 = decay_rate("beta1"), decay_rate("beta2")
    scaled = adam_step(c * g, c * m, c**2 * v, step, lr, beta1, beta2, sp.Integer(0))
    plain = adam_step(g, m, v, step, lr, beta1, beta2, sp.Integer(0))
    return scaled.update - plain.update


# --- Numeric forms ------------------------------------------------------------------------------


def _compile(args: Sequence[sp.Symbol], expr: sp.Basic) -> NumericForm:
    """A numpy function of one array holding every argument, flattened in the order of args."""
    function = sp.lambdify(list(args), expr, modules="numpy")

    def evaluate(values: npt.ArrayLike) -> np.ndarray:
        flat = np.asarray(values, dtype=np.float64).ravel()
        if flat.size != len(args):
            raise ValueError(f"expected {len(args)} values, got {flat.size}")
        return np.asarray(function(*flat), dtype=np.float64)

    return evaluate


def compiled_softmax(V: int) -> NumericForm:
    """Logits of shape (V,) -> probabilities of shape (V,)."""
    z = logits(V)
    return _compile(z, softmax(z))


def compiled_loss(V: int, t: int) -> NumericForm:
    """Logits of shape (V,) -> the loss against target t, as a 0-d array."""
    z = logits(V)
    return _compile(z, loss(z, t))


def compiled_gradient(V: int, t: int) -> NumericForm:
    """Logits of shape (V,) -> the derived gradient of shape (V,)."""
    z = logits(V)
    return _compile(z, gradient(z, t))


def compiled_hessian(V: int, t: int) -> NumericForm:
    """Logits of shape (V,) -> the derived Hessian of shape (V, V)."""
    z = logits(V)
    return _compile(z, hessian(z, t))


def compiled_sequence_loss(V: int, targets: Sequence[int]) -> NumericForm:
    """Logits of shape (n, V), one row per position -> the mean loss, as a 0-d array."""
    zs = position_logits(len(targets), V)
    return _compile([zj for z in zs for zj in z], sequence_loss(zs, targets))


def compiled_perplexity() -> NumericForm:
    """A mean loss -> its perplexity, as a 0-d array."""
    mean_loss = sp.Symbol("L", real=True)
    return _compile([mean_loss], perplexity(mean_loss))


def compiled_bigram_loss(V: int, tokens: Sequence[int]) -> NumericForm:
    """A table of shape (V, V) -> the bigram loss of tokens, as a 0-d array."""
    W = bigram_table(V)
    return _compile(list(W), bigram_loss(W, tokens))


def compiled_bigram_gradient(V: int, tokens: Sequence[int]) -> NumericForm:
    """A table of shape (V, V) -> the derived gradient, of shape (V, V)."""
    W = bigram_table(V)
    return _compile(list(W), bigram_gradient(W, tokens))


def compiled_adam_step() -> NumericForm:
    """(g, m, v, step, lr, beta1, beta2, eps) -> (new m, new v, the decrement of the parameter)."""
    names = ("g", "m", "v", "step", "lr", "beta1", "beta2", "eps")
    g, m, v, step, lr, beta1, beta2, eps = (sp.Symbol(n, real=True) for n in names)
    adam = adam_step(g, m, v, step, lr, beta1, beta2, eps)
    return _compile([g, m, v, step, lr, beta1, beta2, eps], [adam.m, adam.v, adam.update])


# --- Autograd: each operation's local derivative, and whole graphs ---------------------------------
#
# The givens are the operations themselves (a + b, log a, a ** k, ...). reference/autograd.py types
# each one's local derivative in beside it; these derive them, and a graph's partial derivatives,
# with sympy.diff, for tests/engine/test_autograd.py to hold the reference to.

GRAPH_OPERATIONS: dict[str, Callable[..., sp.Expr]] = {
    "add": lambda a, b: a + b,
    "sub": lambda a, b: a - b,
    "mul": lambda a, b: a * b,
    "div": lambda a, b: a / b,
    "neg": lambda a: -a,
    "log": sp.log,
    "exp": sp.exp,
    "relu": lambda a: sp.Piecewise((a, a > 0), (0, True)),
}


def local_derivatives(op: str, k: float | None = None) -> tuple[sp.Expr, ...]:
    """d op / d operand, for each operand of `op` in the symbols a (and b): `pow` with exponent `k`."""
    a, b = sp.symbols("a b", real=True)
    if op == "pow":
        return (sp.diff(a ** sp.nsimplify(k), a),)
    operands = (a, b) if op in BINARY else (a,)
    return tuple(sp.diff(GRAPH_OPERATIONS[op](*operands), x) for x in operands)


def graph_expression(graph: Sequence[Sequence[object]]) -> tuple[sp.Expr, list[sp.Symbol]]:
    """A graph (gradekit.reference.autograd) as one sympy expression in its leaves' symbols, plain
    numbers as exact rationals of their float values."""
    nodes: list[sp.Expr] = []
    symbols: list[sp.Symbol] = []

    def operand(a: object) -> sp.Expr:
        return nodes[a] if type(a) is int else sp.Rational(float(a))  # type: ignore[arg-type]

    for node in graph:
        op = str(node[0])
        if op == "leaf":
            symbols.append(sp.Symbol(f"x{len(symbols)}", real=True))
            nodes.append(symbols[-1])
        elif op == "pow":
            nodes.append(operand(node[1]) ** sp.nsimplify(node[2]))
        else:
            nodes.append(GRAPH_OPERATIONS[op](*(operand(a) for a in node[1:])))
    return nodes[-1], symbols
