"""microgpt-style autograd: a scalar Value class; the loss is built from Value ops and the gradient comes from backward()."""
import math


class Value:
    """A scalar with a gradient, as in microgpt (iterative backward, so 10,000 inputs are fine)."""

    __slots__ = ("data", "grad", "_children", "_local_grads")

    def __init__(self, data, children=(), local_grads=()):
        self.data = float(data)
        self.grad = 0.0
        self._children = children
        self._local_grads = local_grads

    def __add__(self, other):
        other = other if isinstance(other, Value) else Value(other)
        return Value(self.data + other.data, (self, other), (1.0, 1.0))

    def __radd__(self, other):
        return self + other

    def __neg__(self):
        return self * -1.0

    def __sub__(self, other):
        return self + (-other if isinstance(other, Value) else Value(-other))

    def __rsub__(self, other):
        return Value(other) - self

    def __mul__(self, other):
        other = other if isinstance(other, Value) else Value(other)
        return Value(self.data * other.data, (self, other), (other.data, self.data))

    def __rmul__(self, other):
        return self * other

    def __truediv__(self, other):
        other = other if isinstance(other, Value) else Value(other)
        return self * other ** -1

    def __pow__(self, k):
        return Value(self.data ** k, (self,), (k * self.data ** (k - 1),))

    def exp(self):
        e = math.exp(self.data)
        return Value(e, (self,), (e,))

    def log(self):
        return Value(math.log(self.data), (self,), (1.0 / self.data,))

    @staticmethod
    def total(values):
        """One node for a sum of many values: keeps the graph shallow."""
        values = list(values)
        return Value(math.fsum(v.data for v in values), tuple(values), (1.0,) * len(values))

    def backward(self):
        order, seen, stack = [], set(), [(self, False)]
        while stack:
            node, expanded = stack.pop()
            if expanded:
                order.append(node)
                continue
            if id(node) in seen:
                continue
            seen.add(id(node))
            stack.append((node, True))
            for child in node._children:
                if id(child) not in seen:
                    stack.append((child, False))
        self.grad = 1.0
        for node in reversed(order):
            for child, local in zip(node._children, node._local_grads):
                child.grad += local * node.grad


def _as_values(logits):
    return [Value(z) for z in logits]


def _loss_value(zs, true_id):
    m = max(z.data for z in zs)  # a constant: the shift cancels, and exp never overflows
    shifted = [z - m for z in zs]
    lse = Value.total(s.exp() for s in shifted).log()
    return lse - shifted[true_id]


def softmax(logits):
    zs = _as_values(logits)
    m = max(z.data for z in zs)
    exps = [(z - m).exp() for z in zs]
    total = Value.total(exps)
    return [e / total for e in exps]


def cross_entropy_loss(logits, true_id):
    return _loss_value(_as_values(logits), true_id)


def sequence_loss(logits_list, true_ids):
    losses = [_loss_value(_as_values(z), t) for z, t in zip(logits_list, true_ids)]
    return Value.total(losses) * (1.0 / len(losses))


def perplexity(loss):
    return Value(loss).exp()


def softmax_cross_entropy_grad(logits, true_id):
    zs = _as_values(logits)
    _loss_value(zs, true_id).backward()
    return [z.grad for z in zs]
