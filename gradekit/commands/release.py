"""`gradekit release NAME --out DIR`: write what students begin the assignment with.

For the instructor handing out an assignment: DIR gets NAME.py, the function stubs, and NAME.ipynb,
with each function's description and the checks it must pass, a stub cell, and a last cell that runs
`gradekit check` (see `gradekit.instructor.starter`). An instructor's own assignment with public properties also
gets its student build, DIR/assignments/NAME (see `gradekit.instructor.student_build`), and the starters' check
names it, so students run the public properties on their own machines; nothing of the solution is
ever written. The exit code is 0 once everything is written; 2 for a DIR that is a file or lies under
one, or a public.py that would take the solution with it.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from gradekit.commands.exit_codes import Exit
from gradekit.commands.options import folder_to_write
from gradekit.errors import GradekitError

BUILDS = "assignments"  # the folder of DIR that holds the student build


def add_parser(subparsers: argparse._SubParsersAction[Any]) -> argparse.ArgumentParser:
    """Add `release`."""
    release = subparsers.add_parser("release", help="write a starter notebook and .py for students")
    release.add_argument("name", metavar="NAME", help="the assignment")
    release.add_argument("--out", type=Path, required=True, metavar="DIR", help="the folder to write into")
    release.set_defaults(run=run)
    return release


def run(args: argparse.Namespace) -> int:
    """Write the starter files of the assignment `args.name` into `args.out`."""
    from gradekit import assignment
    from gradekit.instructor import student_build
    from gradekit.instructor.starter import release

    folder_to_write(args.out, "--out")
    chosen = assignment.load(args.name, args.assignments)
    public = bool(chosen.public)
    try:
        built = [student_build.write(chosen, args.out / BUILDS)] if public else []
        written = release(chosen, args.out, BUILDS if public else "") + built
    except OSError as error:
        raise GradekitError(f"could not write the starter files into {args.out}: {error.strerror or error}") from None
    for path in written:
        print(f"wrote {path}", file=sys.stderr)
    if public:
        print(
            f"students check with the public properties of {chosen.name} alone; the hidden ones run on the autograder",
            file=sys.stderr,
        )
    elif not chosen.built_in:
        print(
            f"{chosen.name} has no public properties (public.py), so students cannot check their work "
            "themselves: see docs/writing-assignments.md, 'What students see'",
            file=sys.stderr,
        )
    return Exit.PASSED
