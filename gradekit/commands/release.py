"""`gradekit release NAME --out DIR`: write the starter files students begin the assignment from.

For the instructor handing out an assignment: DIR gets NAME.py, the function stubs, and NAME.ipynb,
with each function's description and the checks it must pass, a stub cell, and a last cell that runs
`gradekit check` (see `gradekit.starter`); nothing of the solution is written. The exit code is 0
once both are written; 2 for a DIR that is a file or lies under one.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from gradekit.commands.options import EXIT_PASSED, folder_to_write
from gradekit.errors import GradekitError


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
    from gradekit.starter import release

    folder_to_write(args.out, "--out")
    chosen = assignment.load(args.name, args.assignments)
    try:
        written = release(chosen, args.out)
    except OSError as error:
        raise GradekitError(f"could not write the starter files into {args.out}: {error.strerror or error}") from None
    for path in written:
        print(f"wrote {path}", file=sys.stderr)
    return EXIT_PASSED
