"""The workflow `gradekit init-ci` writes, run as a GitHub runner runs it: on a copy of a student's
repository and nothing else, in a fresh virtual environment standing in for setup-python's Python.

Its `run:` steps run in order, each in bash with -e and pipefail, with $GITHUB_ENV and
$GITHUB_STEP_SUMMARY files as a runner provides them; after a failed step only `if: always()` steps
run. The one step left out installs bubblewrap with apt-get, which would install it on this machine
(tests/instructor/test_github_workflow.py runs it with stand-ins); `gradekit doctor` says which wall grades
here. The `uses:` steps (checkout, setup-python, cache, upload) are GitHub's own. The virtual environment has
the packages these tests run with (conftest's `venv_like_this`) and pip may reach no index and read no
settings of this machine's, so the install step must install the wheel init-ci wrote, with the
dependencies already here.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path

import hypothesis
import numpy
import yaml

import gradekit
from gradekit import assignment
from gradekit.cli import main
from gradekit.engine import kept_files, recording
from gradekit.instructor.github_workflow import WORKFLOW

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples"
EXPRESSION = re.compile(r"\$\{\{ env\.(\w+) \}\}")


def run_like_a_runner(
    repo: Path, machine: Path, venv_like_this: Callable[..., None]
) -> tuple[dict[str, subprocess.CompletedProcess[str]], dict[str, str]]:
    """Each `run:` step the runner would run, by name, and the environment the job ended with.
    `machine` is the runner's own folder: its HOME, its Python, the files of $GITHUB_ENV and
    $GITHUB_STEP_SUMMARY."""
    steps = yaml.safe_load((repo / WORKFLOW).read_text())["jobs"]["grade"]["steps"]
    python = machine / "python"
    venv_like_this(python, this_checkout=False)  # the runner installs the wheel init-ci wrote
    (machine / "github_env").touch()
    env = {
        "PATH": f"{python / 'bin'}{os.pathsep}{os.environ['PATH']}",
        "HOME": str(machine),
        "GITHUB_ENV": str(machine / "github_env"),
        "GITHUB_STEP_SUMMARY": str(machine / "summary.md"),
        "PIP_NO_INDEX": "1",
        "PIP_CONFIG_FILE": os.devnull,  # no find-links, index or constraints of this machine's
        "PIP_DISABLE_PIP_VERSION_CHECK": "1",
    }
    done: dict[str, subprocess.CompletedProcess[str]] = {}
    failed = False
    for step in steps:
        if "run" not in step or "apt-get install" in step["run"] or (failed and step.get("if") != "always()"):
            continue
        done[step["name"]] = subprocess.run(
            ["bash", "--noprofile", "--norc", "-eo", "pipefail", "-c", step["run"]],
            cwd=repo,
            env=env,
            capture_output=True,
            text=True,
            timeout=240,
        )
        failed = failed or done[step["name"]].returncode != 0
        env.update(line.split("=", 1) for line in (machine / "github_env").read_text().splitlines() if "=" in line)
    return done, env


def gradekit_doctor_wall(said: str) -> str:
    """The wall `gradekit doctor` said student code would run behind here (bubblewrap or landlock)."""
    (line,) = [line for line in said.splitlines() if line.startswith("ok       isolation ")]
    return line.split("run behind ", 1)[1].split()[0]


def step(done: dict[str, subprocess.CompletedProcess[str]], starts: str) -> subprocess.CompletedProcess[str]:
    (name,) = [name for name in done if name.startswith(starts)]
    return done[name]


def runner_fingerprint(env: dict[str, str]) -> str:
    """The runner's floating-point fingerprint, worked out in its environment: this process's may differ
    (an OPENBLAS_CORETYPE of this machine's picks other kernels, and the runner does not inherit it)."""
    ask = "from gradekit.engine import kept_files; print(kept_files.fingerprint())"
    done = subprocess.run(["python", "-c", ask], cwd=env["HOME"], env=env, capture_output=True, text=True, check=True)
    return done.stdout.strip()


def cache_step(repo: Path, env: dict[str, str]) -> dict[str, str]:
    """What the workflow's actions/cache step is given, its `env.` expressions read from `env`."""
    steps = yaml.safe_load((repo / WORKFLOW).read_text())["jobs"]["grade"]["steps"]
    (cache,) = [s for s in steps if s.get("uses", "").startswith("actions/cache/restore@")]
    return {name: EXPRESSION.sub(lambda found: env[found[1]], value) for name, value in cache["with"].items()}


def test_the_default_workflow_installs_the_written_wheel_and_grades_on_a_bare_runner(tmp_path, venv_like_this):
    repo, machine = tmp_path / "repo", tmp_path / "runner"
    repo.mkdir()
    machine.mkdir()
    shutil.copy(EXAMPLES / "submission.py", repo / "submission.py")
    assert main(["init-ci", "--dir", str(repo)]) == 0
    done, env = run_like_a_runner(repo, machine, venv_like_this)

    assert [p.returncode for p in done.values()] == [0] * len(done), {n: p.stderr[-2000:] for n, p in done.items()}
    assert "Successfully installed gradekit" in step(done, "Install gradekit").stdout
    installed = subprocess.run(
        ["python", "-c", "import gradekit; print(gradekit.__file__)"], cwd=repo, env=env, capture_output=True, text=True
    )
    assert Path(installed.stdout.strip()).is_relative_to(machine / "python")  # the wheel, not this checkout
    full = f"{assignment.load('cross_entropy').max_score:g}"
    assert f"::notice title=gradekit score%3A {full} / {full}::" in step(done, "Grade (").stdout
    wall = gradekit_doctor_wall(step(done, "Say which sandbox grades").stdout)
    assert f"::notice title=gradekit sandbox%3A {wall}::" in step(done, "Grade (").stdout  # the grade names it too
    assert f"{full} / {full}" in (machine / "summary.md").read_text()
    properties = len(assignment.load("cross_entropy").properties)
    assert (repo / "gradekit-junit.xml").read_text().count("<testcase ") == properties
    cache = cache_step(repo, env)
    shipped = recording.shipped(assignment.load("cross_entropy"))  # the wheel carries it: read where it was made alike
    made_here = shipped.is_file() and kept_files.fingerprint() == runner_fingerprint(env)
    assert ("recording examples" not in step(done, "Grade (").stderr) == made_here
    carried = shipped.with_suffix(".marshal").name
    assert [p.name for p in Path(cache["path"]).glob("cross_entropy-*")] == [carried]  # kept for the next run
    assert all(f"-{v}-" in cache["key"] for v in (gradekit.__version__, hypothesis.__version__, numpy.__version__))


def test_a_course_assignment_travels_with_the_repository_and_a_low_score_fails_the_job(
    tmp_path, capsys, venv_like_this
):
    repo, machine, course = tmp_path / "repo", tmp_path / "runner", tmp_path / "course"
    repo.mkdir()
    machine.mkdir()
    assert main(["new", "label_smoothing", "--dir", str(course)]) == 0
    shutil.copy(course / "label_smoothing" / "known_wrong" / "no_max_shift.py", repo / "label_smoothing.py")
    public = assignment.load_folder(course / "label_smoothing").properties
    full = f"{sum(p.points for p in public if p.public):g}"  # the workflow runs the public check
    command = ["--assignments", str(course), "init-ci", "--dir", str(repo), "--assignment", "label_smoothing"]
    assert main([*command, "--min-score", full]) == 0
    capsys.readouterr()
    shutil.rmtree(course)  # the runner has the repository alone
    done, _ = run_like_a_runner(repo, machine, venv_like_this)

    grade = step(done, "Grade (")
    assert grade.returncode == 1, grade.stdout + grade.stderr
    assert "::error file=label_smoothing.py,line=" in grade.stdout and f" / {full}::" in grade.stdout
    assert "<failure" in (repo / "gradekit-junit.xml").read_text()  # reported though the job fails
    assert "public check of label_smoothing" in grade.stdout  # graded from its student build
    assert not (repo / ".gradekit" / "assignments" / "label_smoothing" / "solution.py").exists()
