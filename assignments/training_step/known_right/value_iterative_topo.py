"""The training step as microgpt runs it: W as scalar Values, the loss built from them, backward() for the gradient, Adam on p.data and p.grad.

Each context row's log-softmax is built once (log-sum-exp around the row's max, so a row moved by
1000 stays finite) and every position that uses the row picks its entry from it. backward() orders
the graph with an explicit stack rather than recursion: the sum over a document of 6,000 tokens is a
chain 6,000 nodes deep.
"""
import math

BOS = 26


class Value:
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
        topo, visited = [], set()
        stack = [(self, False)]
        while stack:
            node, children_done = stack.pop()
            if children_done:
                topo.append(node)
                continue
            if node in visited:
                continue
            visited.add(node)
            stack.append((node, True))
            for child in node._children:
                if child not in visited:
                    stack.append((child, False))
        self.grad = 1
        for node in reversed(topo):
            for child, local_grad in zip(node._children, node._local_grads):
                child.grad += local_grad * node.grad


def encode(name):
    return [BOS] + [ord(ch) - ord("a") for ch in name] + [BOS]


def _log_softmax(row):
    top = max(p.data for p in row)
    shifted = [p - top for p in row]
    log_total = sum(s.exp() for s in shifted).log()
    return [s - log_total for s in shifted]


def _loss(params, tokens):
    """The mean loss of the document, as a Value, from a table of Values (rows used as contexts)."""
    n = len(tokens) - 1
    log_probs = {}
    losses = []
    for pos in range(n):
        context, target = tokens[pos], tokens[pos + 1]
        if context not in log_probs:
            log_probs[context] = _log_softmax(params[context])
        losses.append(-log_probs[context][target])
    return (1 / n) * sum(losses)


def _as_values(W):
    return [[Value(x) for x in row] for row in W]


def bigram_loss(W, tokens):
    return _loss(_as_values(W), tokens).data


def bigram_grad(W, tokens):
    params = _as_values(W)
    _loss(params, tokens).backward()
    return [[float(p.grad) for p in row] for row in params]


def sgd_update(params, grads, lr):
    ps = [Value(x) for x in params]
    for p, g in zip(ps, grads):
        p.grad = g
    for p in ps:
        p.data -= lr * p.grad
    return [p.data for p in ps]


def linear_lr(step, num_steps, base_lr):
    return base_lr * (1 - step / num_steps)


def _adam_step(params, m, v, step, lr, beta1, beta2, eps):
    """microgpt's optimiser loop over Values whose .grad is set; m and v are updated in place."""
    for i, p in enumerate(params):
        m[i] = beta1 * m[i] + (1 - beta1) * p.grad
        v[i] = beta2 * v[i] + (1 - beta2) * p.grad ** 2
        m_hat = m[i] / (1 - beta1 ** (step + 1))
        v_hat = v[i] / (1 - beta2 ** (step + 1))
        p.data -= lr * m_hat / (v_hat ** 0.5 + eps)
        p.grad = 0


def adam_update(params, grads, m, v, step, lr, beta1=0.85, beta2=0.99, eps=1e-8):
    ps = [Value(x) for x in params]
    for p, g in zip(ps, grads):
        p.grad = g
    m, v = list(m), list(v)
    _adam_step(ps, m, v, step, lr, beta1, beta2, eps)
    return [p.data for p in ps], m, v


def train_step(W, tokens, m, v, step, num_steps=1000, base_lr=0.01):
    params = _as_values(W)
    loss = _loss(params, tokens)
    loss.backward()
    lr = linear_lr(step, num_steps, base_lr)
    flat = [p for row in params for p in row]
    flat_m = [x for row in m for x in row]
    flat_v = [x for row in v for x in row]
    _adam_step(flat, flat_m, flat_v, step, lr, 0.85, 0.99, 1e-8)
    width = len(W[0])
    new_W = [[p.data for p in row] for row in params]
    new_m = [flat_m[i:i + width] for i in range(0, len(flat_m), width)]
    new_v = [flat_v[i:i + width] for i in range(0, len(flat_v), width)]
    return loss.data, new_W, new_m, new_v
