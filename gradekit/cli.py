"""The `gradekit` command: parse arguments, call the library, pick a writer, return an exit code.

Exit codes: 0 every property passed (with --min-score: the score reached it; for `grade`, `gradescope`
and `init-ci`: the work was done; for `selftest`: the assignment grades well); 1 graded with failures
(a submission that cannot be loaded included; for `selftest`: the assignment does not grade well); 2 a
usage error (unknown assignment, bad option).
"""
from __future__ import annotations

import argparse
import json
import os
import sys
from dataclasses import replace
from pathlib import Path
from typing import NoReturn

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


def _not_negative(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if not value >= 0:
        raise argparse.ArgumentTypeError(f"{text!r} must be 0 or more")
    return value


def _grading_options() -> argparse.ArgumentParser:
    """The options of one grade, shared by `check`, `grade` and `selftest`."""
    options = _Parser(add_help=False)
    options.add_argument("--seed", type=int, help="Hypothesis seed (default: the assignment's own)")
    options.add_argument("--max-examples", type=_positive(int), default=GradeConfig.max_examples,
                         help="examples per property (default %(default)s)")
    options.add_argument("--timeout", type=_positive(float), default=Limits.call_timeout,
                         help="seconds one call may take (default %(default)s)")
    options.add_argument("--budget", type=_positive(float), default=GradeConfig.check_budget,
                         help="seconds the whole check may take (default %(default)s)")
    options.add_argument("--property-budget", type=_positive(float), default=GradeConfig.property_budget,
                         help="seconds one property may take before it stops drawing (default %(default)s)")
    options.add_argument("--memory", type=_positive(int), default=Limits.memory_bytes // 2**20,
                         metavar="MIB", help="memory cap of the worker in MiB (default %(default)s)")
    options.add_argument("--cell-timeout", type=_positive(float), default=Limits.cell_timeout,
                         metavar="SECONDS", help="seconds one notebook cell may run (default %(default)s)")
    options.add_argument("--run-as", metavar="USER",
                         help="run the submission's code as this user (the grader must run as root)")
    options.add_argument("--no-isolation", action="store_true",
                         help="run the submission's code without the OS sandbox (bubblewrap), behind the "
                              "Python guard alone; `grade` refuses to run without the sandbox unless told this")
    return options


def build_parser() -> argparse.ArgumentParser:
    from gradekit.reports import WRITERS

    formats = "|".join(WRITERS)
    parser = _Parser(prog="gradekit", description="Property-based grading for the cross-entropy course.")
    parser.add_argument("--assignments", action="append", metavar="DIR",
                        help="another folder of assignments (repeatable; also GRADEKIT_ASSIGNMENTS)")
    commands = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)
    grading = _grading_options()

    check = commands.add_parser("check", parents=[grading], help="grade one submission")
    check.add_argument("submission", type=Path, help="a .py file, a .ipynb notebook, or a folder holding one")
    check.add_argument("--assignment", metavar="NAME", help="the assignment (inferred when left out)")
    check.add_argument("--format", default="text", metavar="FORMAT", help=formats)
    check.add_argument("--output", type=Path, metavar="FILE", help="write the report here instead of stdout")
    check.add_argument("--min-score", type=_not_negative, metavar="POINTS",
                       help="exit 0 when the score reaches POINTS, else 1 (default: 0 only when every property passed)")

    grade = commands.add_parser("grade", parents=[grading], help="grade a whole class's submissions")
    grade.add_argument("submissions", type=Path, metavar="SUBMISSIONS_DIR",
                       help="one .py/.ipynb file or one folder per student")
    grade.add_argument("--assignment", metavar="NAME", required=True)
    grade.add_argument("--out", type=Path, required=True, metavar="RESULTS_DIR",
                       help="gradebook.csv, summary.md, feedback/ and results/ go here; rerun to resume")
    grade.add_argument("--jobs", type=_positive(int), metavar="N", help="students graded at once (default: the cores)")
    grade.add_argument("--feedback", default="markdown", choices=("markdown", "text"),
                       help="format of each student's feedback file (default %(default)s)")

    gradescope = commands.add_parser("gradescope", help="Gradescope autograder bundles")
    gradescope_commands = gradescope.add_subparsers(dest="gradescope_command", required=True, parser_class=_Parser)
    build = gradescope_commands.add_parser("build", help="write an autograder zip for one assignment")
    build.add_argument("--assignment", metavar="NAME", required=True)
    build.add_argument("--out", type=Path, default=Path("autograder.zip"), metavar="ZIP",
                       help="the zip to write (default %(default)s)")

    ci = commands.add_parser("init-ci", help="write a GitHub Actions workflow that grades a student repository")
    ci.add_argument("--dir", type=Path, default=Path("."), metavar="REPO", help="the repository (default: here)")
    ci.add_argument("--submission", metavar="PATH",
                    help="the file to grade, relative to the repository (default: the one .py/.ipynb found)")
    ci.add_argument("--assignment", metavar="NAME", help="the assignment (inferred when left out)")
    ci.add_argument("--min-score", type=_not_negative, metavar="POINTS",
                    help="fail the job below this score (default: unless every property passes)")
    ci.add_argument("--install", metavar="SPEC", help="what pip installs (default: gradekit==this version)")

    selftest = commands.add_parser("selftest", parents=[grading],
                                   help="grade an assignment's reference and banks, twice: does it grade well?")
    selftest.add_argument("name", metavar="NAME", help="the assignment")
    selftest.add_argument("--jobs", type=_positive(int), metavar="N", help="files graded at once (default: the cores)")
    selftest.add_argument("--format", default="text", choices=("text", "json"), help="text (default) or json")

    commands.add_parser("list", help="show the assignments and their functions")

    new = commands.add_parser("new", help="scaffold an assignment folder that already grades well")
    new.add_argument("name", help="a lowercase Python identifier, like label_smoothing")
    new.add_argument("--dir", type=Path, default=Path("."), help="where to create it (default: here)")

    release = commands.add_parser("release", help="write a starter notebook and .py for students")
    release.add_argument("name", metavar="NAME", help="the assignment")
    release.add_argument("--out", type=Path, required=True, metavar="DIR", help="the folder to write into")
    return parser


def run() -> NoReturn:
    """The `gradekit` command: `main`, then an exit that skips taking the interpreter apart.

    Freeing a check's imports and example cache object by object took about 0.1 s, a tenth of a
    whole check, for memory the system takes back at once. By the time `main` returns every report is
    written and closed and every worker stopped; only this process's own output may still be buffered.
    """
    try:
        code = main()
        sys.stdout.flush()
        sys.stderr.flush()
    except BrokenPipeError:  # `gradekit check ... | head`: the reader left before the report ended
        code = EXIT_FAILED
    os._exit(code)


def main(argv: list[str] | None = None) -> int:
    try:
        args = build_parser().parse_args(argv)
        if args.command == "list":
            return _list(args)
        if args.command == "grade":
            return _grade(args)
        if args.command == "gradescope":
            return _gradescope_build(args)
        if args.command == "init-ci":
            return _init_ci(args)
        if args.command == "new":
            return _new(args)
        if args.command == "release":
            return _release(args)
        if args.command == "selftest":
            return _selftest(args)
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


def _config(args: argparse.Namespace, isolation: str = "auto") -> GradeConfig:
    """The grading options as a config; `isolation` is what the command asks of the OS sandbox
    unless --no-isolation turns it off. A setting that cannot be honoured is a usage error, now."""
    from gradekit.sandbox.process import run_as_ids, sandbox_missing

    run_as_ids(args.run_as)
    config = GradeConfig(seed=args.seed, max_examples=args.max_examples, check_budget=args.budget,
                         property_budget=args.property_budget)
    mode = "off" if args.no_isolation else isolation
    sandbox_missing(mode)
    return replace(config, limits=replace(config.limits, call_timeout=args.timeout, memory_bytes=args.memory * 2**20,
                                          cell_timeout=args.cell_timeout, run_as=args.run_as, isolation=mode))


def _check(args: argparse.Namespace) -> int:
    from gradekit.reports import WRITERS

    if args.format not in WRITERS:
        raise UsageError(f"--format {args.format!r} is not one of {', '.join(WRITERS)}")
    config = _config(args)
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
        args.output.parent.mkdir(parents=True, exist_ok=True)
        args.output.write_text(report)
    else:
        sys.stdout.write(report)
    if args.format == "github" and os.environ.get("GITHUB_STEP_SUMMARY"):
        from gradekit.reports import github

        try:
            with open(os.environ["GITHUB_STEP_SUMMARY"], "a", encoding="utf-8") as handle:
                handle.write(github.summary(result))
        except OSError as error:
            print(f"gradekit: could not write the job summary: {error}", file=sys.stderr)
    if args.min_score is not None:
        return EXIT_PASSED if result.score >= args.min_score else EXIT_FAILED
    return EXIT_PASSED if result.all_passed else EXIT_FAILED


def _grade(args: argparse.Namespace) -> int:
    from gradekit import assignment, batch

    if not args.submissions.is_dir():
        raise UsageError(f"{args.submissions} is not a folder of submissions")
    chosen = assignment.load(args.assignment, args.assignments)
    summary = batch.grade_all(args.submissions, chosen, args.out, _config(args, "require"), jobs=args.jobs,
                              feedback=args.feedback, assignment_dirs=args.assignments)
    print(summary, file=sys.stderr)
    return EXIT_PASSED


def _gradescope_build(args: argparse.Namespace) -> int:
    from gradekit import assignment, gradescope_bundle

    chosen = assignment.load(args.assignment, args.assignments)
    gradescope_bundle.build(chosen, args.out)
    print(f"wrote {args.out}: upload it as the autograder of a Gradescope programming assignment", file=sys.stderr)
    return EXIT_PASSED


def _init_ci(args: argparse.Namespace) -> int:
    from gradekit import github_workflow

    path = github_workflow.write_workflow(args.dir, submission=args.submission, assignment=args.assignment,
                             min_score=args.min_score, install=args.install)
    print(f"wrote {path}", file=sys.stderr)
    return EXIT_PASSED


def _new(args: argparse.Namespace) -> int:
    from gradekit import scaffold

    folder = scaffold.create(args.name, args.dir)
    print(f"wrote {folder}: grade with `gradekit --assignments {args.dir} ...`", file=sys.stderr)
    return EXIT_PASSED


def _release(args: argparse.Namespace) -> int:
    from gradekit import assignment
    from gradekit.starter import release

    for path in release(assignment.load(args.name, args.assignments), args.out):
        print(f"wrote {path}", file=sys.stderr)
    return EXIT_PASSED


def _selftest(args: argparse.Namespace) -> int:
    from gradekit import assignment, selftest

    chosen = assignment.load(args.name, args.assignments)
    report = selftest.selftest(chosen, _config(args), jobs=args.jobs, assignment_dirs=args.assignments,
                               progress=sys.stderr)
    if args.format == "json":
        sys.stdout.write(json.dumps(report.to_dict(), indent=2) + "\n")
    else:
        sys.stdout.write(selftest.render(report))
    return EXIT_PASSED if report.ok else EXIT_FAILED
