"""The `gradekit` command: put the verbs together, run the one asked for, return an exit code.

Each verb lives in its own module in `gradekit/commands/` (its options and what it does); this one
only builds the parser from them, dispatches, and turns a usage error into one sentence.

Exit codes: 0 every property passed (with --min-score: the score reached it; for `grade`, `gradescope`
and `init-ci`: the work was done; for `selftest`: the assignment grades well); 1 graded with failures
(a submission that cannot be loaded included; for `selftest`: the assignment does not grade well); 2 a
usage error (unknown assignment, bad option).
"""

from __future__ import annotations

import argparse
import os
import sys
from typing import NoReturn

from gradekit.commands import check, grade, gradescope, init_ci, listing, new, release, selftest
from gradekit.commands.options import EXIT_FAILED, EXIT_PASSED, EXIT_USAGE, Parser, grading_options
from gradekit.errors import GradekitError, UsageError

__all__ = ["EXIT_FAILED", "EXIT_PASSED", "EXIT_USAGE", "build_parser", "main", "run"]


def build_parser() -> argparse.ArgumentParser:
    """The whole command line: the global options, then each verb's sub-parser, in the order --help shows."""
    parser = Parser(prog="gradekit", description="Property-based grading for the cross-entropy course.")
    parser.add_argument(
        "--assignments",
        action="append",
        metavar="DIR",
        help="another folder of assignments (repeatable; also GRADEKIT_ASSIGNMENTS)",
    )
    commands = parser.add_subparsers(dest="command", required=True, parser_class=Parser)
    grading = grading_options()
    check.add_parser(commands, grading)
    grade.add_parser(commands, grading)
    gradescope.add_parser(commands)
    init_ci.add_parser(commands)
    selftest.add_parser(commands, grading)
    listing.add_parser(commands)
    new.add_parser(commands)
    release.add_parser(commands)
    return parser


def run() -> NoReturn:
    """The `gradekit` command: `main`, then an exit that skips taking the interpreter apart.

    Freeing a check's imports and example cache object by object took about 0.1 s, a tenth of a
    whole check, for memory the system takes back at once. By the time `main` returns every report is
    written and closed and every worker stopped; only this process's own output may still be buffered.
    """
    try:
        code = main()
        sys.stdout.flush()
        sys.stderr.flush()
    except BrokenPipeError:  # `gradekit check ... | head`: the reader left before the report ended
        code = EXIT_FAILED
    os._exit(code)


def main(argv: list[str] | None = None) -> int:
    """Parse `argv` (default: the process's arguments), run the verb, and return its exit code; a
    usage error, or any other problem the user can fix, is one sentence on stderr and exit code 2."""
    try:
        args = build_parser().parse_args(argv)
        code: int = args.run(args)
        return code
    except UsageError as error:
        print(f"gradekit: {error}", file=sys.stderr)
        return EXIT_USAGE
    except GradekitError as error:
        print(f"gradekit: {error}", file=sys.stderr)
        return EXIT_USAGE
