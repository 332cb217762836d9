"""`gradekit gradescope build --assignment NAME`: write a Gradescope autograder zip.

For the instructor who grades on Gradescope: the zip holds this gradekit as a wheel, the assignment
when it is not one of gradekit's own, the course seed every submission is graded with, and the
`setup.sh` and `run_autograder` scripts Gradescope runs (see `gradekit.instructor.gradescope_bundle`). Upload it
as the autograder of a programming assignment. The course seed is a new one for each zip unless
`--seed-file` (or $GRADEKIT_SEED_FILE) names the course's, made there if missing (gradekit.course_seed).
The exit code is 0 once the zip is written; 2 for a ZIP that is a folder, lies under a file or cannot
be written, a seed file that cannot be read or holds no integer, or an assignment whose solution
does not get full marks (graded first: nothing is written).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from gradekit import course_seed
from gradekit.commands.exit_codes import Exit
from gradekit.commands.options import Parser, file_to_write, seed_file
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
    build.add_argument(
        "--seed-file",
        type=Path,
        metavar="FILE",
        help="grade with the course seed kept in FILE, made there if missing (default: a new seed for this zip; "
        "also GRADEKIT_SEED_FILE)",
    )
    build.set_defaults(run=run)
    return gradescope


def run(args: argparse.Namespace) -> int:
    """Write the autograder zip of `args.assignment` to `args.out`."""
    from gradekit import assignment
    from gradekit.instructor import gradescope_bundle

    file_to_write(args.out, "--out", like="autograder.zip")
    chosen = assignment.load(args.assignment, args.assignments)
    kept = seed_file(args.seed_file)
    seed, made = course_seed.kept(kept) if kept is not None else (course_seed.fresh(), True)
    try:
        gradescope_bundle.build(chosen, args.out, seed, args.assignments)
    except OSError as error:
        raise GradekitError(f"could not write {args.out}: {error.strerror or error}") from None
    print(
        f"wrote {args.out}, grading with the course seed {_origin(kept, made)}: upload it as the autograder "
        "of a Gradescope programming assignment",
        file=sys.stderr,
    )
    return Exit.PASSED


def _origin(kept: Path | None, made: bool) -> str:
    """Where the bundle's course seed comes from, for the one line `build` prints: a seed made for one
    zip is lost with it, so a rebuild without --seed-file grades on other inputs."""
    if kept is None:
        return "made for this zip alone (--seed-file FILE keeps one for every build)"
    return f"{'made now in' if made else 'kept in'} {kept}"
