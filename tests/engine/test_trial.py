"""A property's budget, as its examples look at it: on the clock a grade counts (the worker's time
computing or blocked, and the grader's CPU time), at the first example and then every LOOK_SECONDS of
the wall clock, so an overrun is caught by the first example that starts a look's while after it."""

from __future__ import annotations

import pytest

from gradekit.authoring import Property
from gradekit.engine import runner
from gradekit.errors import BudgetExhausted


class Spending:
    """What a Trial reads of its calls: the seconds the worker has spent, set by the test, and how
    often they were read."""

    def __init__(self) -> None:
        self.seconds = 0.0
        self.reads = 0

    def spent(self) -> float:
        self.reads += 1
        return self.seconds


class Wall:
    """A monotonic clock the test moves."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


NOTHING = Property(
    name="nothing",
    points=1.0,
    functions=("f",),
    hint="nothing to hint",
    requires=(),
    test=lambda run_example: None,
    body=lambda sub: None,
    description="runs nothing",
)


@pytest.fixture
def wall(monkeypatch):
    clock = Wall()
    monkeypatch.setattr(runner.time, "monotonic", clock)
    return clock


def _trial(budget: float) -> tuple[runner.Trial, Spending]:
    """A Trial of a property that runs nothing, with `budget` seconds, and the clock it reads."""
    spending = Spending()
    return runner.Trial(NOTHING, spending, budget), spending  # type: ignore[arg-type]


def test_an_overrun_is_caught_at_the_first_look_after_it_and_not_read_between_looks(wall):
    trial, spending = _trial(1.0)
    trial.run_example({})
    looked = spending.reads
    spending.seconds = 5.0  # far past the budget
    for _ in range(100):  # within one look's while: the clocks are not read again, and the examples run
        trial.run_example({})
    assert spending.reads == looked and trial.examples == 101
    wall.now += runner.LOOK_SECONDS
    with pytest.raises(BudgetExhausted):
        trial.run_example({})
    assert trial.examples == 101


def test_the_first_example_looks_at_a_budget_already_spent(wall):
    trial, spending = _trial(0.0)
    spending.seconds = 0.01
    with pytest.raises(BudgetExhausted):
        trial.run_example({})
    assert trial.examples == 0


def test_the_wall_clock_backstop_needs_no_look(wall):
    trial, spending = _trial(1.0)
    trial.run_example({})
    wall.now += 1.0 * runner.WALL_FACTOR + 0.001
    reads = spending.reads
    with pytest.raises(BudgetExhausted):
        trial.run_example({})
    assert spending.reads == reads
