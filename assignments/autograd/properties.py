"""The autograd assignment's properties: a student's `Value` against exact values and derivatives.

Each property draws graphs (see graphs.py), has the worker build them from the student's operators
(harness.py), and compares every node's value and every leaf's gradient with the reference's
(gradekit.reference.autograd: 50 digits, then rounded). A value or gradient passes within a relative
1e-6 of the exact one, or 1e-9 of its scale (the same computation on magnitudes) where it cancels to
near 0: a `log(x + 1e-5)` is caught, a correct float computation never is. Failures name the
operation: each one has a property of its own, with plain numbers on the right, and each reflected
one (`2 - a`) its own, and a failing graph shrinks to the fewest nodes that still show the mistake.

An operation's property asks more than a lone node, which gets 1 from above and reaches each input
first: the same node under `* -3`, and with an input used again above it, where a closure that drops
`out.grad` or sets a grad with `=` goes wrong. What goes wrong there is the operation's fault only
where another operation comes out right in the same place; a reflected operation is judged against
the class's own operations it is specified as (`2 - a` as `2 + (-a)`), so it is never blamed for
theirs, and needs no other property to pass first. A grad that is no plain number (a Value, where a
closure built it from Values) is wrong like any wrong number.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from gradekit.reference.autograd import (
    BINARY,
    SYMBOLS,
    Evaluated,
    Graph,
    evaluate,
    expression,
    leaf_names,
    leaves,
    node_expression,
)
from gradekit.reference.cross_entropy import cross_entropy_loss, softmax_cross_entropy_grad
from hypothesis import example, given
from hypothesis import strategies as st

from gradekit import PropertyFailure, SubmissionRaised
from gradekit.authoring import close, expect, expect_close, fail, left_out, prop, unjudged
from gradekit.course_terms import number, pair
from gradekit.strategies import EARLY_CATCH_EXAMPLES, logits_and_target, sequences, vocab_sizes

from .graphs import (
    UPSTREAM,
    chained,
    chains,
    controls,
    diamonds,
    graphs,
    large_exp,
    leaf_values,
    one_operation,
    shared,
    two_powers,
    variants,
)

RTOL = 1e-6  # what a log(x + 1e-5) misses by, at the inputs drawn
SCALED = 1e-9  # of a value's or gradient's scale, where it cancels to near 0
RIGHT_SIDE = {"add": "Value.__add__", "sub": "Value.__sub__", "mul": "Value.__mul__", "div": "Value.__truediv__"}
LEFT_SIDE = {"add": "Value.__radd__", "sub": "Value.__rsub__", "mul": "Value.__rmul__", "div": "Value.__rtruediv__"}
# The operations' correctness properties catch every known-wrong file they catch from 10 examples on (all
# from 1 or 3) and run EARLY_CATCH_EXAMPLES (benchmarks/example_counts.py); relu and the whole-graph
# properties keep the command's count, the scale ones their own: the bank's files are caught from the
# first examples, on purpose, and random graphs and kinks are where a mistake the bank lacks would show.


def _near(actual: Any, expected: float, scale: float, nan_equal: bool = False) -> bool:
    """Within RTOL of `expected`, or SCALED of its scale where it cancels to near 0; None (the harness
    found no plain number) is near nothing. A bool `.grad` is read as the number it is, as the harness
    reads `.data` and `.grad` (a numbers.Real), where gradekit's `close` takes no bool for a number."""
    return close(_read(actual), _read(expected), RTOL, SCALED * scale, nan_equal=nan_equal)


def _read(value: Any) -> Any:
    return float(value) if isinstance(value, bool) else value


def _is(actual: Any, expected: float) -> str:
    """ "is 2.5 where 3 was expected", with the digits that tell the two apart; a gradient that is no
    plain number (a Value, where it was built from Values) said as such."""
    if not isinstance(actual, (int, float)):
        return f"is not a plain number (a Value?) where {number(expected)} was expected"
    shown, wanted = pair(actual, expected)
    return f"is {shown} where {wanted} was expected"


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
                f"`{method(graph[i])}` gives `{node_expression(graph, i)}`, which {_is(actual, expected)}",
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
        f"{names[i]}.grad {_is(actual, wanted)}"
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


def _expect_operation(sub: Any, graph: Graph, blamed: str, mirrors: tuple[Mirror, ...] = ()) -> None:
    """The graph's last operation alone, as `_expect_graph` checks it, then in its variants (see
    graphs.variants), where its closure's use of `out.grad` and `+=` shows. It is blamed for a wrong
    variant only where the same variant of another operation comes out right (see graphs.controls),
    so a wrong `*` above it or a wrong backward is never its fault; and, where it is specified as other
    operations (`2 - a` as `2 + (-a)`: `mirrors`), only where it does not answer as those operations of
    the same class answer. Where that cannot be told, it is not judged: it raised and so do its
    mirrors, or its gradient alone is wrong and so is every other operation's on a graph of its own
    (backward, which runs them all, may be why)."""
    made = variants(graph)
    answers = _answers(sub, [graph, *made])
    exact = evaluate(graph)
    exacts = [exact, *_variants_exact(exact, made[1][-1][2])]
    mirrored = lambda: any(_mirrored(sub, [graph, *made], answers, exacts, mirror) for mirror in mirrors)
    if answers[0] is None:
        if mirrored():  # the class's own operations it is written with raise too: its own fault or theirs
            written = node_expression(graph, len(graph) - 1)
            unjudged(sub, f"`{written}` raised, and so does it written with the class's other operations")
            return
        _expect_graph(sub, graph, blamed)  # it raised: asked alone, it says how
        fail(f"`{blamed}`: building `{expression(graph)}` or calling backward on it raised")
    wrong = [_wrong(g, a, e, values=g is graph) for g, a, e in zip([graph, *made], answers, exacts)]
    if not any(wrong) or mirrored():
        return
    control = graph[-1][0] if not mirrors else "sub"
    if wrong[0] and wrong[0] == _wrong(graph, answers[0], exact) and not _own(sub, control, 0):
        # Its value is right and its gradient wrong, as is every other operation's on a graph of its own:
        # backward, which runs each operation's gradient, may be why.
        unjudged(sub, "every operation's gradient comes out wrong on a graph of its own: backward may be why")
        return
    if wrong[0]:
        _expect_graph(sub, graph, blamed)
        fail(f"`{blamed}`: {wrong[0]}")
    which = next(i for i, w in enumerate(wrong) if w)
    if not _own(sub, control, which):
        return  # other operations go wrong in the same place: the fault is around it, not in it
    variant, why = made[which - 1], UPSTREAM_WHY if which == 1 else REUSED_WHY
    _, grads = sub.gradients(variant)  # asked last, so that the report shows this graph's call, and names it
    expected = [exacts[which].grads[i] for i in leaves(variant)]
    fail(f"`{blamed}`: {wrong[which]} ({why})", returned=grads, expected=expected)


# What a whole graph leaves out with an operation that did not pass: the operations students build
# on it (their properties are checked after it), and the reflected ones the contract writes in it
# (see `_left`), which pass their own property when built on a wrong `-a` or `2 + a`. `+` and `*`
# are never left out (`PRIMITIVES`), so what is built on them alone is not named.
BUILT_ON = {
    "Value.__sub__": ("Value.__neg__",),
    "Value.__truediv__": ("Value.__pow__",),
    "Value.__rsub__": ("Value.__neg__", "Value.__radd__", "Value.__sub__"),
    "Value.__rtruediv__": ("Value.__pow__", "Value.__rmul__", "Value.__truediv__"),
}


def _with_built_on(methods: set[str]) -> set[str]:
    """`methods` and every operation built on one of them, however indirectly."""
    grown = set(methods)
    while more := {op for op, on in BUILT_ON.items() if grown.intersection(on)} - grown:
        grown |= more
    return grown


def _judged_without(sub: Any, graph: Graph, check: Callable[[Graph], None]) -> None:
    """`check` the graph with each node of an operation left out (gradekit.authoring.left_out), or
    built on one, made a leaf of its exact value, so what fails is backward's own fault, whichever
    operations the seed's graphs happen to use. A fault found there says which were, as the graph it
    names is no longer the one drawn."""
    out = _with_built_on(set(left_out(sub)))
    cut = [i for i, node in enumerate(graph) if node[0] != "leaf" and method(node) in out]
    if not cut:
        check(graph)
        return
    values = evaluate(graph).values
    try:
        check([["leaf", values[i]] if i in cut else node for i, node in enumerate(graph)])
    except PropertyFailure as failure:
        named = " and ".join(sorted({f"`{method(graph[i])}`" for i in cut}))
        failure.message = f"with {named} made leaves of their values, as not right yet: {failure.message}"
        failure.args = (failure.message,)
        raise


def _variants_exact(exact: Evaluated, used: int) -> list[Evaluated]:
    """The exact answers of graphs.variants' two graphs, from the operation's own (`exact`): every
    gradient times UPSTREAM, and 1 more on the input `used` again above it."""
    value, scale, up = exact.values[-1], exact.value_scales[-1], abs(UPSTREAM)
    grads, grad_scales = [g * UPSTREAM for g in exact.grads], [g * up for g in exact.grad_scales]
    scaled = Evaluated(
        [*exact.values, value * UPSTREAM], [*grads, 1.0], [*exact.value_scales, scale * up], [*grad_scales, 1.0]
    )
    grads[used] += 1.0
    grad_scales[used] += 1.0
    again = Evaluated(
        [*scaled.values, value * UPSTREAM + exact.values[used]],
        [*grads, 1.0, 1.0],
        [*scaled.value_scales, scale * up + exact.value_scales[used]],
        [*grad_scales, 1.0, 1.0],
    )
    return [scaled, again]


UPSTREAM_WHY = f"{number(UPSTREAM)} comes from above, and a closure multiplies by out.grad"
REUSED_WHY = "an input used again above collects both: a closure adds with +=, never sets with ="
# The nodes that compute what a plain number on the left of an operation and a node give it, the first
# of them numbered `at`: `2 - a` as `2 + (-a)`.
Mirror = Callable[[float, int, int], list[list[Any]]]


def _answers(sub: Any, graphs: list[Graph]) -> list[tuple[list[Any], list[Any]] | None]:
    """`gradients_of_each` of the graphs, each answer read as (values, gradients); None for one whose
    building or backward raised, which the graphs asked one by one tell where one did."""
    try:
        answers = sub.gradients_of_each(graphs)
    except SubmissionRaised:
        answers = []
        for graph in graphs:
            try:
                answers.append(sub.gradients(graph))
            except SubmissionRaised:
                answers.append(None)
    expect(
        isinstance(answers, list) and len(answers) == len(graphs),
        f"{len(answers) if isinstance(answers, list) else 'no list of'} answers came back for {len(graphs)} graphs",
    )
    return [
        (a[0], a[1]) if isinstance(a, (list, tuple)) and len(a) == 2 and all(isinstance(p, list) for p in a) else None
        for a in answers
    ]


def _wrong(
    graph: Graph, answer: tuple[list[Any], list[Any]] | None, exact: Evaluated | None = None, values: bool = False
) -> str:
    """What is wrong in a graph's answer against its `exact` one (worked out here where not given), as
    a student reads it: the first wrong gradient (and, with `values`, the first wrong value before
    it); "" where it is right."""
    exact = exact or evaluate(graph)
    if answer is None:
        return "building it or calling backward raised"
    got, grads = answer
    if values:
        if len(got) != len(graph):
            return f"{len(got)} values came back for {len(graph)} nodes"
        for i, (actual, expected) in enumerate(zip(got, exact.values)):
            if not _near(actual, expected, exact.value_scales[i]):
                return f"`{node_expression(graph, i)}` {_is(actual, expected)}"
    where = leaves(graph)
    if len(grads) != len(where):
        return f"{len(grads)} gradients came back for {len(where)} leaves"
    for i, actual in zip(where, grads):
        if not _near(actual, exact.grads[i], exact.grad_scales[i]):
            return f"{leaf_names(graph)[i]}.grad {_is(actual, exact.grads[i])}"
    return ""


def _own(sub: Any, op: str, which: int) -> bool:
    """Whether some other operation on fixed leaves comes out right alone (`which` 0) or in the same
    variant (1 or 2, as graphs.variants orders them) (graphs.controls); one whose leaves' gradients are
    all 0 (`a - a`) tells nothing."""
    made = [v[which] for v in controls(op)]
    made = [g for g in made if any(evaluate(g).grads[i] for i in leaves(g))]
    return any(not _wrong(g, a) for g, a in zip(made, _answers(sub, made)))


def _mirrored(sub: Any, graphs: list[Graph], answers: list[Any], exacts: list[Evaluated], mirror: Mirror) -> bool:
    """Whether the class answers each graph as it answers the same graph with its operation (the node
    after the leaves, a plain number on its left) computed by `mirror`'s nodes instead: the output's
    value and every leaf's gradient, near as `_near` counts near on the graph's `exacts` scales."""
    at = len(leaves(graphs[0]))
    node = graphs[0][at]
    made = [_replaced(g, at, mirror(node[1], node[2], at)) for g in graphs]
    theirs = _answers(sub, made)
    for graph, mirror_graph, ours, mirrored, exact in zip(graphs, made, answers, theirs, exacts):
        if ours is None or mirrored is None:
            if ours is not mirrored:
                return False
            continue
        last = len(graph) - 1
        if not (ours[0] and mirrored[0] and _alike(ours[0][-1], mirrored[0][-1], exact.value_scales[last])):
            return False
        # The graph's leaves come first, before the operation; a mirror's own leaf (`Value(2) - a`'s
        # Value(2)) follows them, and its gradient is not the graph's.
        own = leaves(graph)
        if len(mirrored[1]) != len(leaves(mirror_graph)) or len(ours[1]) != len(own):
            return False
        if not all(map(_alike, ours[1], mirrored[1][: len(own)], [exact.grad_scales[i] for i in own])):
            return False
    return True


def _alike(one: Any, other: Any, scale: float) -> bool:
    """Two answers of the class alike: near, a NaN in both, or no plain number in either."""
    if not isinstance(other, (int, float)):
        return not isinstance(one, (int, float))
    return _near(one, other, scale, nan_equal=True)


def _replaced(graph: Graph, at: int, nodes: list[list[Any]]) -> Graph:
    """The graph with node `at` computed by `nodes` (numbered as from `at` on), the nodes after it
    renumbered."""
    by = len(nodes) - 1

    def moved(a: Any) -> Any:
        return a + by if type(a) is int and a >= at else a

    after = [[n[0], moved(n[1]), n[2]] if n[0] == "pow" else [n[0], *map(moved, n[1:])] for n in graph[at + 1 :]]
    return [*graph[:at], *nodes, *after]


def _one(
    op: str,
    points: float,
    functions: list[str],
    hint: str,
    max_examples: int | None = EARLY_CATCH_EXAMPLES,
    after: tuple[str, ...] = (),
    also: st.SearchStrategy[Graph] | None = None,
    on_purpose: tuple[Graph, ...] = (),
) -> Any:
    """The property of one operation: `op` once, plain numbers on its right, the graphs `on_purpose`
    first. It is checked after the seed of backward and the operations `op` is often built from
    (`after`), so a wrong `*` is blamed on `*`, not on the `-` and `/` built on it."""

    def check(sub: Any, graph: Graph) -> None:
        _expect_operation(sub, graph, method(graph[-1]))

    check.__doc__ = (
        f"`{op}` once on leaves, or on a leaf and a plain number: its value and each leaf's gradient, alone, "
        "with a gradient other than 1 from above, and with its input used twice."
    )
    test = given(graph=one_operation(op) if also is None else st.one_of(one_operation(op), also))(check)
    for graph in reversed(on_purpose):
        test = example(graph=graph)(test)
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
    )(test)


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
# relu's kink at 0 is tried on purpose first; draws reach it only from about 30 examples on, so relu
# keeps the full count for kinks a file may put elsewhere.
relu_values_and_grads = _one(
    "relu",
    5,
    ["Value.relu"],
    "relu(a) has local gradient 1 where a > 0 and 0 where a <= 0, 0 itself included.",
    max_examples=None,
    on_purpose=([["leaf", 0.0], ["relu", 0]],),
)


# What a graph asks of backward (a node reached twice, a chain of them) it asks with + and *, which every
# graph is built on: backward's properties of graphs count once they pass, and are judged without the rest.
PRIMITIVES = ("add_values_and_grads", "mul_values_and_grads")


@prop(
    points=2,
    functions=["Value.backward"],
    hint="Multiply each local gradient by the one from above: child.grad += local * v.grad, or * out.grad in closures.",
    max_examples=EARLY_CATCH_EXAMPLES,
    requires=PRIMITIVES,
    after=("backward_seeds_the_output",),
    without=("pow_values_and_grads",),
)
@example(graph=[["leaf", 2.0], ["mul", 0, 0], ["add", 1, 0]])  # f = a * a + a: a reached three times
@given(graph=chained())
def backward_applies_the_chain_rule(sub: Any, graph: Graph) -> None:
    """Two operations in a row, each checked alone above: the gradient reaches the leaves through
    both. Checked before the operations students build from two or more (a / b as a * b ** -1), so a
    backward that drops the chain rule is not blamed on them."""
    _judged_without(sub, graph, lambda graph: _expect_graph(sub, graph))


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


def _left(op: str, hint: str, mirrors: tuple[Mirror, ...]) -> Any:
    """The property of one operation with a plain number on its left, which Python asks of the Value on
    the right (`2 - a` is a's `__rsub__`): its value and each leaf's gradient, alone and in its variants,
    judged as `mirrors` (how the contract writes it in other operations) computed by the same class: a
    reflected operation built on a wrong one answers as that one does, and is not blamed for it. 0 on
    the left is tried first: `0 / a` is 0, and `0 + a` a new node, where a reflected operation written
    around another one goes wrong."""
    blamed = LEFT_SIDE[op]

    def check(sub: Any, graph: Graph) -> None:
        _expect_operation(sub, graph, blamed, mirrors)

    check.__doc__ = f"A plain number on the left of `{SYMBOLS[op]}`: `{blamed}`'s value and each leaf's gradient."
    return prop(
        points=1.5,
        functions=[blamed],
        hint=hint,
        name=f"{blamed.removeprefix('Value.__').removesuffix('__')}_values_and_grads",
        max_examples=EARLY_CATCH_EXAMPLES,
        # A backward that leaves every grad 0 answers a reflected operation as its mirrors, right or not.
        requires=("backward_seeds_the_output",),
    )(example(graph=[["leaf", 2.0], [op, 0.0, 0]])(given(graph=one_operation(op, "left"))(check)))


def _lifted(op: str) -> Mirror:
    """The operation with the plain number on its left made a Value first, as students write a
    reflected one (`Value(other) - self`): the class's own `-`, `/`, `+` or `*` between two Values."""
    return lambda n, a, at: [["leaf", n], [op, at, a]]


radd_values_and_grads = _left(
    "add", "2 + a reaches a's __radd__: the same sum as a + 2.", (lambda n, a, at: [["add", a, n]], _lifted("add"))
)
rsub_values_and_grads = _left(
    "sub",
    "2 - a reaches a's __rsub__: 2 + (-a), mind the order.",
    (lambda n, a, at: [["neg", a], ["add", at, n]], lambda n, a, at: [["neg", a], ["add", n, at]], _lifted("sub")),
)
rmul_values_and_grads = _left(
    "mul",
    "2 * a reaches a's __rmul__: the same product as a * 2.",
    (lambda n, a, at: [["mul", a, n]], _lifted("mul")),
)
rtruediv_values_and_grads = _left(
    "div",
    "2 / a reaches a's __rtruediv__: 2 * a ** -1, mind the order.",
    (
        lambda n, a, at: [["pow", a, -1], ["mul", at, n]],
        lambda n, a, at: [["pow", a, -1], ["mul", n, at]],
        _lifted("div"),
    ),
)
LEFT_PROPERTIES = (
    "radd_values_and_grads",
    "rsub_values_and_grads",
    "rmul_values_and_grads",
    "rtruediv_values_and_grads",
)


# A whole graph is judged without the operations that did not pass their own property (`_judged_without`),
# but for + and * (`PRIMITIVES`).
WHOLE_GRAPH_AFTER = ("backward_applies_the_chain_rule",)
# t1 = -a; f = t1 + (t1 + t1): t1 is reached from f at two depths, so a backward that visits nodes
# breadth first from the output, each once, sends t1's gradient on before the deeper path adds to it.
BREADTH_FIRST = [["leaf", 1.0], ["neg", 0], ["add", 1, 1], ["add", 1, 2]]
WHOLE_GRAPH_WITHOUT = tuple(p for p in (*OPERATION_PROPERTIES[1:], *LEFT_PROPERTIES) if p not in PRIMITIVES)


@prop(
    points=4,
    functions=["Value"],
    hint="Each operation's .data is the number it computes, mixing Values and numbers.",
    requires=PRIMITIVES,
    after=WHOLE_GRAPH_AFTER,
    without=WHOLE_GRAPH_WITHOUT,
)
@given(graph=graphs())
def forward_values(sub: Any, graph: Graph) -> None:
    """The value of every node of a random graph."""
    _judged_without(sub, graph, lambda graph: _expect_values(graph, sub.gradients(graph)[0], evaluate(graph)))


@prop(
    points=8,
    functions=["Value.backward"],
    hint="backward sets the output's grad to 1 and sends it to every leaf through each operation's local gradient.",
    requires=PRIMITIVES,
    after=WHOLE_GRAPH_AFTER,
    without=WHOLE_GRAPH_WITHOUT,
)
@example(graph=[["leaf", 1.0], ["neg", 0], ["add", 1, 1]])  # t1 = -a; f = t1 + t1: t1 reached twice
@example(graph=BREADTH_FIRST)
@given(graph=graphs())
def leaf_gradients(sub: Any, graph: Graph) -> None:
    """The gradient of every leaf of a random graph, unused leaves included (0)."""
    _judged_without(sub, graph, lambda graph: _expect_graph(sub, graph))


@prop(
    points=8,
    functions=["Value.backward"],
    hint="A node used twice collects both contributions: child.grad += ..., each node visited once.",
    requires=PRIMITIVES,
    after=WHOLE_GRAPH_AFTER,
    without=WHOLE_GRAPH_WITHOUT,
)
@example(graph=BREADTH_FIRST)
@given(graph=shared())
def shared_nodes_accumulate(sub: Any, graph: Graph) -> None:
    """Graphs whose output uses a node more than once (b = a * a gives a.grad = 2a)."""
    _judged_without(sub, graph, lambda graph: _expect_graph(sub, graph))


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
    after=LEFT_PROPERTIES,
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
    after=WHOLE_GRAPH_AFTER,
    without=WHOLE_GRAPH_WITHOUT,
    hint="Gradients are linear in the output: multiplying it by c multiplies every leaf's grad by c.",
)
@given(graph=graphs(), c=st.sampled_from([2.0, -3.0, 0.5, 10.0]))
def gradients_linear_in_output(sub: Any, graph: Graph, c: float) -> None:
    """The gradients of c * f are c times those of f, as the student's backward gives them."""

    def check(graph: Graph) -> None:
        _, grads = sub.gradients(graph)
        _, scaled = sub.gradients([*graph, ["mul", len(graph) - 1, c]])
        wrong = "`Value.backward`: c * f's gradients are not c times f's"
        expect_close(scaled, [c * g for g in grads], wrong, rtol=RTOL)

    _judged_without(sub, graph, check)


@prop(
    points=3,
    functions=["Value.backward"],
    requires=["leaf_gradients"],
    after=WHOLE_GRAPH_AFTER,
    without=WHOLE_GRAPH_WITHOUT,
    hint="A leaf the output does not depend on keeps grad 0: backward walks back from the output only.",
)
@given(graph=graphs(max_leaves=2))
def off_path_gradients_are_zero(sub: Any, graph: Graph) -> None:
    """Leaves a and b, and a * b, ahead of a graph that uses none of them: a.grad and b.grad stay 0.
    The graph's own gradients are leaf_gradients' and shared_nodes_accumulate's to judge: a fault there
    is told once, with the hint that fits it."""

    def check(aside: Graph) -> None:
        _, grads = sub.gradients(aside)
        expect(
            grads[:2] == [0.0, 0.0],
            f"`Value.backward` leaves a.grad and b.grad at {', '.join(map(number, grads[:2]))}, where the output "
            "uses neither a nor b",
            returned=grads,
        )

    aside = [["leaf", 1.5], ["leaf", -2.0], ["mul", 0, 1], *(n if n[0] == "leaf" else _shifted(n, 3) for n in graph)]
    _judged_without(sub, aside, check)


def _shifted(node: list[Any], by: int) -> list[Any]:
    """A node with its node operands renumbered for `by` nodes put in front of the graph."""
    if node[0] == "pow":
        return [node[0], node[1] + by, node[2]]
    return [node[0], *(a + by if type(a) is int else a for a in node[1:])]


@prop(
    points=5,
    functions=["Value.backward"],
    requires=["leaf_gradients", *OPERATION_PROPERTIES, *LEFT_PROPERTIES],
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
        fail(f"the output {_is(values[-1], exact.values[-1])}")
    _expect_grads(graph, grads, exact, "Value.backward")


@prop(
    points=3,
    functions=["Value.backward"],
    requires=["shared_nodes_accumulate", *OPERATION_PROPERTIES, *LEFT_PROPERTIES],
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
    after=(*OPERATION_PROPERTIES, *LEFT_PROPERTIES),
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
    after=(*OPERATION_PROPERTIES, *LEFT_PROPERTIES),  # below the mean, each loss is -log p: an operation's fault shows
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
