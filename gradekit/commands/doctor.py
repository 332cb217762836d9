"""`gradekit doctor [--run-as USER] [--format text|json]`: what this host offers the sandbox, and how to add
what it lacks.

For the admin of a course server, a Gradescope image or a cluster node, before grading on it: which
wall student code would run behind (bubblewrap, Landlock, or the Python guard alone), found by starting
a worker behind each as `--run-as USER` would run it, and for each wall not used, why not and by what;
the Landlock ABI the kernel offers (and GRADEKIT_LANDLOCK_ABI's cap, where one is set) and what it
limits: below ABI 6 (Linux 6.12) there are no signal and abstract-socket scopes, and the seccomp filter
alone keeps a worker's signals home; then the seccomp filter, whether USER can read the interpreter,
the clocks time limits count, swap and the BLAS thread count (gradekit.sandbox.host). One line per
check, each gap followed by its remedy in one sentence; `--format json` writes the same as
`{"isolation": WALL, "checks": [{"name", "status", "found", "remedy"}, ...]}`. The exit code is 0 where
a sandbox (bubblewrap or Landlock) works, 1 where only the guard does or nothing at all, and 2 for a
usage error (`--run-as` a user that does not exist, or without root; a GRADEKIT_LANDLOCK_ABI that is no
ABI version).
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import asdict
from typing import Any

from gradekit.commands.exit_codes import Exit


def add_parser(subparsers: argparse._SubParsersAction[Any]) -> argparse.ArgumentParser:
    """Add `doctor`."""
    doctor = subparsers.add_parser(
        "doctor", help="check what this host offers the sandbox, and how to add what it lacks"
    )
    doctor.add_argument(
        "--run-as",
        metavar="USER",
        help="start the workers as USER, as `check --run-as USER` would (the grader must be root)",
    )
    doctor.add_argument("--format", default="text", choices=("text", "json"), help="text (default) or json")
    doctor.set_defaults(run=run)
    return doctor


def run(args: argparse.Namespace) -> int:
    """Run every check of the host and print them; 0 where student code would run in a sandbox."""
    from gradekit.sandbox import host, isolation, landlock

    isolation.run_as_ids(args.run_as)  # a user that does not exist, or a grader that is not root: exit 2
    landlock.cap()  # a cap that is no ABI version: exit 2
    used, checks = host.checks(args.run_as, args.assignments)
    if args.format == "json":
        found = {"isolation": used.value if used else None, "checks": [asdict(check) for check in checks]}
        sys.stdout.write(json.dumps(found, indent=2) + "\n")
    else:
        for check in checks:
            print(f"{check.status:<8} {check.name:<16} {check.found}")
            if check.remedy:
                print(f"{'':<8} {'':<16} remedy: {check.remedy}")
    return Exit.PASSED if used in host.SANDBOXES else Exit.FAILED
