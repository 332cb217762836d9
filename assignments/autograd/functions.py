"""The class you write for the autograd assignment, and what it is graded on.

microgpt computes its loss on scalars it can differentiate: every number is a `Value`, every
operation on Values makes a new Value that remembers its children and the local gradient towards
each, and `loss.backward()` sends the gradient back through the graph with the chain rule. You write
that `Value`.

What holds for the whole class:
- The grader builds expressions from your own operations (`a * b + b.log()`, `2 - a`, ...), calls
  `backward()` on the last one, and reads `.data` and `.grad` as plain numbers: a float, an int or a
  NumPy float. It never compares two Values with `==`, so you may define equality as you like.
- Every answer must match the exact value and derivative to a relative 1e-6 (with an absolute margin
  for results near 0 that the rounding of the graph's other numbers allows). Work in Python floats.
- Graphs are small (up to a dozen nodes, with leaves and plain numbers mixed in, some nodes used
  more than once) and deep (chains of up to 300 nodes: a recursive topological sort is fine at that
  depth). A graph whose wrong traversal takes exponential time runs into the time limit of a call.
- Inputs stay inside each operation's domain: `log` gets positive numbers, `/` no zero, `**` a
  negative base only with a whole exponent; `relu` may get exactly 0.
- The names `Value`, `data`, `grad` and `backward` are the contract; how you store children and
  local gradients (tuples, closures, `__slots__`) is yours.
"""


class Value:
    """A scalar that remembers how it was computed, so `backward()` can differentiate through it.

    `Value(data)` wraps a number: `.data` is its value, `.grad` starts at 0.

    Operators work with a Value or a plain number on either side, and return a new Value:
    - `a + b`, `a - b`, `a * b`, `a / b`, `-a` (also `2 + a`, `2 - a`, `2 * a`, `2 / a`);
    - `a ** k` for a plain number `k` (an int or a float), with derivative `k * a ** (k - 1)`;
    - `a.log()` (natural log, derivative `1 / a`), `a.exp()` (derivative `exp(a)`) and `a.relu()`
      (`max(0, a)`, derivative 1 where `a > 0` and 0 where `a <= 0`, as microgpt's `float(a > 0)`).

    `out.backward()`:
    - orders the graph topologically from `out` (each node once, however many times it is used);
    - sets `out.grad = 1`, then for each node from `out` backwards adds its contribution to each child:
      `child.grad += local_grad * node.grad`;
    - accumulates: a node used twice (`b = a * a`) gets both contributions (`a.grad == 2 * a.data`);
    - does not reset any grad first: calling it twice on a one-operation graph doubles the leaves'
      grads. (On deeper graphs what a second call gives depends on whether the grads of the nodes in
      between were reset; that is not graded.)

    The grader holds you to:
    - values and gradients of every operation, on either side of a plain number;
    - `+=` on every child, never `=`, so shared nodes add up;
    - every node visited once, in topological order, from the node `backward` is called on;
    - the softmax and `-log p[target]` microgpt builds from these operations: its backward gives
      `softmax - onehot`, and the mean over positions divides that by their number.
    """

    def __init__(self, data: float) -> None:
        raise NotImplementedError

    def __add__(self, other: "Value | float") -> "Value":
        """`self + other`, other a Value or a plain number: local gradient 1 towards each."""
        raise NotImplementedError

    def __radd__(self, other: float) -> "Value":
        """`other + self` for a plain number `other` (`2 + a`, and `sum()`, which starts from 0)."""
        raise NotImplementedError

    def __sub__(self, other: "Value | float") -> "Value":
        """`self - other`: local gradients 1 towards self and -1 towards other."""
        raise NotImplementedError

    def __rsub__(self, other: float) -> "Value":
        """`other - self` for a plain number `other` (`2 - a`): mind the order."""
        raise NotImplementedError

    def __mul__(self, other: "Value | float") -> "Value":
        """`self * other`: local gradient `other` towards self and `self` towards other."""
        raise NotImplementedError

    def __rmul__(self, other: float) -> "Value":
        """`other * self` for a plain number `other` (`2 * a`)."""
        raise NotImplementedError

    def __truediv__(self, other: "Value | float") -> "Value":
        """`self / other`: local gradients `1 / other` and `-self / other ** 2`; other stays in the graph."""
        raise NotImplementedError

    def __rtruediv__(self, other: float) -> "Value":
        """`other / self` for a plain number `other` (`2 / a`): mind the order."""
        raise NotImplementedError

    def __neg__(self) -> "Value":
        """`-self`: local gradient -1, so the gradient flows through it."""
        raise NotImplementedError

    def __pow__(self, k: float) -> "Value":
        """`self ** k` for a plain number `k`: local gradient `k * self ** (k - 1)`."""
        raise NotImplementedError

    def log(self) -> "Value":
        """The natural log: local gradient `1 / self`."""
        raise NotImplementedError

    def exp(self) -> "Value":
        """`e ** self`: local gradient `exp(self)`, the value it computed."""
        raise NotImplementedError

    def relu(self) -> "Value":
        """`max(0, self)`: local gradient 1 where `self > 0` and 0 where `self <= 0`, at 0 itself too."""
        raise NotImplementedError

    def backward(self) -> None:
        """Gradients of this node with respect to every node before it, added into each `.grad`."""
        raise NotImplementedError
