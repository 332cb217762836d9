"""The autograd assignment's properties: a student's `Value` against exact values and derivatives.

Each property draws graphs (see graphs.py), has the worker build them from the student's operators
(harness.py), and compares every node's value and every leaf's gradient with the reference's
(gradekit.reference.autograd: 50 digits, then rounded). A value or gradient passes within a relative
1e-6 of the exact one, or 1e-9 of its scale (the same computation on magnitudes) where it cancels to
near 0: a `log(x + 1e-5)` is caught, a correct float computation never is. Failures name the
operation: each one has a property of its own, with plain numbers on the right and then on the left,
and a failing graph shrinks to the fewest nodes that still show the mistake.
"""

from __future__ import annotations

import math
from typing import Any

from gradekit.reference.autograd import BINARY, Evaluated, Graph, evaluate, leaf_names, leaves, node_expression
from gradekit.reference.cross_entropy import cross_entropy_loss, softmax_cross_entropy_grad
from hypothesis import example, given
from hypothesis import strategies as st

from gradekit import SubmissionRaised
from gradekit.authoring import expect, expect_close, fail, prop
from gradekit.course_terms import number
from gradekit.strategies import EARLY_CATCH_EXAMPLES, logits_and_target, sequences, vocab_sizes

from .graphs import chained, chains, diamonds, graphs, large_exp, leaf_values, one_operation, shared, two_powers

RTOL = 1e-6  # what a log(x + 1e-5) misses by, at the inputs drawn
SCALED = 1e-9  # of a value's or gradient's scale, where it cancels to near 0
RIGHT_SIDE = {"add": "Value.__add__", "sub": "Value.__sub__", "mul": "Value.__mul__", "div": "Value.__truediv__"}
LEFT_SIDE = {"add": "Value.__radd__", "sub": "Value.__rsub__", "mul": "Value.__rmul__", "div": "Value.__rtruediv__"}
# 12 of the 18 correctness properties catch every known-wrong file from 10 examples on (all but one from
# 1 or 3) and run EARLY_CATCH_EXAMPLES; relu and the graph properties that need 30 or 100 keep the
# command's count, the scale ones their own.


def _near(actual: float, expected: float, scale: float) -> bool:
    if math.isnan(actual):
        return False
    return abs(actual - expected) <= RTOL * abs(expected) + SCALED * scale


def method(node: list[Any]) -> str:
    """The method of `Value` a node calls: `2 - a` is a's `__rsub__`, `a.log()` its `log`."""
    op = node[0]
    if op in BINARY:
        return LEFT_SIDE[op] if type(node[1]) is not int else RIGHT_SIDE[op]
    return {"neg": "Value.__neg__", "pow": "Value.__pow__"}.get(op, f"Value.{op}")


def _expect_values(graph: Graph, values: list[float], exact: Evaluated) -> None:
    """Every node's value, the first one wrong named by its expression and the method that made it."""
    expect(len(values) == len(graph), f"{len(values)} values came back for a graph of {len(graph)} nodes")
    for i, (actual, expected) in enumerate(zip(values, exact.values)):
        if not _near(actual, expected, exact.value_scales[i]):
            fail(
                f"`{method(graph[i])}` gives `{node_expression(graph, i)}` = {number(actual)} where "
                f"{number(expected)} was expected",
                returned=values,
                expected=exact.values,
            )


def _expect_grads(graph: Graph, grads: list[float], exact: Evaluated, blamed: str, times: float = 1.0) -> None:
    """Every leaf's gradient, the ones wrong named by their letter, after the method `blamed`."""
    where = leaves(graph)
    expected = [times * exact.grads[i] for i in where]
    expect(len(grads) == len(where), f"{len(grads)} gradients came back for {len(where)} leaves")
    names = leaf_names(graph)
    wrong = [
        f"{names[i]}.grad is {number(actual)} where {number(wanted)} was expected"
        for i, actual, wanted in zip(where, grads, expected)
        if not _near(actual, wanted, abs(times) * exact.grad_scales[i])
    ]
    if wrong:
        fail(f"`{blamed}`: " + "; ".join(wrong[:3]), returned=grads, expected=expected)


def _expect_graph(sub: Any, graph: Graph, blamed: str = "Value.backward") -> None:
    """The graph's values, then its leaves' gradients, as the student's `Value` gives them."""
    try:
        values, grads = sub.gradients(graph)
    except SubmissionRaised as raised:  # the operation or backward under test raised: name it
        fail(f"`{blamed}`: {raised}")
    exact = evaluate(graph)
    _expect_values(graph, values, exact)
    _expect_grads(graph, grads, exact, blamed)


def _one(
    op: str,
    points: float,
    functions: list[str],
    hint: str,
    max_examples: int | None = EARLY_CATCH_EXAMPLES,
    after: tuple[str, ...] = (),
    also: st.SearchStrategy[Graph] | None = None,
) -> Any:
    """The property of one operation: `op` once, plain numbers on its right. It is checked after the
    seed of backward and the operations `op` is often built from (`after`), so a wrong `*` is blamed
    on `*`, not on the `-` and `/` built on it."""

    def check(sub: Any, graph: Graph) -> None:
        _expect_graph(sub, graph, method(next(node for node in reversed(graph) if node[0] == op)))

    check.__doc__ = f"`{op}` once on leaves, or on a leaf and a plain number: its value and each leaf's gradient."
    return prop(
        points=points,
        functions=functions,
        hint=hint,
        name=f"{op}_values_and_grads",
        max_examples=max_examples,
        after=(
            "backward_seeds_the_output",
            *(a if a.startswith("backward") else f"{a}_values_and_grads" for a in after),
        ),
    )(given(graph=one_operation(op) if also is None else st.one_of(one_operation(op), also))(check))


@prop(
    points=2,
    functions=["Value.backward"],
    hint="backward starts by setting the output's own grad to 1: x.backward() on a leaf x gives x.grad = 1.",
    max_examples=EARLY_CATCH_EXAMPLES,
)
@given(graph=st.builds(lambda x: [["leaf", x]], leaf_values))
def backward_seeds_the_output(sub: Any, graph: Graph) -> None:
    """backward() on a lone leaf: its gradient with respect to itself is 1. Checked before any
    operation, which all reach their leaves through this seed."""
    _expect_graph(sub, graph)


# Primitives first, then the operations students build from them (a - b as a + (-b), -a as a * -1,
# a / b as a * b ** -1), each checked after what it may be built on.
add_values_and_grads = _one("add", 5, ["Value.__add__"], "a + b has local gradient 1 towards both a and b.")
mul_values_and_grads = _one("mul", 5, ["Value.__mul__"], "a * b has local gradient b towards a and a towards b.")
pow_values_and_grads = _one(
    "pow",
    5,
    ["Value.__pow__"],
    "a ** k has local gradient k * a ** (k - 1): keep the k.",
)
log_values_and_grads = _one("log", 5, ["Value.log"], "log(a) is the natural log, exactly, with local gradient 1/a.")
exp_values_and_grads = _one(
    "exp", 5, ["Value.exp"], "exp(a) has local gradient exp(a), the value it computed.", also=large_exp()
)
# relu's kink at 0 shows one known-wrong file only from 30 examples on: it keeps the full count.
relu_values_and_grads = _one(
    "relu",
    5,
    ["Value.relu"],
    "relu(a) has local gradient 1 where a > 0 and 0 where a <= 0, 0 itself included.",
    max_examples=None,
)


@prop(
    points=2,
    functions=["Value.backward"],
    hint="backward multiplies each local gradient by the gradient of the node above: child.grad += local * v.grad.",
    max_examples=EARLY_CATCH_EXAMPLES,
    after=("backward_seeds_the_output", "add_values_and_grads", "mul_values_and_grads", "pow_values_and_grads"),
)
@given(graph=chained())
def backward_applies_the_chain_rule(sub: Any, graph: Graph) -> None:
    """Two operations in a row, each checked alone above: the gradient reaches the leaves through
    both. Checked before the operations students build from two or more (a / b as a * b ** -1), so a
    backward that drops the chain rule is not blamed on them."""
    _expect_graph(sub, graph)


neg_values_and_grads = _one(
    "neg",
    4,
    ["Value.__neg__"],
    "-a has local gradient -1: it must stay in the graph.",
    after=("mul", "backward_applies_the_chain_rule"),
)
sub_values_and_grads = _one(
    "sub",
    5,
    ["Value.__sub__"],
    "a - b has local gradients 1 towards a and -1 towards b.",
    after=("add", "neg", "backward_applies_the_chain_rule"),
)
div_values_and_grads = _one(
    "div",
    5,
    ["Value.__truediv__"],
    "a / b has local gradients 1/b towards a and -a/b**2 towards b: b must be a Value.",
    after=("mul", "pow", "backward_applies_the_chain_rule"),
)
OPERATION_PROPERTIES = ("backward_applies_the_chain_rule",) + tuple(
    f"{op}_values_and_grads" for op in ("add", "mul", "pow", "log", "exp", "relu", "neg", "sub", "div")
)


@prop(
    points=6,
    functions=list(LEFT_SIDE.values()),
    hint="2 + a, 2 - a, 2 * a and 2 / a reach a's __radd__, __rsub__, __rmul__ and __rtruediv__: mind the order.",
    max_examples=EARLY_CATCH_EXAMPLES,
    after=OPERATION_PROPERTIES,
)
@example(graph=[["leaf", 2.0], ["add", 0.0, 0]])
@example(graph=[["leaf", 2.0], ["sub", 0.0, 0]])
@example(graph=[["leaf", 2.0], ["mul", 0.0, 0]])
@example(graph=[["leaf", 2.0], ["div", 0.0, 0]])
@given(graph=st.sampled_from(BINARY).flatmap(lambda op: one_operation(op, "left")))
def numbers_on_the_left(sub: Any, graph: Graph) -> None:
    """A plain number on the left of +, -, * or /: Python asks the Value on the right. 0 on the left of
    each is tried first: `0 / a` is 0, and `0 + a` a new node, where a reflected operation written
    around another one goes wrong."""
    _expect_graph(sub, graph, method(graph[-1]))


@prop(
    points=4,
    functions=["Value"],
    hint="Each operation's .data is the number it computes, mixing Values and numbers.",
    after=(*OPERATION_PROPERTIES, "numbers_on_the_left"),
)
@given(graph=graphs())
def forward_values(sub: Any, graph: Graph) -> None:
    """The value of every node of a random graph."""
    values, _ = sub.gradients(graph)
    _expect_values(graph, values, evaluate(graph))


@prop(
    points=8,
    functions=["Value.backward"],
    hint="backward sets the output's grad to 1 and sends it to every leaf through each operation's local gradient.",
    after=(*OPERATION_PROPERTIES, "numbers_on_the_left"),
)
@given(graph=graphs())
def leaf_gradients(sub: Any, graph: Graph) -> None:
    """The gradient of every leaf of a random graph, unused leaves included (0)."""
    _expect_graph(sub, graph)


@prop(
    points=8,
    functions=["Value.backward"],
    hint="A node used twice collects both contributions: child.grad += ..., each node visited once.",
    after=(*OPERATION_PROPERTIES, "numbers_on_the_left"),
)
@given(graph=shared())
def shared_nodes_accumulate(sub: Any, graph: Graph) -> None:
    """Graphs whose output uses a node more than once (b = a * a gives a.grad = 2a)."""
    _expect_graph(sub, graph)


@prop(
    points=2,
    functions=["Value.__pow__"],
    hint="Keep each exponent on the node a ** k makes, not on a: a ** 2 + a ** 3 uses both.",
    max_examples=EARLY_CATCH_EXAMPLES,
    after=("pow_values_and_grads", "leaf_gradients", "shared_nodes_accumulate"),
)
@given(graph=two_powers())
def one_node_raised_twice(sub: Any, graph: Graph) -> None:
    """One leaf raised to two exponents, `a ** 2 + a ** 3`: each power's value and its own share of
    a's gradient. Checked after whole graphs, as it is one: a backward that mishandles it is told there."""
    _expect_graph(sub, graph, "Value.__pow__")


@prop(
    points=4,
    functions=["Value.backward", "Value.__add__", "Value.__mul__", "Value.__radd__", "Value.__rmul__"],
    requires=["add_values_and_grads", "mul_values_and_grads"],
    after=["numbers_on_the_left"],
    hint="Gradients add up (+=), in backward and in each operation: backward twice on c = a * b doubles a.grad.",
    max_examples=EARLY_CATCH_EXAMPLES,
)
@example(graph=[["leaf", 2.0], ["add", 0.0, 0]])
@given(graph=st.sampled_from(("add", "mul")).flatmap(lambda op: one_operation(op, "either")))
def backward_twice_doubles(sub: Any, graph: Graph) -> None:
    """backward() called twice on a one-operation graph: every leaf's gradient doubles. Where it does
    not, the same leaves through the other operation tell whose `=` it is: that operation's own
    gradient code where the other doubles, else backward's."""
    grads = sub.gradients_after_two_backwards(graph)
    if _doubled(graph, grads):
        return
    op, *operands = graph[-1]
    # The same leaves through the other operation, a plain number made 2 so that no gradient is 0.
    control = [*graph[:-1], ["mul" if op == "add" else "add", *(a if type(a) is int else 2.0 for a in operands)]]
    blamed = method(graph[-1]) if _doubled(control, sub.gradients_after_two_backwards(control)) else "Value.backward"
    _expect_grads(graph, grads, evaluate(graph), blamed, times=2.0)


def _doubled(graph: Graph, grads: list[float]) -> bool:
    exact = evaluate(graph)
    where = leaves(graph)
    return len(grads) == len(where) and all(
        _near(actual, 2.0 * exact.grads[i], 2.0 * exact.grad_scales[i]) for i, actual in zip(where, grads)
    )


@prop(
    points=3,
    functions=["Value.backward"],
    requires=["leaf_gradients"],
    hint="Gradients are linear in the output: multiplying it by c multiplies every leaf's grad by c.",
)
@given(graph=graphs(), c=st.sampled_from([2.0, -3.0, 0.5, 10.0]))
def gradients_linear_in_output(sub: Any, graph: Graph, c: float) -> None:
    """The gradients of c * f are c times those of f, as the student's backward gives them."""
    _, grads = sub.gradients(graph)
    _, scaled = sub.gradients([*graph, ["mul", len(graph) - 1, c]])
    expect_close(scaled, [c * g for g in grads], "`Value.backward`: c * f's gradients are not c times f's", rtol=RTOL)


@prop(
    points=3,
    functions=["Value.backward"],
    requires=["leaf_gradients"],
    hint="A leaf the output does not depend on keeps grad 0: backward walks back from the output only.",
)
@given(graph=graphs(max_leaves=2))
def off_path_gradients_are_zero(sub: Any, graph: Graph) -> None:
    """Leaves a and b, and a * b, ahead of a graph that uses none of them: a.grad and b.grad stay 0."""
    aside = [["leaf", 1.5], ["leaf", -2.0], ["mul", 0, 1], *(n if n[0] == "leaf" else _shifted(n, 3) for n in graph)]
    _, grads = sub.gradients(aside)
    expect(
        grads[:2] == [0.0, 0.0],
        f"`Value.backward` leaves a.grad and b.grad at {', '.join(map(number, grads[:2]))}, where the output uses "
        "neither a nor b",
        returned=grads,
    )
    _expect_grads(aside, grads, evaluate(aside), "Value.backward")


def _shifted(node: list[Any], by: int) -> list[Any]:
    """A node with its node operands renumbered for `by` nodes put in front of the graph."""
    if node[0] == "pow":
        return [node[0], node[1] + by, node[2]]
    return [node[0], *(a + by if type(a) is int else a for a in node[1:])]


@prop(
    points=5,
    functions=["Value.backward"],
    requires=["leaf_gradients"],
    max_examples=20,
    scale=True,
    hint="backward must reach every node of a chain hundreds of operations long.",
)
@given(graph=chains())
def deep_chains(sub: Any, graph: Graph) -> None:
    """Chains of 100 to 300 operations: the output's value and both leaves' gradients. Like every
    property about size, it is not shrunk, and pays once the gradients of small graphs are right."""
    values, grads = sub.deep_gradients(graph)
    exact = evaluate(graph)
    expect(len(values) == len(graph), f"{len(values)} values came back for {len(graph)} nodes")
    if not _near(values[-1], exact.values[-1], exact.value_scales[-1]):
        fail(f"the output is {number(values[-1])} where {number(exact.values[-1])} was expected")
    _expect_grads(graph, grads, exact, "Value.backward")


@prop(
    points=3,
    functions=["Value.backward"],
    requires=["shared_nodes_accumulate"],
    max_examples=10,
    scale=True,
    hint="Visit each node once (a visited set): a walk that revisits shared nodes takes 2 ** levels steps.",
)
@given(graph=diamonds())
def stacked_diamonds(sub: Any, graph: Graph) -> None:
    """40 to 60 levels, each using the level below twice: the leaf's gradient, in a call's time limit."""
    _, grads = sub.stacked_gradients(graph)
    _expect_grads(graph, grads, evaluate(graph), "Value.backward")


@prop(
    points=4,
    functions=["Value.backward", "Value.exp", "Value.log", "Value.__truediv__", "Value.__sub__"],
    hint="-log(softmax(z)[t]) built from Values has gradient softmax(z) - onehot(t).",
    max_examples=EARLY_CATCH_EXAMPLES,
    after=(*OPERATION_PROPERTIES, "numbers_on_the_left"),
)
@given(case=logits_and_target(vocab=vocab_sizes(max_size=27)))
def softmax_loss_gradient(sub: Any, case: tuple[list[float], int]) -> None:
    """microgpt's loss on one position, from the student's operators: its value and softmax - onehot."""
    z, t = case
    loss, grads = sub.softmax_loss(z, t)
    wrong_loss = "`Value.backward`'s graph gives a wrong loss -log p[target]"
    expect_close(loss, cross_entropy_loss(z, t), wrong_loss, rtol=RTOL, atol=1e-12)
    wrong_grad = "`Value.backward`: the gradient is not softmax - onehot"
    expect_close(grads, softmax_cross_entropy_grad(z, t), wrong_grad, rtol=RTOL, atol=1e-12)


@prop(
    points=2,
    functions=["Value.backward", "Value.__rmul__", "Value.__radd__"],
    requires=["softmax_loss_gradient"],
    hint="The mean over n positions is (1/n) * sum(losses): each position's gradient is (softmax - onehot) / n.",
    max_examples=EARLY_CATCH_EXAMPLES,
)
@given(case=sequences(max_positions=4, max_vocab=8, spread=False))
def mean_over_positions(sub: Any, case: tuple[list[list[float]], list[int]]) -> None:
    """The mean loss over a few positions: its value, and each position's gradient divided by n."""
    rows, targets = case
    loss, grads = sub.mean_loss(rows, targets)
    n = len(rows)
    expected = sum(cross_entropy_loss(z, t) for z, t in zip(rows, targets)) / n
    wrong_loss = "`Value.backward`'s graph gives a wrong mean loss over the positions"
    expect_close(loss, expected, wrong_loss, rtol=RTOL, atol=1e-12)
    wanted = [[g / n for g in softmax_cross_entropy_grad(z, t)] for z, t in zip(rows, targets)]
    wrong_grad = "`Value.backward`: each position's gradient is not (softmax - onehot) / n"
    expect_close(grads, wanted, wrong_grad, rtol=RTOL, atol=1e-12)
