"""How long `gradekit check` takes, as a student runs it: a whole process, median of several runs.

Prints, for a correct and a buggy submission of each built-in assignment: the median of cold runs (each
on an empty example cache: a machine that has never run gradekit, where the recordings the assignment
carries are all there is; they are read on a kind of machine that has shipped them, whose floating-point
results are the same, `recorded/FINGERPRINT/`, and elsewhere the cold runs record, and a buggy file's
work out the known mistakes, first, until `python scripts/ship_recordings.py` adds that machine's
folder), then the median, min and max of warm runs, the CPU seconds of a warm run
(grader and worker together: what a busy machine still has to find), and examples per second; and beside
them the floor, starting Python and importing Hypothesis and NumPy (`python -c "import hypothesis,
numpy"`), all timed in the same rounds. The ratios are what to quote: cold over warm (target at most
1.2), warm over the floor and cold over the floor (targets at most 2.5). Each round goes through the
submissions in turn, warm then cold, so everything is compared at the same moments. Each assignment runs
100 examples per property, or fewer where its properties.py says so (cross_entropy: 30 for 24 of its
properties; autograd: 30 for 12; training_step: 30, 25 for three of its whole-step properties and 10 for
the other two and its runs of steps, 5 for linear_lr's run of hundreds of calls; scale properties one,
autograd's 20 and 10).

    python benchmarks/check_speed.py [--runs 7]
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from environment import student_python

ROOT = Path(__file__).resolve().parent.parent
SUBMISSIONS = {
    "correct": ROOT / "examples" / "submission.py",
    "buggy": ROOT / "examples" / "buggy_submission.py",
    "training_step correct": ROOT / "examples" / "training_step_submission.py",
    "training_step buggy": ROOT / "examples" / "training_step_buggy.py",
    "autograd correct": ROOT / "examples" / "autograd_submission.py",
    "autograd buggy": ROOT / "examples" / "autograd_buggy.py",
}


def check(path: Path, cache: str) -> tuple[float, float, dict]:
    """Wall seconds, CPU seconds (the check and its worker) and the JSON report of one whole check."""
    env = {**student_python(), "GRADEKIT_CACHE": cache}
    before = _children_cpu()
    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-m", "gradekit", "check", str(path), "--format", "json"],
        capture_output=True,
        text=True,
        env=env,
    )
    elapsed = time.perf_counter() - started
    if done.returncode not in (0, 1):
        raise SystemExit(f"gradekit check {path} failed: {done.stderr}")
    return elapsed, _children_cpu() - before, json.loads(done.stdout)


def floor() -> float:
    """Wall seconds of starting Python and importing what every check imports first."""
    started = time.perf_counter()
    subprocess.run([sys.executable, "-c", "import hypothesis, numpy"], check=True, env=student_python())
    return time.perf_counter() - started


def cold(path: Path) -> float:
    """Wall seconds of one check on a machine of its own: an empty example cache."""
    with tempfile.TemporaryDirectory() as empty:
        return check(path, empty)[0]


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7)
    runs = parser.parse_args().runs
    with tempfile.TemporaryDirectory() as cache:
        for path in SUBMISSIONS.values():
            check(path, cache)  # what the first checks leave behind, if anything
        # Round by round, every submission in turn: a machine that speeds up or slows down over the
        # minutes (a laptop heating up, a shared VM) then weighs on each alike, not on the last ones.
        rounds, colds, floors = [], [], []
        for _ in range(runs):
            rounds.append({label: check(path, cache) for label, path in SUBMISSIONS.items()})
            colds.append({label: cold(path) for label, path in SUBMISSIONS.items()})
            floors.append(floor())
        base = statistics.median(floors)
        print(f"{'floor':22s} python -c 'import hypothesis, numpy': median {base:.2f} s ({runs} runs)")
        for label in SUBMISSIONS:
            warm = [done[label] for done in rounds]
            first = statistics.median(done[label] for done in colds)
            report = warm[0][2]
            times = [wall for wall, _, _ in warm]
            cpu = statistics.median(seconds for _, seconds, _ in warm)
            examples = sum(t["examples"] for t in report["tests"])
            fewest = min(t["examples"] for t in report["tests"])
            median = statistics.median(times)
            print(
                f"{label:22s} score {report['score']:g}/{report['max_score']:g}  "
                f"cold median {first:.2f} s  warm median {median:.2f} s (min {min(times):.2f}, max {max(times):.2f}, "
                f"{runs} runs), cpu {cpu:.2f} s  {examples} examples, >= {fewest} per property, "
                f"{examples / median:.0f} examples/s; cold/warm {first / median:.2f}, warm/floor {median / base:.2f}, "
                f"cold/floor {first / base:.2f}"
            )


if __name__ == "__main__":
    main()
