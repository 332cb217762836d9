"""What one sandboxed worker's start costs the machine, behind each wall.

Every grade starts a worker (and another wherever the submission ends its own), working out the known
mistakes starts one per known-wrong file, and the test suite starts about two thousand: what one
start costs is paid that often. Each start here is a worker started behind the wall, confined, given
a one-line file to load, and stopped: with nothing preloaded (a submission that never names NumPy)
and with NumPy preloaded (one that does). CPU seconds are the machine's own count
(`batch_speed.busy_seconds`), so bubblewrap, the worker, the grader's side and the kernel all count;
run it on an otherwise idle machine. Prints, per wall and kind, the milliseconds of CPU and on the
clock per start, as the median of `--rounds` rounds.

    python benchmarks/worker_start.py [--starts 30] [--rounds 3] [--walls bubblewrap landlock]
"""

from __future__ import annotations

import argparse
import statistics
import time

from batch_speed import busy_seconds

from gradekit.config import Limits
from gradekit.sandbox import Worker

KINDS = {"alone": (), "with NumPy": ("numpy",)}


def starts(wall: str, preload: tuple[str, ...], count: int) -> tuple[float, float]:
    """(CPU ms, clock ms) per start, over `count` starts one after the other."""
    limits = Limits(isolation=wall)
    cpu, clock = busy_seconds(), time.monotonic()
    for _ in range(count):
        with Worker.started(limits, preload=preload) as worker:
            assert worker.load("x = 1\n", "start.py")["ok"]
    return (busy_seconds() - cpu) * 1000 / count, (time.monotonic() - clock) * 1000 / count


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--starts", type=int, default=30)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--walls", nargs="+", default=["bubblewrap", "landlock"])
    args = parser.parse_args()
    print(f"median of {args.rounds} rounds of {args.starts} starts each")
    print(f"{'wall':<12} {'kind':<12} {'CPU ms':>8} {'clock ms':>9}")
    for wall in args.walls:
        starts(wall, (), 2)  # the wall probed, the runtime's files in the page cache
        for kind, preload in KINDS.items():
            rounds = [starts(wall, preload, args.starts) for _ in range(args.rounds)]
            cpu = statistics.median(r[0] for r in rounds)
            clock = statistics.median(r[1] for r in rounds)
            print(f"{wall:<12} {kind:<12} {cpu:>8.1f} {clock:>9.1f}")


if __name__ == "__main__":
    main()
