"""The time one whole grade may take: loading the submission, every property, and the diagnosis.

Counted as a property's time is (gradekit.engine.runner): the grader's CPU time, and the worker's computing
or blocked time as the kernel counts it (gradekit.sandbox.clocks), so that a busy machine, which only
makes both wait for a CPU, grades a file as an idle one does, and nothing the worker reports moves it.
A wall-clock backstop WALL_FACTOR times as long ends what the counts cannot see, on a machine so
busy that grader and worker mostly wait for a CPU: on an idle one, the grade ends within a few
seconds of its count, whatever the submission does. The grader's own first-time work, recording the
assignment's examples, is no part of it: `excluding` leaves it out.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

WALL_FACTOR = 3.0
T = TypeVar("T")


class Budget:
    """A grade's time: `seconds` of it in all, from now. `worker_spent` counts what the submission's
    workers have spent (None where the kernel cannot tell, off Linux: the wall clock counts then)."""

    def __init__(self, seconds: float, worker_spent: Callable[[], float | None]) -> None:
        self.seconds = seconds
        self._worker_spent = worker_spent
        self._cpu = time.process_time()
        self._wall = time.monotonic()
        self._worker = worker_spent() or 0.0

    def used(self) -> float:
        """Seconds charged so far: the grader's CPU time and the workers' time, or the wall clock's
        where the workers' cannot be counted."""
        worker = self._worker_spent()
        if worker is None:
            return time.monotonic() - self._wall
        return (time.process_time() - self._cpu) + (worker - self._worker)

    def left(self) -> float:
        """Seconds still to spend, by the count or by the wall-clock backstop, whichever ends first."""
        wall = self.seconds * WALL_FACTOR - (time.monotonic() - self._wall)
        return min(self.seconds - self.used(), wall)

    def excluding(self, work: Callable[[], T]) -> T:
        """Do `work`, the grader's own, without charging its time to the grade."""
        cpu, wall = time.process_time(), time.monotonic()
        try:
            return work()
        finally:
            self._cpu += time.process_time() - cpu
            self._wall += time.monotonic() - wall
