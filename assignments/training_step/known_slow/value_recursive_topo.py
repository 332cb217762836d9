"""bigram_grad: right, but backward() sorts the graph with microgpt's recursive build_topo, and a document of 6,000 tokens is a graph thousands of nodes deep, past Python's recursion limit.

The mean loss adds one term per position with sum(), a chain as long as the document; build_topo
calls itself once per link, so 6,000 tokens need about 6,000 nested calls where Python allows 1,000,
and the gradient of a long document ends in a RecursionError. Names of a few letters are fine. Walk
the graph with an explicit stack instead (or add the losses in one node).
"""
import math

BOS = 26


class Value:
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
        topo = []
        visited = set()

        def build_topo(v):
            if v not in visited:
                visited.add(v)
                for child in v._children:
                    build_topo(child)
                topo.append(v)

        build_topo(self)
        self.grad = 1
        for v in reversed(topo):
            for child, local_grad in zip(v._children, v._local_grads):
                child.grad += local_grad * v.grad


def encode(name):
    return [BOS] + [ord(ch) - ord("a") for ch in name] + [BOS]


def position_losses(state_dict, tokens):
    """One loss Value per position: -log softmax(W[context])[target], as log-sum-exp minus the logit."""
    row_lse = {}
    losses = []
    for context, target in zip(tokens[:-1], tokens[1:]):
        logits = state_dict[context]
        if context not in row_lse:
            max_val = max(val.data for val in logits)
            row_lse[context] = sum((val - max_val).exp() for val in logits).log() + max_val
        losses.append(row_lse[context] - logits[target])
    return losses


def document_loss(state_dict, tokens):
    losses = position_losses(state_dict, tokens)
    return (1 / len(losses)) * sum(losses)


def bigram_loss(W, tokens):
    state_dict = [[Value(x) for x in row] for row in W]
    return document_loss(state_dict, tokens).data


def bigram_grad(W, tokens):
    state_dict = [[Value(x) for x in row] for row in W]
    loss = document_loss(state_dict, tokens)
    loss.backward()
    return [[p.grad for p in row] for row in state_dict]


def sgd_update(params, grads, lr):
    return [p - lr * g for p, g in zip(params, grads)]


def linear_lr(step, num_steps, base_lr):
    return base_lr * (1 - step / num_steps)


def adam_update(params, grads, m, v, step, lr, beta1=0.85, beta2=0.99, eps=1e-8):
    new_params, new_m, new_v = [], [], []
    for p, g, m_i, v_i in zip(params, grads, m, v):
        m_i = beta1 * m_i + (1 - beta1) * g
        v_i = beta2 * v_i + (1 - beta2) * g ** 2
        m_hat = m_i / (1 - beta1 ** (step + 1))
        v_hat = v_i / (1 - beta2 ** (step + 1))
        new_params.append(p - lr * m_hat / (v_hat ** 0.5 + eps))
        new_m.append(m_i)
        new_v.append(v_i)
    return new_params, new_m, new_v


def train_step(W, tokens, m, v, step, num_steps=1000, base_lr=0.01):
    state_dict = [[Value(x) for x in row] for row in W]
    loss = document_loss(state_dict, tokens)
    loss.backward()
    lr_t = linear_lr(step, num_steps, base_lr)
    for r, row in enumerate(state_dict):
        for c, p in enumerate(row):
            m[r][c] = 0.85 * m[r][c] + (1 - 0.85) * p.grad
            v[r][c] = 0.99 * v[r][c] + (1 - 0.99) * p.grad ** 2
            m_hat = m[r][c] / (1 - 0.85 ** (step + 1))
            v_hat = v[r][c] / (1 - 0.99 ** (step + 1))
            W[r][c] = p.data - lr_t * m_hat / (v_hat ** 0.5 + 1e-8)
            p.grad = 0
    return loss.data
