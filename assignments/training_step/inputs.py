"""The inputs every training-step function must answer as the solution does, across its whole contract.

`gradekit selftest training_step --mutants` asks each mutant of the solution that keeps full marks,
and the solution, these inputs (see gradekit.instructor.differential). They cover what functions.py
promises, boundaries weighted:
- names of 1 to 8 letters, 'a' and 'z' among them;
- 27 x 27 tables of zeros, microgpt's initial scale, unit logits, up to +-50 and up to +-1000, with
  rows moved by a constant of up to +-1000;
- documents: encoded names, any ids from 2 tokens on, and 27, 28 and 29 tokens, either side of the
  solution's switch from reading rows one by one to reading the table once (26 contexts and 27),
  up to 64, and past every common block size (17, 33, 65, 129, 257 and 303 tokens);
- flat parameters of 1 to 8 entries, a row of 27 and a table of 729, of any magnitude (the contract
  bounds none): as drawn, or scaled by 1e3 or 1e6, gradients from below 1e-7 to 1e6;
- Adam states with v >= 0, fresh or trained, steps from 0 to 10,000, learning rates from 0 to 1,
  microgpt's betas and eps, or any betas from 0 to 0.999 (0 and 0.5 weighted) and eps from 1e-12 to
  1e-3;
- schedules from step 0 to the last step, of 1 step to a million, base rates from 0 to 1000; and
  runs of every step, through the harness's `schedule_of_run`, past step 256 (257 to 1,000 steps),
  where a cache kept by the step's id() answers a later step with an earlier one's rate.
"""

from gradekit.reference.course import VOCAB_SIZE
from hypothesis import strategies as st

from gradekit.strategies import (
    EXTREME,
    adam_cases,
    adam_hyperparameters,
    bigram_tables,
    build_moments,
    build_table,
    composite,
    learning_rates,
    moment_tables,
    names,
    sgd_cases,
    token_sequences,
    train_schedules,
)

RTOL, ATOL = 1e-9, 1e-12  # functions.py: a relative 1e-9, plus a margin that grows with the inputs
SCALES = (1.0, 1e3, 1e6)


@composite
def tables(draw):
    """A 27 x 27 table from a recipe of the properties' strategy (up to +-50, or +-1000), with up to
    three rows moved by one constant each."""
    table = build_table(draw(bigram_tables(max_scale=draw(st.sampled_from((50.0, EXTREME))))))
    for row in draw(st.lists(st.integers(0, VOCAB_SIZE - 1), max_size=3, unique=True)):
        shift = draw(st.floats(-EXTREME, EXTREME))
        table[row] = [x + shift for x in table[row]]
    return table


def fixed_length(size):
    return st.lists(st.integers(0, VOCAB_SIZE - 1), min_size=size, max_size=size)


documents = st.one_of(
    token_sequences(),
    st.sampled_from((27, 28, 29)).flatmap(fixed_length),
    st.lists(st.integers(0, VOCAB_SIZE - 1), min_size=2, max_size=64),
    st.sampled_from((17, 33, 65, 129, 257, 303)).flatmap(fixed_length),
)


@composite
def sgd_inputs(draw):
    params, grads, lr = draw(sgd_cases())
    scale = draw(st.sampled_from(SCALES))
    lr = draw(st.one_of(st.just(lr), st.sampled_from((0.0, 1.0))))
    return [p * scale for p in params], [g * scale for g in grads], lr


betas = st.one_of(st.sampled_from((0.0, 0.5, 0.85, 0.9, 0.95, 0.99, 0.999)), st.floats(0.0, 0.999))
epsilons = st.one_of(st.sampled_from((1e-8, 1e-6, 1e-10)), st.floats(1e-12, 1e-3))


@composite
def adam_inputs(draw):
    """adam_cases, the whole state scaled by one factor (v by its square, so v >= 0 stays), with a
    learning rate up to 1 now and then; microgpt's hyperparameters, the properties' others, or any
    betas in [0, 0.999] and eps from 1e-12 to 1e-3 (the contract names no range)."""
    params, grads, m, v, step, lr = draw(adam_cases())
    scale = draw(st.sampled_from(SCALES))
    lr = draw(st.one_of(st.just(lr), st.floats(0.0, 1.0)))
    scaled = [[x * scale for x in xs] for xs in (params, grads, m)]
    hyperparameters = draw(st.one_of(adam_hyperparameters(), st.tuples(betas, betas, epsilons)))
    return (*scaled, [x * scale * scale for x in v], step, lr, *hyperparameters)


@composite
def schedules(draw):
    num_steps = draw(st.one_of(st.just(1), st.just(1000), st.integers(1, 10**6)))
    step = draw(st.one_of(st.just(0), st.just(num_steps), st.integers(0, num_steps)))
    return step, num_steps, draw(st.one_of(st.just(0.01), st.just(0.0), st.floats(0.0, 1.0), st.floats(0.0, 1000.0)))


@composite
def train_inputs(draw):
    m, v = build_moments(draw(moment_tables()))
    return (draw(tables()), draw(documents), m, v, *draw(train_schedules()))


INPUTS = {
    "encode": st.tuples(st.one_of(names(), st.sampled_from(("a", "z", "zzzzzzzz", "ava")))),
    "bigram_loss": st.tuples(tables(), documents),
    "bigram_grad": st.tuples(tables(), documents),
    "sgd_update": sgd_inputs(),
    "linear_lr": schedules(),
    "schedule_of_run": st.tuples(st.integers(257, 1000), learning_rates()),
    "adam_update": adam_inputs(),
    "train_step": train_inputs(),
}
