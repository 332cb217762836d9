"""`gradekit check SUBMISSION`: grade one submission and write its report.

For a student checking their own work, and for anything that grades one file at a time (a CI job,
the Gradescope autograder, a notebook's last cell): the submission is graded in a sandboxed worker
and the report is written in the `--format` asked for, to standard output or `--output`. With
`--function NAME` (repeatable) it checks those functions alone, a partial check whose score is theirs
(gradekit.grader.selected), as a student does with the function they have just written. It draws
its inputs from the assignment's public seed, or with `--seed-file` from the course's own, as the
course's grade does (gradekit.course_seed). Its code runs behind the strongest wall this host allows,
down to the Python guard, which suits a student's own check; `--require-sandbox` refuses the guard,
as a grade that counts must (the Gradescope autograder). The exit code is 0 when every property
passed (with `--min-score`, when the score reached it), else 1; 2 for an option it cannot honour,
such as an `--output` that is a folder, found before grading starts, and with `--require-sandbox`
where no OS sandbox works here, before any of the submission's code runs.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import Any

from gradekit.commands.exit_codes import Exit
from gradekit.commands.options import (
    course_config,
    file_to_write,
    grade_config,
    not_negative,
    seed_file_option,
)
from gradekit.config import GradeConfig
from gradekit.errors import GradekitError, UsageError


def add_parser(
    subparsers: argparse._SubParsersAction[Any], grading: argparse.ArgumentParser
) -> argparse.ArgumentParser:
    """Add `check`, with the grading options of `grading`."""
    from gradekit.reports import WRITERS

    check = subparsers.add_parser("check", parents=[grading], help="grade one submission")
    check.add_argument("submission", type=Path, help="a .py file, a .ipynb notebook, or a folder holding one")
    check.add_argument("--assignment", metavar="NAME", help="the assignment (inferred when left out)")
    check.add_argument(
        "--function",
        action="append",
        default=[],
        metavar="NAME",
        help="check only this function's properties, and score them out of its points (repeatable)",
    )
    check.add_argument("--format", default="text", metavar="FORMAT", help="|".join(WRITERS))
    check.add_argument("--output", type=Path, metavar="FILE", help="write the report here instead of stdout")
    check.add_argument(
        "--min-score",
        type=not_negative,
        metavar="POINTS",
        help="exit 0 when the score reaches POINTS, else 1 (default: 0 only when every property passed)",
    )
    check.add_argument(
        "--require-sandbox",
        action="store_true",
        help="grade only in an OS sandbox (bubblewrap, else Landlock), never behind the Python guard alone, "
        "as `grade` does; without one, refuse (exit 2) before any of the submission's code runs",
    )
    seed_file_option(check, "to check one file as the course grades it")
    check.set_defaults(run=run)
    return check


def run(args: argparse.Namespace) -> int:
    """Grade `args.submission`, write the report, and say by the exit code whether it passed."""
    from gradekit.reports import WRITERS

    if args.format not in WRITERS:
        raise UsageError(f"--format {args.format!r} is not one of {', '.join(WRITERS)}")
    if args.output:
        _check_output(args.output, args.submission)
    config = course_config(grade_config(args, _isolation(args)), args)
    if not args.submission.exists() and not args.submission.is_symlink():
        return _missing(args, config)
    from gradekit.grade_one import grade_one

    result = grade_one(args.submission, args.assignment, config, args.assignments, tuple(dict.fromkeys(args.function)))
    report = WRITERS[args.format](result)
    if args.output:
        _write(args.output, report)
    else:
        sys.stdout.write(report)
    if args.format == "github" and os.environ.get("GITHUB_STEP_SUMMARY"):
        from gradekit.reports import github

        try:
            with open(os.environ["GITHUB_STEP_SUMMARY"], "a", encoding="utf-8") as handle:
                handle.write(github.summary(result))
        except OSError as error:
            print(f"gradekit: could not write the job summary: {error}", file=sys.stderr)
    if args.min_score is not None and args.min_score > result.max_score and result.error is None:
        raise UsageError(
            f"--min-score {args.min_score:g} is more than the {result.max_score:g} points this check gives"
        )
    if args.min_score is not None:
        return Exit.PASSED if result.score >= args.min_score else Exit.FAILED
    return Exit.PASSED if result.all_passed else Exit.FAILED


def _missing(args: argparse.Namespace, config: GradeConfig) -> int:
    """A submission path with nothing there: a usage error, said in one sentence; the report, where
    --output names one, is written all the same (a CI step that reads it finds why), and nothing ran."""
    from gradekit.reports import WRITERS
    from gradekit.result import GradeResult

    why = f"{args.submission} does not exist"
    if args.output:
        _write(
            args.output,
            WRITERS[args.format](GradeResult(args.assignment or "unknown", str(args.submission), None, error=why)),
        )
    print(f"gradekit: {why}", file=sys.stderr)
    return Exit.USAGE


def _isolation(args: argparse.Namespace) -> str:
    """What the check asks of the OS sandbox unless --isolation names a wall: the strongest that works,
    down to the guard that suits a student's own check ("auto"), or with --require-sandbox never the
    guard ("require"), which a grade that counts needs."""
    if not args.require_sandbox:
        return "auto"
    if args.no_isolation or args.isolation == "guard":
        given = "--no-isolation" if args.no_isolation else "--isolation guard"
        raise UsageError(f"--require-sandbox and {given} ask for two walls; give one")
    return "require"


def _check_output(output: Path, submission: Path) -> None:
    """Refuse an --output that cannot be written, or that is the submission itself, before grading."""
    file_to_write(output, "--output")
    if output.exists() and submission.exists() and output.samefile(submission):
        raise UsageError(f"--output {output} is the submission itself; name another file for the report")


def _write(output: Path, report: str) -> None:
    """Write the report; a folder or disk that refuses it is one sentence, not a traceback."""
    try:
        output.parent.mkdir(parents=True, exist_ok=True)
        output.write_text(report)
    except OSError as error:
        raise GradekitError(f"could not write the report to {output}: {error.strerror or error}") from None
