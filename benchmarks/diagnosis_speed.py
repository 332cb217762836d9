"""What a diagnosis adds to a failing check: the diagnosis step timed inside the grade, and the same
buggy files graded with it and without it.

Grades, in this process and round by round so both meet the same machine, each built-in assignment's
buggy example with the diagnosis on and off (`GradeConfig(diagnose=...)`), the known mistakes'
answers already at hand as on any machine (the built-in assignments carry them). Prints per file the
median seconds of the diagnosis step itself (loading the file afresh, the failing functions' probe
calls, the comparisons; target well under 0.2 s), of the whole grade with it and without it, and the
diagnosis made. The whole grades differ by the step and by this machine's noise.

    python benchmarks/diagnosis_speed.py [--runs 5]
"""

from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path
from typing import Any

import gradekit.grader
from gradekit import assignment
from gradekit.config import GradeConfig, Limits
from gradekit.diagnosis import mistakes
from gradekit.grader import grade
from gradekit.result import GradeResult

ROOT = Path(__file__).resolve().parent.parent
FILES = {
    "cross_entropy": ROOT / "examples" / "buggy_submission.py",
    "training_step": ROOT / "examples" / "training_step_buggy.py",
}


STEPS: list[float] = []  # seconds of each diagnosis step, as the grade took it
_step = gradekit.grader._diagnosis


def _timed_step(*args: Any) -> Any:
    started = time.perf_counter()
    found = _step(*args)
    STEPS.append(time.perf_counter() - started)
    return found


def timed(path: Path, name: str, diagnose: bool) -> tuple[float, GradeResult]:
    started = time.perf_counter()
    result = grade(path, assignment.load(name), GradeConfig(diagnose=diagnose))
    return time.perf_counter() - started, result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    runs = parser.parse_args().runs
    for name in FILES:
        mistakes.bank(assignment.load(name), Limits())  # at hand, as the assignment carries it
    gradekit.grader._diagnosis = _timed_step
    seconds: dict[tuple[str, bool], list[float]] = {(name, on): [] for name in FILES for on in (True, False)}
    steps: dict[str, list[float]] = {name: [] for name in FILES}
    results = {}
    for round_ in range(runs):
        for name, path in FILES.items():
            for on in (True, False) if round_ % 2 else (False, True):  # neither always goes first
                STEPS.clear()
                elapsed, results[name, on] = timed(path, name, on)
                seconds[name, on].append(elapsed)
                steps[name] += STEPS if on else []
    for name in FILES:
        with_it, without = (statistics.median(seconds[name, on]) for on in (True, False))
        made = ", ".join(f"{d.function}: {d.source} ({d.agreement[0]} probes)" for d in results[name, True].diagnosis)
        print(
            f"{name:14} diagnosis step {statistics.median(steps[name]):.3f} s (max {max(steps[name]):.3f}); "
            f"whole grade {with_it:.2f} s with it, {without:.2f} s without (median of {runs}); "
            f"diagnosed: {made or 'nothing'}"
        )


if __name__ == "__main__":
    main()
