"""An iterative topological sort with an explicit stack, so graphs of any depth need no recursion."""
import math


class Value:
    def __init__(self, data, children=(), local_grads=()):
        self.data = data
        self.grad = 0
        self.children = children
        self.local_grads = local_grads

    @staticmethod
    def lift(x):
        return x if isinstance(x, Value) else Value(x)

    def __add__(self, other):
        other = Value.lift(other)
        return Value(self.data + other.data, (self, other), (1, 1))

    def __radd__(self, other):
        return Value.lift(other) + self

    def __sub__(self, other):
        other = Value.lift(other)
        return Value(self.data - other.data, (self, other), (1, -1))

    def __rsub__(self, other):
        return Value.lift(other) - self

    def __mul__(self, other):
        other = Value.lift(other)
        return Value(self.data * other.data, (self, other), (other.data, self.data))

    def __rmul__(self, other):
        return Value.lift(other) * self

    def __truediv__(self, other):
        other = Value.lift(other)
        return self * other ** -1

    def __rtruediv__(self, other):
        return Value.lift(other) / self

    def __neg__(self):
        return Value(-self.data, (self,), (-1,))

    def __pow__(self, k):
        return Value(self.data ** k, (self,), (k * self.data ** (k - 1),))

    def log(self):
        return Value(math.log(self.data), (self,), (1 / self.data,))

    def exp(self):
        out = math.exp(self.data)
        return Value(out, (self,), (out,))

    def relu(self):
        return Value(self.data if self.data > 0 else 0, (self,), (1 if self.data > 0 else 0,))

    def topological_order(self):
        # Post-order depth-first search: a node is appended once all of its children are.
        order = []
        visited = {id(self)}
        stack = [(self, iter(self.children))]
        while stack:
            node, children = stack[-1]
            for child in children:
                if id(child) not in visited:
                    visited.add(id(child))
                    stack.append((child, iter(child.children)))
                    break
            else:
                stack.pop()
                order.append(node)
        return order

    def backward(self):
        order = self.topological_order()
        self.grad = 1
        for node in reversed(order):
            for child, local_grad in zip(node.children, node.local_grads):
                child.grad += local_grad * node.grad
