"""Write the recordings the built-in assignments carry (assignments/NAME/recorded/), so a first check
is as fast as the next: run it after changing an assignment, gradekit's strategies or the worker's
protocol, or after upgrading Hypothesis, NumPy or Python, when tests/test_shipped_recordings.py says
a recording is stale.

    python scripts/ship_recordings.py
"""

from __future__ import annotations

from gradekit import assignment, runner


def main() -> None:
    for name in ("cross_entropy", "training_step"):
        path = runner.ship(assignment.load(name))
        print(f"wrote {path} ({path.stat().st_size / 1024:.0f} KiB)")


if __name__ == "__main__":
    main()
