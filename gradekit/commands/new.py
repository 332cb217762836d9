"""`gradekit new NAME`: scaffold a new assignment folder that already grades well.

For the instructor starting an assignment: DIR/NAME gets a small but complete assignment from
gradekit's templates (its functions, two properties, a solution, a known-right and two known-wrong
submissions), so `gradekit selftest NAME` passes before the first edit (see `gradekit.instructor.scaffold`).
A bad name, an existing folder, or a DIR that is a file, lies under one or cannot be written is a
usage error (exit code 2). The exit code is 0 once the folder is written.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from gradekit.commands.exit_codes import Exit
from gradekit.commands.options import folder_to_write
from gradekit.errors import GradekitError


def add_parser(subparsers: argparse._SubParsersAction[Any]) -> argparse.ArgumentParser:
    """Add `new`."""
    new = subparsers.add_parser("new", help="scaffold an assignment folder that already grades well")
    new.add_argument("name", help="a lowercase Python identifier, like label_smoothing")
    new.add_argument("--dir", type=Path, default=Path("."), help="where to create it (default: here)")
    new.set_defaults(run=run)
    return new


def run(args: argparse.Namespace) -> int:
    """Create the assignment folder `args.name` in `args.dir`."""
    from gradekit.instructor import scaffold

    folder_to_write(args.dir, "--dir")
    try:
        folder = scaffold.create(args.name, args.dir)
    except OSError as error:
        raise GradekitError(f"could not write the assignment into {args.dir}: {error.strerror or error}") from None
    print(f"wrote {folder}: grade with `gradekit --assignments {args.dir} ...`", file=sys.stderr)
    return Exit.PASSED
