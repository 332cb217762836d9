"""How long can one file hold the grader? Every hostile file of tests/hostile, graded at default limits.

Each file is graded with `gradekit check --format json` at the default limits (a 2 s call limit, a
30 s budget for the whole grade) behind the wall this host allows, or the one `--isolation` names;
placeholders in the files are filled with harmless values. Prints, per file, the wall seconds the
check took, the score, and whether a report came back, then the longest. The bound a course can plan
on: on an idle machine, every report comes within a few seconds of the grade's budget, whatever the
file does. Exits 1 if any check gave no report or ran past the budget's wall-clock backstop.

    python benchmarks/hostile_bounds.py [--isolation bubblewrap|landlock|guard] [FILE ...]
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from environment import student_python

ROOT = Path(__file__).resolve().parent.parent
HOSTILE = ROOT / "tests" / "hostile"
PLACEHOLDER = re.compile(r"__([A-Z_]+)__")
BUDGET = 30.0  # the default `--budget`
BACKSTOP = 3 * BUDGET  # its wall-clock backstop (gradekit.engine.budget.WALL_FACTOR)


def filled(source: str, folder: Path) -> str:
    """`source` with every placeholder given a value that makes the attack run, harmlessly."""
    values = {"NAP": "1.9", "SPIN": "0.3", "GRADER_PID": "1", "MARKER": "gradekit-bounds"}
    return PLACEHOLDER.sub(lambda m: values.get(m.group(1), str(folder / m.group(1).lower())), source)


def graded(path: Path, isolation: str | None, folder: Path) -> tuple[float, dict | None]:
    """(wall seconds, the JSON report or None) of one check of `path`."""
    submission = folder / "submission.py"
    submission.write_text(filled(path.read_text(), folder))
    report = folder / "report.json"
    argv = [sys.executable, "-m", "gradekit", "check", str(submission), "--assignment", "cross_entropy"]
    argv += ["--format", "json", "--output", str(report)] + (["--isolation", isolation] if isolation else [])
    started = time.monotonic()
    subprocess.run(argv, capture_output=True, timeout=BACKSTOP + 120, cwd=folder, env=student_python())
    took = time.monotonic() - started
    try:
        return took, json.loads(report.read_text())
    except (OSError, ValueError):
        return took, None


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--isolation", choices=("bubblewrap", "landlock", "guard"))
    parser.add_argument("files", nargs="*", type=Path)
    args = parser.parse_args()
    files = args.files or sorted(HOSTILE.glob("*.py"))
    longest, broken = 0.0, []
    for path in files:
        with tempfile.TemporaryDirectory() as scratch:
            took, report = graded(path, args.isolation, Path(scratch))
        shown = (
            f"{report['score']:g}/{report['max_score']:g} behind {report.get('isolation')}" if report else "no report"
        )
        print(f"{path.name:48} {took:6.1f} s  {shown}", flush=True)
        longest = max(longest, took)
        if report is None or took > BACKSTOP:
            broken.append(path.name)
    print(f"longest: {longest:.1f} s over {len(files)} files (budget {BUDGET:g} s, backstop {BACKSTOP:g} s)")
    if broken:
        print("no report, or past the backstop: " + ", ".join(broken))
    return 1 if broken else 0


if __name__ == "__main__":
    sys.exit(main())
