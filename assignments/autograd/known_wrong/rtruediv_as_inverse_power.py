"""Value.__rtruediv__: computes c / a as (a / c) ** -1, which divides by c, so 0 / a raises ZeroDivisionError instead of giving 0.

For any c other than 0 the value and the gradient are right: (a / c) ** -1 = c / a. But the plain
number on the left may be 0, and 0 / a is 0 with gradient 0; dividing a by it fails. Compute
other * self ** -1, which never divides by other.
"""
import math


class Value:
    __slots__ = ("data", "grad", "_children", "_local_grads")

    def __init__(self, data, children=(), local_grads=()):
        self.data = data
        self.grad = 0
        self._children = children
        self._local_grads = local_grads

    @staticmethod
    def _wrap(x):
        return x if isinstance(x, Value) else Value(x)

    def __add__(self, other):
        other = Value._wrap(other)
        return Value(self.data + other.data, (self, other), (1, 1))

    def __radd__(self, other):
        return Value._wrap(other) + self

    def __sub__(self, other):
        other = Value._wrap(other)
        return Value(self.data - other.data, (self, other), (1, -1))

    def __rsub__(self, other):
        return Value._wrap(other) - self

    def __mul__(self, other):
        other = Value._wrap(other)
        return Value(self.data * other.data, (self, other), (other.data, self.data))

    def __rmul__(self, other):
        return Value._wrap(other) * self

    def __truediv__(self, other):
        other = Value._wrap(other)
        return Value(
            self.data / other.data, (self, other), (1 / other.data, -self.data / other.data ** 2)
        )

    def __rtruediv__(self, other):
        # other / self is the reciprocal of self / other
        return (self / other) ** -1

    def __neg__(self):
        return Value(-self.data, (self,), (-1,))

    def __pow__(self, k):
        return Value(self.data ** k, (self,), (k * self.data ** (k - 1),))

    def log(self):
        return Value(math.log(self.data), (self,), (1 / self.data,))

    def exp(self):
        e = math.exp(self.data)
        return Value(e, (self,), (e,))

    def relu(self):
        return Value(max(0.0, self.data), (self,), (1.0 if self.data > 0 else 0.0,))

    def backward(self):
        order, seen = [], set()
        stack = [(self, iter(self._children))]
        seen.add(self)
        while stack:
            node, children = stack[-1]
            for child in children:
                if child not in seen:
                    seen.add(child)
                    stack.append((child, iter(child._children)))
                    break
            else:
                stack.pop()
                order.append(node)
        self.grad = 1
        for node in reversed(order):
            for child, local in zip(node._children, node._local_grads):
                child.grad += local * node.grad
