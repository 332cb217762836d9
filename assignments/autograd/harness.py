"""What the autograd properties ask of a submission's `Value`, run in the worker beside it.

A property cannot send a Value to the worker, nor get one back: it sends a graph as plain data (see
gradekit.reference.autograd), and these functions build it with the student's own operators, call
`backward()` and answer with the numbers `.data` and `.grad` hold. They never compare Values, and
ask nothing of the class beyond the contract in functions.py.
"""

import numbers
import operator

submission = None  # the student's module, set by the worker before any call

BINARY = {"add": operator.add, "sub": operator.sub, "mul": operator.mul, "div": operator.truediv}
UNARY = {
    "neg": operator.neg,
    "log": lambda v: v.log(),
    "exp": lambda v: v.exp(),
    "relu": lambda v: v.relu(),
}


def _built(graph):
    """The graph's nodes as the student's Values (plain numbers stay numbers), and its leaves."""
    Value = submission.Value
    nodes, leaves = [], []
    for node in graph:
        op = node[0]
        if op == "leaf":
            nodes.append(Value(node[1]))
            leaves.append(nodes[-1])
            continue
        a = nodes[node[1]] if type(node[1]) is int else node[1]
        if op == "pow":
            nodes.append(a ** node[2])
        elif op in UNARY:
            nodes.append(UNARY[op](a))
        else:
            b = nodes[node[2]] if type(node[2]) is int else node[2]
            nodes.append(BINARY[op](a, b))
    return nodes, leaves


def _plain(x):
    """`x` as a float where it is a number as the contract reads `.data` and `.grad` (a float, an int,
    a NumPy number); None for anything else, such as a Value where a gradient was built from Values.
    The properties read each answer's numbers, and None as what it is."""
    return float(x) if isinstance(x, numbers.Real) else None


def gradients(graph: list) -> tuple[list, list]:
    """Every node's `.data` once the graph is built, and every leaf's `.grad` after `backward()` on the
    last node, as floats; None for one that is not a plain number."""
    nodes, leaves = _built(graph)
    values = [_plain(node.data) for node in nodes]
    nodes[-1].backward()
    return values, [_plain(leaf.grad) for leaf in leaves]


def gradients_of_each(graphs: list) -> list:
    """`gradients` of each graph, each built afresh: one operation's variants, asked at once."""
    return [gradients(graph) for graph in graphs]


def deep_gradients(graph: list) -> tuple[list, list]:
    """`gradients` for deep graphs: a call of its own, so one that runs out of time costs only the
    properties that build deep graphs."""
    return gradients(graph)


def stacked_gradients(graph: list) -> tuple[list, list]:
    """`gradients` for stacked diamonds, where a walk that revisits nodes takes exponential time: a
    call of its own too."""
    return gradients(graph)


def gradients_after_two_backwards(graph: list) -> list[float]:
    """Every leaf's `.grad` after `backward()` is called twice on the last node."""
    nodes, leaves = _built(graph)
    nodes[-1].backward()
    nodes[-1].backward()
    return [leaf.grad for leaf in leaves]


def softmax_loss(logits: list[float], target: int) -> tuple[float, list[float]]:
    """microgpt's loss on one position from the student's operators: softmax around the largest logit,
    then `-probs[target].log()`; its value, and each logit's `.grad` after `backward()`."""
    Value = submission.Value
    zs = [Value(z) for z in logits]
    loss = _position_loss(zs, target)
    loss.backward()
    return loss.data, [z.grad for z in zs]


def mean_loss(rows: list[list[float]], targets: list[int]) -> tuple[float, list[list[float]]]:
    """The mean of the positions' losses, as microgpt averages a document: `(1 / n) * sum(losses)`;
    its value, and each logit's `.grad` after `backward()`."""
    Value = submission.Value
    zs = [[Value(z) for z in row] for row in rows]
    losses = [_position_loss(row, target) for row, target in zip(zs, targets)]
    loss = (1 / len(losses)) * sum(losses)
    loss.backward()
    return loss.data, [[z.grad for z in row] for row in zs]


def _position_loss(zs, target):
    top = max(z.data for z in zs)
    exps = [(z - top).exp() for z in zs]
    total = sum(exps)
    probs = [e / total for e in exps]
    return -probs[target].log()
