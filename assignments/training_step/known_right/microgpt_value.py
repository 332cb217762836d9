"""A microgpt `Value` autograd: the loss is a Value graph and the gradient comes from backward().

The backward pass walks the graph without recursion, and each context row's softmax is one set of
nodes however often the row is used, so a document of 6,000 tokens is a graph of a few nodes a token.
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

    def __pow__(self, other):
        return Value(self.data ** other, (self,), (other * self.data ** (other - 1),))

    def log(self):
        return Value(math.log(self.data), (self,), (1 / self.data,))

    def exp(self):
        return Value(math.exp(self.data), (self,), (math.exp(self.data),))

    def __neg__(self):
        return self * -1

    def __radd__(self, other):
        return self + other

    def __sub__(self, other):
        return self + (-other)

    def __rmul__(self, other):
        return self * other

    def __truediv__(self, other):
        return self * other ** -1

    def backward(self):
        topo, visited, stack = [], set(), [(self, False)]
        while stack:
            v, expanded = stack.pop()
            if expanded:
                topo.append(v)
            elif v not in visited:
                visited.add(v)
                stack.append((v, True))
                stack.extend((child, False) for child in v._children if child not in visited)
        self.grad = 1
        for v in reversed(topo):
            for child, local_grad in zip(v._children, v._local_grads):
                child.grad += local_grad * v.grad


def encode(name):
    return [BOS] + [ord(ch) - ord("a") for ch in name] + [BOS]


def softmax(logits):
    max_val = max(val.data for val in logits)
    exps = [(val - max_val).exp() for val in logits]
    total = sum(exps)
    return [e / total for e in exps]


def _loss(params, tokens):
    n = len(tokens) - 1
    # A bigram model's forward pass for a token is its row: one softmax per context, shared by its positions.
    probs = {r: softmax(row) for r, row in params.items()}
    losses = []
    for pos_id in range(n):
        losses.append(-probs[tokens[pos_id]][tokens[pos_id + 1]].log())
    return (1 / n) * sum(losses)


def _as_values(W, tokens):
    # Only the context rows enter the graph; the others are plain numbers with no gradient.
    used = set(tokens[:-1])
    return {r: [Value(x) for x in W[r]] for r in used}


def bigram_loss(W, tokens):
    return _loss(_as_values(W, tokens), tokens)


def bigram_grad(W, tokens):
    params = _as_values(W, tokens)
    _loss(params, tokens).backward()
    return [[p.grad for p in params[r]] if r in params else [0.0] * len(W[r]) for r in range(len(W))]


def sgd_update(params, grads, lr):
    return [p - lr * g for p, g in zip(params, grads)]


def linear_lr(step, num_steps, base_lr):
    return base_lr * (1 - step / num_steps)


def adam_update(params, grads, m, v, step, lr, beta1=0.85, beta2=0.99, eps=1e-8):
    for i, g in enumerate(grads):
        m[i] = beta1 * m[i] + (1 - beta1) * g
        v[i] = beta2 * v[i] + (1 - beta2) * g ** 2
        m_hat = m[i] / (1 - beta1 ** (step + 1))
        v_hat = v[i] / (1 - beta2 ** (step + 1))
        params[i] -= lr * m_hat / (v_hat ** 0.5 + eps)
    return params, m, v


def train_step(W, tokens, m, v, step, num_steps=1000, base_lr=0.01):
    params = _as_values(W, tokens)
    loss = _loss(params, tokens)
    loss.backward()
    lr_t = linear_lr(step, num_steps, base_lr)
    for r in range(len(W)):
        grads = [p.grad for p in params[r]] if r in params else [0.0] * len(W[r])
        adam_update(W[r], grads, m[r], v[r], step, lr_t)
    return loss, W, m, v
