"""The known mistakes of autograd, as models: a `Value` with one method wrong (see gradekit.known_mistakes).

Each model is a class that stands in for the student's: the harness builds the probes' graphs with
it, and a student whose answers it reproduces is told its mistake. The rest of the class is tried in
the two ways students write it (STYLES): `Exact`, every operation on its own with its exact local
gradients, and `Micrograd`, `-`, `/` and a number on the left of them built from `+`, `*` and `**`
as micrograd and microgpt build them, so a wrong `-a` shows in `a - b` too. `2 + a` and `2 * a` are
`a + 2` and `a * 2` in both, as every style writes them.

A local gradient is a number stored with the node, or, where the mistake reads it only when backward
runs (an exponent kept on the base, exp of the output), a function of nothing that backward calls.
Each node knows the operation that made it, and backward runs each node's `_send`, as micrograd runs
each node's `_backward` closure: a mistake in one operation's closure (`=` for `+=`, a dropped
`out.grad`) is made in the nodes that operation makes.
"""

import math

from gradekit import known_mistake


class Exact:
    """microgpt's Value with every operation its own: children, and the local gradient towards each."""

    def __init__(self, data, children=(), local_grads=(), op=""):
        self.data = data
        self.grad = 0
        self._children = children
        self._local_grads = local_grads
        self._op = op

    def _made(self, data, children=(), local_grads=(), op=""):
        """A node of this same class, with the operation that made it: a model's mistake stays in every
        node it builds, and one made in an operation's closure in the nodes that operation makes."""
        return type(self)(data, children, local_grads, op)

    def _value(self, other):
        return other if isinstance(other, Exact) else self._made(other)

    def _grads(self):
        return self._local_grads() if callable(self._local_grads) else self._local_grads

    def __add__(self, other):
        other = self._value(other)
        return self._made(self.data + other.data, (self, other), (1, 1), "+")

    def __radd__(self, other):
        return self + other

    def __sub__(self, other):
        other = self._value(other)
        return self._made(self.data - other.data, (self, other), (1, -1), "-")

    def __rsub__(self, other):
        return self._made(other - self.data, (self,), (-1,), "r-")

    def __mul__(self, other):
        other = self._value(other)
        return self._made(self.data * other.data, (self, other), (other.data, self.data), "*")

    def __rmul__(self, other):
        return self * other

    def __truediv__(self, other):
        other = self._value(other)
        return self._made(self.data / other.data, (self, other), (1 / other.data, -self.data / other.data**2), "/")

    def __rtruediv__(self, other):
        return self._made(other / self.data, (self,), (-other / self.data**2,), "r/")

    def __neg__(self):
        return self._made(-self.data, (self,), (-1,), "neg")

    def __pow__(self, k):
        return self._made(self.data**k, (self,), (k * self.data ** (k - 1) if k != 0 else 0,), "**")

    def log(self):
        return self._made(math.log(self.data), (self,), (1 / self.data,), "log")

    def exp(self):
        e = math.exp(self.data)
        return self._made(e, (self,), (e,), "exp")

    def relu(self):
        return self._made(max(0, self.data), (self,), (float(self.data > 0),), "relu")

    def _order(self):
        """The graph from this node, children before parents, each node once."""
        order, visited = [], set()

        def build(v):
            if v not in visited:
                visited.add(v)
                for child in v._children:
                    build(child)
                order.append(v)

        build(self)
        return order

    def backward(self):
        self.grad = 1
        for v in reversed(self._order()):
            v._send()

    def _send(self):
        """What micrograd's `_backward` closure of this node does: each local gradient times this
        node's grad, added into its child."""
        for child, local in zip(self._children, self._grads()):
            child.grad += local * self.grad


class Micrograd(Exact):
    """The operations micrograd builds from others, built from them."""

    def __neg__(self):
        return self * -1

    def __sub__(self, other):
        return self + (-other)

    def __rsub__(self, other):
        return other + (-self)

    def __truediv__(self, other):
        return self * other**-1

    def __rtruediv__(self, other):
        return other * self**-1


STYLES = (Exact, Micrograd)


def mistake(function, file, also=()):
    """The known mistake `file` (and the files `also` names) makes in `function`, the rest of the class
    in either style."""
    return known_mistake(function, file, among=STYLES, also=also)


def _assigned(node):
    """An operation's closure that sets each child's grad with `=`, where `+=` adds to it."""
    for child, local in zip(node._children, node._grads()):
        child.grad = local * node.grad


def _unscaled(node):
    """An operation's closure that adds each local gradient alone, without `* out.grad`."""
    for child, local in zip(node._children, node._grads()):
        child.grad += local


def _closure(op, wrong):
    """The `_send` of a class whose operation `op` runs `wrong` as its closure, in every node it makes;
    every other node runs the right one."""

    def _send(node):
        (wrong if node._op == op else Exact._send)(node)

    return _send


# --- the operations --------------------------------------------------------------------------------


@mistake("Value.__mul__", "mul_grad_swapped_self.py")
class MulGradSwapped(Exact):
    def __mul__(self, other):
        other = self._value(other)
        return self._made(self.data * other.data, (self, other), (self.data, other.data))


@mistake("Value.__mul__", "mul_local_grads_are_values.py")
class MulLocalGradsAreValues(Exact):
    def __mul__(self, other):
        other = self._value(other)
        return self._made(self.data * other.data, (self, other), (other, self), "*")


# --- an operation's closure: micrograd's `_backward`, as the nodes one operation makes run it ------


@mistake("Value.__add__", "add_closure_assigns.py")
class AddClosureAssigns(Exact):
    _send = _closure("+", _assigned)


@mistake("Value.__mul__", "mul_closure_assigns.py")
class MulClosureAssigns(Exact):
    _send = _closure("*", _assigned)


@mistake("Value.__mul__", "mul_closure_drops_out_grad.py")
class MulClosureDropsOutGrad(Exact):
    _send = _closure("*", _unscaled)


@mistake("Value.exp", "exp_closure_drops_out_grad.py")
class ExpClosureDropsOutGrad(Exact):
    _send = _closure("exp", _unscaled)


# `-`, `/` and `-a` written as operations of their own, each closure without `* out.grad`: the model
# makes the operation itself in either style, as the file does.


@mistake("Value.__sub__", "sub_closure_drops_out_grad.py")
class SubClosureDropsOutGrad(Exact):
    __sub__ = Exact.__sub__
    _send = _closure("-", _unscaled)


@mistake("Value.__truediv__", "div_closure_drops_out_grad.py")
class DivClosureDropsOutGrad(Exact):
    __truediv__ = Exact.__truediv__
    _send = _closure("/", _unscaled)


@mistake("Value.__neg__", "neg_closure_drops_out_grad.py")
class NegClosureDropsOutGrad(Exact):
    __neg__ = Exact.__neg__
    _send = _closure("neg", _unscaled)


@mistake("Value.__sub__", "sub_grad_positive.py")
class SubGradPositive(Exact):
    def __sub__(self, other):
        other = self._value(other)
        return self._made(self.data - other.data, (self, other), (1, 1))


@mistake("Value.__truediv__", "div_by_plain_reciprocal.py")
class DivByPlainReciprocal(Exact):
    def __truediv__(self, other):
        return self * (1 / self._value(other).data)


@mistake("Value.__neg__", "neg_forgets_gradient.py")
class NegForgetsGradient(Exact):
    def __neg__(self):
        return self._made(-self.data)


@mistake("Value.__pow__", "pow_derivative_without_exponent.py")
class PowDerivativeWithoutExponent(Exact):
    def __pow__(self, k):
        return self._made(self.data**k, (self,), (self.data ** (k - 1),))


@mistake("Value.__pow__", "pow_exponent_on_base.py")
class PowExponentOnBase(Exact):
    def __pow__(self, k):
        self._exponent = k
        return self._made(self.data**k, (self,), lambda: (self._exponent * self.data ** (self._exponent - 1),))


@mistake("Value.log", "log_derivative_inverse_square.py")
class LogDerivativeInverseSquare(Exact):
    def log(self):
        return self._made(math.log(self.data), (self,), (1 / self.data**2,))


@mistake("Value.log", "log_shifted_by_epsilon.py")
class LogShiftedByEpsilon(Exact):
    def log(self):
        return self._made(math.log(self.data + 1e-5), (self,), (1 / (self.data + 1e-5),))


@mistake("Value.exp", "exp_clipped_at_50.py")
class ExpClippedAt50(Exact):
    def exp(self):
        e = math.exp(min(self.data, 50))
        return self._made(e, (self,), (e,))


@mistake("Value.exp", "exp_derivative_recomputed.py")
class ExpDerivativeRecomputed(Exact):
    def exp(self):
        e = math.exp(self.data)
        return self._made(e, (self,), lambda: (math.exp(e),))


@mistake("Value.relu", "relu_gradient_one_at_zero.py")
class ReluGradientOneAtZero(Exact):
    def relu(self):
        return self._made(max(0, self.data), (self,), (float(self.data >= 0),))


# --- a plain number on the left -------------------------------------------------------------------


@mistake("Value.__radd__", "radd_missing_self_graph.py")
class RaddMissingSelfGraph(Exact):
    def __radd__(self, other):
        return self._made(other + self.data)


@mistake("Value.__radd__", "radd_zero_returns_self.py")
class RaddZeroReturnsSelf(Exact):
    def __radd__(self, other):
        return self if other == 0 else self + other


@mistake("Value.__radd__", "radd_multiplies.py")
class RaddMultiplies(Exact):
    def __radd__(self, other):
        return self * other


@mistake("Value.__rmul__", "rmul_missing.py")
class RmulMissing(Exact):
    __rmul__ = None  # type: ignore[assignment]  # as a class without one: `2 * a` raises TypeError


@mistake("Value.__rsub__", "rsub_wrong_sign.py", also=("rsub_order_reversed.py",))
class RsubWrongSign(Exact):
    def __rsub__(self, other):
        return self - other


@mistake("Value.__rtruediv__", "rtruediv_as_inverse_power.py")
class RtruedivAsInversePower(Exact):
    def __rtruediv__(self, other):
        return (self / other) ** -1


@mistake("Value.__rtruediv__", "rtruediv_wrong_order.py")
class RtruedivWrongOrder(Exact):
    def __rtruediv__(self, other):
        return self * other**-1


# --- backward -------------------------------------------------------------------------------------


@mistake("Value.backward", "backward_no_seed.py")
class BackwardNoSeed(Exact):
    def backward(self):
        for v in reversed(self._order()):
            for child, local in zip(v._children, v._grads()):
                child.grad += local * v.grad


@mistake("Value.backward", "backward_assigns_not_accumulates.py")
class BackwardAssignsNotAccumulates(Exact):
    def backward(self):
        self.grad = 1
        for v in reversed(self._order()):
            for child, local in zip(v._children, v._grads()):
                child.grad = local * v.grad


@mistake("Value.backward", "backward_resets_grads.py")
class BackwardResetsGrads(Exact):
    def backward(self):
        order = self._order()
        for v in order:
            v.grad = 0
        self.grad = 1
        for v in reversed(order):
            for child, local in zip(v._children, v._grads()):
                child.grad += local * v.grad


@mistake("Value.backward", "backward_reversed_order.py")
class BackwardReversedOrder(Exact):
    def backward(self):
        self.grad = 1
        for v in self._order():
            for child, local in zip(v._children, v._grads()):
                child.grad += local * v.grad


@mistake("Value.backward", "backward_no_visited_set.py")
class BackwardNoVisitedSet(Exact):
    def backward(self):
        order = []

        def build(v):
            for child in v._children:
                build(child)
            order.append(v)

        build(self)
        self.grad = 1
        for v in reversed(order):
            for child, local in zip(v._children, v._grads()):
                child.grad += local * v.grad


@mistake("Value.backward", "backward_breadth_first.py")
class BackwardBreadthFirst(Exact):
    def backward(self):
        order, seen = [self], {id(self)}
        for v in order:
            for child in v._children:
                if id(child) not in seen:
                    seen.add(id(child))
                    order.append(child)
        self.grad = 1
        for v in order:
            for child, local in zip(v._children, v._grads()):
                child.grad += local * v.grad


@mistake("Value.backward", "backward_no_topological_order.py")
class BackwardNoTopologicalOrder(Exact):
    def backward(self):
        self.grad = 1
        self._propagate()

    def _propagate(self):
        for child, local in zip(self._children, self._grads()):
            child.grad += local * self.grad
        for child in self._children:
            child._propagate()
