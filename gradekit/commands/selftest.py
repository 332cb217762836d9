"""`gradekit selftest NAME`: prove that an assignment grades well before students see it.

For the instructor writing an assignment: the reference and every known-right file must get full
marks, every known-wrong file must lose points on the function it blames, and every grade must come
out the same twice (see `gradekit.instructor.selftest`; `--once` grades each file once, without that proof).
The findings are written as text or JSON; the exit code is 0 when the assignment grades well, else 1.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from gradekit.commands.options import EXIT_FAILED, EXIT_PASSED, grade_config, positive


def add_parser(
    subparsers: argparse._SubParsersAction[Any], grading: argparse.ArgumentParser
) -> argparse.ArgumentParser:
    """Add `selftest`, with the grading options of `grading`."""
    selftest = subparsers.add_parser(
        "selftest", parents=[grading], help="grade an assignment's reference and banks, twice: does it grade well?"
    )
    selftest.add_argument("name", metavar="NAME", help="the assignment")
    selftest.add_argument("--jobs", type=positive(int), metavar="N", help="files graded at once (default: the cores)")
    selftest.add_argument(
        "--once",
        action="store_true",
        help="grade each file once, not twice: half the time, without the proof that a grade repeats",
    )
    selftest.add_argument("--format", default="text", choices=("text", "json"), help="text (default) or json")
    selftest.set_defaults(run=run)
    return selftest


def run(args: argparse.Namespace) -> int:
    """Selftest the assignment `args.name` and write what was found."""
    from gradekit import assignment
    from gradekit.instructor import selftest

    chosen = assignment.load(args.name, args.assignments)
    report = selftest.selftest(
        chosen,
        grade_config(args),
        jobs=args.jobs,
        assignment_dirs=args.assignments,
        progress=sys.stderr,
        repeat=not args.once,
    )
    if args.format == "json":
        sys.stdout.write(json.dumps(report.to_dict(), indent=2) + "\n")
    else:
        sys.stdout.write(selftest.render(report))
    return EXIT_PASSED if report.ok else EXIT_FAILED
