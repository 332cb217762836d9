"""Hypothesis strategies for expression graphs (gradekit.reference.autograd), bounded and documented.

A graph is drawn node by node: a few leaves, then operations on earlier nodes or plain numbers, each
operand counted back from the newest node, so a graph shrinks towards a chain on its last node, to
fewer operations and leaves, and to plainer numbers. Every operation stays in its domain, with room:

- `log` gets a positive number, `/` a denominator away from 0, `**` a negative base only with a whole
  exponent and 0 only with an exponent of at least 1, `relu` exactly 0 only from a leaf;
- an operand of those is one whose float value a correct computation knows to 9 digits or more
  (`_Node.error`): one left by cancellation (a - a + 1e-17) is not used, so an honest float
  implementation never lands on the other side of a kink or a pole from the exact value;
- every value stays within 1e12 in size, so neither a value nor a gradient overflows.

Values sit at each operation's edges as often as in the middle: leaves of exactly 0 and -0 for relu,
1e-8 to 1e-2 for log, up to 30 for exp (700 in exp's own property); whole and fractional exponents
from -2 to 3; the plain numbers 0, 1 and -1 on either side of an operation. Small graphs have up to 4
leaves and 8 operations; deep ones chain up to 300 operations, or stack diamonds (each level uses the
one below twice), which a traversal without a visited set walks 2 ** levels times.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from gradekit.reference.autograd import BINARY, UNARY, Graph
from hypothesis import assume
from hypothesis import strategies as st

from gradekit.strategies import composite

EPSILON = 2.0**-52
TRUSTED = 1e-9  # the relative error an operand of log, /, ** or relu may carry
LARGEST = 1e12
EXPONENTS = (2, 3, -1, -2, 0.5, 1.5, 1, 0, 2.0, -0.5)
OPERATIONS = (*BINARY, *UNARY, "pow")

leaf_values = st.one_of(
    st.sampled_from([1.0, 2.0, 3.0, -1.0, 0.5, -2.0, 0.0, -0.0]),
    st.floats(-5.0, 5.0, allow_subnormal=False),
    st.floats(1e-8, 1e-2),
    st.floats(5.0, 30.0),
)
# 0, 1 and a negative on either side of every operator, often: `0 / a` and `0 + a` are where a
# reflected operation written around another one goes wrong.
plain_numbers = st.one_of(
    st.just(0.0), st.sampled_from([2.0, 1.0, -1.0, 0.5, 3.0]), st.floats(-4.0, 4.0, allow_subnormal=False)
)


@dataclass(frozen=True)
class _Node:
    """A node's float value and a bound on its relative error in a correct float computation."""

    value: float
    error: float
    leaf: bool = False

    def trusted(self) -> bool:
        return self.leaf or (self.value != 0 and self.error <= TRUSTED)


def _after(op: str, a: _Node, b: _Node | None, k: Any) -> _Node | None:
    """The node `op` makes of `a` (and `b`, or the exponent `k`); None where it leaves its domain."""
    x = a.value
    try:
        if op == "log":
            if not (a.trusted() and x > 0):
                return None
            return _Node(math.log(x), a.error / max(abs(math.log(x)), 1e-300) + EPSILON)
        if op == "exp":
            return _Node(math.exp(x), abs(x) * a.error + EPSILON) if x <= 30 else None
        if op == "relu":
            if not a.trusted():
                return None
            return _Node(x, a.error) if x > 0 else _Node(0.0, 0.0, leaf=True)
        if op == "neg":
            return _Node(-x, a.error, a.leaf)
        if op == "pow":
            whole = float(k).is_integer()
            if not a.trusted() or (x == 0 and k < 1) or (x < 0 and not whole):
                return None
            return _Node(x**k, abs(k) * a.error + EPSILON)
        assert b is not None
        y = b.value
        if op == "add" or op == "sub":
            total = x + y if op == "add" else x - y
            if total == 0:
                return _Node(0.0, math.inf) if a.error or b.error else _Node(0.0, 0.0, leaf=True)
            return _Node(total, (abs(x) * a.error + abs(y) * b.error) / abs(total) + EPSILON)
        if op == "mul":
            return _Node(x * y, a.error + b.error + EPSILON)
        if not b.trusted() or abs(y) < 1e-6:
            return None
        return _Node(x / y, a.error + b.error + EPSILON)
    except (OverflowError, ZeroDivisionError, ValueError):
        return None


def _bounded(node: _Node | None) -> bool:
    return node is not None and math.isfinite(node.value) and abs(node.value) <= LARGEST


@composite
def graphs(
    draw: Any,
    operations: tuple[str, ...] = OPERATIONS,
    max_leaves: int = 4,
    max_operations: int = 8,
    numbers: str = "either",
) -> Graph:
    """A graph of 1 to `max_leaves` leaves and 1 to `max_operations` operations from `operations`;
    operands are earlier nodes (often the same one twice, or one used again later) or plain numbers
    on the `numbers` side of a binary operation: "left", "right" or "either"."""
    leaves = draw(st.integers(1, max_leaves))
    graph: Graph = [["leaf", draw(leaf_values)] for _ in range(leaves)]
    nodes = [_Node(x, 0.0, leaf=True) for _, x in graph]
    for _ in range(draw(st.integers(1, max_operations))):
        op = draw(st.sampled_from(operations))
        a = len(graph) - 1 - draw(st.integers(0, len(graph) - 1))
        if op in BINARY:
            other = draw(
                plain_numbers if numbers == "left" else st.one_of(st.integers(0, len(graph) - 1), plain_numbers)
            )
            if type(other) is int:
                other = len(graph) - 1 - other
            on_left = numbers == "left" or (numbers == "either" and draw(st.booleans()))
            left, right = (other, a) if type(other) is float and on_left else (a, other)
            node = _after(op, _node(left, nodes), _node(right, nodes), None)
            made: list[Any] = [op, left, right]
        elif op == "pow":
            k = draw(st.sampled_from(EXPONENTS))
            node, made = _after(op, nodes[a], None, k), [op, a, k]
        else:
            node, made = _after(op, nodes[a], None, None), [op, a]
        if _bounded(node):
            graph.append(made)
            nodes.append(node)  # type: ignore[arg-type]
    if len(graph) == leaves:  # every operation left its domain: the plainest one instead
        graph.append(["add", leaves - 1, 1.0])
    return graph


def _node(operand: Any, nodes: list[_Node]) -> _Node:
    return nodes[operand] if type(operand) is int else _Node(float(operand), 0.0, leaf=True)


def one_operation(op: str, numbers: str = "right") -> st.SearchStrategy[Graph]:
    """`op` once, on one or two of up to 3 leaves or (a binary `op`) on a leaf and a plain number on
    the `numbers` side; the leaves it does not use must keep a gradient of 0. Never one node on both
    sides (`a * a`): that is how backward collects a node's gradients (`shared`), not this operation's
    own derivative, so a backward that assigns instead of adding is not blamed on `*`."""
    drawn = graphs((op,), max_leaves=3, max_operations=1, numbers=numbers).filter(
        lambda g: g[-1][0] == op and not (op in BINARY and g[-1][1] == g[-1][2])
    )
    return st.one_of(drawn, _between_leaves(op)) if op in BINARY and numbers != "left" else drawn


@composite
def _between_leaves(draw: Any, op: str) -> Graph:
    """`op` on two different leaves: each one's own local gradient, the right operand's sign and
    denominator included, which a plain number on the right never shows."""
    a, b = draw(leaf_values), draw(leaf_values)
    assume(_bounded(_after(op, _Node(a, 0.0, leaf=True), _Node(b, 0.0, leaf=True), None)))
    return [["leaf", a], ["leaf", b], [op, 0, 1]]


def large_exp() -> st.SearchStrategy[Graph]:
    """exp of a leaf from 30 to 700, up to 1e304: the range where a float answer exists that graphs
    elsewhere keep out of (their values stay within 1e12), and where a clipped exp goes wrong."""
    return st.floats(30.0, 700.0).map(lambda x: [["leaf", x], ["exp", 0]])


@composite
def two_powers(draw: Any) -> Graph:
    """One leaf raised to two different exponents, then added: `a ** 2 + a ** 3`. A `**` that keeps its
    exponent on the base, not on the node it makes, uses the last one for both."""
    first, second = draw(st.lists(st.sampled_from(EXPONENTS), min_size=2, max_size=2, unique=True))
    return [["leaf", draw(st.floats(0.5, 3.0))], ["pow", 0, first], ["pow", 0, second], ["add", 1, 2]]


def chained() -> st.SearchStrategy[Graph]:
    """Two of +, * and ** on up to 2 leaves (plain numbers on the right), the second on the first's
    result: the smallest graph whose leaves' gradients need the chain rule (the local gradient times
    the output's), without a node used twice."""

    def chain(graph: Graph) -> bool:
        last, before = graph[-1], len(graph) - 2
        operands = last[1:2] if last[0] == "pow" else last[1:]
        return graph[-2][0] != "leaf" and before in operands and len(set(operands)) == len(operands)

    return graphs(("add", "mul", "pow"), max_leaves=2, max_operations=2, numbers="right").filter(chain)


def shared(max_operations: int = 6) -> st.SearchStrategy[Graph]:
    """Graphs whose output uses some node more than once: `a * a`, `t + t` for t = log(a), ..."""

    @composite
    def drawn(draw: Any) -> Graph:
        graph = draw(graphs(max_leaves=3, max_operations=max_operations))
        op = draw(st.sampled_from(("add", "mul", "sub")))
        reused = len(graph) - 1 - draw(st.integers(0, len(graph) - 1))
        return [*graph, [op, reused, len(graph) - 1] if reused != len(graph) - 1 else [op, reused, reused]]

    return drawn()


@composite
def chains(draw: Any, min_length: int = 100, max_length: int = 300) -> Graph:
    """A chain of `min_length` to `max_length` operations on leaf a, each on the node before and a
    plain number near 1 (near 0 for + and -) or leaf b, with an occasional log, exp or relu, every
    value kept between 0.25 and 4: deep enough that a recursive walk goes hundreds of frames down,
    shallow enough for Python's default recursion limit."""
    graph: Graph = [["leaf", draw(st.floats(0.5, 2.0))], ["leaf", draw(st.floats(0.5, 2.0))]]
    value = graph[0][1]
    for _ in range(draw(st.integers(min_length, max_length))):
        op = draw(st.sampled_from(("mul", "add", "div", "sub", "log", "exp", "relu")))
        last = 0 if len(graph) == 2 else len(graph) - 1
        made: list[Any] = [op, last]
        if op in BINARY:
            near = st.integers(900, 1100) if op in ("mul", "div") else st.integers(-100, 100)
            made.append(1 if draw(st.booleans()) else draw(near) / 1000)
        new = _chain_value(made, value, graph)
        if new is None or not 0.25 <= new <= 4.0:
            made, new = ["mul", last, 1.0], value
        graph.append(made)
        value = new
    return graph


def _chain_value(made: list[Any], value: float, graph: Graph) -> float | None:
    op = made[0]
    if op == "log":
        return math.log(value)
    if op == "exp":
        return math.exp(value) if value < 2 else None
    if op == "relu":
        return max(0.0, value)
    other = graph[1][1] if type(made[2]) is int else made[2]
    if op == "mul":
        return value * other
    if op == "div":
        return value / other
    return value + other if op == "add" else value - other


@composite
def diamonds(draw: Any, min_levels: int = 40, max_levels: int = 60) -> Graph:
    """Stacked diamonds: each level is `t * c1 + t * c2` on the level below, so the output reaches the
    leaf along 2 ** levels paths. Its gradient is the product of (c1 + c2) over the levels; a walk
    that does not mark the nodes it has visited takes 2 ** levels steps."""
    graph: Graph = [["leaf", draw(st.floats(0.5, 2.0))]]
    for _ in range(draw(st.integers(min_levels, max_levels))):
        c1 = draw(st.floats(0.25, 0.75))
        below = len(graph) - 1
        graph += [["mul", below, c1], ["mul", below, 1.0 - c1], ["add", below + 1, below + 2]]
    return graph


UPSTREAM = -3.0  # the gradient an operation's output is sent from above in its variants: not 1, not 1's sign


def variants(graph: Graph) -> list[Graph]:
    """The graph's last operation with a gradient from above other than 1, `(a * b) * -3`, and with its
    first node operand used again above it as well, `(a * b) * -3 + a`: a lone node gets 1 from above
    and reaches each input first, which a closure that drops `out.grad`, or sets a grad with `=` where
    `+=` adds to it, answers right. Their exact answers follow from the operation's own."""
    last = graph[-1]
    used = last[1] if type(last[1]) is int else last[2]  # `2 - a` uses a, on its right
    scaled = [*graph, ["mul", len(graph) - 1, UPSTREAM]]
    return [scaled, [*scaled, ["add", len(graph), used]]]


def controls(op: str) -> list[list[Graph]]:
    """Each other operation than `op` (of its kind: binary, or on one node) on fixed leaves, alone and
    in its `variants`: where one of them comes out right, the graph around the operation in that
    variant (backward's running of each operation's gradient, the `*` above it, backward's order and
    its accumulation) is right, and the same variant of `op` that goes wrong is `op`'s own fault."""
    binary = op in BINARY
    made = []
    for other in (o for o in (CONTROLS if binary else ONE_NODE_CONTROLS) if o != op):
        alone = [["leaf", 1.5], ["leaf", -2.0], [other, 0, 1]] if binary else [["leaf", 0.5], [other, 0]]
        made.append([alone, *variants(alone)])
    return made


# The operations every style writes on their own, never built on another (as micrograd builds `-` and
# `/` on `*` and `**`): a mistake elsewhere in the class does not reach the controls.
CONTROLS = ("add", "mul")
ONE_NODE_CONTROLS = ("exp", "log", "relu")


def _scaled(graph: Graph) -> Graph:
    return [*graph, ["mul", len(graph) - 1, UPSTREAM]]
