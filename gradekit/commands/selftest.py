"""`gradekit selftest NAME`: prove that an assignment grades well before students see it.

For the instructor writing an assignment: the reference and every known-right file must get full
marks, every known-wrong file must lose points on the function it blames, and every grade must come
out the same twice (see `gradekit.instructor.selftest`; `--once` grades each file once, without that proof).
The findings are written as text or JSON; the exit code is 0 when the assignment grades well, else 1.

With `--mutants` it runs a mutation campaign instead (see `gradekit.instructor.mutation`): every small
change cosmic-ray can make to the solution, graded, and each one that keeps full marks run against the
solution on the inputs of the assignment's inputs.py. `--mutants-out FILE` also writes it as JSON, to
keep beside a release. The exit code is 0 when no blind spot is found (every mutant killed or likely
equivalent), else 1; 2 without cosmic-ray installed.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from gradekit.commands.exit_codes import Exit
from gradekit.commands.options import file_to_write, grade_config, positive
from gradekit.errors import UsageError


def add_parser(
    subparsers: argparse._SubParsersAction[Any], grading: argparse.ArgumentParser
) -> argparse.ArgumentParser:
    """Add `selftest`, with the grading options of `grading`."""
    selftest = subparsers.add_parser(
        "selftest", parents=[grading], help="grade an assignment's reference and banks, twice: does it grade well?"
    )
    selftest.add_argument("name", metavar="NAME", help="the assignment")
    selftest.add_argument(
        "--jobs", type=positive(int), metavar="N", help="files graded at once (default: one more than the cores)"
    )
    selftest.add_argument(
        "--once",
        action="store_true",
        help="grade each file once, not twice: half the time, without the proof that a grade repeats",
    )
    selftest.add_argument("--format", default="text", choices=("text", "json"), help="text (default) or json")
    selftest.add_argument(
        "--mutants",
        action="store_true",
        help="run a mutation campaign instead: grade every mutant cosmic-ray makes of the solution, and every "
        "slip real code makes (an argument read as its default, a length cut, a loop that skips its last item, "
        "a cache keyed by id, a Value where a number is due), and run each one that keeps full marks against the "
        "solution on the inputs of inputs.py (needs gradekit[mutation])",
    )
    selftest.add_argument(
        "--mutant-kinds",
        default="all",
        choices=("all", "operators", "slips"),
        help="with --mutants: both kinds (default), cosmic-ray's operators alone, or the slips alone",
    )
    selftest.add_argument(
        "--mutant-inputs",
        type=positive(int),
        default=300,
        metavar="N",
        help="with --mutants: inputs drawn per function for the run against the solution (default %(default)s)",
    )
    selftest.add_argument(
        "--mutants-out", type=Path, metavar="FILE", help="with --mutants: also write the campaign as JSON to FILE"
    )
    selftest.set_defaults(run=run)
    return selftest


def run(args: argparse.Namespace) -> int:
    """Selftest the assignment `args.name` and write what was found."""
    from gradekit import assignment
    from gradekit.instructor import selftest

    if args.mutants_out is not None and not args.mutants:
        raise UsageError("--mutants-out writes a mutation campaign: give --mutants too")
    if args.mutant_kinds != "all" and not args.mutants:
        raise UsageError("--mutant-kinds narrows a mutation campaign: give --mutants too")
    if args.mutants:
        return _campaign(args)
    chosen = assignment.load(args.name, args.assignments)
    report = selftest.selftest(
        chosen,
        grade_config(args),
        jobs=args.jobs,
        assignment_dirs=args.assignments,
        progress=sys.stderr,
        repeat=not args.once,
    )
    if args.format == "json":
        sys.stdout.write(json.dumps(report.to_dict(), indent=2) + "\n")
    else:
        sys.stdout.write(selftest.render(report))
    return Exit.PASSED if report.ok else Exit.FAILED


def _campaign(args: argparse.Namespace) -> int:
    """Run the mutation campaign of `args.name` and write what was found."""
    from gradekit import assignment
    from gradekit.instructor import mutation

    if args.mutants_out is not None:
        file_to_write(args.mutants_out, "--mutants-out", like="mutation.json")
    chosen = assignment.load(args.name, args.assignments)
    report = mutation.campaign(
        chosen,
        grade_config(args),
        jobs=args.jobs,
        assignment_dirs=args.assignments,
        inputs=args.mutant_inputs,
        progress=sys.stderr,
        kinds=args.mutant_kinds,
    )
    found = json.dumps(report.to_dict(), indent=2) + "\n"
    if args.mutants_out is not None:
        args.mutants_out.write_text(found)
        print(f"wrote {args.mutants_out}", file=sys.stderr)
    if args.format == "json":
        sys.stdout.write(found)
    else:
        parameters = {n: spec.parameters for n, spec in {**chosen.functions, **chosen.harness_functions}.items()}
        sys.stdout.write(mutation.render(report, parameters))
    return Exit.PASSED if report.ok else Exit.FAILED
