"""What several verbs share: the parser class, option types, grading options and exit codes.

`Parser` raises `UsageError` instead of printing and exiting, so `gradekit.cli.main` reports every
bad option as one sentence with exit code 2. `grading_options` is the parent parser of `check`,
`grade` and `selftest`, and `grade_config` turns what it parsed into a `GradeConfig`.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from dataclasses import replace
from typing import NoReturn, TypeVar

from gradekit.config import GradeConfig, Limits
from gradekit.errors import UsageError

EXIT_PASSED, EXIT_FAILED, EXIT_USAGE = 0, 1, 2

Number = TypeVar("Number", int, float)


class Parser(argparse.ArgumentParser):
    """An argument parser whose errors are `UsageError`s, for `gradekit.cli.main` to report."""

    def error(self, message: str) -> NoReturn:
        raise UsageError(message)


def positive(kind: type[Number]) -> Callable[[str], Number]:
    """An option type: `kind(text)`, which must be above 0."""

    def parse(text: str) -> Number:
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
        if value <= 0:
            raise argparse.ArgumentTypeError(f"{text!r} must be positive")
        return value

    parse.__name__ = kind.__name__
    return parse


def not_negative(text: str) -> float:
    """An option type: a float of 0 or more (NaN is refused)."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if not value >= 0:
        raise argparse.ArgumentTypeError(f"{text!r} must be 0 or more")
    return value


def grading_options() -> argparse.ArgumentParser:
    """The options of one grade, shared by `check`, `grade` and `selftest`."""
    options = Parser(add_help=False)
    options.add_argument("--seed", type=int, help="Hypothesis seed (default: the assignment's own)")
    options.add_argument(
        "--max-examples",
        type=positive(int),
        default=GradeConfig.max_examples,
        help="examples per property (default %(default)s)",
    )
    options.add_argument(
        "--timeout",
        type=positive(float),
        default=Limits.call_timeout,
        help="seconds of CPU time one call may use (default %(default)s)",
    )
    options.add_argument(
        "--budget",
        type=positive(float),
        default=GradeConfig.check_budget,
        help="wall-clock seconds the whole check may take (default %(default)s)",
    )
    options.add_argument(
        "--property-budget",
        type=positive(float),
        default=GradeConfig.property_budget,
        help="seconds of CPU time one property may use before it stops drawing (default %(default)s)",
    )
    options.add_argument(
        "--memory",
        type=positive(int),
        default=Limits.memory_bytes // 2**20,
        metavar="MIB",
        help="memory cap of the worker in MiB (default %(default)s)",
    )
    options.add_argument(
        "--cell-timeout",
        type=positive(float),
        default=Limits.cell_timeout,
        metavar="SECONDS",
        help="seconds of CPU time one notebook cell may use (default %(default)s)",
    )
    options.add_argument(
        "--run-as", metavar="USER", help="run the submission's code as this user (the grader must run as root)"
    )
    options.add_argument(
        "--no-isolation",
        action="store_true",
        help="run the submission's code without the OS sandbox (bubblewrap), behind the "
        "Python guard alone; `grade` refuses to run without the sandbox unless told this",
    )
    return options


def grade_config(args: argparse.Namespace, isolation: str = "auto") -> GradeConfig:
    """The grading options as a config; `isolation` is what the command asks of the OS sandbox
    unless --no-isolation turns it off. A setting that cannot be honoured is a usage error, now."""
    from gradekit.sandbox.process import run_as_ids, sandbox_missing

    run_as_ids(args.run_as)
    config = GradeConfig(
        seed=args.seed, max_examples=args.max_examples, check_budget=args.budget, property_budget=args.property_budget
    )
    mode = "off" if args.no_isolation else isolation
    sandbox_missing(mode)
    return replace(
        config,
        limits=replace(
            config.limits,
            call_timeout=args.timeout,
            memory_bytes=args.memory * 2**20,
            cell_timeout=args.cell_timeout,
            run_as=args.run_as,
            isolation=mode,
        ),
    )
