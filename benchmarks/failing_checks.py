"""How long a failing `gradekit check` takes, beside the floor: every known-wrong file of the banks.

Students run `gradekit check` most while their code is still wrong, so the figure that matters is a
failing check's, over every kind of mistake the banks know. Each known-wrong file of each built-in
assignment is checked as a whole process, warm (the example cache kept), and the floor, starting
Python and importing Hypothesis and NumPy, is timed between them, in the same rounds. Prints per
assignment the median and the largest check over the floor's median, then the slowest files.
Targets: a median of at most 2.5 times the floor, and no file over 5 times.

    python benchmarks/failing_checks.py [--rounds 1] [--assignment NAME] [--slowest 5]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
from pathlib import Path

from check_speed import check, floor

from gradekit import assignment

NAMES = ("cross_entropy", "training_step", "autograd")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=1)
    parser.add_argument("--assignment", choices=NAMES, action="append")
    parser.add_argument("--slowest", type=int, default=5)
    args = parser.parse_args()
    files = [(name, path) for name in args.assignment or NAMES for path in assignment.load(name).known("known_wrong")]
    seconds: dict[tuple[str, Path], list[float]] = {file: [] for file in files}
    floors = []
    with tempfile.TemporaryDirectory() as cache:
        for name in args.assignment or NAMES:
            check(assignment.load(name).solution, cache)  # the recordings, as on a student's second check
        for _ in range(args.rounds):
            for file in files:
                seconds[file].append(check(file[1], cache)[0])
                floors.append(floor())
    base = statistics.median(floors)
    print(f"floor: python -c 'import hypothesis, numpy': median {base:.2f} s ({len(floors)} runs)")
    ratios = {file: statistics.median(times) / base for file, times in seconds.items()}
    for name in args.assignment or NAMES:
        own = [ratio for (of, _), ratio in ratios.items() if of == name]
        print(
            f"{name:14s} {len(own)} known-wrong files: median {statistics.median(own):.2f}x the floor, "
            f"largest {max(own):.2f}x, {sum(r > 5 for r in own)} over 5x"
        )
    every = sorted(ratios.items(), key=lambda item: -item[1])
    print(f"all: median {statistics.median(ratios.values()):.2f}x the floor; slowest:")
    for (name, path), ratio in every[: args.slowest]:
        print(f"  {ratio:5.2f}x  {name}/known_wrong/{path.name}")


if __name__ == "__main__":
    main()
