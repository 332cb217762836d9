"""`gradekit gradescope build --assignment NAME`: write a Gradescope autograder zip.

For the instructor who grades on Gradescope: the zip holds this gradekit as a wheel, the assignment
when it is not one of gradekit's own, and the `setup.sh` and `run_autograder` scripts Gradescope runs
(see `gradekit.gradescope_bundle`). Upload it as the autograder of a programming assignment. The exit
code is 0 once the zip is written; 2 for a ZIP that is a folder, lies under a file or cannot be written.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from gradekit.commands.options import EXIT_PASSED, Parser, file_to_write
from gradekit.errors import GradekitError


def add_parser(subparsers: argparse._SubParsersAction[Any]) -> argparse.ArgumentParser:
    """Add `gradescope` and its one subcommand, `build`."""
    gradescope = subparsers.add_parser("gradescope", help="Gradescope autograder bundles")
    gradescope_commands = gradescope.add_subparsers(dest="gradescope_command", required=True, parser_class=Parser)
    build = gradescope_commands.add_parser("build", help="write an autograder zip for one assignment")
    build.add_argument("--assignment", metavar="NAME", required=True)
    build.add_argument(
        "--out", type=Path, default=Path("autograder.zip"), metavar="ZIP", help="the zip to write (default %(default)s)"
    )
    build.set_defaults(run=run)
    return gradescope


def run(args: argparse.Namespace) -> int:
    """Write the autograder zip of `args.assignment` to `args.out`."""
    from gradekit import assignment, gradescope_bundle

    file_to_write(args.out, "--out", like="autograder.zip")
    chosen = assignment.load(args.assignment, args.assignments)
    try:
        gradescope_bundle.build(chosen, args.out)
    except OSError as error:
        raise GradekitError(f"could not write {args.out}: {error.strerror or error}") from None
    print(f"wrote {args.out}: upload it as the autograder of a Gradescope programming assignment", file=sys.stderr)
    return EXIT_PASSED
