"""Does a busy machine change a grade? The same files graded on an idle machine and on one whose every
core is kept busy by other processes, as a course autograder running many grades at once is.

Grades a correct, a buggy and a right-but-slow submission of each built-in assignment with
`gradekit check --format json`, first on an idle machine, then while 2 busy-looping processes per
core run beside it; compares each pair of JSON reports with every timing left out, and prints each
file's wall seconds both ways and whether its reports are identical. Per-call limits count the
worker's CPU time, so they must be; exits 1 when any pair differs.

    python benchmarks/busy_machine.py [--load-per-core 2]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from environment import student_python

ROOT = Path(__file__).resolve().parent.parent
BANKS = ROOT / "assignments"
FILES = {
    "cross_entropy correct": ROOT / "examples" / "submission.py",
    "cross_entropy buggy": ROOT / "examples" / "buggy_submission.py",
    "cross_entropy slow": BANKS / "cross_entropy" / "known_slow" / "quadratic_softmax.py",
    "training_step correct": ROOT / "examples" / "training_step_submission.py",
    "training_step buggy": ROOT / "examples" / "training_step_buggy.py",
    "training_step slow": BANKS / "training_step" / "known_slow" / "quadratic_bigram_grad.py",
}


def check(path: Path, cache: str) -> tuple[float, dict]:
    """Wall seconds and the JSON report of one whole `gradekit check`, timings left out."""
    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-m", "gradekit", "check", str(path), "--format", "json"],
        capture_output=True,
        text=True,
        env={**student_python(), "GRADEKIT_CACHE": cache},
    )
    elapsed = time.perf_counter() - started
    if done.returncode not in (0, 1):
        raise SystemExit(f"gradekit check {path} failed: {done.stderr}")
    return elapsed, without_timings(json.loads(done.stdout))


def without_timings(report: dict) -> dict:
    report.pop("seconds", None)
    for test in report["tests"]:
        test.pop("seconds", None)
    return report


@contextmanager
def busy(per_core: int) -> Iterator[int]:
    """`per_core` busy-looping processes per core, for as long as the block runs."""
    count = per_core * (os.cpu_count() or 1)
    loops = [subprocess.Popen([sys.executable, "-c", "while True: pass"]) for _ in range(count)]
    try:
        yield count
    finally:
        for loop in loops:
            loop.kill()
            loop.wait()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--load-per-core", type=int, default=2)
    args = parser.parse_args()
    files = {label: path for label, path in FILES.items() if path.exists()}
    with tempfile.TemporaryDirectory() as cache:
        for path in files.values():  # the examples are recorded once, before anything is timed
            check(path, cache)
        idle = {label: check(path, cache) for label, path in files.items()}
        with busy(args.load_per_core) as loops:
            loaded = {label: check(path, cache) for label, path in files.items()}
    print(f"{loops} busy-looping processes on {os.cpu_count()} cores beside the loaded runs")
    print(f"{'file':<24} {'score':>6} {'idle s':>7} {'busy s':>7} {'ratio':>6}  reports")
    differ = []
    for label in files:
        (idle_s, idle_report), (busy_s, busy_report) = idle[label], loaded[label]
        same = idle_report == busy_report
        if not same:
            differ.append(label)
        verdict = "identical" if same else "DIFFER"
        print(
            f"{label:<24} {idle_report['score']:>6g} {idle_s:>7.2f} {busy_s:>7.2f} {busy_s / idle_s:>6.2f}  {verdict}"
        )
    if differ:
        print(f"A busy machine changed the reports of: {', '.join(differ)}")
        raise SystemExit(1)
    print("Every report is identical, timings aside, idle and busy.")


if __name__ == "__main__":
    main()
