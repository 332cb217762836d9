"""Where the test suite's time goes: the machine's CPU seconds each test costs, by test and by file.

pytest's `--durations` gives each test's seconds on the clock, which under pytest-xdist count the
other test process's work too, and leave out what a test's grader processes and sandboxed workers
spend beside it. Here the suite runs in this one process (`-n 0`), and each test is charged what the
whole machine computed while it ran (every core, every process: its graders, its workers, bubblewrap,
the kernel), read from /proc/stat. The sum is what the suite costs the machine; divided by the cores,
the least time the full suite could take on them, however its tests were handed out. What to make
cheaper next is where the largest figure is. Run it on an otherwise idle machine: the machine's count
holds everything it ran.

    python benchmarks/suite_costs.py [--top 30] [pytest arguments, say tests/engine]
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections import defaultdict
from collections.abc import Generator
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@dataclass(frozen=True)
class Cost:
    test: str  # pytest's node id
    cpu: float  # CPU seconds of the whole machine while the test ran
    wall: float  # seconds on the clock


class Charge:
    """A pytest plugin charging each test what the machine computed while it ran, setup and teardown
    included (a module fixture's work is charged to the test that made it)."""

    def __init__(self) -> None:
        self.costs: list[Cost] = []

    @pytest.hookimpl(hookwrapper=True)
    def pytest_runtest_protocol(self, item: pytest.Item) -> Generator[None, None, None]:
        # Imported once pytest has started: batch_speed imports gradekit, and with it Hypothesis, whose
        # pytest plugin pytest would then find imported before it could rewrite its asserts.
        from batch_speed import busy_seconds

        cpu, wall = busy_seconds(), time.monotonic()
        yield
        self.costs.append(Cost(item.nodeid, busy_seconds() - cpu, time.monotonic() - wall))


def by_file(costs: list[Cost]) -> list[tuple[str, float, float, int]]:
    """Each test file's CPU seconds, seconds on the clock and tests, the costliest first."""
    files: dict[str, list[float]] = defaultdict(lambda: [0.0, 0.0, 0.0])
    for cost in costs:
        totals = files[cost.test.split("::")[0]]
        totals[0] += cost.cpu
        totals[1] += cost.wall
        totals[2] += 1
    return sorted(((name, cpu, wall, int(n)) for name, (cpu, wall, n) in files.items()), key=lambda f: -f[1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--top", type=int, default=30, help="the costliest tests and files shown (default 30)")
    options, arguments = parser.parse_known_args()
    charge = Charge()
    os.chdir(ROOT)
    started = time.monotonic()
    code = pytest.main(["-o", "addopts=", "-p", "no:cacheprovider", "-n", "0", "-q", *arguments], plugins=[charge])
    took = time.monotonic() - started
    costs = charge.costs
    cpu = sum(cost.cpu for cost in costs)
    cores = os.cpu_count() or 1
    print(f"\n{len(costs)} tests: {cpu:,.0f} CPU seconds of the machine, {took:,.0f} s on the clock in one process")
    print(f"on {cores} cores, at least {cpu / cores:,.0f} s however the tests are handed out")
    print(f"\n{'CPU s':>8} {'clock s':>8} {'tests':>6}  file")
    for name, file_cpu, wall, n in by_file(costs)[: options.top]:
        print(f"{file_cpu:8.1f} {wall:8.1f} {n:6d}  {name}")
    print(f"\n{'CPU s':>8} {'clock s':>8}  test")
    for cost in sorted(costs, key=lambda c: -c.cpu)[: options.top]:
        print(f"{cost.cpu:8.1f} {cost.wall:8.1f}  {cost.test}")
    sys.exit(code)


if __name__ == "__main__":
    main()
