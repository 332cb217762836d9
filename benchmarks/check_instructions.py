"""How much work a warm `gradekit check` asks of the grader, counted in instructions: a figure a busy or
drifting machine does not move, for changes too small for wall-clock time to show.

Runs each correct example's check once to warm the example cache, then again under valgrind's
callgrind, which counts the instructions the grader process executes (not its sandboxed worker's: valgrind
does not follow a child), and counts the floor, `python -c "import hypothesis, numpy"`, the same way.
Prints each count, the check's over the floor's, and what the check asks beyond the floor. Two runs of
one tree agree to about 0.1%; to weigh a change, run this in the tree before it and after it.

Instructions are not time. Reading a file or waiting on the worker costs time and few instructions, and
callgrind's CPU has no SHA instructions, so SHA-256 counts for several times what it costs on a CPU that
has them. What this measures well is the grader's own Python: its imports, its calls and its checks.
Both the check and the floor run with one BLAS thread, as the `gradekit` command asks for itself: an
idle thread pool is not work. Needs valgrind; each count takes about a minute.

    python benchmarks/check_instructions.py [--submission examples/submission.py ...]
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
import tempfile
from pathlib import Path

from check_speed import SUBMISSIONS as TIMED
from environment import student_python

from gradekit.config import BLAS_THREADS

SUBMISSIONS = [path for label, path in TIMED.items() if label.endswith("correct")]  # check_speed's correct ones


def instructions(argv: list[str], environment: dict[str, str]) -> int:
    """The instructions the process `argv` executes, every thread of it, as callgrind counts them."""
    with tempfile.TemporaryDirectory() as scratch:
        done = subprocess.run(
            ["valgrind", "--tool=callgrind", f"--callgrind-out-file={scratch}/out", *argv],
            capture_output=True,
            text=True,
            env=environment,
        )
    counted = re.search(r"Collected : (\d+)", done.stderr)
    if counted is None:
        raise SystemExit(f"callgrind counted nothing for {' '.join(argv)}: {done.stderr[-500:]}")
    return int(counted.group(1))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--submission", type=Path, action="append", help="a submission to check (repeatable)")
    submissions = parser.parse_args().submission or SUBMISSIONS
    with tempfile.TemporaryDirectory() as cache:
        environment = {**student_python(), **dict.fromkeys(BLAS_THREADS, "1"), "GRADEKIT_CACHE": cache}
        floor = instructions([sys.executable, "-c", "import hypothesis, numpy"], environment)
        print(f"{'floor':28s} {floor / 1e9:6.3f} G instructions")
        for path in submissions:
            check = [sys.executable, "-m", "gradekit", "check", str(path)]
            subprocess.run(check, capture_output=True, env=environment)  # warms the example cache
            counted = instructions(check, environment)
            print(
                f"{path.name:28s} {counted / 1e9:6.3f} G instructions, {counted / floor:.2f}x the floor, "
                f"{(counted - floor) / 1e9:.3f} G beyond it"
            )


if __name__ == "__main__":
    main()
