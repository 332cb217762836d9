"""The `gradekit` command: parse arguments, call the library, pick a writer, return an exit code.

Exit codes: 0 every property passed; 1 graded with failures (a submission that cannot be loaded
included); 2 a usage error (unknown assignment, bad option).
"""
from __future__ import annotations

import argparse
import sys
from dataclasses import replace
from pathlib import Path

from gradekit.config import GradeConfig, Limits
from gradekit.errors import GradekitError, UsageError

EXIT_PASSED, EXIT_FAILED, EXIT_USAGE = 0, 1, 2


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # type: ignore[override]
        raise UsageError(message)


def _positive(kind: type) -> object:
    def parse(text: str) -> object:
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
        if value <= 0:
            raise argparse.ArgumentTypeError(f"{text!r} must be positive")
        return value

    parse.__name__ = kind.__name__
    return parse


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="gradekit", description="Property-based grading for the cross-entropy course.")
    parser.add_argument("--assignments", action="append", metavar="DIR",
                        help="another folder of assignments (repeatable; also GRADEKIT_ASSIGNMENTS)")
    commands = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)

    check = commands.add_parser("check", help="grade one submission")
    check.add_argument("submission", type=Path)
    check.add_argument("--assignment", metavar="NAME", help="the assignment (inferred when left out)")
    check.add_argument("--format", default="text", metavar="FORMAT", help="text or json")
    check.add_argument("--output", type=Path, metavar="FILE", help="write the report here instead of stdout")
    check.add_argument("--seed", type=int, help="Hypothesis seed (default: the assignment's own)")
    check.add_argument("--max-examples", type=_positive(int), default=GradeConfig.max_examples,
                       help="examples per property (default %(default)s)")
    check.add_argument("--timeout", type=_positive(float), default=Limits.call_timeout,
                       help="seconds one call may take (default %(default)s)")
    check.add_argument("--budget", type=_positive(float), default=GradeConfig.check_budget,
                       help="seconds the whole check may take (default %(default)s)")
    check.add_argument("--property-budget", type=_positive(float), default=GradeConfig.property_budget,
                       help="seconds one property may take before it stops drawing (default %(default)s)")
    check.add_argument("--memory", type=_positive(int), default=Limits.memory_bytes // 2**20,
                       metavar="MIB", help="memory cap of the worker in MiB (default %(default)s)")

    commands.add_parser("list", help="show the assignments and their functions")
    return parser


def main(argv: list[str] | None = None) -> int:
    try:
        args = build_parser().parse_args(argv)
        if args.command == "list":
            return _list(args)
        return _check(args)
    except UsageError as error:
        print(f"gradekit: {error}", file=sys.stderr)
        return EXIT_USAGE
    except GradekitError as error:
        print(f"gradekit: {error}", file=sys.stderr)
        return EXIT_USAGE


def _list(args: argparse.Namespace) -> int:
    from gradekit import assignment

    for name, folder in assignment.available(args.assignments).items():
        loaded = assignment.load_folder(folder)
        print(f"{name}: {loaded.title}")
        for spec in loaded.functions.values():
            print(f"  {spec.signature}")
    return EXIT_PASSED


def _check(args: argparse.Namespace) -> int:
    from gradekit.reports import WRITERS

    if args.format not in WRITERS:
        raise UsageError(f"--format {args.format!r} is not one of {', '.join(WRITERS)}")
    config = GradeConfig(seed=args.seed, max_examples=args.max_examples, check_budget=args.budget,
                         property_budget=args.property_budget)
    config = replace(config, limits=replace(config.limits, call_timeout=args.timeout,
                                            memory_bytes=args.memory * 2**20))
    from gradekit.sandbox import Worker

    worker = Worker.started(config.limits, args.assignments)  # it boots while Hypothesis is imported below
    try:
        from gradekit import assignment
        from gradekit.grader import grade

        chosen = assignment.load(args.assignment, args.assignments) if args.assignment else None
        result = grade(args.submission, chosen, config, args.assignments, worker)
    finally:
        worker.stop()
    report = WRITERS[args.format](result)
    if args.output:
        args.output.write_text(report)
    else:
        sys.stdout.write(report)
    return EXIT_PASSED if result.all_passed else EXIT_FAILED
