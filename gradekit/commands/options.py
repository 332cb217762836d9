"""What several verbs share: the parser class, option types, grading options, paths to write, exit codes.

`Parser` raises `UsageError` instead of printing and exiting, so `gradekit.cli.main` reports every
bad option as one sentence with exit code 2. `grading_options` is the parent parser of `check`,
`grade` and `selftest`, and `grade_config` turns what it parsed into a `GradeConfig`. The option
types refuse, as a usage error, any value the grader cannot honour (NaN, infinity, a memory cap no
worker starts under, more examples than a grade can hold), so that such a setting never shows up
later as a grade that blames the student. `seed_file_option` and `course_config` give `check` and
`grade` the course's own seed (gradekit.course_seed). `file_to_write` and `folder_to_write` refuse a
path the command could not write to, before any grading starts.
"""

from __future__ import annotations

import argparse
import math
import os
import sys
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import NoReturn, TypeVar

from gradekit import course_seed
from gradekit.config import GradeConfig, Limits
from gradekit.errors import UsageError

# Every example's drawn inputs are recorded, cached and held in memory while a grade replays them: the
# cross-entropy assignment's recording took 45 MB on disk and the check 0.37 GB of memory at 1,000
# examples per property (7 MB and 0.1 GB at the default 100), so ten times more would outgrow the cache
# file's cap and be recorded again at every check.
MAX_EXAMPLES = 1000
# The smallest address space (RLIMIT_AS) a worker is given: measured, a worker running plain Python
# graded a right file fully from 24 MiB, one importing NumPy from 108 MiB; below that, a right
# submission would be told it ran out of memory.
MIN_MEMORY_MIB = 128
# The largest cap: an address space past 2**63 bytes cannot be set at all, and no grade needs a tebibyte.
MAX_MEMORY_MIB = 2**20
# Where a verb's parser stores a global option given after the verb (see `global_options`).
AFTER_VERB = "given after "

Number = TypeVar("Number", int, float)


class Parser(argparse.ArgumentParser):
    """An argument parser whose errors are `UsageError`s, for `gradekit.cli.main` to report."""

    def error(self, message: str) -> NoReturn:
        raise UsageError(message)


def positive(kind: type[Number]) -> Callable[[str], Number]:
    """An option type: `kind(text)`, which must be a finite number above 0 (a limit of NaN or infinity
    would never end a call, a property or a check)."""

    def parse(text: str) -> Number:
        value = _number(kind, text)
        if value <= 0:
            raise argparse.ArgumentTypeError(f"{text!r} must be positive")
        return value

    parse.__name__ = kind.__name__
    return parse


def not_negative(text: str) -> float:
    """An option type: a finite float of 0 or more."""
    value = _number(float, text)
    if value < 0:
        raise argparse.ArgumentTypeError(f"{text!r} must be 0 or more")
    return value


def examples(text: str) -> int:
    """The --max-examples type: a whole number from 1 to MAX_EXAMPLES."""
    value = positive(int)(text)
    if value > MAX_EXAMPLES:
        raise argparse.ArgumentTypeError(
            f"{value} is more than {MAX_EXAMPLES}, the most a grade can hold: "
            "every example's inputs are recorded and kept in memory"
        )
    return value


def memory(text: str) -> int:
    """The --memory type: whole MiB, from MIN_MEMORY_MIB to MAX_MEMORY_MIB."""
    value = positive(int)(text)
    if value < MIN_MEMORY_MIB:
        raise argparse.ArgumentTypeError(
            f"{value} MiB is less than the {MIN_MEMORY_MIB} MiB a worker needs to start Python and import NumPy"
        )
    if value > MAX_MEMORY_MIB:
        raise argparse.ArgumentTypeError(f"{value} MiB is more than {MAX_MEMORY_MIB} MiB (1 TiB), the largest cap")
    return value


def _number(kind: type[Number], text: str) -> Number:
    """`kind(text)`, refused unless it is a finite number."""
    try:
        value = kind(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if math.isnan(value):
        raise argparse.ArgumentTypeError(f"{text!r} is not a number")
    if math.isinf(value):
        raise argparse.ArgumentTypeError(f"{text!r} is not a finite number")
    return value


def global_options(parser: argparse.ArgumentParser, verb: str | None = None) -> None:
    """Add the options every verb takes, to the top parser (`verb` None) or to the parser of `verb`,
    so that `gradekit selftest NAME --assignments DIR` means what `gradekit --assignments DIR selftest
    NAME` does.

    argparse parses a verb's options into a namespace of its own, then copies it over the top one: a
    verb's --assignments stored under the same name would replace the folders given before the verb.
    So each parser stores them under a name of its own, and `joined_global_options` puts them together.
    """
    parser.add_argument(
        "--assignments",
        action="append",
        metavar="DIR",
        dest="assignments" if verb is None else f"{AFTER_VERB}{verb}",
        default=None if verb is None else argparse.SUPPRESS,
        help="another folder of assignments (repeatable, before or after the command; also GRADEKIT_ASSIGNMENTS)",
    )


def joined_global_options(args: argparse.Namespace) -> argparse.Namespace:
    """`args` with every --assignments folder in `args.assignments`, in the order given (None if none)."""
    folders = list(args.assignments or [])
    for name in [name for name in vars(args) if name.startswith(AFTER_VERB)]:
        folders += getattr(args, name)
        delattr(args, name)
    args.assignments = folders or None
    return args


def grading_options() -> argparse.ArgumentParser:
    """The options of one grade, shared by `check`, `grade` and `selftest`."""
    options = Parser(add_help=False)
    options.add_argument(
        "--seed",
        type=int,
        metavar="N",
        help="a public Hypothesis seed, shown in the report (default: the assignment's own; grade: the course seed)",
    )
    options.add_argument(
        "--max-examples",
        type=examples,
        default=GradeConfig.max_examples,
        metavar="N",
        help=f"examples per property, at most {MAX_EXAMPLES}: each one's inputs are recorded and kept "
        "in memory (default %(default)s)",
    )
    options.add_argument(
        "--timeout",
        type=positive(float),
        default=Limits.call_timeout,
        metavar="SECONDS",
        help="seconds of CPU time one call may use (default %(default)s)",
    )
    options.add_argument(
        "--budget",
        type=positive(float),
        default=GradeConfig.check_budget,
        metavar="SECONDS",
        help="seconds the whole check may spend, the grader's CPU time and the worker's computing or blocked "
        "(a wall-clock backstop of three times as long ends it on a busy machine) (default %(default)s)",
    )
    options.add_argument(
        "--property-budget",
        type=positive(float),
        default=GradeConfig.property_budget,
        metavar="SECONDS",
        help="seconds of CPU time one property may use before it stops drawing (default %(default)s)",
    )
    options.add_argument(
        "--memory",
        type=memory,
        default=Limits.memory_bytes // 2**20,
        metavar="MIB",
        help=f"memory cap of the worker in MiB, from {MIN_MEMORY_MIB} (a worker that imports NumPy needs "
        f"about 110) to {MAX_MEMORY_MIB} (default %(default)s)",
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
        "--isolation",
        choices=("bubblewrap", "landlock", "guard"),
        help="run the submission's code behind this wall only (default: the strongest this host allows; "
        "`gradekit doctor` says which); `grade` and `check --require-sandbox` never run behind the Python guard "
        "unless told",
    )
    options.add_argument(
        "--no-isolation",
        action="store_true",
        help="run the submission's code without the OS sandbox, behind the Python guard alone (--isolation guard)",
    )
    return options


def grade_config(args: argparse.Namespace, isolation: str = "auto") -> GradeConfig:
    """The grading options as a config; `isolation` is what the command asks of the OS sandbox
    unless --isolation or --no-isolation name a wall. A setting that cannot be honoured is a usage
    error, now."""
    from gradekit.sandbox.isolation import candidates, run_as_ids

    run_as_ids(args.run_as)
    config = GradeConfig(
        seed=args.seed, max_examples=args.max_examples, check_budget=args.budget, property_budget=args.property_budget
    )
    mode = _isolation(args, isolation)
    candidates(mode, args.run_as)
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


def _isolation(args: argparse.Namespace, default: str) -> str:
    """What the command line asks of the OS sandbox (see gradekit.sandbox.isolation)."""
    if args.no_isolation and args.isolation not in (None, "guard"):
        raise UsageError(f"--no-isolation and --isolation {args.isolation} ask for two walls; give one")
    if args.no_isolation or args.isolation == "guard":
        return "off"
    return args.isolation or default


def seed_file_option(parser: argparse.ArgumentParser, what: str) -> None:
    """Add --seed-file; `what` says what the command does with the file it names."""
    parser.add_argument(
        "--seed-file",
        type=Path,
        metavar="FILE",
        help=f"grade with the course seed kept in FILE, which no report shows; {what} (also {course_seed.VARIABLE})",
    )


def seed_file(given: Path | None) -> Path | None:
    """The course's seed file: --seed-file, else the one $GRADEKIT_SEED_FILE names; None where neither does."""
    named = given or os.environ.get(course_seed.VARIABLE)
    return Path(named) if named else None


def course_config(config: GradeConfig, args: argparse.Namespace, keep: Path | None = None) -> GradeConfig:
    """`config` with the course's own seed, from --seed-file or $GRADEKIT_SEED_FILE; where neither names
    one, from `keep` (grade's RESULTS_DIR/course-seed, its folder made here), else the assignment's
    public seed. --seed wins over the variable and is refused beside --seed-file: both name the seed.

    Only a command given `keep` makes a seed file that is missing, saying where on stderr: a class
    grade has a course seed to keep, while a check of one file against a file that is not there was
    given a wrong name.
    """
    if args.seed is not None and args.seed_file is not None:
        raise UsageError("--seed and --seed-file both name the seed to grade with; give one of them")
    if args.seed is not None:
        return config
    path = seed_file(args.seed_file) or keep
    if path is None:
        return config
    if keep is None:
        return replace(config, seed=course_seed.read(path), course_seed=True)
    if path == keep:
        keep.parent.mkdir(parents=True, exist_ok=True)
    seed, made = course_seed.kept(path)
    if made:
        print(
            f"gradekit: made the course seed in {path}, readable by you alone: keep it, as grading with it "
            "again gives the same reports",
            file=sys.stderr,
        )
    return replace(config, seed=seed, course_seed=True)


def file_to_write(path: Path, option: str, like: str = "report.json") -> Path:
    """`path`, checked before any work as a file `option` can write: not a folder, nor under a file.

    A file that cannot be written would otherwise end a command with a traceback after all its work.
    The refusal suggests `like` inside the folder given, a name of the kind the command writes.
    """
    if path.is_dir():
        raise UsageError(f"{option} {path} is a folder; name a file to write, like {path / like}")
    _under_a_folder(path, option)
    return path


def folder_to_write(path: Path, option: str) -> Path:
    """`path`, checked before any work as a folder `option` can write into: not a file, nor under one."""
    if path.exists() and not path.is_dir():
        raise UsageError(f"{option} {path} is a file; name a folder to write into")
    _under_a_folder(path, option)
    return path


def _under_a_folder(path: Path, option: str) -> None:
    """Refuse `path` when the nearest of its parents that exists is not a folder (`notes.txt/report.json`)."""
    existing = next((parent for parent in path.parents if parent.exists()), None)
    if existing is not None and not existing.is_dir():
        raise UsageError(f"{option} {path} cannot be written: {existing} is a file, not a folder")
