"""`gradekit grade SUBMISSIONS_DIR --assignment NAME --out RESULTS_DIR`: grade a whole class.

For the course staff at a deadline: every student's file in SUBMISSIONS_DIR is graded, several at
once, each in the OS sandbox (it refuses to grade without one unless given `--no-isolation`), and
RESULTS_DIR gets each student's result and feedback, the gradebook, the class summary and its
histogram. A rerun keeps every result still made from what a grade would be made from now, grades
the rest, and writes a regrade report for those graded again (see `gradekit.batch.class_grade`); `--regrade
STUDENT` (or `--regrade all`) grades students again on demand. With `--dask
ADDRESS` the students are graded on a Dask cluster instead (see `gradekit.batch.cluster`). The exit code is
0 once everything is written; 2 for a RESULTS_DIR that is a file or SUBMISSIONS_DIR itself (whose
results would be graded as students), refused before anyone is graded.

The inputs are drawn from the course's own seed, which no report shows (gradekit.course_seed): the
one in `--seed-file`, else the one kept in RESULTS_DIR/course-seed, made by the first grade into it.
`--seed N` grades with a public seed instead.

For a term: `--roster FILE` names the students (a CSV of id, name and submission; see
`gradekit.batch.roster`), so one who submitted nothing has a row too; RESULTS_DIR/overrides.csv (or
`--overrides FILE`) holds the staff's adjustments by hand and comments, applied by every grade and
regrade (`gradekit.batch.overrides`); `--export canvas` or `moodle` writes the gradebook as that LMS
imports it, as RESULTS_DIR/canvas.csv or moodle.csv (`gradekit.batch.lms`).
"""

from __future__ import annotations

import argparse
import contextlib
import sys
from dataclasses import replace
from pathlib import Path
from typing import Any

from gradekit.commands.exit_codes import Exit
from gradekit.commands.options import (
    course_config,
    folder_to_write,
    grade_config,
    positive,
    seed_file_option,
)
from gradekit.errors import UsageError
from gradekit.reports.inert import console


def add_parser(
    subparsers: argparse._SubParsersAction[Any], grading: argparse.ArgumentParser
) -> argparse.ArgumentParser:
    """Add `grade`, with the grading options of `grading`."""
    grade = subparsers.add_parser("grade", parents=[grading], help="grade a whole class's submissions")
    grade.add_argument(
        "submissions", type=Path, metavar="SUBMISSIONS_DIR", help="one .py/.ipynb file or one folder per student"
    )
    grade.add_argument("--assignment", metavar="NAME", required=True)
    grade.add_argument(
        "--out",
        type=Path,
        required=True,
        metavar="RESULTS_DIR",
        help="gradebook.csv, summary.md, feedback/ and results/ go here; rerun to resume",
    )
    grade.add_argument(
        "--jobs", type=positive(int), metavar="N", help="students graded at once (default: one more than the cores)"
    )
    grade.add_argument(
        "--dask",
        metavar="ADDRESS",
        help="grade on the Dask cluster whose scheduler is at ADDRESS (tcp://host:8786), not on this machine",
    )
    grade.add_argument(
        "--feedback",
        default="markdown",
        choices=("markdown", "text"),
        help="format of each student's feedback file (default %(default)s)",
    )
    grade.add_argument(
        "--regrade",
        action="append",
        default=[],
        metavar="STUDENT",
        help="grade STUDENT again whatever their result (repeatable; 'all' for every student)",
    )
    grade.add_argument(
        "--roster",
        type=Path,
        metavar="FILE",
        help="a CSV naming every student: columns id, name and submission (the file or folder each submits, "
        "relative to SUBMISSIONS_DIR); one who submitted nothing is listed as missing",
    )
    grade.add_argument(
        "--overrides",
        type=Path,
        metavar="FILE",
        help="a CSV of adjustments by hand and comments: columns student, property, add, set and comment "
        "(default: RESULTS_DIR/overrides.csv, where it exists)",
    )
    grade.add_argument(
        "--export",
        action="append",
        default=[],
        choices=("canvas", "moodle"),
        help="also write the gradebook as this LMS imports it, RESULTS_DIR/canvas.csv or moodle.csv "
        "(repeatable; needs --roster)",
    )
    seed_file_option(grade, "made there if missing (default: RESULTS_DIR/course-seed)")
    grade.set_defaults(run=run)
    return grade


def run(args: argparse.Namespace) -> int:
    """Grade the class in `args.submissions` into `args.out` and print a one-line account."""
    from gradekit import assignment, course_seed
    from gradekit.batch import class_grade, cluster, roster

    if not args.submissions.is_dir():
        raise UsageError(f"{args.submissions} is not a folder of submissions")
    folder_to_write(args.out, "--out")
    if args.out.resolve() == args.submissions.resolve():
        raise UsageError(
            f"--out {args.out} is the submissions folder itself, where the results would be graded as students; "
            "name another folder"
        )
    if args.dask is not None and args.jobs is not None:
        raise UsageError("--jobs and --dask: on a cluster, its workers decide how many students are graded at once")
    if args.overrides is not None and not args.overrides.is_file():
        raise UsageError(f"--overrides {args.overrides} is not a file")
    enrolled = roster.read_roster(args.roster) if args.roster is not None else None
    chosen = assignment.load(args.assignment, args.assignments)
    config = grade_config(args, "require")
    options = class_grade.ClassConfig(
        jobs=args.jobs,
        feedback=args.feedback,
        assignment_dirs=args.assignments,
        again=args.regrade,
        roster=enrolled,
        overrides=args.overrides,
        exports=list(dict.fromkeys(args.export)),
        probed=True,
    )
    with contextlib.ExitStack() as stack:
        client = stack.enter_context(cluster.connect(args.dask)) if args.dask is not None else None
        class_grade.probe_host(config, args.assignments, client)
        # Made once every usage error has been found and the host can grade: a command refused leaves
        # no seed behind.
        config = course_config(config, args, keep=args.out / course_seed.FILE_NAME)
        summary = class_grade.grade_all(args.submissions, chosen, args.out, config, replace(options, dask=client))
    print(console(summary), file=sys.stderr)  # it names students, and a name is a file's, a student's to choose
    return Exit.PASSED
