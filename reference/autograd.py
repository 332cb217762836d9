"""Expression graphs as the autograd assignment describes them, and their exact values and gradients.

A graph is plain data, so it crosses to the worker that builds it from the student's `Value`: a list
of nodes, each an operation on earlier ones, the last node the output `backward()` is called on.

    ["leaf", x]        Value(x), x a float
    [op, a, b]         op in add, sub, mul, div: a + b, a - b, a * b, a / b
    [op, a]            op in neg, log, exp, relu: -a, a.log(), a.exp(), a.relu()
    ["pow", a, k]      a ** k, k a plain number (an int or a float), never a node

An operand is an int, the index of an earlier node, or a float, a plain number: ["sub", 2.0, 0] is
`2.0 - a`, which Python sends to `a.__rsub__`. Values and gradients are worked out here at 50
significant digits (mpmath) and only then rounded to floats, so nothing a float computation loses is
lost here; each comes with a scale, the same computation on absolute values, which bounds what a
correct float computation may lose to rounding (see `Evaluated`). The local derivatives are those
gradekit.reference.identities derives with SymPy; tests/engine/test_autograd.py holds the two together and
checks whole graphs against SymPy's own derivatives.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import mpmath

UNARY = ("neg", "log", "exp", "relu")
BINARY = ("add", "sub", "mul", "div")
SYMBOLS = {"add": "+", "sub": "-", "mul": "*", "div": "/"}
DIGITS = 50
# The constant derivatives `_node` gives: `evaluate` knows a sum's by identity and adds without a product.
ZERO, ONE, MINUS_ONE = mpmath.mpf(0), mpmath.mpf(1), mpmath.mpf(-1)
# The graphs worked out in this process, by their JSON: a check asks for the same graph many times.
# A grader that grades a class meets new graphs with every student: past this many, the one kept
# longest goes.
LARGEST_MEMO = 4096
_worked: dict[str, Evaluated] = {}

Graph = list[list[Any]]


@dataclass(frozen=True)
class Evaluated:
    """A graph's node values and the gradient of its output with respect to every node, as floats.

    `value_scales[i]` is node i worked out on the absolute values of everything (every sum a sum of
    magnitudes), and `grad_scales[i]` the gradient's sum over paths of the magnitudes of their
    products: a correct float computation is within a few ulps of these, however much cancels."""

    values: list[float]
    grads: list[float]
    value_scales: list[float]
    grad_scales: list[float]


def leaves(graph: Graph) -> list[int]:
    """The indices of the graph's leaves, in order."""
    return [i for i, node in enumerate(graph) if node[0] == "leaf"]


def operands(node: Sequence[Any]) -> list[Any]:
    """A node's operands: node indices (ints) and plain numbers (floats); pow's exponent is neither."""
    return list(node[1:2]) if node[0] in ("pow", "leaf") else list(node[1:])


def evaluate(graph: Graph) -> Evaluated:
    """Every node's value and d(output)/d(node), exactly enough to round once to floats.

    Raises ValueError for a graph outside an operation's domain (log of a non-positive number, a
    division by zero, a negative base to a fractional power): the strategies never draw one.

    A graph is worked out once per process (or `learn`ed): a check asks for the same graph many times
    (each property of its operation, a diagnosis's every model), and each caller gets lists of its
    own. The graph is known by its JSON, which tells a node's index (an int) from a plain number (a
    float) and -0.0 from 0.0, where equal Python values would not."""
    graph_json = json.dumps(graph)
    exact = _worked.get(graph_json)
    if exact is None:
        exact = _evaluated(graph_json)
        if len(_worked) >= LARGEST_MEMO:
            del _worked[next(iter(_worked))]
        _worked[graph_json] = exact
    return Evaluated(list(exact.values), list(exact.grads), list(exact.value_scales), list(exact.grad_scales))


def worked_out() -> dict[str, list[list[float]]]:
    """Every graph this process has worked out or learned, by its JSON, as plain data: its values,
    gradients and their scales."""
    return {graph: [e.values, e.grads, e.value_scales, e.grad_scales] for graph, e in _worked.items()}


def learn(known: dict[str, list[list[float]]]) -> None:
    """Take graphs worked out before (as `worked_out` gives them, kept by gradekit.engine.speed.exact)
    as this process's own, so that `evaluate` does not work them out again. What is not shaped as
    `worked_out` shapes it is left out."""
    for graph_json, lists in known.items():
        if len(_worked) >= LARGEST_MEMO:
            return
        if type(graph_json) is str and _shaped(lists):
            _worked.setdefault(graph_json, Evaluated(*(list(numbers) for numbers in lists)))


def _shaped(lists: Any) -> bool:
    """Four lists of floats of one length: a graph's values, gradients and their scales."""
    return (
        type(lists) is list
        and len(lists) == 4
        and all(type(numbers) is list and len(numbers) == len(lists[0]) for numbers in lists)
        and all(type(x) is float for numbers in lists for x in numbers)
    )


def _evaluated(graph_json: str) -> Evaluated:
    graph = json.loads(graph_json)
    with mpmath.workdps(DIGITS):
        values: list[Any] = []
        scales: list[Any] = []
        partials: list[list[tuple[int, Any, Any]]] = []
        for node in graph:
            value, scale, local = _node(node, values, scales)
            values.append(value)
            scales.append(scale)
            partials.append(local)
        grads = [ZERO] * len(graph)
        grad_scales = [ZERO] * len(graph)
        grads[-1] = grad_scales[-1] = ONE
        for i in reversed(range(len(graph))):
            for j, derivative, magnitude in partials[i]:
                if derivative is ONE:  # a sum's: adding the gradient itself is exact, and costs no product
                    grads[j] += grads[i]
                elif derivative is MINUS_ONE:
                    grads[j] -= grads[i]
                else:
                    grads[j] += derivative * grads[i]
                grad_scales[j] += grad_scales[i] if magnitude is ONE else magnitude * grad_scales[i]
        return Evaluated(_floats(values), _floats(grads), _floats(scales), _floats(grad_scales))


def _floats(numbers: list[Any]) -> list[float]:
    return [float(x) for x in numbers]


def _operand(a: Any, values: list[Any], scales: list[Any]) -> tuple[Any, Any]:
    """An operand's value and scale: a node's, or a plain number's own and its magnitude."""
    if type(a) is int:
        return values[a], scales[a]
    x = mpmath.mpf(a)
    return x, abs(x)


def _node(node: Sequence[Any], values: list[Any], scales: list[Any]) -> tuple[Any, Any, list[tuple[int, Any, Any]]]:
    """A node's value; its value worked out on magnitudes; and for each operand that is a node,
    (that node, d node / d operand, the magnitude the derivative is worked out at). A product's
    derivative is the other factor, which may itself have cancelled, so its magnitude is that
    factor's scale."""
    op = node[0]
    if op == "leaf":
        x = mpmath.mpf(node[1])
        return x, abs(x), []
    a, sa = _operand(node[1], values, scales)
    if op in BINARY:
        b, sb = _operand(node[2], values, scales)
        if op == "add":
            value, scale, local = a + b, sa + sb, [(ONE, ONE), (ONE, ONE)]
        elif op == "sub":
            value, scale, local = a - b, sa + sb, [(ONE, ONE), (MINUS_ONE, ONE)]
        elif op == "mul":
            value, scale, local = a * b, sa * sb, [(b, sb), (a, sa)]
        else:
            if b == 0:
                raise ValueError("a division by zero")
            value = a / b
            scale = (sa + abs(value) * sb) / abs(b)
            local = [(1 / b, 1 / abs(b)), (-a / b**2, sa / b**2)]
        return value, scale, _on_nodes(node[1:3], local)
    if op == "neg":
        value, scale, derivative = -a, sa, MINUS_ONE
    elif op == "log":
        if a <= 0:
            raise ValueError(f"log of {float(a)}")
        value = mpmath.log(a)
        scale, derivative = abs(value) + sa / a, 1 / a
    elif op == "exp":
        value = mpmath.exp(a)
        scale, derivative = value * (1 + sa), value
    elif op == "relu":
        value, scale, derivative = (a, sa, ONE) if a > 0 else (ZERO, ZERO, ZERO)
    elif op == "pow":
        k = node[2]
        if (a == 0 and k < 1) or (a < 0 and not float(k).is_integer()):
            raise ValueError(f"{float(a)} ** {k}")
        value = mpmath.power(a, k)
        scale = abs(value) * (1 + abs(k) * sa / abs(a) if a else 1)
        derivative = k * mpmath.power(a, k - 1) if k != 0 else ZERO
    else:
        raise ValueError(f"unknown operation {op!r}")
    return value, scale, _on_nodes(node[1:2], [(derivative, abs(derivative))])


def _on_nodes(operands: Sequence[Any], local: list[tuple[Any, Any]]) -> list[tuple[int, Any, Any]]:
    """The (derivative, magnitude) pairs of the operands that are nodes, with their indices."""
    return [(j, d, m) for j, (d, m) in zip(operands, local) if type(j) is int]


def leaf_names(graph: Graph) -> dict[int, str]:
    """The letter each leaf goes by, in order: a, b, c, ... (then x27, x28, ...)."""
    letters = "abcdefghijklmnopqrstuvwxyz"
    return {i: letters[n] if n < len(letters) else f"x{n + 1}" for n, i in enumerate(leaves(graph))}


def expression(graph: Graph, limit: int | None = None) -> str:
    """The graph as the course writes it: "f = a * a + log(b) at a = 3, b = 2"; a node used more than
    once, or a long graph's inner nodes, get a name of their own ("t1 = a * b; f = t1 * t1 at ...").
    Past `limit` characters, its size and leaves first, then as much of it as fits."""
    names = leaf_names(graph)
    uses = [0] * len(graph)
    for node in graph:
        for a in operands(node):
            if type(a) is int:
                uses[a] += 1
    text: dict[int, tuple[str, int]] = {}
    steps: list[str] = []
    for i, node in enumerate(graph):
        if i in names:
            text[i] = (names[i], ATOM)
            continue
        written = _written(node, text)
        if i < len(graph) - 1 and (uses[i] > 1 or len(written[0]) > 60):
            name = f"t{len(steps) + 1}"
            steps.append(f"{name} = {written[0]}")
            written = (name, ATOM)
        text[i] = written
    at = ", ".join(f"{names[i]} = {_number(graph[i][1])}" for i in names)
    body = "; ".join([*steps, f"f = {text[len(graph) - 1][0]}"])
    whole = body + (f" at {at}" if at else "")
    if limit is None or len(whole) <= limit:
        return whole
    head = f"{len(graph)} nodes at {at}: "
    return head + body[: max(limit - len(head) - 3, 0)] + "..."


def node_expression(graph: Graph, index: int) -> str:
    """Node `index` written out in the leaves' letters and plain numbers: "a * b + 2"."""
    names = leaf_names(graph)
    text: dict[int, tuple[str, int]] = {}
    for i, node in enumerate(graph[: index + 1]):
        text[i] = (names[i], ATOM) if i in names else _written(node, text)
    shown = text[index][0]
    return shown if len(shown) <= 80 else shown[:77] + "..."


ATOM = 5  # how tightly each form binds, as Python parses it: a name or a call
PRECEDENCE = {"add": 1, "sub": 1, "mul": 2, "div": 2, "neg": 3, "pow": 4}


def _written(node: Sequence[Any], text: dict[int, tuple[str, int]]) -> tuple[str, int]:
    op = node[0]
    binds = PRECEDENCE.get(op, ATOM)

    def operand(a: Any, tighter: bool = False) -> str:
        shown, bound = text[a] if type(a) is int else (_number(a) if a >= 0 else f"({_number(a)})", ATOM)
        return f"({shown})" if bound < binds or (tighter and bound == binds) else shown

    if op in BINARY:
        return f"{operand(node[1])} {SYMBOLS[op]} {operand(node[2], tighter=True)}", binds
    if op == "neg":
        return f"-{operand(node[1])}", binds
    if op == "pow":
        return f"{operand(node[1], tighter=True)} ** {_number(node[2])}", binds
    return f"{op}({text[node[1]][0] if type(node[1]) is int else _number(node[1])})", ATOM


def _number(x: Any) -> str:
    if type(x) is int:
        return str(x)
    return f"{x:.6g}" if x == x else "nan"
