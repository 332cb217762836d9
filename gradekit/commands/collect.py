"""`gradekit collect ROSTER --deadline WHEN --out DIR [--assignment NAME]`: a class's repositories at the deadline.

For a course that hands out a git repository per student: ROSTER names each student's repository (a
CSV file with the columns id, name, repository and, optionally, tag); each is fetched and its tree at
the deadline (the last commit of the default branch at or before it, by committer date, or the
row's tag) written to DIR/submissions/ID (see `gradekit.batch.collect`). DIR also gets
`repositories/` (the bare clones, fetched again by a later run), `roster.csv` (id, name, submission,
shared: the roster a class grade reads), `collected.csv` (each student's commit and its date, or why
they are missing) and `pinned.json` (the commit each student was first collected at after the
deadline, which a later run keeps unless `--recollect ID` or `--recollect-all` says otherwise). With
`--assignment`, the class is then graded into DIR/results as `gradekit grade` grades it, with the
same options, and each result's provenance names its commit.

A repository that cannot be fetched, or has nothing at the deadline, is a student missing, with the
reason, never a failed command. The exit code is `grade`'s where it grades, else 0 once everything
is written; 2 for a roster that cannot be read, a deadline without its time zone, a DIR that is a
file, a pins file that cannot be read, or a `--recollect` id that is not on the roster.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from gradekit.commands import grade
from gradekit.commands.exit_codes import Exit
from gradekit.commands.options import Parser, folder_to_write, grading_options, positive, seed_file_option
from gradekit.errors import UsageError
from gradekit.reports.inert import console

SUBMISSIONS, CLONES, RESULTS = "submissions", "repositories", "results"
ROSTER, MANIFEST, PINS = "roster.csv", "collected.csv", "pinned.json"
OWN = frozenset({"run", "command", "out", "submissions", "assignment", "roster"})  # not handed to grade as given


def add_parser(
    subparsers: argparse._SubParsersAction[Any], grading: argparse.ArgumentParser
) -> argparse.ArgumentParser:
    """Add `collect`, with the grading options of `grading`, which it grades with."""
    collect = subparsers.add_parser(
        "collect",
        parents=[grading],
        help="fetch each student's git repository as it stood at the deadline, and grade it",
    )
    collect.add_argument(
        "roster", type=Path, metavar="ROSTER", help="a CSV file: id, name, repository (a URL or a path), optional tag"
    )
    collect.add_argument(
        "--deadline",
        required=True,
        metavar="WHEN",
        help="ISO 8601 with its time zone, such as 2026-05-01T23:59:00+02:00: the last commit at or before it counts",
    )
    collect.add_argument(
        "--out",
        type=Path,
        required=True,
        metavar="DIR",
        help=f"{SUBMISSIONS}/, {CLONES}/, {ROSTER}, {MANIFEST} and, with --assignment, {RESULTS}/ go here",
    )
    collect.add_argument(
        "--recollect",
        action="append",
        default=[],
        metavar="ID",
        help=f"take the student's commit at the deadline as it is now, not the one pinned in DIR/{PINS} (repeatable)",
    )
    collect.add_argument("--recollect-all", action="store_true", help="--recollect every student of the roster")
    collect.add_argument(
        "--allow-local",
        type=Path,
        metavar="FOLDER",
        help="collect local repositories (paths, file:// URLs) lying below FOLDER; none is collected without it",
    )
    collect.add_argument(
        "--assignment", metavar="NAME", help="grade what was collected into DIR/results, as `grade` does"
    )
    collect.add_argument(
        "--jobs", type=positive(int), metavar="N", help="students graded at once (default: one more than the cores)"
    )
    collect.add_argument("--dask", metavar="ADDRESS", help="grade on the Dask cluster whose scheduler is at ADDRESS")
    collect.add_argument("--feedback", default="markdown", choices=("markdown", "text"), help="as for `grade`")
    seed_file_option(collect, "made there if missing (default: DIR/results/course-seed)")
    collect.set_defaults(run=run)
    return collect


def run(args: argparse.Namespace) -> int:
    """Collect every repository of the roster into `args.out`, then grade them where `--assignment` says so."""
    from gradekit.batch import collect, pins

    deadline = collect.parse_deadline(args.deadline)
    folder_to_write(args.out, "--out")
    repositories = collect.read_repositories(args.roster)
    recollect = _recollected(args, [r.id for r in repositories])
    pinned = pins.read_pins(args.out / PINS)
    graded = _grade_args(args) if args.assignment is not None else None
    print(
        f"gradekit: collecting {len(repositories)} repositories at {collect.utc(deadline)} into {args.out}",
        file=sys.stderr,
    )
    collected = collect.collect(
        repositories, deadline, args.out / SUBMISSIONS, args.out / CLONES, pinned, recollect, args.allow_local
    )
    pins.write_pins(args.out / PINS, {**pinned, **{c.repository.id: c.pin for c in collected if c.pin is not None}})
    collect.write_roster(args.out / ROSTER, collected)
    collect.write_manifest(args.out / MANIFEST, collected)
    missing = [c for c in collected if c.reason is not None]
    for student in missing:
        print(console(f"gradekit: {student.repository.id} is missing: {student.reason}"), file=sys.stderr)
    for student in collected:
        if student.changed is not None:
            again = "" if student.repository.id in recollect else f"; --recollect {student.repository.id} takes it"
            print(console(f"gradekit: {student.repository.id}: {student.changed}{again}"), file=sys.stderr)
        if student.shared is not None:
            print(console(f"gradekit: {student.repository.id}: {student.shared}"), file=sys.stderr)
    print(
        f"gradekit: {len(collected) - len(missing)} of {len(collected)} collected into {args.out / SUBMISSIONS} "
        f"(commits in {args.out / MANIFEST})",
        file=sys.stderr,
    )
    if graded is None:
        print(
            f"gradekit: grade them with: gradekit grade {args.out / SUBMISSIONS} --roster {args.out / ROSTER} "
            f"--assignment NAME --out {args.out / RESULTS}",
            file=sys.stderr,
        )
        return Exit.PASSED
    try:
        return grade.run(graded)
    finally:  # stopped part way too: every result written names its commit
        collect.stamp_commits(args.out / RESULTS / "results", collected)


def _recollected(args: argparse.Namespace, ids: list[str]) -> frozenset[str]:
    """The students `--recollect` and `--recollect-all` name: a UsageError for an id not on the roster."""
    unknown = [student for student in args.recollect if student not in ids]
    if unknown:
        raise UsageError(f"--recollect {unknown[0]}: there is no {unknown[0]} on the roster {args.roster}")
    return frozenset(ids if args.recollect_all else args.recollect)


def _grade_args(args: argparse.Namespace) -> argparse.Namespace:
    """The command line `gradekit grade DIR/submissions --roster DIR/roster.csv --assignment NAME --out
    DIR/results` with collect's grading options, parsed by grade's own parser: every option of grade's
    that collect leaves out keeps grade's default."""
    parser = Parser(prog="gradekit")
    verbs = parser.add_subparsers(dest="command", required=True, parser_class=Parser)
    grade.add_parser(verbs, grading_options())
    command = ["grade", str(args.out / SUBMISSIONS), "--assignment", args.assignment, "--out", str(args.out / RESULTS)]
    graded = parser.parse_args(command)
    for name, value in vars(args).items():
        if name in vars(graded) and name not in OWN:
            setattr(graded, name, value)
    graded.assignments = args.assignments
    graded.roster = args.out / ROSTER  # read by `grade --roster`: every student, a missing one as missing
    return graded
