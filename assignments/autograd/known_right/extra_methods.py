"""A Value with extras: tanh, sigmoid, a repr, and comparisons by data (the graph walk keys nodes by id)."""
import math


class Value:
    def __init__(self, data, children=(), local_grads=(), op=""):
        self.data = data
        self.grad = 0
        self._children = children
        self._local_grads = local_grads
        self._op = op

    def __repr__(self):
        return f"Value(data={self.data}, grad={self.grad})"

    # Comparisons look at the numbers; hashing stays by identity so Values still work in sets.
    def __eq__(self, other):
        return self.data == (other.data if isinstance(other, Value) else other)

    def __lt__(self, other):
        return self.data < (other.data if isinstance(other, Value) else other)

    def __le__(self, other):
        return self.data <= (other.data if isinstance(other, Value) else other)

    def __gt__(self, other):
        return self.data > (other.data if isinstance(other, Value) else other)

    def __ge__(self, other):
        return self.data >= (other.data if isinstance(other, Value) else other)

    __hash__ = object.__hash__

    @staticmethod
    def _as_value(x):
        return x if isinstance(x, Value) else Value(x)

    def __add__(self, other):
        other = self._as_value(other)
        return Value(self.data + other.data, (self, other), (1, 1), "+")

    def __radd__(self, other):
        return self + other

    def __sub__(self, other):
        return self + (-other)

    def __rsub__(self, other):
        return (-self) + other

    def __mul__(self, other):
        other = self._as_value(other)
        return Value(self.data * other.data, (self, other), (other.data, self.data), "*")

    def __rmul__(self, other):
        return self * other

    def __truediv__(self, other):
        return self * self._as_value(other) ** -1

    def __rtruediv__(self, other):
        return self ** -1 * other

    def __neg__(self):
        return self * -1

    def __pow__(self, k):
        return Value(self.data ** k, (self,), (k * self.data ** (k - 1),), f"**{k}")

    def log(self):
        return Value(math.log(self.data), (self,), (1 / self.data,), "log")

    def exp(self):
        e = math.exp(self.data)
        return Value(e, (self,), (e,), "exp")

    def relu(self):
        return Value(max(0, self.data), (self,), (float(self.data > 0),), "relu")

    def tanh(self):
        t = math.tanh(self.data)
        return Value(t, (self,), (1 - t * t,), "tanh")

    def sigmoid(self):
        s = 1 / (1 + math.exp(-self.data)) if self.data >= 0 else math.exp(self.data) / (1 + math.exp(self.data))
        return Value(s, (self,), (s * (1 - s),), "sigmoid")

    def backward(self):
        topo = []
        visited = set()

        def build(v):
            if id(v) in visited:
                return
            visited.add(id(v))
            for child in v._children:
                build(child)
            topo.append(v)

        build(self)
        self.grad = 1
        for v in reversed(topo):
            for child, local_grad in zip(v._children, v._local_grads):
                child.grad += local_grad * v.grad
