"""The `gradekit` command: put the verbs together, run the one asked for, return an exit code.

Each verb lives in its own module in `gradekit/commands/` (its options and what it does); this one
only builds the parser from them, dispatches, and turns a usage error into one sentence.

Exit codes: 0 every property passed (with --min-score: the score reached it; for `grade`, `gradescope`
and `init-ci`: the work was done; for `selftest`: the assignment grades well); 1 graded with failures
(a submission that cannot be loaded included; for `selftest`: the assignment does not grade well); 2 a
usage error (unknown assignment, bad option, a limit the grader cannot honour, a path it cannot write),
found before any grading wherever it can be; 130 or 143 stopped by Ctrl-C or SIGTERM (`grade` resumes
when run again). Global options such as --assignments may come before the
verb or after it.
"""

from __future__ import annotations

import argparse
import gc
import os
import signal
import sys
from collections.abc import Iterator, MutableMapping
from typing import NoReturn

from gradekit import __version__
from gradekit.commands import check, collect, doctor, grade, gradescope, init_ci, listing, new, release, selftest
from gradekit.commands.exit_codes import Exit
from gradekit.commands.options import (
    Parser,
    global_options,
    grading_options,
    joined_global_options,
)
from gradekit.config import BLAS_THREADS
from gradekit.errors import GradekitError, UsageError
from gradekit.reports.inert import console

GC_THRESHOLD = 20_000  # allocations between two of the collector's youngest collections (Python's own: 700)

__all__ = ["Exit", "build_parser", "main", "one_blas_thread", "parse", "run"]


def build_parser() -> argparse.ArgumentParser:
    """The whole command line: the global options, then each verb's sub-parser, in the order --help
    shows; every verb (and `gradescope build`) takes the global options too, where users put them."""
    parser = Parser(prog="gradekit", description="Property-based grading for the cross-entropy course.")
    parser.add_argument("--version", action="version", version=f"gradekit {__version__}")
    global_options(parser)
    commands = parser.add_subparsers(dest="command", required=True, parser_class=Parser)
    grading = grading_options()
    check.add_parser(commands, grading)
    grade.add_parser(commands, grading)
    collect.add_parser(commands, grading)
    gradescope.add_parser(commands)
    init_ci.add_parser(commands)
    selftest.add_parser(commands, grading)
    listing.add_parser(commands)
    new.add_parser(commands)
    release.add_parser(commands)
    doctor.add_parser(commands)
    for verb in list(_verbs(parser)):
        global_options(verb, verb.prog)
    return parser


def parse(argv: list[str] | None = None) -> argparse.Namespace:
    """The command line as the verbs read it: the global options given before and after the verb, joined."""
    return joined_global_options(build_parser().parse_args(argv))


def _verbs(parser: argparse.ArgumentParser) -> Iterator[argparse.ArgumentParser]:
    """Every sub-parser under `parser`, at every depth: `gradescope`, then `gradescope build`."""
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for verb in action.choices.values():
                yield verb
                yield from _verbs(verb)


def run() -> NoReturn:
    """The `gradekit` command: `main`, then an exit that skips taking the interpreter apart.

    Freeing a check's imports and example cache object by object costs a noticeable share of a whole
    check, for memory the system takes back at once. By the time `main` returns every report is
    written and closed and every worker stopped; only this process's own output may still be buffered.

    SIGTERM (sent by `timeout` or a batch scheduler) is taken as Ctrl-C is: a KeyboardInterrupt, which
    carries the signal's number, unwinds through every `finally` that stops a grader or a worker and
    removes a temporary folder; then `main` says so in one line and exits with 128 + that number (130
    for Ctrl-C, 143 for SIGTERM), as a shell reports a command a signal stopped.
    """

    def interrupted(signum: int, frame: object) -> None:
        raise KeyboardInterrupt(signum)

    # A grader allocates a great many small objects that live as long as it does (the recorded
    # examples, Hypothesis's tables, the answers of a grade) and makes few cycles: at the collector's
    # default pace it would scan the long-lived ones again and again to free almost nothing. Its
    # graders, forked from here, keep the same pace.
    gc.set_threshold(GC_THRESHOLD, 20, 20)
    one_blas_thread(os.environ)

    from gradekit.sandbox.stops import stops_kept

    signal.signal(signal.SIGINT, interrupted)
    signal.signal(signal.SIGTERM, interrupted)
    stops_kept(lambda error: error.args[0] if isinstance(error, KeyboardInterrupt) and error.args else None)
    try:
        code = main()
        sys.stdout.flush()
        sys.stderr.flush()
    except BrokenPipeError:  # `gradekit check ... | head`: the reader left before the report ended
        code = Exit.FAILED
    os._exit(code)


def one_blas_thread(environ: MutableMapping[str, str]) -> None:
    """Ask NumPy's BLAS for one thread, unless the user chose a count: it reads this when NumPy is
    first imported, which `gradekit.cli` leaves to the verbs.

    The grader calls no BLAS routine (its NumPy work is element-wise, on a 27 x 27 table or a
    document's logits), yet the thread pool OpenBLAS starts when NumPy is imported costs CPU on every
    check: CPU the sandboxed workers, given one thread each in their own environment, need on a small
    machine."""
    for variable in BLAS_THREADS:
        environ.setdefault(variable, "1")


def main(argv: list[str] | None = None) -> int:
    """Parse `argv` (default: the process's arguments), run the verb, and return its exit code; a
    usage error, or any other problem the user can fix, is one sentence on stderr and exit code 2.
    Stopped (Ctrl-C, or SIGTERM as `run` raises it), it says in one line what a rerun does, and
    returns 128 + the signal's number."""
    args: argparse.Namespace | None = None
    try:
        args = parse(argv)
        _warn_of_shadowing(args)
        code: int = args.run(args)
        return code
    except UsageError as error:
        print(console(f"gradekit: {error}"), file=sys.stderr)
        return Exit.USAGE
    except GradekitError as error:
        print(console(f"gradekit: {error}"), file=sys.stderr)
        return Exit.USAGE
    except KeyboardInterrupt as stop:  # every worker, grader and temporary folder is gone by now
        after = {
            "grade": "; run the same command again to resume",  # finished students' results are kept
            "collect": "; run the same command again to resume",
            "check": "; nothing was written",
            "selftest": "; nothing was written",
        }
        print(f"gradekit: stopped{after.get(args.command if args else '', '')}", file=sys.stderr)
        number = stop.args[0] if stop.args and isinstance(stop.args[0], int) else signal.SIGINT
        return 128 + number


def _warn_of_shadowing(args: argparse.Namespace) -> None:
    """Say on stderr which of the user's assignment folders replaces a built-in assignment of its name.
    Without such folders none can, and the assignments (Hypothesis, NumPy) are not imported here: a
    check starts its worker first, to boot while they are (gradekit.grade_one)."""
    from gradekit.config import built_in_folder, search_path

    extra = getattr(args, "assignments", None)
    if all(folder == built_in_folder() for folder in search_path(extra)):
        return
    from gradekit import assignment
    from gradekit.errors import AssignmentError

    try:
        shadows = assignment.shadowing(extra)
    except AssignmentError:  # a folder that does not exist: the verb says so in its own words
        return
    for folder in shadows:
        print(f"gradekit: {folder} takes the place of the built-in assignment {folder.name!r}", file=sys.stderr)
