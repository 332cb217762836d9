"""What a diagnosis adds to a failing check: the diagnosis step timed inside the grade, and the same
failing files graded with it and without it.

Grades, in this process and round by round so both meet the same machine, each built-in assignment's
buggy example, and the cross_entropy example with a mistake no known one explains (its loss doubled:
every model is tried, then its answers digested for the class summary), with the diagnosis on and off
(`GradeConfig(diagnose=...)`), alternating which goes first, the known mistakes' answers already at
hand as on any machine (the built-in assignments carry them). Prints per file the median seconds of
the diagnosis step itself (loading the file afresh, the failing functions' probe calls, the
comparisons; target well under 0.2 s), of the whole grade with it and without it, what it adds and
its share of the grade, and the diagnosis made. The whole grades differ by the step and by this
machine's noise.

    python benchmarks/diagnosis_speed.py [--runs 5]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
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
FILES = {  # a label: (the assignment, the failing file)
    "cross_entropy": ("cross_entropy", ROOT / "examples" / "buggy_submission.py"),
    "training_step": ("training_step", ROOT / "examples" / "training_step_buggy.py"),
    "autograd": ("autograd", ROOT / "examples" / "autograd_buggy.py"),
}
RIGHT_LOSS = "    return log_sum_exp - logits[true_id]\n"


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


def unknown_mistake(folder: Path) -> Path:
    """The cross_entropy example with its loss doubled, a mistake no known one explains."""
    source = (ROOT / "examples" / "submission.py").read_text()
    assert RIGHT_LOSS in source
    path = folder / "doubled_loss.py"
    path.write_text(source.replace(RIGHT_LOSS, "    return 2 * (log_sum_exp - logits[true_id])\n"))
    return path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    runs = parser.parse_args().runs
    with tempfile.TemporaryDirectory() as folder:
        files = {**FILES, "unknown mistake": ("cross_entropy", unknown_mistake(Path(folder)))}
        measure(files, runs)


def measure(files: dict[str, tuple[str, Path]], runs: int) -> None:
    """Grade each file `runs` times with the diagnosis and as often without, and print the medians."""
    for name, _ in files.values():
        mistakes.bank(assignment.load(name), Limits())  # at hand, as the assignment carries it
    gradekit.grader._diagnosis = _timed_step
    seconds: dict[tuple[str, bool], list[float]] = {(label, on): [] for label in files for on in (True, False)}
    steps: dict[str, list[float]] = {label: [] for label in files}
    results = {}
    for round_ in range(runs):
        for label, (name, path) in files.items():
            for on in (True, False) if round_ % 2 else (False, True):  # neither always goes first
                STEPS.clear()
                elapsed, results[label, on] = timed(path, name, on)
                seconds[label, on].append(elapsed)
                steps[label] += STEPS if on else []
    for label in files:
        with_it, without = (statistics.median(seconds[label, on]) for on in (True, False))
        result = results[label, True]
        made = ", ".join(f"{d.function}: {d.source} ({d.agreement[0]} probes)" for d in result.diagnosis)
        digested = ", ".join(result.unexplained)
        print(
            f"{label:15} diagnosis step {statistics.median(steps[label]):.3f} s (max {max(steps[label]):.3f}); "
            f"whole grade {with_it:.2f} s with it, {without:.2f} s without (median of {runs}): "
            f"{with_it - without:+.2f} s, {(with_it - without) / without:+.0%}; "
            f"diagnosed: {made or 'nothing'}; unexplained: {digested or 'nothing'}"
        )


if __name__ == "__main__":
    main()
