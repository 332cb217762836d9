"""How much a student has to read: each failed block of the text report, and the whole report.

Grades every known-wrong file of each built-in assignment, as a student runs `gradekit check`, and
prints per assignment: the number of failed blocks, the median and maximum characters per block, the
median and maximum count of numbers shown per block, and the median and maximum characters of the
whole text report. A block is what the text report prints for one property that failed (its
heading, message, calls, answers, differences and hint); numbers are counted in the lines that show
values, so not in the heading (the property's points) nor in the hint (the same fixed sentence for
every student). Targets, per assignment: a median of at most 300 characters and 4 numbers per
block; a median of at most 1,200 characters per whole report, and none over 2,500.

    python benchmarks/feedback_size.py [--assignment NAME] [--worst 3]
"""

from __future__ import annotations

import argparse
import re
import statistics
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from environment import student_python

from gradekit.reports import json_report, text
from gradekit.result import FAULTS, GradeResult, PropertyResult

ROOT = Path(__file__).resolve().parent.parent
ASSIGNMENTS = ("cross_entropy", "training_step", "autograd")
NUMBER = re.compile(r"(?<![\w.])[-+]?(?:\d+\.?\d*|\.\d+)(?:e[-+]?\d+)?(?![\w.])", re.IGNORECASE)


def grade(path: Path, assignment: str) -> GradeResult:
    """The JSON report of one whole `gradekit check`, read back as the text report would show it (a
    NaN answer a NaN, not the string JSON writes it as): run from the root with the file's path from
    there, as a student names the file beside them, so the report is no longer for it."""
    done = subprocess.run(
        [sys.executable, "-m", "gradekit", "check", str(path.relative_to(ROOT)), "--assignment", assignment]
        + ["--format", "json"],
        capture_output=True,
        text=True,
        env=student_python(),
        cwd=ROOT,
    )
    if done.returncode not in (0, 1):
        raise SystemExit(f"gradekit check {path} failed: {done.stderr}")
    return GradeResult.from_dict(json_report.loads(done.stdout))


def numbers_shown(lines: list[str]) -> int:
    """The numbers in a block's lines that show values: not its heading, not its hint."""
    shown = [line for line in lines[1:] if not line.strip().startswith("hint:")]
    return sum(len(NUMBER.findall(line)) for line in shown)


def measure(test: PropertyResult) -> tuple[int, int, str]:
    lines = text.block(test)
    shown = "\n".join(lines)
    return len(shown), numbers_shown(lines), shown


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--assignment", choices=ASSIGNMENTS, action="append")
    parser.add_argument("--worst", type=int, default=1, help="print this many of the longest blocks")
    options = parser.parse_args()
    for assignment in options.assignment or ASSIGNMENTS:
        files = sorted((ROOT / "assignments" / assignment / "known_wrong").glob("*.py"))
        with ThreadPoolExecutor(max_workers=2) as pool:
            results = list(pool.map(grade, files, [assignment] * len(files)))
        blocks = [measure(t) for r in results for t in r.tests if t.status in FAULTS]
        sizes, counts = [b[0] for b in blocks], [b[1] for b in blocks]
        reports = [len(text.render(r)) for r in results]
        print(
            f"{assignment}: {len(files)} known-wrong files, {len(blocks)} failed blocks; characters per block "
            f"median {statistics.median(sizes):.0f}, max {max(sizes)}; numbers per block median "
            f"{statistics.median(counts):.0f}, max {max(counts)}; characters per report median "
            f"{statistics.median(reports):.0f}, max {max(reports)}"
        )
        for size, count, shown in sorted(blocks, key=lambda b: -b[0])[: options.worst]:
            print(f"--- {size} characters, {count} numbers:\n{shown}\n")


if __name__ == "__main__":
    main()
