"""`gradekit list [--details NAME]`: show the assignments gradekit can find and the functions each one asks for.

For students and instructors alike: every assignment on the search path (gradekit's own, those in
`--assignments` folders and in GRADEKIT_ASSIGNMENTS) is printed with its title and the signature of
each function a submission must define. With `--details NAME`, one assignment's whole contract: what
holds for every function, then each function's signature, its docstring (its arguments, what it must
return, the conventions it is graded on) and the checks that grade it, with their points and hints
(see `gradekit.instructor.contracts`), and what a submission may import (gradekit.sandbox.packages). The
exit code is 0; 2 for an assignment that cannot be found.
"""

from __future__ import annotations

import argparse
from typing import Any

from gradekit.commands.exit_codes import Exit

DETAILS_HINT = "gradekit list --details NAME shows each function's contract"


def add_parser(subparsers: argparse._SubParsersAction[Any]) -> argparse.ArgumentParser:
    """Add `list`."""
    listing = subparsers.add_parser("list", help="show the assignments and their functions")
    listing.add_argument(
        "--details",
        metavar="NAME",
        help="show each function of assignment NAME with its contract: arguments, what it returns, "
        "the conventions it is graded on, and its checks",
    )
    listing.set_defaults(run=run)
    return listing


def run(args: argparse.Namespace) -> int:
    """Print every assignment found and its functions' signatures, or with --details one assignment's contract."""
    from gradekit import assignment
    from gradekit.instructor import contracts
    from gradekit.sandbox import packages

    if args.details is not None:
        chosen = assignment.load(args.details, args.assignments)
        print(contracts.text(chosen), end="")
        print(f"\nA submission may import {packages.offered(packages.declared(chosen.folder))}; nothing else.")
        return Exit.PASSED
    for name, folder in assignment.available(args.assignments).items():
        loaded = assignment.load_folder(folder)
        print(f"{name}: {loaded.title}")
        for spec in loaded.functions.values():
            print(f"  {spec.signature}")
    print(f"\n{DETAILS_HINT}")
    return Exit.PASSED
