"""Value.backward: visits the nodes breadth first from the output, each once, which is no topological order.

A queue from the output reaches every node and visits each once, but a node reached along paths of
different lengths is visited when the shortest one reaches it: in t1 = -a; f = t1 + (t1 + t1), t1
sends its grad on to a before t1 + t1 has added its share, and a.grad is -1 where it is -3. Build the
topological order (every child before its parents) and walk it reversed, from the output.
"""
import math


class Value:
    def __init__(self, data, children=(), local_grads=()):
        self.data = data
        self.grad = 0
        self._children = children
        self._local_grads = local_grads

    def __add__(self, other):
        other = other if isinstance(other, Value) else Value(other)
        return Value(self.data + other.data, (self, other), (1, 1))

    def __radd__(self, other):
        return self + other

    def __sub__(self, other):
        other = other if isinstance(other, Value) else Value(other)
        return Value(self.data - other.data, (self, other), (1, -1))

    def __rsub__(self, other):
        return Value(other - self.data, (self,), (-1,))

    def __mul__(self, other):
        other = other if isinstance(other, Value) else Value(other)
        return Value(self.data * other.data, (self, other), (other.data, self.data))

    def __rmul__(self, other):
        return self * other

    def __truediv__(self, other):
        other = other if isinstance(other, Value) else Value(other)
        return Value(self.data / other.data, (self, other), (1 / other.data, -self.data / other.data ** 2))

    def __rtruediv__(self, other):
        return Value(other / self.data, (self,), (-other / self.data ** 2,))

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
        return Value(max(0, self.data), (self,), (float(self.data > 0),))

    def backward(self):
        order = [self]
        visited = {self}
        for v in order:
            for child in v._children:
                if child not in visited:
                    visited.add(child)
                    order.append(child)
        self.grad = 1
        for v in order:
            for child, local_grad in zip(v._children, v._local_grads):
                child.grad += local_grad * v.grad
