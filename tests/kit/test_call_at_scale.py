"""A scale property's call is judged by how its time grows from a smaller input, not by a stopwatch."""

from __future__ import annotations

from typing import Any

import pytest

from gradekit.authoring import GROWTH_ROOM, LONGEST_SCALE_CALL, Reply, call_at_scale
from gradekit.errors import CallTimedOut, SubmissionRaised, TimedOutEarlier, TooSlow

LIMIT = 2.0


class Clocked:
    """A submission whose one function takes `cost(n)` seconds on an input of n values, as a worker
    would answer: a call past its timeout is a timeout."""

    def __init__(self, cost: Any, raises: str = "") -> None:
        self.cost = cost
        self.raises = raises
        self.timeouts: list[float] = []

    def _call_timeout(self) -> float:
        return LIMIT

    def _call(self, function: str, args: tuple[Any, ...], want_args: bool) -> Reply:
        """A call like any other: within the call limit."""
        return self._timed(function, args, want_args, LIMIT)[0]

    def _timed(self, function: str, args: tuple[Any, ...], want_args: bool, timeout: float) -> tuple[Reply, float]:
        self.timeouts.append(timeout)
        n = len(args[0])
        if self.raises and n > 100:
            raise SubmissionRaised(f"`{function}` raised {self.raises}", raised=self.raises)
        seconds = self.cost(n)
        if seconds > timeout:
            raise CallTimedOut(f"took more than {timeout:g} s of CPU time")
        return Reply(n, [list(args[0])] if want_args else None, float), seconds


def scaled(sub: Clocked) -> Reply:
    small, large = ([0.0] * 1000,), ([0.0] * 10_000,)
    return call_at_scale(
        sub, "softmax", small, large, sizes=(1000, 10_000), size="a vocabulary of {:,}", question="quadratic?"
    )


@pytest.mark.parametrize("per_value", [1e-6, 1e-4, 5e-4])
def test_a_linear_function_keeps_its_points_whatever_its_constant(per_value):
    sub = Clocked(lambda n: 0.001 + per_value * n)
    assert scaled(sub).returned == 10_000


def test_a_slow_linear_function_may_take_longer_than_the_call_limit_at_the_large_size():
    sub = Clocked(lambda n: 3e-4 * n)  # 0.3 s, then 3 s: past the call limit
    scaled(sub)
    assert sub.timeouts[0] == LIMIT and sub.timeouts[2] == pytest.approx(0.3 * 10 * GROWTH_ROOM)


@pytest.mark.parametrize("per_pair", [3e-8, 1e-7, 3e-7])
def test_a_quadratic_function_fails_with_how_its_time_grew(per_pair):
    sub = Clocked(lambda n: per_pair * n * n)
    with pytest.raises(TooSlow) as slow:
        scaled(sub)
    message = slow.value.message
    assert "took more than 32 times as long on a vocabulary of 10,000 as on a vocabulary of 1,000" in message
    assert "linear work takes about 10 times as long: quadratic?" in message


def test_the_message_is_the_same_whatever_the_small_call_took():
    messages = set()
    for per_pair in (3e-8, 1e-7, 2e-7, 3e-7):
        with pytest.raises(TooSlow) as slow:
            scaled(Clocked(lambda n, c=per_pair: c * n * n))
        messages.add(slow.value.message)
    assert len(messages) == 1


def test_a_fast_function_passes_whatever_its_growth():
    sub = Clocked(lambda n: 1e-9 * n * n)  # 1 ms, then 0.1 s: below the call limit
    scaled(sub)
    assert sub.timeouts == [LIMIT]  # answered within the limit: no smaller call is made


def test_no_large_call_takes_longer_than_the_longest_a_scale_call_may():
    sub = Clocked(lambda n: 2e-3 * n if n < 5000 else LONGEST_SCALE_CALL + 1)
    with pytest.raises(TooSlow, match="took more than 10 s of CPU time on a vocabulary of 10,000, the most"):
        scaled(sub)
    assert sub.timeouts[2] == LONGEST_SCALE_CALL


def test_a_small_call_past_the_limit_fails_on_the_small_size():
    sub = Clocked(lambda n: 3.0 * n / 1000)
    with pytest.raises(TooSlow, match="took more than 2 s of CPU time on a vocabulary of 1,000: quadratic?"):
        scaled(sub)


def test_a_recursion_too_deep_is_told_as_such_not_as_slowness():
    with pytest.raises(SubmissionRaised) as raised:
        scaled(Clocked(lambda n: 0.0, raises="RecursionError"))
    assert "on a vocabulary of 10,000: its recursion goes one call deeper" in raised.value.message
    assert "quadratic" not in raised.value.message


def test_another_exception_is_left_as_it_was_raised():
    with pytest.raises(SubmissionRaised) as raised:
        scaled(Clocked(lambda n: 0.0, raises="ValueError"))
    assert raised.value.message == "`softmax` raised ValueError"


def test_a_function_that_timed_out_earlier_is_reported_as_it_is():
    class Earlier(Clocked):
        def _timed(self, function, args, want_args, timeout):
            raise TimedOutEarlier("`softmax` timed out earlier in this grade")

    with pytest.raises(TimedOutEarlier):
        scaled(Earlier(lambda n: 0.0))
