"""`gradekit gradescope build`: a Gradescope autograder zip for one assignment.

The zip holds, at its root (Gradescope's autograder specification):
    setup.sh        run once, as root, when Gradescope builds the image: installs Python 3 and, where
                    apt-get is, bubblewrap; a virtual environment in /opt/gradekit, readable by all,
                    with the bundled wheel and the packages the assignment declares (PACKAGES,
                    gradekit.sandbox.packages; all from PyPI); records the assignment's
                    examples for the course seed so no grade draws them, and works out its known
                    mistakes' answers (gradekit.diagnosis.mistakes); makes the user `student` and logs
                    what `gradekit doctor --run-as student` finds
    run_autograder  run for each submission: grades the .py/.ipynb in $ROOT/submission with the
                    course seed into $ROOT/results/results.json, in an OS sandbox only (`check
                    --require-sandbox`: bubblewrap, else Landlock). Of several files, `gradekit check
                    FOLDER` grades the one `gradekit.engine.source.pick` chooses (NAME.ipynb or NAME.py
                    first, a notebook over its .py export: docs/gradescope.md), and refuses a link.
                    Where no sandbox works it grades nothing, writes a results.json without a score
                    that says so, logs the doctor's report for the staff and exits 1; where gradekit
                    itself fails, a results.json saying so
    course-seed     the course seed every submission is graded with (gradekit.course_seed),
                    readable by root alone: a student's code, run as another user, cannot read it
    gradekit-VERSION-py3-none-any.whl   this gradekit, built here from the installed files
    assignments/NAME/  the assignment, when it is not one of gradekit's own

No zip is written for an assignment whose solution does not get full marks (graded here first, with
the assignment's public seed, whose examples the built-in assignments carry): every student would
lose the points the solution loses, and the zip would say nothing of it (`gradekit selftest NAME`
says why).

$ROOT is /autograder unless GRADEKIT_AUTOGRADER_ROOT says otherwise (for a local trial run), and
the gradekit command is /opt/gradekit/bin/gradekit, else `gradekit` on PATH, unless GRADEKIT names
one. As root, run_autograder runs the student's code as the unprivileged user `student` (made if
missing; GRADEKIT_RUN_AS names another, or "" for none), makes $ROOT/source, which holds the
solution inside the wheel, readable by root alone, and before it exits kills every process left
running as that user. Both scripts are POSIX sh.
"""

from __future__ import annotations

import base64
import hashlib
import io
import os
import shlex
import stat
import zipfile
from importlib import metadata
from pathlib import Path
from typing import Any

import gradekit
import gradekit.assignments
import gradekit.reference
from gradekit import course_seed
from gradekit.assignment import Assignment
from gradekit.config import GradeConfig
from gradekit.errors import GradekitError, UsageError
from gradekit.grader import Grading, grade
from gradekit.sandbox import packages

FIXED_TIME = (1980, 1, 1, 0, 0, 0)  # the same files give the same zip, byte for byte
EXECUTABLE, SECRET = 0o755, 0o600  # the modes of the scripts and of the course seed
SHOWN = 5  # failing properties a refusal names
RUN_AS = "student"  # the user the student's code runs as, made by setup.sh
ENTRY_POINTS = "[console_scripts]\ngradekit = gradekit.cli:run\n\n[pytest11]\ngradekit = gradekit.pytest_plugin\n"

SETUP = """#!/bin/sh
# Gradescope runs this once, as root, from /autograder/source, when it builds the autograder image.
set -eu
cd "$(dirname "$0")"
# Everything installed here is readable by all: the student's code runs as another user, with the
# Python in /opt/gradekit.
umask 022
if command -v apt-get >/dev/null 2>&1; then
    export DEBIAN_FRONTEND=noninteractive
    apt-get update
    apt-get install -y python3 python3-venv python3-pip
    # bubblewrap is the strongest sandbox (docs/grading-model.md, Isolation). A container that denies
    # it, or an image without it, grades behind Landlock: doctor below says which.
    apt-get install -y bubblewrap || echo "setup.sh: bubblewrap could not be installed"
fi
python3 -c 'import sys; sys.exit(sys.version_info < (3, 10))' || {
    echo "gradekit needs Python 3.10 or newer: choose a newer Ubuntu base image" >&2; exit 1; }
python3 -m venv /opt/gradekit
/opt/gradekit/bin/python -m pip install --upgrade pip
/opt/gradekit/bin/python -m pip install ./__WHEEL____PACKAGES__
# The course seed is root's alone: the student's code runs as another user.
chown root:root __SEED_FILE__
chmod 600 __SEED_FILE__
# Record the assignment's examples for the course seed, and work out its known mistakes' answers, now,
# once, so every submission replays them and is diagnosed against them.
/opt/gradekit/bin/python - <<'PYTHON'
from pathlib import Path
from gradekit import assignment, course_seed
from gradekit.diagnosis import mistakes
from gradekit.engine import recording
from gradekit.config import GradeConfig, Limits
chosen = assignment.load(__ASSIGNMENT_PY__, __EXTRA_PY__)
recording.recorded(chosen, course_seed.read(Path(__SEED_FILE_PY__)), GradeConfig.max_examples)
mistakes.bank(chosen, Limits(), __EXTRA_PY__)
PYTHON
# The user the student's code runs as, and the wall it would run behind here, for the build's log.
# The image may run where its build did not, so run_autograder asks again for each submission.
id -u __RUN_AS__ >/dev/null 2>&1 || useradd --system --no-create-home --shell /usr/sbin/nologin __RUN_AS__
/opt/gradekit/bin/gradekit doctor --run-as __RUN_AS__ ||
    echo "setup.sh: no OS sandbox works in this image: run_autograder will grade no submission, and say so"
"""

RUN_AUTOGRADER = """#!/bin/sh
# Gradescope runs this for every submission, as root: grade $ROOT/submission into
# $ROOT/results/results.json, behind bubblewrap or Landlock, never behind the Python guard alone.
# A results.json is written whatever happens.
set -u
set -f  # $GRADEKIT is split into words, never expanded as a file name pattern
ROOT="${GRADEKIT_AUTOGRADER_ROOT:-/autograder}"
RESULTS="$ROOT/results/results.json"
RUN_AS="${GRADEKIT_RUN_AS-__RUN_AS__}"
if [ -n "${GRADEKIT:-}" ]; then
    gradekit="$GRADEKIT"
elif [ -x /opt/gradekit/bin/gradekit ]; then
    gradekit=/opt/gradekit/bin/gradekit
else
    gradekit=gradekit
fi

sweep() {
    # Nothing the student's code started outlives this script. gradekit ends each worker with its
    # process group (or its namespaces); this ends whatever else runs as $user: kill(-1), made as that
    # user, reaches every process of theirs at once, one that forked twice or left its group included.
    setpriv --reuid="$user" --regid="$(id -g "$user")" --clear-groups sh -c 'kill -KILL -1 2>/dev/null'
}

mkdir -p "$ROOT/results"
rm -f "$RESULTS"
# The upload is read as `check FOLDER` reads it: a link in it is refused, never followed.
set -- check "$ROOT/submission" --assignment __ASSIGNMENT_SH__ --format gradescope --output "$RESULTS" \\
    --seed-file "$ROOT/source/__SEED_FILE__" --require-sandbox
if [ -d "$ROOT/source/assignments" ]; then
    set -- "$@" --assignments "$ROOT/source/assignments"
fi
user=""  # the user the student's code runs as; none where this runs without root
if [ "$(id -u)" = 0 ] && [ -n "$RUN_AS" ]; then
    # The student's code runs as an unprivileged user, who cannot read the bundle (the solution is in it).
    id -u "$RUN_AS" >/dev/null 2>&1 || useradd --system --no-create-home --shell /usr/sbin/nologin "$RUN_AS"
    chmod 700 "$ROOT/source"
    user="$RUN_AS"
    trap sweep EXIT
    trap 'exit 143' HUP INT TERM
fi
$gradekit "$@" ${user:+--run-as "$user"}
code=$?
if [ -s "$RESULTS" ]; then
    exit 0
fi
# No report: gradekit refused or failed. Its doctor says whether a sandbox works here at all; what it
# prints goes to the autograder's output, which results.json keeps from students (stdout_visibility).
verdict=$($gradekit doctor --format json ${user:+--run-as "$user"})
printf '%s\\n' "$verdict"
python3 - "$RESULTS" "$code" "$verdict" <<'PYTHON'
import json, sys
results, code, verdict = sys.argv[1:]
try:
    wall = json.loads(verdict)["isolation"]
except (ValueError, TypeError, KeyError):
    wall = "unknown"  # doctor did not answer either: gradekit itself is broken
if wall in (None, "guard"):
    # No score, and exit 1: the submission is left ungraded, not given a 0 it did not earn.
    output = ("The autograder could not run this submission in a sandbox, so it graded nothing: this is no "
              "fault of your work. The course staff can see why in the autograder's output.")
    report = {"output": output, "tests": [], "stdout_visibility": "hidden"}
else:
    output = (f"The autograder could not grade this submission (gradekit exited with code {code}). "
              "Please tell the course staff.")
    report = {"score": 0, "output": output, "tests": []}
with open(results, "w") as handle:
    json.dump(report, handle)
sys.exit(1 if wall in (None, "guard") else 0)
PYTHON
"""


def build(assignment: Assignment, out: Path, seed: int, assignment_dirs: list[str] | None = None) -> Path:
    """Write the autograder zip for `assignment`, grading with the course seed `seed`, to `out`; return
    its path. A student build is refused: the autograder is where the hidden properties run, and it
    has none of them; so is an assignment whose solution does not get full marks (`full_marks`)."""
    if assignment.solution is None:
        raise UsageError(
            f"{assignment.folder} is a student build of {assignment.name}, without its hidden properties: "
            "build the autograder from the instructor's folder"
        )
    full_marks(assignment, assignment_dirs)
    wheel_name, wheel = build_wheel()
    bundled = not assignment.built_in
    extra = ["/autograder/source/assignments"] if bundled else None
    setup = (
        SETUP.replace("__WHEEL__", wheel_name)
        .replace("__PACKAGES__", "".join(f" {shlex.quote(p)}" for p in packages.declared(assignment.folder)))
        .replace("__RUN_AS__", RUN_AS)
        .replace("__ASSIGNMENT_PY__", repr(assignment.name))
        .replace("__EXTRA_PY__", repr(extra))
        .replace("__SEED_FILE_PY__", repr(course_seed.FILE_NAME))
        .replace("__SEED_FILE__", course_seed.FILE_NAME)
    )
    run = (
        RUN_AUTOGRADER.replace("__ASSIGNMENT_SH__", shlex.quote(assignment.name))
        .replace("__SEED_FILE__", course_seed.FILE_NAME)
        .replace("__RUN_AS__", RUN_AS)
    )
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    # The zip holds the course seed: its owner's alone from the first byte, whatever the umask.
    private = os.open(out, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, SECRET)
    os.fchmod(private, SECRET)
    with os.fdopen(private, "wb") as handle, zipfile.ZipFile(handle, "w", zipfile.ZIP_DEFLATED) as bundle:
        _add(bundle, "setup.sh", setup.encode(), EXECUTABLE)
        _add(bundle, "run_autograder", run.encode(), EXECUTABLE)
        _add(bundle, course_seed.FILE_NAME, f"{seed}\n".encode(), SECRET)
        _add(bundle, wheel_name, wheel)
        if bundled:
            for path in _files(assignment.folder):
                _add(
                    bundle,
                    f"assignments/{assignment.name}/{path.relative_to(assignment.folder).as_posix()}",
                    path.read_bytes(),
                )
    return out


def full_marks(assignment: Assignment, assignment_dirs: list[str] | None = None) -> None:
    """Grade the assignment's solution as a submission: GradekitError, in one sentence naming its
    score and the properties it fails, unless it gets every point."""
    assert assignment.solution is not None
    result = grade(assignment.solution, assignment, GradeConfig(), Grading(assignment_dirs))
    if result.error is None and result.score >= result.max_score:
        return
    failing = [test.name for test in result.tests if test.score < test.max_score]
    shown = ", ".join(failing[:SHOWN]) + (f" and {len(failing) - SHOWN} more" if len(failing) > SHOWN else "")
    why = f"it could not be loaded: {result.error}" if result.error else f"it fails {shown}"
    raise GradekitError(
        f"the solution of {assignment.name} scores {result.score:g}/{result.max_score:g} ({why}), and every "
        f"student would lose those points: no autograder is written until it gets full marks (gradekit "
        f"selftest {assignment.name} says why)"
    )


def build_wheel() -> tuple[str, bytes]:
    """(file name, bytes) of a pure-Python wheel of the gradekit installed here, built without a network."""
    version = gradekit.__version__
    info = f"gradekit-{version}.dist-info"
    summary, python, requires = _project()
    meta = [
        "Metadata-Version: 2.1",
        "Name: gradekit",
        f"Version: {version}",
        f"Summary: {summary}",
        f"Requires-Python: {python}",
    ] + [f"Requires-Dist: {r}" for r in requires]
    files = {name: path.read_bytes() for name, path in _package_files().items()}
    files[f"{info}/METADATA"] = ("\n".join(meta) + "\n").encode()
    files[f"{info}/WHEEL"] = (
        f"Wheel-Version: 1.0\nGenerator: gradekit {version}\nRoot-Is-Purelib: true\nTag: py3-none-any\n"
    ).encode()
    files[f"{info}/entry_points.txt"] = ENTRY_POINTS.encode()
    record = [f"{name},sha256={_hash(data)},{len(data)}" for name, data in files.items()]
    files[f"{info}/RECORD"] = ("\n".join(record + [f"{info}/RECORD,,"]) + "\n").encode()
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as wheel:
        for name, data in files.items():
            _add(wheel, name, data)
    return f"gradekit-{version}-py3-none-any.whl", buffer.getvalue()


def _project() -> tuple[str, str, list[str]]:
    """(summary, requires-python, dependencies): from pyproject.toml in a checkout, which an editable
    install's metadata may lag behind, else from the installed metadata."""
    pyproject = Path(gradekit.__file__).resolve().parent.parent / "pyproject.toml"
    try:
        import tomllib

        project = tomllib.loads(pyproject.read_text())["project"]
        if project.get("name") == "gradekit":
            return project.get("description", ""), project.get("requires-python", ">=3.10"), project["dependencies"]
    except (ImportError, OSError, ValueError, KeyError):
        pass
    try:
        distribution = metadata.distribution("gradekit")
    except metadata.PackageNotFoundError:
        raise GradekitError("gradekit is not installed (pip install .): its metadata names its dependencies") from None
    requires = [r for r in distribution.requires or [] if "extra ==" not in r]
    fields: Any = distribution.metadata  # an email.message.Message: the protocol leaves out its get()
    return fields.get("Summary", ""), fields.get("Requires-Python", ">=3.10"), requires


def _package_files() -> dict[str, Path]:
    """Every file of the installed package, by its path in a wheel. reference/ and assignments/ sit
    apart in a checkout and inside gradekit/ once installed; either way they land in gradekit/."""
    roots = {
        "gradekit": Path(gradekit.__file__).parent,
        "gradekit/reference": Path(gradekit.reference.__file__).parent,
        "gradekit/assignments": Path(gradekit.assignments.__file__).parent,
    }
    found: dict[str, Path] = {}
    for prefix, root in roots.items():
        for path in _files(root):
            found[f"{prefix}/{path.relative_to(root).as_posix()}"] = path
    return dict(sorted(found.items()))


def _files(root: Path) -> list[Path]:
    return sorted(
        p
        for p in root.rglob("*")
        if p.is_file()
        and p.suffix not in (".pyc", ".pyo")
        and not any(part == "__pycache__" or part.startswith(".") for part in p.relative_to(root).parts)
    )


def _add(bundle: zipfile.ZipFile, name: str, data: bytes, mode: int = 0o644) -> None:
    entry = zipfile.ZipInfo(name, FIXED_TIME)
    entry.compress_type = zipfile.ZIP_DEFLATED
    entry.external_attr = (stat.S_IFREG | mode) << 16
    bundle.writestr(entry, data)


def _hash(data: bytes) -> str:
    return base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
