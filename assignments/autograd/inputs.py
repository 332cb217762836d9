"""The inputs every harness function must answer as the solution's `Value` does, across the contract.

`gradekit selftest autograd --mutants` asks each mutant of the solution that keeps full marks, and
the solution, these inputs (see gradekit.instructor.differential). Students write a class, so the
functions asked are the harness's (harness.py), which build graphs from the class's operators and
answer with `.data` and `.grad`. The inputs cover what functions.py promises, boundaries weighted:
- small graphs of every operation, with plain numbers on either side, nodes used more than once,
  values at each operation's edges (relu at exactly 0 and -0, log near 0, exp up to 30, exponents
  from -2 to 3, 0 and 1 among them), up to a dozen nodes;
- each operation once, on either side of a plain number, with its variants (a gradient of -3 from
  above, its input used twice), and `backward()` twice on one operation (the contract says nothing of
  two calls on a deeper graph);
- chains of 100 to 300 operations, and stacked diamonds of 1 to 60 levels;
- microgpt's softmax and -log p[target] on 1 to 256 logits within +-50 or +-1000 (a probability that
  underflows to 0 raises in log, as in the solution), and its mean over up to 16 positions.
"""

from gradekit.reference.autograd import BINARY
from hypothesis import strategies as st

from gradekit.strategies import EXTREME, logits_and_target, sequences

from .graphs import OPERATIONS, chains, diamonds, graphs, shared, variants

RTOL, ATOL = 1e-6, 1e-9  # functions.py: a relative 1e-6, and a margin near 0 that grows with the inputs


def one_operation(side):
    """Each operation once on up to 3 leaves, a plain number on `side` of a binary one, or a node on
    both sides (`a * a`)."""
    return st.sampled_from(OPERATIONS).flatmap(
        lambda op: graphs((op,), max_leaves=3, max_operations=1, numbers=side if op in BINARY else "right")
    )


single = st.one_of(one_operation("right"), one_operation("left"), one_operation("either"))

INPUTS = {
    "gradients": st.tuples(st.one_of(graphs(), shared(), single)),
    "gradients_of_each": st.tuples(single.map(lambda graph: [graph, *variants(graph)])),
    "deep_gradients": st.tuples(chains()),
    "stacked_gradients": st.tuples(diamonds(min_levels=1, max_levels=60)),
    "gradients_after_two_backwards": st.tuples(single),
    "softmax_loss": st.one_of(logits_and_target(), logits_and_target(bound=EXTREME)),
    "mean_loss": sequences(max_positions=16, max_vocab=27),
}
