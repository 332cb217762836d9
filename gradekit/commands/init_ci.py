"""`gradekit init-ci`: write a GitHub Actions workflow that grades a student's repository.

For a course whose students hand in through GitHub: the workflow written to
`.github/workflows/gradekit.yml` installs the gradekit wheel written beside it in `.gradekit/` (a
runner has nothing but the repository), says which sandbox grades, grades the submission once on
every push with failures annotated on the functions that broke them, keeps a JUnit report, and fails
the job below `--min-score` (see `gradekit.instructor.github_workflow`). It runs on ubuntu-latest, or with
`--container IMAGE` in that image, as root. It says what it wrote and that all of it is to be committed. The exit
code is 0 once everything is written.

With `--course OWNER/REPO`, run in the course's own repository, it writes the same job as a reusable
workflow, `.github/workflows/grade.yml` (`on: workflow_call`), and `.gradekit/caller.yml`, the file every
student's repository holds to call it (`uses: OWNER/REPO/.github/workflows/grade.yml@main`), as
Classroom 50 does: the job, the gradekit it installs and the assignment stay in the course's repository.
"""

from __future__ import annotations

import argparse
import shlex
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from gradekit.commands.exit_codes import Exit
from gradekit.commands.options import not_negative

if TYPE_CHECKING:
    from gradekit.instructor.github_workflow import Written


def add_parser(subparsers: argparse._SubParsersAction[Any]) -> argparse.ArgumentParser:
    """Add `init-ci`."""
    ci = subparsers.add_parser("init-ci", help="write a GitHub Actions workflow that grades a student repository")
    ci.add_argument("--dir", type=Path, default=Path("."), metavar="REPO", help="the repository (default: here)")
    ci.add_argument(
        "--submission",
        metavar="PATH",
        help="the file to grade, relative to the repository (default: the one .py/.ipynb found)",
    )
    ci.add_argument("--assignment", metavar="NAME", help="the assignment (inferred when left out)")
    ci.add_argument(
        "--min-score",
        type=not_negative,
        metavar="POINTS",
        help="fail the job below this score (default: unless every property passes)",
    )
    ci.add_argument(
        "--install",
        metavar="SPEC",
        help="what pip installs (default: this gradekit, as a wheel in .gradekit/)",
    )
    ci.add_argument(
        "--container",
        metavar="IMAGE",
        help="run the job in this image, as root, with its own Python 3.10+ and pip, such as python:3.12 "
        "(default: the ubuntu-latest runner, with actions/setup-python)",
    )
    ci.add_argument(
        "--course",
        metavar="OWNER/REPO",
        help="write the course repository's reusable workflow, .github/workflows/grade.yml, and the one-line "
        "caller students' repositories hold, .gradekit/caller.yml (run in the course's repository)",
    )
    ci.add_argument(
        "--course-ref",
        default="main",
        metavar="REF",
        help="the branch or tag of the course's repository students' repositories call (default %(default)s)",
    )
    ci.set_defaults(run=run)
    return ci


def run(args: argparse.Namespace) -> int:
    """Write the workflow, and what it installs, into the repository `args.dir`."""
    from gradekit.instructor import github_workflow

    course = github_workflow.Course(args.course, args.course_ref) if args.course is not None else None
    written = github_workflow.write_workflow(
        args.dir,
        submission=args.submission,
        assignment=args.assignment,
        min_score=args.min_score,
        install=args.install,
        assignment_dirs=args.assignments,
        container=args.container,
        course=course,
    )
    for line in report(args.dir, written):
        print(line, file=sys.stderr)
    return Exit.PASSED


def report(repo: Path, written: Written) -> list[str]:
    """What was written and removed, and the git command that commits all of it."""
    lines = [f"wrote {repo / written.workflow}: the workflow"]
    if written.caller is not None:
        lines.append(
            f"wrote {repo / written.caller}: copy it to .github/workflows/gradekit.yml in every student's repository "
            "(or the template repository they start from); the grade that counts is the one gradekit collect "
            "takes at the deadline"
        )
    if written.wheel is not None:
        lines.append(f"wrote {repo / written.wheel}: the gradekit the workflow installs")
    if written.assignment is not None and written.student_build:
        lines.append(
            f"wrote the student build of the assignment to {repo / written.assignment}: its public properties "
            "and worked answers, not its solution; the workflow runs the public check"
        )
    elif written.assignment is not None:
        lines.append(
            f"copied the assignment to {repo / written.assignment}, without its known_* banks "
            "(anyone who can read the repository can read its solution)"
        )
    lines += [f"removed {repo / path}: the workflow no longer installs it" for path in written.removed]
    git = "git" if repo == Path(".") else f"git -C {shlex.quote(str(repo))}"
    paths = " ".join(shlex.quote(path.as_posix()) for path in written.to_commit)
    lines.append(f"commit them: {git} add {paths} && {git} commit -m 'Grade with gradekit'")
    return lines
