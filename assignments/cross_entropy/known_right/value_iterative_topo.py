"""Everything on microgpt's scalar Value: the loss is a graph of Values and the gradient comes from backward().

The softmax subtracts the largest logit (a plain number, so it needs no gradient) before exp, and the
loss is log(sum(exp(z - max))) - (z[t] - max), so nothing overflows and no probability is taken the
log of. backward() orders the graph with an explicit stack instead of recursion, because sum() over a
vocabulary of 10,000 builds a chain 10,000 nodes deep.
"""
import math


class Value:
    """A scalar that remembers its children and the local derivative towards each (as in microgpt)."""

    __slots__ = ("data", "grad", "_children", "_local_grads")

    def __init__(self, data, children=(), local_grads=()):
        self.data = data
        self.grad = 0
        self._children = children
        self._local_grads = local_grads

    def __add__(self, other):
        other = other if isinstance(other, Value) else Value(other)
        return Value(self.data + other.data, (self, other), (1, 1))

    def __mul__(self, other):
        other = other if isinstance(other, Value) else Value(other)
        return Value(self.data * other.data, (self, other), (other.data, self.data))

    def __pow__(self, k):
        return Value(self.data ** k, (self,), (k * self.data ** (k - 1),))

    def log(self):
        return Value(math.log(self.data), (self,), (1 / self.data,))

    def exp(self):
        e = math.exp(self.data)
        return Value(e, (self,), (e,))

    def relu(self):
        return Value(max(0, self.data), (self,), (float(self.data > 0),))

    def __neg__(self):
        return self * -1

    def __radd__(self, other):
        return self + other

    def __sub__(self, other):
        return self + (-other)

    def __rsub__(self, other):
        return other + (-self)

    def __rmul__(self, other):
        return self * other

    def __truediv__(self, other):
        return self * other ** -1

    def __rtruediv__(self, other):
        return other * self ** -1

    def backward(self):
        # post-order depth-first walk with an explicit stack: each entry is a node and the index of
        # the next child to visit, so a chain of any depth is fine
        topo = []
        visited = {id(self)}
        stack = [(self, 0)]
        while stack:
            node, i = stack.pop()
            if i < len(node._children):
                stack.append((node, i + 1))
                child = node._children[i]
                if id(child) not in visited:
                    visited.add(id(child))
                    stack.append((child, 0))
            else:
                topo.append(node)
        self.grad = 1
        for node in reversed(topo):
            for child, local_grad in zip(node._children, node._local_grads):
                child.grad += local_grad * node.grad


def _softmax(zs):
    top = max(z.data for z in zs)
    exps = [(z - top).exp() for z in zs]
    total = sum(exps)
    return [e / total for e in exps]


def _position_loss(zs, target):
    top = max(z.data for z in zs)
    shifted = [z - top for z in zs]
    log_total = sum(s.exp() for s in shifted).log()
    return log_total - shifted[target]


def softmax(logits):
    return [p.data for p in _softmax([Value(z) for z in logits])]


def cross_entropy_loss(logits, true_id):
    return _position_loss([Value(z) for z in logits], true_id).data


def sequence_loss(logits_list, true_ids):
    losses = [_position_loss([Value(z) for z in row], t) for row, t in zip(logits_list, true_ids)]
    n = len(losses)
    return ((1 / n) * sum(losses)).data


def perplexity(loss):
    return Value(loss).exp().data


def softmax_cross_entropy_grad(logits, true_id):
    zs = [Value(z) for z in logits]
    loss = _position_loss(zs, true_id)
    loss.backward()
    return [z.grad for z in zs]
