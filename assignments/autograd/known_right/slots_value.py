"""A Value with `__slots__`: each node stores its inputs as (child, local gradient) pairs."""
import math


def _wrap(x):
    return x if isinstance(x, Value) else Value(x)


class Value:
    __slots__ = ("data", "grad", "_edges")

    def __init__(self, data, edges=()):
        self.data = data
        self.grad = 0.0
        self._edges = edges

    def __add__(self, other):
        other = _wrap(other)
        return Value(self.data + other.data, ((self, 1.0), (other, 1.0)))

    def __radd__(self, other):
        return self + other

    def __sub__(self, other):
        other = _wrap(other)
        return Value(self.data - other.data, ((self, 1.0), (other, -1.0)))

    def __rsub__(self, other):
        return _wrap(other) - self

    def __mul__(self, other):
        other = _wrap(other)
        return Value(self.data * other.data, ((self, other.data), (other, self.data)))

    def __rmul__(self, other):
        return self * other

    def __truediv__(self, other):
        return self * _wrap(other) ** -1

    def __rtruediv__(self, other):
        return _wrap(other) * self ** -1

    def __neg__(self):
        return Value(-self.data, ((self, -1.0),))

    def __pow__(self, k):
        return Value(self.data ** k, ((self, k * self.data ** (k - 1)),))

    def log(self):
        return Value(math.log(self.data), ((self, 1.0 / self.data),))

    def exp(self):
        e = math.exp(self.data)
        return Value(e, ((self, e),))

    def relu(self):
        if self.data > 0:
            return Value(self.data, ((self, 1.0),))
        return Value(0.0, ((self, 0.0),))

    def backward(self):
        order = []
        seen = set()

        def visit(node):
            if node in seen:
                return
            seen.add(node)
            for child, _ in node._edges:
                visit(child)
            order.append(node)

        visit(self)
        self.grad = 1.0
        for node in reversed(order):
            for child, local in node._edges:
                child.grad += local * node.grad
