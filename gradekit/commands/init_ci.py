"""`gradekit init-ci`: write a GitHub Actions workflow that grades a student's repository.

For a course whose students hand in through GitHub: the workflow written to
`.github/workflows/gradekit.yml` installs gradekit, grades the submission on every push with failures
annotated on the functions that broke them, keeps a JUnit report, and fails the job below
`--min-score` (see `gradekit.github_workflow`). The exit code is 0 once the workflow is written.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from gradekit.commands.options import EXIT_PASSED, not_negative


def add_parser(subparsers: argparse._SubParsersAction[Any]) -> argparse.ArgumentParser:
    """Add `init-ci`."""
    ci = subparsers.add_parser("init-ci", help="write a GitHub Actions workflow that grades a student repository")
    ci.add_argument("--dir", type=Path, default=Path("."), metavar="REPO", help="the repository (default: here)")
    ci.add_argument(
        "--submission",
        metavar="PATH",
        help="the file to grade, relative to the repository (default: the one .py/.ipynb found)",
    )
    ci.add_argument("--assignment", metavar="NAME", help="the assignment (inferred when left out)")
    ci.add_argument(
        "--min-score",
        type=not_negative,
        metavar="POINTS",
        help="fail the job below this score (default: unless every property passes)",
    )
    ci.add_argument("--install", metavar="SPEC", help="what pip installs (default: gradekit==this version)")
    ci.set_defaults(run=run)
    return ci


def run(args: argparse.Namespace) -> int:
    """Write the workflow into the repository `args.dir`."""
    from gradekit import github_workflow

    path = github_workflow.write_workflow(
        args.dir, submission=args.submission, assignment=args.assignment, min_score=args.min_score, install=args.install
    )
    print(f"wrote {path}", file=sys.stderr)
    return EXIT_PASSED
