"""`gradekit list`: show the assignments gradekit can find and the functions each one asks for.

For students and instructors alike: every assignment on the search path (gradekit's own, those in
`--assignments` folders and in GRADEKIT_ASSIGNMENTS) is printed with its title and the signature of
each function a submission must define. The exit code is 0.
"""

from __future__ import annotations

import argparse
from typing import Any

from gradekit.commands.options import EXIT_PASSED


def add_parser(subparsers: argparse._SubParsersAction[Any]) -> argparse.ArgumentParser:
    """Add `list`."""
    listing = subparsers.add_parser("list", help="show the assignments and their functions")
    listing.set_defaults(run=run)
    return listing


def run(args: argparse.Namespace) -> int:
    """Print every assignment found and its functions' signatures."""
    from gradekit import assignment

    for name, folder in assignment.available(args.assignments).items():
        loaded = assignment.load_folder(folder)
        print(f"{name}: {loaded.title}")
        for spec in loaded.functions.values():
            print(f"  {spec.signature}")
    return EXIT_PASSED
