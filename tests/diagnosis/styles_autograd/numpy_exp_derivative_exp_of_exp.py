"""NumPy scalars, with exp's local gradient exp(exp(a)): NumPy overflows to inf where math raises."""

import numpy as np


class Value:
    def __init__(self, data, parents=()):
        self.data = np.float64(data)
        self.grad = np.float64(0.0)
        self.parents = parents  # (child, local gradient) pairs

    @classmethod
    def of(cls, x):
        return x if isinstance(x, cls) else cls(x)

    def __add__(self, other):
        other = Value.of(other)
        return Value(self.data + other.data, [(self, np.float64(1.0)), (other, np.float64(1.0))])

    def __radd__(self, other):
        return Value.of(other) + self

    def __sub__(self, other):
        other = Value.of(other)
        return Value(self.data - other.data, [(self, np.float64(1.0)), (other, np.float64(-1.0))])

    def __rsub__(self, other):
        return Value.of(other) - self

    def __mul__(self, other):
        other = Value.of(other)
        return Value(self.data * other.data, [(self, other.data), (other, self.data)])

    def __rmul__(self, other):
        return Value.of(other) * self

    def __truediv__(self, other):
        return self * Value.of(other) ** -1

    def __rtruediv__(self, other):
        return Value.of(other) * self**-1

    def __neg__(self):
        return Value(-self.data, [(self, np.float64(-1.0))])

    def __pow__(self, k):
        k = np.float64(k)
        return Value(np.power(self.data, k), [(self, k * np.power(self.data, k - 1))])

    def log(self):
        return Value(np.log(self.data), [(self, 1.0 / self.data)])

    def exp(self):
        e = np.exp(self.data)
        return Value(e, [(self, np.exp(e))])

    def relu(self):
        return Value(np.maximum(self.data, 0.0), [(self, np.float64(self.data > 0))])

    def backward(self):
        topo, seen = [], set()

        def build(v):
            if v not in seen:
                seen.add(v)
                for child, _ in v.parents:
                    build(child)
                topo.append(v)

        build(self)
        self.grad = np.float64(1.0)
        for v in reversed(topo):
            for child, local in v.parents:
                child.grad += local * v.grad
