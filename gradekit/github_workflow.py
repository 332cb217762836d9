"""`gradekit init-ci`: a GitHub Actions workflow that grades a student's repository on every push.

The workflow installs gradekit, grades with `--format github` (annotations on the lines of the
functions that failed, and the Markdown report as the job summary), grades again into a JUnit report
that it uploads as an artifact, and fails the job when the score is below --min-score (without it,
unless every property passed). The first step decides pass or fail; the JUnit step only reports.
"""

from __future__ import annotations

import shlex
from pathlib import Path

import gradekit
from gradekit.errors import UsageError
from gradekit.source import pick

WORKFLOW = Path(".github/workflows/gradekit.yml")

TEMPLATE = """\
# Written by `gradekit init-ci`: grades __SUBMISSION_TEXT__ on every push and pull request.
name: gradekit

on:
  push:
  pull_request:
  workflow_dispatch:

permissions:
  contents: read

jobs:
  grade:
    runs-on: ubuntu-latest
    timeout-minutes: 15
    steps:
      - uses: actions/checkout@v4
      - uses: actions/setup-python@v5
        with:
          python-version: "3.12"
      - name: Install the sandbox the submission runs in
        run: sudo apt-get update -q && sudo apt-get install -y -q bubblewrap
      - name: Install gradekit
        run: |
          python -m pip install --upgrade pip
          python -m pip install __INSTALL__
      - name: Grade (annotations and job summary; fails the job below the threshold)
        run: |
          gradekit check __SUBMISSION____ASSIGNMENT__ --format github__MIN_SCORE__
      - name: Grade into a JUnit report (reports only)
        if: always()
        run: |
          gradekit check __SUBMISSION____ASSIGNMENT__ --format junit --output gradekit-junit.xml --min-score 0
      - name: Upload the JUnit report
        if: always()
        uses: actions/upload-artifact@v4
        with:
          name: gradekit-junit
          path: gradekit-junit.xml
          if-no-files-found: warn
"""


def workflow(
    submission: str, assignment: str | None = None, min_score: float | None = None, install: str | None = None
) -> str:
    """The workflow's YAML text. Every value lands in a `run: |` block, shell-quoted, so no YAML
    quoting rule can bite."""
    spec = install or f"gradekit=={gradekit.__version__}"
    return (
        TEMPLATE.replace("__SUBMISSION_TEXT__", submission.replace("\n", " "))
        .replace("__SUBMISSION__", shlex.quote(submission))
        .replace("__ASSIGNMENT__", f" --assignment {shlex.quote(assignment)}" if assignment else "")
        .replace("__MIN_SCORE__", f" --min-score {min_score:g}" if min_score is not None else "")
        .replace("__INSTALL__", shlex.quote(spec))
    )


def write_workflow(
    repo: Path,
    submission: str | None = None,
    assignment: str | None = None,
    min_score: float | None = None,
    install: str | None = None,
) -> Path:
    """Write .github/workflows/gradekit.yml in `repo`; the submission defaults to the one file found."""
    repo = Path(repo)
    if not repo.is_dir():
        raise UsageError(f"--dir {repo} is not a folder")
    if submission is None:
        found, problem = pick(repo, assignment)
        if found is None:
            raise UsageError(f"could not choose the file to grade ({problem}): name it with --submission")
        submission = found.relative_to(repo).as_posix()
    path = repo / WORKFLOW
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(workflow(submission, assignment, min_score, install))
    return path
