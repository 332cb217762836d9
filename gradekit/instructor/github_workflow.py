"""`gradekit init-ci`: a GitHub Actions workflow that grades a student's repository on every push.

A runner starts with nothing but the repository, so what the workflow needs travels in it, under
.gradekit/: a wheel of this gradekit (built here, offline, as the Gradescope bundle builds it; pip takes
its dependencies from PyPI) and, for an assignment that is not one of gradekit's own, the assignment's
folder. `--install SPEC` replaces the wheel with whatever pip should install instead.

An assignment with public properties (public.py) travels as its student build (gradekit.instructor.student_build):
the public properties and the solution's answers to the worked examples, never the solution, so the
workflow runs the public check and the course's autograder gives the grade. An assignment without
them travels whole: `__init__.py`, `functions.py`, `properties.py`, the solution (the oracle every
property compares with) and any helper module or file beside them, the self-test banks
(known_right/, known_slow/, known_wrong/) left out; whoever can read the repository can then read the
solution, which `init-ci` says as it writes it.

The job runs on ubuntu-latest with actions/setup-python, or with `container` in that image, as root,
with the image's Python. It installs bubblewrap, the strongest sandbox, with sudo only where it is
not root and sudo is there, and never fails for it: where bubblewrap cannot be installed or cannot
start (Ubuntu 24.04's AppArmor denies its user namespaces on ubuntu-latest, Docker's seccomp profile
in a container) Landlock grades. `gradekit doctor` says in the log which wall grades, and the grade's
annotations name the wall used. It installs gradekit, restores gradekit's recorded examples with
actions/cache/restore (in the folder it names in GRADEKIT_CACHE, so the cache step and gradekit
agree; keyed on the assignment, the files in .gradekit/ and the versions of gradekit, Hypothesis,
NumPy and Python installed) and saves them with actions/cache/save even when the grade fails, as a
first grade of a failing file records them too.

It grades once, into a JSON result (`check --format json`), whose exit code fails the job when the
score is below --min-score (without it, unless every property passed); `report`, run as `python -m
gradekit.instructor.github_workflow RESULT JUNIT`, turns that result into the annotations on the lines of the
functions that failed, the Markdown report as the job summary, and a JUnit report that the workflow
uploads as an artifact. `check` writes one format per grade, and grading twice for two formats
doubled the job's time. It runs on push alone (and by hand): on push and pull_request both, a push to
a branch with a pull request open was graded twice, by two runs.

With a `Course`, the same job is the course repository's reusable workflow (.github/workflows/grade.yml,
`on: workflow_call`), and every student's repository holds `caller`, whose one job is `uses:
OWNER/REPO/.github/workflows/grade.yml@REF`, as Classroom 50 does. Run for the student's repository,
it checks that repository out, then the course's beside it (in .gradekit-course/, which GitHub reads as
the caller's token allows: a public course repository), and installs the wheel and reads the
assignment from the course's .gradekit/. A student can edit their caller, so its result is feedback:
the grade that counts is the one the course collects at the deadline (`gradekit collect`).
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import sys
from dataclasses import dataclass
from pathlib import Path

import gradekit
import gradekit.assignments
from gradekit.assignment import Assignment, inferred_from, load
from gradekit.config import search_path
from gradekit.engine.source import pick
from gradekit.engine.source import read as read_source
from gradekit.errors import UsageError
from gradekit.instructor import student_build
from gradekit.reports import WRITERS, github, json_report
from gradekit.result import GradeResult

WORKFLOW = Path(".github/workflows/gradekit.yml")
FOLDER = Path(".gradekit")  # what the workflow installs, committed beside it
ASSIGNMENTS = FOLDER / "assignments"
CACHE = "$HOME/.cache/gradekit"  # gradekit's recorded examples on the runner: GRADEKIT_CACHE
# What recorded examples depend on besides the assignment (gradekit.engine.speed.recorded keys its files on
# them), read from what pip installed: a new numpy release then starts a new cache instead of missing
# gradekit's key on every run under an old cache key.
VERSIONS = (
    "import sys, gradekit, hypothesis, numpy; "
    'print(gradekit.__version__, hypothesis.__version__, numpy.__version__, *sys.version_info[:2], sep="-")'
)
NOT_IN_A_CACHE_KEY = re.compile(r"[^A-Za-z0-9_.-]")
PLACEHOLDER = re.compile(r"__([A-Z]+(?:_[A-Z]+)*)__")

RESULT, JUNIT = "gradekit-result.json", "gradekit-junit.xml"  # what the one grade writes, in the workspace
# A container image by its reference (registry/name:tag@digest): nothing else reaches the YAML.
IMAGE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._/:@-]*")

TEMPLATE = """\
# Written by `gradekit init-ci`: __WHAT__
name: gradekit

on:
__ON__
permissions:
  contents: read

jobs:
  grade:
    runs-on: ubuntu-latest__CONTAINER__
    timeout-minutes: 15
    steps:
      - uses: actions/checkout@v4__COURSE_CHECKOUT____SETUP_PYTHON__
      - name: Install bubblewrap, the strongest sandbox (where it cannot be installed or cannot start, Landlock grades)
        run: |
          # sudo only where the job is not root (a container job is root, often without sudo); this
          # step never fails the job: gradekit grades behind the strongest sandbox it finds.
          if ! command -v apt-get >/dev/null; then
            echo "no apt-get here: bubblewrap is not installed"
          elif [ "$(id -u)" = 0 ]; then
            apt-get update -q && apt-get install -y -q bubblewrap
          elif command -v sudo >/dev/null; then
            sudo apt-get update -q && sudo apt-get install -y -q bubblewrap
          else
            echo "neither root nor sudo here: bubblewrap is not installed"
          fi || echo "bubblewrap could not be installed"
      - name: Install gradekit
        run: |
          python -m pip install __INSTALL__
      - name: Say which sandbox grades (gradekit doctor)
        run: |
          __GRADEKIT__ doctor || echo "no OS sandbox works here: the submission runs behind the Python guard alone"
      - name: Name the folder gradekit keeps its recorded examples in, and what they were recorded with
        run: |
          echo "GRADEKIT_CACHE=__CACHE__" >> "$GITHUB_ENV"
          echo "RECORDED_WITH=$(python -c '__VERSIONS__')" >> "$GITHUB_ENV"
      - name: Restore the recorded examples (recorded on the first run)
        id: examples
        uses: actions/cache/restore@v4
        with:
          path: ${{ env.GRADEKIT_CACHE }}
          key: gradekit-examples-${{ runner.os }}-${{ env.RECORDED_WITH }}-__KEY__-${{ hashFiles('__FOLDER__/**') }}
      - name: Grade (annotations, job summary and a JUnit report; fails the job below the threshold)
        run: |
          rm -f __RESULT__ __JUNIT__
          graded=0
          __GRADEKIT__ check __SUBMISSION____ASSIGNMENT__ --format json --output __RESULT____MIN_SCORE__ || graded=$?
          python -m gradekit.instructor.github_workflow __RESULT__ __JUNIT__
          exit "$graded"
      - name: Save the recorded examples, even when the grade failed (where they were not restored)
        if: always() && steps.examples.outputs.cache-primary-key != '' && steps.examples.outputs.cache-hit != 'true'
        uses: actions/cache/save@v4
        with:
          path: ${{ env.GRADEKIT_CACHE }}
          key: ${{ steps.examples.outputs.cache-primary-key }}
      - name: Upload the JUnit report
        if: always()
        uses: actions/upload-artifact@v4
        with:
          name: gradekit-junit
          path: __JUNIT__
          if-no-files-found: warn
"""
# A student's own workflow runs on every push. Not on pull_request too: a push to a branch with a pull
# request open (GitHub Classroom opened a "Feedback" one in every repository) starts both, and the
# submission was graded twice for one push.
ON_PUSH = """\
  push:
  workflow_dispatch:
"""
# The course's reusable workflow runs when a student's repository calls it (CALLER).
ON_CALL = """\
  workflow_call:
"""
COURSE_FOLDER = ".gradekit-course"  # where the reusable workflow checks out the course's repository
COURSE_CHECKOUT = """
      - name: Check out the course's repository beside the student's (the gradekit and the assignment that grade)
        uses: actions/checkout@v4
        with:
          repository: __COURSE__
          ref: __REF__
          path: __COURSE_FOLDER__\
"""
REUSABLE = Path(".github/workflows/grade.yml")  # in the course's repository
CALLER_FILE = FOLDER / "caller.yml"  # in the course's repository: what every student's repository holds
CALLER = """\
# The grading workflow of __COURSE__: copy this file to .github/workflows/gradekit.yml in every student's
# repository (or the template repository they start from). The job itself is the course's, at __REF__:
# a student who edits this file changes only whether their pushes are checked, never the grade that
# counts, which is the one the course collects at the deadline (gradekit collect).
name: gradekit
on:
__ON__
jobs:
  grade:
    uses: __COURSE__/__REUSABLE__@__REF__
"""
COURSE = re.compile(r"[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+")  # OWNER/REPO
REF = re.compile(r"[A-Za-z0-9_.][A-Za-z0-9_./-]*")

# The runner's Python; a container job grades with its image's own.
SETUP_PYTHON = """
      - uses: actions/setup-python@v5
        with:
          python-version: "3.12"\
"""


@dataclass(frozen=True)
class Course:
    """The course's own repository, OWNER/REPO, whose reusable workflow students' repositories call at `ref`."""

    repository: str
    ref: str = "main"

    def checked(self) -> Course:
        """This course, refused unless its names are ones GitHub allows, which YAML reads as they are."""
        if not COURSE.fullmatch(self.repository):
            raise UsageError(f"--course {self.repository!r} is not a repository's OWNER/NAME")
        if not REF.fullmatch(self.ref) or ".." in self.ref:
            raise UsageError(f"--course-ref {self.ref!r} is not a branch or tag name")
        return self


@dataclass(frozen=True)
class Written:
    """What init-ci changed in the repository, each path relative to it; all of it is to be committed."""

    workflow: Path
    caller: Path | None = None  # the students' one-line caller of a course's reusable workflow
    wheel: Path | None = None  # the gradekit the workflow installs; None with --install
    assignment: Path | None = None  # the copied assignment, when it is not one of gradekit's own
    removed: tuple[Path, ...] = ()  # gradekit wheels a former init-ci wrote, which nothing installs any more
    student_build: bool = False  # the assignment went as its student build, without its solution

    @property
    def to_commit(self) -> tuple[Path, ...]:
        """What `git add` takes: the workflow, and .gradekit/ when anything in it changed."""
        changed = any((self.wheel, self.assignment, self.removed, self.caller))
        return (self.workflow, FOLDER) if changed else (self.workflow,)


def workflow(
    submission: str,
    install: str,
    assignment: str | None = None,
    min_score: float | None = None,
    copied: bool = False,
    container: str | None = None,
    course: Course | None = None,
) -> str:
    """The workflow's YAML text: pip installs `install` (a wheel's path or a requirement), and with
    `copied` gradekit finds the assignment in .gradekit/assignments; with `container` the job runs in
    that image, as root, with its Python. With `course`, it is that repository's reusable workflow:
    run when a student's repository calls it (`caller`), it checks out the course's repository beside
    the student's, and .gradekit/ is the course's. Every value typed by a user lands in a `run: |` block,
    shell-quoted, or in the cache key with only safe characters left, or is an image reference, a
    repository or a branch name of safe characters alone."""
    folder = f"{COURSE_FOLDER}/{FOLDER.as_posix()}" if course else FOLDER.as_posix()
    command = "gradekit"
    if copied:
        command += f" --assignments {folder}/{ASSIGNMENTS.relative_to(FOLDER).as_posix()}"
    shown = submission.replace("\n", " ")
    what = (
        f"the grading workflow of {course.repository}, which students' repositories call (.gradekit/caller.yml)"
        if course
        else f"grades {shown} on every push"
    )
    values = {
        "WHAT": what,
        "ON": ON_CALL if course else ON_PUSH,
        "FOLDER": folder,
        "COURSE_CHECKOUT": _filled(COURSE_CHECKOUT, _course_values(course)) if course else "",
        "SUBMISSION": shlex.quote(submission),
        "ASSIGNMENT": f" --assignment {shlex.quote(assignment)}" if assignment else "",
        "MIN_SCORE": f" --min-score {min_score:g}" if min_score is not None else "",
        "INSTALL": shlex.quote(install),
        "GRADEKIT": command,
        "CACHE": CACHE,
        "VERSIONS": VERSIONS,
        "KEY": NOT_IN_A_CACHE_KEY.sub("_", assignment or "inferred"),
        "RESULT": RESULT,
        "JUNIT": JUNIT,
        "CONTAINER": f"\n    container: {_image(container)}" if container else "",
        "SETUP_PYTHON": "" if container else SETUP_PYTHON,
    }
    return _filled(TEMPLATE, values)


def caller(course: Course) -> str:
    """The workflow every student's repository holds to have the course's reusable workflow grade it."""
    return _filled(CALLER, {**_course_values(course), "ON": ON_PUSH})


def _course_values(course: Course) -> dict[str, str]:
    return {
        "COURSE": course.repository,
        "REF": course.ref,
        "COURSE_FOLDER": COURSE_FOLDER,
        "REUSABLE": REUSABLE.as_posix(),
    }


def _filled(template: str, values: dict[str, str]) -> str:
    """`template` with each __NAME__ replaced by its value, in one pass: no value is read as a placeholder."""
    return PLACEHOLDER.sub(lambda found: values[found[1]], template)


def _image(container: str) -> str:
    """`container`, refused unless it is an image reference alone, which YAML reads as it is."""
    if not IMAGE.fullmatch(container):
        raise UsageError(f"--container {container!r} is not an image reference, such as python:3.12")
    return container


def write_workflow(
    repo: Path,
    submission: str | None = None,
    assignment: str | None = None,
    min_score: float | None = None,
    install: str | None = None,
    assignment_dirs: list[str] | None = None,
    container: str | None = None,
    course: Course | None = None,
) -> Written:
    """Write .github/workflows/gradekit.yml in `repo`, and under .gradekit/ the wheel it installs
    (unless `install` names something else) and the assignment when it is not one of gradekit's own;
    with `container`, the job runs in that image. The submission defaults to the one file found.
    With `course`, `repo` is the course's own repository: the workflow is its reusable one,
    .github/workflows/grade.yml, the submission defaults to the file `check` picks in each student's
    repository, and .gradekit/caller.yml is what students' repositories hold to call it.
    Everything is checked before anything is written."""
    repo = Path(repo)
    if not repo.is_dir():
        raise UsageError(f"--dir {repo} is not a folder")
    if container is not None:
        _image(container)
    if course is not None:
        course.checked()
        submission = submission or "."  # in the student's repository, which is not here to look in
        custom = _custom_assignment(None, assignment, assignment_dirs)
    else:
        submission = _submission(repo, submission, assignment)
        custom = _custom_assignment(repo / submission, assignment, assignment_dirs)
    if custom is not None and install is None and not custom.public:
        _check_solution_travels(custom)
    if custom is not None and min_score is not None:
        _check_reachable(custom, min_score)
    wheel, removed = _write_wheel(repo, install is None)
    copied = _copy_assignment(repo, custom) if custom is not None else None
    name = custom.name if custom is not None else assignment
    spec = wheel.as_posix() if wheel is not None else str(install)
    if course is not None and wheel is not None:
        spec = f"{COURSE_FOLDER}/{spec}"  # the course's repository, checked out beside the student's
    text = workflow(submission, spec, name, min_score, copied is not None, container, course)
    path = repo / (REUSABLE if course is not None else WORKFLOW)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    if course is not None:
        (repo / FOLDER).mkdir(exist_ok=True)
        (repo / CALLER_FILE).write_text(caller(course))
    return Written(
        path.relative_to(repo),
        CALLER_FILE if course is not None else None,
        wheel,
        copied,
        removed,
        custom is not None and bool(custom.public),
    )


def _submission(repo: Path, submission: str | None, assignment: str | None) -> str:
    """The file to grade, relative to the repository: the one named, which must exist, else the one found."""
    if submission is not None:
        if not (repo / submission).is_file():
            raise UsageError(f"--submission {submission} is not a file in {repo}")
        return submission
    found, problem = pick(repo, assignment)
    if found is None:
        raise UsageError(f"could not choose the file to grade ({problem}): name it with --submission")
    return found.relative_to(repo).as_posix()


def _custom_assignment(
    submission: Path | None, name: str | None, assignment_dirs: list[str] | None
) -> Assignment | None:
    """The assignment when it is not one of gradekit's own (its folder must then travel with the
    repository), else None. Unnamed, it is inferred as `gradekit check` infers it; with only gradekit's
    own assignments to choose from, the workflow's check infers the same one, so nothing is loaded.
    Without a `submission` to infer it from (a course's reusable workflow), it must be named."""
    if name is None and len(search_path(assignment_dirs)) == 1:
        return None
    if name is None and submission is None:
        raise UsageError("--course with --assignments: name the assignment with --assignment")
    if name is not None:
        chosen = load(name, assignment_dirs)
    else:
        assert submission is not None
        chosen = inferred_from(read_source(submission).text, assignment_dirs)
    return None if chosen.built_in else chosen


def _check_solution_travels(chosen: Assignment) -> None:
    """Refuse an assignment whose solution (SOLUTION in its __init__.py) is a module outside its folder
    and outside gradekit: the runner would have neither."""
    if chosen.solution is None:
        return
    solution = chosen.solution.resolve()
    inside = (chosen.folder.resolve(), Path(gradekit.__file__).resolve().parent)
    if not any(solution.is_relative_to(folder) for folder in inside):
        raise UsageError(
            f"the solution of {chosen.name} is {solution}, outside its folder: move it to "
            f"{chosen.folder / 'solution.py'}, or name with --install a package that holds it"
        )


def _write_wheel(repo: Path, wanted: bool) -> tuple[Path | None, tuple[Path, ...]]:
    """Write this gradekit's wheel into .gradekit/ when `wanted`, and remove every other gradekit wheel
    a former init-ci left there: (the wheel written or None, the wheels removed)."""
    from gradekit.instructor.gradescope_bundle import build_wheel

    folder = repo / FOLDER
    name, data = build_wheel() if wanted else ("", b"")  # with --install, no wheel is kept
    removed = tuple(FOLDER / p.name for p in sorted(folder.glob("gradekit-*.whl")) if p.name != name)
    for path in removed:
        (repo / path).unlink()
    if not wanted:
        return None, removed
    folder.mkdir(exist_ok=True)
    (folder / name).write_bytes(data)
    return FOLDER / name, removed


def _check_reachable(chosen: Assignment, min_score: float) -> None:
    """Refuse a --min-score above the most the workflow's grade can give: the public check's points,
    where the assignment travels as its student build."""
    most = sum(p.points for p in chosen.public or chosen.properties)
    if min_score > most:
        what = "its public check gives at most" if chosen.public else "it gives at most"
        raise UsageError(f"--min-score {min_score:g} can never be reached: {what} {most:g} points in CI")


def _copy_assignment(repo: Path, chosen: Assignment) -> Path:
    """Write the assignment's student build, or where it has no public properties its folder less its
    banks, to .gradekit/assignments/NAME (replacing a former copy); a folder that already is that copy
    (graded with --assignments .gradekit/assignments) stays."""
    copy = ASSIGNMENTS / chosen.name
    target = repo / copy
    if target.resolve() == chosen.folder.resolve():
        return copy
    if chosen.public and chosen.solution is not None:
        student_build.write(chosen, repo / ASSIGNMENTS)
        return copy
    if target.exists():
        shutil.rmtree(target)
    for path in chosen.files():
        (target / path.relative_to(chosen.folder)).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(path, target / path.relative_to(chosen.folder))
    return copy


def report(result: Path, junit: Path) -> None:
    """What the workflow's one grade shows, from the JSON result it wrote: the annotations (standard
    output), the Markdown report appended to $GITHUB_STEP_SUMMARY, and the JUnit report in `junit`.
    Nothing where the grade wrote no result: gradekit said why on standard error."""
    if not result.is_file():
        return
    graded = GradeResult.from_dict(json_report.loads(result.read_text()))  # non-finite values read back
    sys.stdout.write(WRITERS["github"](graded))
    if os.environ.get("GITHUB_STEP_SUMMARY"):
        with open(os.environ["GITHUB_STEP_SUMMARY"], "a", encoding="utf-8") as handle:
            handle.write(github.summary(graded))
    junit.write_text(WRITERS["junit"](graded))


if __name__ == "__main__":  # the workflow's grade step: python -m gradekit.instructor.github_workflow RESULT JUNIT
    report(Path(sys.argv[1]), Path(sys.argv[2]))
