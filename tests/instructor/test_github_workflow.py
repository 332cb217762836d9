"""CI in student repositories: the workflow `gradekit init-ci` writes, and the pytest plugin."""

from __future__ import annotations

import importlib.metadata
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
import yaml

import gradekit
from gradekit import assignment
from gradekit.cli import main
from gradekit.commands.options import MAX_EXAMPLES
from gradekit.config import GradeConfig
from gradekit.grader import grade
from gradekit.instructor.github_workflow import JUNIT, RESULT, WORKFLOW, report
from gradekit.reports import WRITERS, github
from gradekit.reports.waiting import waiting
from gradekit.result import Counterexample, GradeResult, PropertyResult, Status

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples"
PROPERTIES = len(assignment.load("cross_entropy").properties)  # one pytest item each
WHEEL = f"gradekit-{gradekit.__version__}-py3-none-any.whl"


def test_init_ci_writes_a_workflow_that_grades_once_annotates_uploads_and_fails_below_the_threshold(tmp_path):
    shutil.copy(EXAMPLES / "submission.py", tmp_path / "my work.py")
    assert main(["init-ci", "--dir", str(tmp_path), "--min-score", "60", "--assignment", "cross_entropy"]) == 0
    text = (tmp_path / ".github" / "workflows" / "gradekit.yml").read_text()
    assert f"python -m pip install .gradekit/{WHEEL}\n" in text
    grade = (
        "gradekit check 'my work.py' --assignment cross_entropy --format json --output gradekit-result.json "
        "--min-score 60 || graded=$?"
    )
    assert grade in text and text.count(" check ") == 1, "one grade gives every report"
    assert "python -m gradekit.instructor.github_workflow gradekit-result.json gradekit-junit.xml\n" in text
    assert "uses: actions/upload-artifact@v4" in text and "path: gradekit-junit.xml" in text
    assert "\t" not in text
    workflow = yaml.safe_load(text)
    steps = workflow["jobs"]["grade"]["steps"]
    assert [s.get("uses", "").split("@")[0] for s in steps if "uses" in s] == [
        "actions/checkout",
        "actions/setup-python",
        "actions/cache/restore",
        "actions/cache/save",
        "actions/upload-artifact",
    ]
    assert workflow["jobs"]["grade"]["runs-on"] == "ubuntu-latest" and "container" not in workflow["jobs"]["grade"]
    assert steps[-1]["if"] == "always()" and steps[-1]["with"]["path"] == "gradekit-junit.xml"
    # YAML 1.1 reads `on` as True; not pull_request too, which graded a push to a branch with a pull request twice
    assert set(workflow[True]) == {"push", "workflow_dispatch"}


def steps_of(text: str) -> list[dict]:
    return yaml.safe_load(text)["jobs"]["grade"]["steps"]


def index(steps: list[dict], holding: str) -> int:
    """The one step whose `run` or `uses` holds `holding`."""
    (found,) = [i for i, s in enumerate(steps) if holding in s.get("run", s.get("uses", ""))]
    return found


def test_the_workflow_caches_the_folder_it_tells_gradekit_to_record_examples_in(tmp_path):
    shutil.copy(EXAMPLES / "submission.py", tmp_path / "submission.py")
    assert main(["init-ci", "--dir", str(tmp_path), "--assignment", "cross_entropy"]) == 0
    steps = steps_of((tmp_path / WORKFLOW).read_text())
    named = index(steps, "GRADEKIT_CACHE=")
    cache = index(steps, "actions/cache/restore@")
    grade = index(steps, "--format json")
    assert 'echo "GRADEKIT_CACHE=' in steps[named]["run"] and '>> "$GITHUB_ENV"' in steps[named]["run"]
    assert 'echo "RECORDED_WITH=$(python -c ' in steps[named]["run"]  # the versions pip installed
    assert named < cache < grade  # named, then restored, before the grade reads it
    assert steps[cache]["with"]["path"] == "${{ env.GRADEKIT_CACHE }}"
    key = steps[cache]["with"]["key"]
    assert "-${{ env.RECORDED_WITH }}-cross_entropy-" in key and "hashFiles('.gradekit/**')" in key


@pytest.mark.parametrize("container", [None, "python:3.12"], ids=["ubuntu-latest", "container"])
def test_the_workflow_installs_bubblewrap_says_which_sandbox_grades_and_always_saves_the_examples(tmp_path, container):
    shutil.copy(EXAMPLES / "submission.py", tmp_path / "submission.py")
    assert main(["init-ci", "--dir", str(tmp_path), *(["--container", container] if container else [])]) == 0
    job = yaml.safe_load((tmp_path / WORKFLOW).read_text())["jobs"]["grade"]
    steps = job["steps"]
    assert job.get("container") == container and job["runs-on"] == "ubuntu-latest"
    assert any("setup-python" in s.get("uses", "") for s in steps) == (container is None)  # else the image's Python
    install, doctor, grade = index(steps, "apt-get install"), index(steps, "doctor"), index(steps, "--format json")
    assert install < doctor < grade, "the wall is known, and named in the log, before anything is graded"
    assert "|| echo" in steps[doctor]["run"], "a runner with the guard alone still checks the student's work"
    sudo = [s["name"] for s in steps if "sudo" in s.get("run", "")]
    assert sudo == [steps[install]["name"]], "sudo is in the install step alone, which runs it only where needed"
    restore, save = index(steps, "actions/cache/restore@v4"), index(steps, "actions/cache/save@v4")
    assert restore < grade < save
    assert steps[save]["if"].startswith("always() && "), "examples recorded by a failing grade are kept"
    assert steps[save]["with"] == {
        "path": steps[restore]["with"]["path"],
        "key": f"${{{{ steps.{steps[restore]['id']}.outputs.cache-primary-key }}}}",
    }


FAKE_COMMANDS = {  # stand-ins the install step finds on a PATH of its own; each says it was called
    "id": '#!/bin/sh\necho "$FAKE_UID"\n',
    "apt-get": '#!/bin/sh\necho "apt-get $*" >> "$CALLS"\nexit "$APT_STATUS"\n',
    "sudo": '#!/bin/sh\necho sudo >> "$CALLS"\nexec "$@"\n',
}


@pytest.mark.parametrize(
    "uid, present, apt_status, called",
    [
        ("0", ("id", "apt-get"), 0, ["apt-get update -q", "apt-get install -y -q bubblewrap"]),  # a container job
        (
            "1001",
            ("id", "apt-get", "sudo"),
            0,
            ["sudo", "apt-get update -q", "sudo", "apt-get install -y -q bubblewrap"],
        ),
        ("1001", ("id", "apt-get"), 0, []),  # neither root nor sudo
        ("0", ("id",), 0, []),  # no apt-get
        ("0", ("id", "apt-get"), 100, ["apt-get update -q"]),  # apt-get fails
    ],
    ids=["root", "sudo", "neither", "no-apt", "apt-fails"],
)
@pytest.mark.parametrize("shell", ["bash", "sh"])
def test_the_install_step_uses_sudo_only_where_it_must_and_never_fails_the_job(
    tmp_path, uid, present, apt_status, called, shell
):
    shutil.copy(EXAMPLES / "submission.py", tmp_path / "submission.py")
    assert main(["init-ci", "--dir", str(tmp_path)]) == 0
    steps = steps_of((tmp_path / WORKFLOW).read_text())
    script = steps[index(steps, "apt-get install")]["run"]
    commands = tmp_path / "bin"
    commands.mkdir()
    for name in present:
        (commands / name).write_text(FAKE_COMMANDS[name])
        (commands / name).chmod(0o755)
    calls = tmp_path / "calls"
    calls.touch()
    env = {"PATH": str(commands), "FAKE_UID": uid, "APT_STATUS": str(apt_status), "CALLS": str(calls)}
    done = subprocess.run([shutil.which(shell) or shell, "-e", "-c", script], env=env, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert calls.read_text().splitlines() == called


def test_init_ci_refuses_a_container_that_is_not_an_image_reference(tmp_path, capsys):
    shutil.copy(EXAMPLES / "submission.py", tmp_path / "submission.py")
    assert main(["init-ci", "--dir", str(tmp_path), "--container", "python:3.12\n    options: --privileged"]) == 2
    assert "is not an image reference, such as python:3.12" in capsys.readouterr().err
    assert not (tmp_path / ".github").exists() and not (tmp_path / ".gradekit").exists()


def test_the_reports_from_the_one_grade_are_what_each_format_gives(tmp_path, monkeypatch, capsys):
    result = grade(EXAMPLES / "buggy_submission.py", assignment.load("cross_entropy"), GradeConfig(max_examples=10))
    saved = tmp_path / RESULT
    saved.write_text(WRITERS["json"](result))
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(tmp_path / "summary.md"))
    report(saved, tmp_path / JUNIT)
    assert capsys.readouterr().out == WRITERS["github"](result)
    assert (tmp_path / "summary.md").read_text() == github.summary(result)
    assert (tmp_path / JUNIT).read_text() == WRITERS["junit"](result)
    report(tmp_path / "none.json", tmp_path / "none.xml")  # the grade wrote nothing: gradekit said why
    assert capsys.readouterr().out == "" and not (tmp_path / "none.xml").exists()


def test_the_reports_read_a_non_finite_answer_back_as_the_number_it_was(tmp_path, capsys):
    failed = PropertyResult(
        "loss_matches_reference",
        ("cross_entropy_loss",),
        Status.FAILED,
        0.0,
        4.0,
        message="`cross_entropy_loss` differs from the reference",
        counterexample=Counterexample({"logits": [1000.0]}, (), returned=float("nan"), expected=float("inf")),
    )
    result = GradeResult("cross_entropy", "submission.py", 1, (failed,))
    saved = tmp_path / RESULT
    saved.write_text(WRITERS["json"](result))
    report(saved, tmp_path / JUNIT)
    assert capsys.readouterr().out == WRITERS["github"](result)
    assert (tmp_path / JUNIT).read_text() == WRITERS["junit"](result)


def test_init_ci_writes_the_wheel_it_installs_and_says_to_commit_both(tmp_path, capsys):
    shutil.copy(EXAMPLES / "submission.py", tmp_path / "submission.py")
    assert main(["init-ci", "--dir", str(tmp_path)]) == 0
    with zipfile.ZipFile(tmp_path / ".gradekit" / WHEEL) as wheel:
        names = wheel.namelist()
        metadata = wheel.read(f"gradekit-{gradekit.__version__}.dist-info/METADATA").decode()
    assert "gradekit/cli.py" in names and "gradekit/assignments/cross_entropy/properties.py" in names
    assert f"Version: {gradekit.__version__}" in metadata and "Requires-Dist: hypothesis" in metadata
    told = capsys.readouterr().err.splitlines()
    assert told[0] == f"wrote {tmp_path / WORKFLOW}: the workflow"
    assert told[1] == f"wrote {tmp_path / '.gradekit' / WHEEL}: the gradekit the workflow installs"
    assert told[-1].startswith(f"commit them: git -C {tmp_path} add .github/workflows/gradekit.yml .gradekit && ")


def test_init_ci_without_a_threshold_fails_unless_every_property_passes(tmp_path):
    (tmp_path / "notebooks").mkdir()
    shutil.copy(EXAMPLES / "submission.py", tmp_path / "notebooks" / "submission.py")
    assert main(["init-ci", "--dir", str(tmp_path), "--install", "git+https://example.org/course/gradekit"]) == 0
    text = (tmp_path / ".github" / "workflows" / "gradekit.yml").read_text()
    assert "gradekit check notebooks/submission.py --format json --output gradekit-result.json || graded" in text
    assert "python -m pip install git+https://example.org/course/gradekit\n" in text
    assert not (tmp_path / ".gradekit").exists()  # --install: nothing of gradekit's own to commit


def test_a_new_wheel_replaces_the_wheel_of_another_version(tmp_path, capsys):
    shutil.copy(EXAMPLES / "submission.py", tmp_path / "submission.py")
    (tmp_path / ".gradekit").mkdir()
    (tmp_path / ".gradekit" / "gradekit-0.0.1-py3-none-any.whl").write_bytes(b"an older gradekit")
    assert main(["init-ci", "--dir", str(tmp_path)]) == 0
    assert [p.name for p in (tmp_path / ".gradekit").iterdir()] == [WHEEL]
    old = tmp_path / ".gradekit" / "gradekit-0.0.1-py3-none-any.whl"
    assert f"removed {old}: the workflow no longer installs it" in capsys.readouterr().err.splitlines()


def test_a_course_assignment_with_public_properties_travels_as_its_student_build(tmp_path, capsys):
    course, repo = tmp_path / "course", tmp_path / "repo"
    repo.mkdir()
    assert main(["new", "label_smoothing", "--dir", str(course)]) == 0
    shutil.copy(course / "label_smoothing" / "solution.py", repo / "work.py")
    capsys.readouterr()
    assert main(["--assignments", str(course), "init-ci", "--dir", str(repo), "--assignment", "label_smoothing"]) == 0
    copy = repo / ".gradekit" / "assignments" / "label_smoothing"
    assert sorted(p.name for p in copy.iterdir()) == ["__init__.py", "answers.json", "functions.py", "public.py"]
    built = assignment.load_folder(copy)
    assert built.student_build and all(p.public for p in built.properties)
    told = capsys.readouterr().err
    assert f"wrote the student build of the assignment to {copy}" in told and "not its solution" in told


def test_a_course_assignment_without_public_properties_is_copied_whole_but_its_banks(tmp_path, capsys):
    course, repo = tmp_path / "course", tmp_path / "repo"
    repo.mkdir()
    assert main(["new", "label_smoothing", "--dir", str(course)]) == 0
    (course / "label_smoothing" / "public.py").unlink()
    (course / "label_smoothing" / "helpers.py").write_text("SMOOTHING = 0.1\n")  # what properties may import
    shutil.copy(course / "label_smoothing" / "solution.py", repo / "work.py")
    capsys.readouterr()
    assert main(["--assignments", str(course), "init-ci", "--dir", str(repo), "--assignment", "label_smoothing"]) == 0
    copy = repo / ".gradekit" / "assignments" / "label_smoothing"
    graded = [p.name for p in (course / "label_smoothing").iterdir() if not p.name.startswith(("known_", "__pyc"))]
    assert {"__init__.py", "functions.py", "properties.py", "solution.py", "helpers.py"} <= set(graded)
    assert sorted(p.name for p in copy.iterdir()) == sorted(graded)  # no bank, no __pycache__
    assert (copy / "properties.py").read_text() == (course / "label_smoothing" / "properties.py").read_text()
    text = (repo / WORKFLOW).read_text()
    assert (
        "gradekit --assignments .gradekit/assignments check work.py --assignment label_smoothing --format json" in text
    )
    told = capsys.readouterr().err
    assert f"copied the assignment to {copy}, without its known_* banks" in told and "its solution" in told


def test_init_ci_run_again_with_the_copy_as_the_assignments_folder_keeps_it(tmp_path):
    course, repo = tmp_path / "course", tmp_path / "repo"
    repo.mkdir()
    assert main(["new", "label_smoothing", "--dir", str(course)]) == 0
    shutil.copy(course / "label_smoothing" / "solution.py", repo / "work.py")
    assert main(["--assignments", str(course), "init-ci", "--dir", str(repo), "--assignment", "label_smoothing"]) == 0
    shutil.rmtree(course)
    copies = str(repo / ".gradekit" / "assignments")
    assert main(["--assignments", copies, "init-ci", "--dir", str(repo), "--assignment", "label_smoothing"]) == 0
    assert (repo / ".gradekit" / "assignments" / "label_smoothing" / "answers.json").is_file()
    assert "--assignments .gradekit/assignments check" in (repo / WORKFLOW).read_text()


def test_an_unnamed_course_assignment_is_inferred_and_copied(tmp_path):
    course, repo = tmp_path / "course", tmp_path / "repo"
    repo.mkdir()
    assert main(["new", "label_smoothing", "--dir", str(course)]) == 0
    shutil.copy(course / "label_smoothing" / "solution.py", repo / "work.py")
    assert main(["--assignments", str(course), "init-ci", "--dir", str(repo)]) == 0
    copy = repo / ".gradekit" / "assignments" / "label_smoothing"
    assert (copy / "public.py").is_file() and not (copy / "solution.py").exists()
    assert "check work.py --assignment label_smoothing --format json" in (repo / WORKFLOW).read_text()


def test_a_solution_outside_the_assignment_folder_is_refused_before_anything_is_written(tmp_path, capsys):
    course, repo = tmp_path / "course", tmp_path / "repo"
    repo.mkdir()
    assert main(["new", "label_smoothing", "--dir", str(course)]) == 0
    (course / "label_smoothing" / "public.py").unlink()  # so the solution itself would travel
    with (course / "label_smoothing" / "__init__.py").open("a") as init:
        init.write('SOLUTION = "json"\n')  # a module the runner would not have as the solution
    shutil.copy(course / "label_smoothing" / "solution.py", repo / "work.py")
    capsys.readouterr()
    assert main(["--assignments", str(course), "init-ci", "--dir", str(repo), "--assignment", "label_smoothing"]) == 2
    error = capsys.readouterr().err
    assert error.startswith("gradekit: the solution of label_smoothing is ") and "outside its folder" in error
    assert sorted(p.name for p in repo.iterdir()) == ["work.py"]


def test_init_ci_refuses_a_submission_that_is_not_there(tmp_path, capsys):
    assert main(["init-ci", "--dir", str(tmp_path), "--submission", "missing.py"]) == 2
    assert capsys.readouterr().err == f"gradekit: --submission missing.py is not a file in {tmp_path}\n"
    assert not (tmp_path / ".github").exists()


def test_init_ci_asks_for_the_file_when_the_repository_holds_several(tmp_path, capsys):
    (tmp_path / "a.py").write_text("")
    (tmp_path / "b.py").write_text("")
    assert main(["init-ci", "--dir", str(tmp_path)]) == 2
    error = capsys.readouterr().err
    assert error.startswith("gradekit: could not choose the file to grade") and "--submission" in error
    assert not (tmp_path / ".github").exists()


def pytest_with_gradekit(folder: Path, *args: str, workers: int = 0) -> subprocess.CompletedProcess[str]:
    """pytest in a folder of its own (so this repository's settings stay out), with the plugin: through
    its entry point when gradekit is installed with it, else named with -p. With `workers`, under
    pytest-xdist. Its temporary folders are made in that folder, which this suite removes, not in the
    system's."""
    installed = any(e.value == "gradekit.pytest_plugin" for e in importlib.metadata.entry_points(group="pytest11"))
    plugin = [] if installed else ["-p", "gradekit.pytest_plugin"]
    xdist = ["-n", str(workers)] if workers else ["-p", "no:xdist"]
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            *plugin,
            "-p",
            "no:cacheprovider",
            *xdist,
            "-p",
            "no:benchmark",
            "--basetemp",
            str(folder / ".pytest-temporary"),
            *args,
        ],
        cwd=folder,
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_the_pytest_plugin_passes_every_property_of_a_correct_submission(tmp_path):
    shutil.copy(EXAMPLES / "submission.py", tmp_path / "submission.py")
    done = pytest_with_gradekit(tmp_path, "--gradekit", "submission.py", "--gradekit-max-examples", "10", "-v")
    assert done.returncode == 0, done.stdout + done.stderr
    assert f"{PROPERTIES} passed" in done.stdout
    assert "submission.py::loss_matches_reference PASSED" in done.stdout
    full = f"{assignment.load('cross_entropy').max_score:g}"
    assert f"gradekit: {full}/{full} for submission.py (cross_entropy)" in done.stdout.splitlines()
    assert "not checked yet" not in done.stdout


def graded(path: Path, max_examples: int) -> GradeResult:
    """The grade the plugin gives `path` with --gradekit-max-examples `max_examples`, graded here."""
    return grade(path, assignment.load("cross_entropy"), GradeConfig(max_examples=max_examples))


def the_plugins_summary(result: GradeResult, shown: str) -> list[str]:
    """The lines the terminal summary should end with for `result`."""
    unchecked = waiting([t for t in result.tests if t.status is Status.UNCHECKED])
    known = "gradekit: known mistake (see `gradekit check` for how to fix it): "
    return [
        f"gradekit: {result.score:g}/{result.max_score:g} for {shown} (cross_entropy)",
        *(f"gradekit: not checked yet: {line}" for line in unchecked),
        *(f"{known}{d.function}: {d.misconception}" for d in result.diagnosis),
    ]


def test_the_pytest_plugin_counts_its_items_and_ends_with_the_score_and_what_is_not_checked_yet(tmp_path):
    shutil.copy(EXAMPLES / "buggy_submission.py", tmp_path / "buggy.py")
    done = pytest_with_gradekit(tmp_path, "--gradekit", "buggy.py", "--gradekit-max-examples", "10")
    assert done.returncode == 1, done.stdout + done.stderr
    assert f"collected {PROPERTIES} items" in done.stdout
    expected = the_plugins_summary(graded(tmp_path / "buggy.py", 10), "buggy.py")
    lines = done.stdout.splitlines()
    section = next(i for i, line in enumerate(lines) if line.strip("= ") == "gradekit")
    assert lines[section + 1 : section + 1 + len(expected)] == expected
    assert "not checked yet" in expected[1] and "known mistake" in expected[-1] and "0 items" not in done.stdout
    assert " skipped" in done.stdout  # a property not checked yet is a skipped item, not a failed one


def test_the_pytest_plugin_shows_the_score_under_xdist_too(tmp_path):
    shutil.copy(EXAMPLES / "submission.py", tmp_path / "submission.py")
    done = pytest_with_gradekit(tmp_path, "--gradekit", "submission.py", "--gradekit-max-examples", "10", workers=2)
    assert done.returncode == 0, done.stdout + done.stderr
    assert f"[{PROPERTIES} items]" in done.stdout  # xdist's own count of what its workers collected
    full = f"{assignment.load('cross_entropy').max_score:g}"
    assert f"gradekit: {full}/{full} for submission.py (cross_entropy)" in done.stdout.splitlines()


@pytest.mark.parametrize(
    "value, why",
    [
        ("0", "'0' must be positive"),
        ("-3", "'-3' must be positive"),
        ("1001", f"1001 is more than {MAX_EXAMPLES}, the most a grade can hold"),
        ("ten", "'ten' is not a number"),
    ],
)
def test_the_pytest_plugin_takes_the_examples_the_command_takes_and_refuses_the_rest(tmp_path, value, why):
    shutil.copy(EXAMPLES / "submission.py", tmp_path / "submission.py")
    done = pytest_with_gradekit(tmp_path, "--gradekit", "submission.py", "--gradekit-max-examples", value)
    assert done.returncode == pytest.ExitCode.USAGE_ERROR, done.stdout + done.stderr
    assert f"error: argument --gradekit-max-examples: {why}" in done.stderr
    assert "Traceback" not in done.stderr and "gradekit: " not in done.stdout


def test_an_unknown_assignment_is_one_sentence_at_collection(tmp_path):
    shutil.copy(EXAMPLES / "submission.py", tmp_path / "submission.py")
    done = pytest_with_gradekit(tmp_path, "--gradekit", "submission.py", "--gradekit-assignment", "nope", "-q")
    assert done.returncode == 2, done.stdout + done.stderr  # pytest's "interrupted by a collection error"
    assert "gradekit: there is no assignment named 'nope'" in done.stdout
    assert "Traceback" not in done.stdout and "gradekit: 0/" not in done.stdout


def test_the_pytest_plugin_fails_properties_with_the_counterexample_text(tmp_path):
    shutil.copy(EXAMPLES / "buggy_submission.py", tmp_path / "buggy.py")
    done = pytest_with_gradekit(
        tmp_path,
        "--gradekit",
        "buggy.py",
        "--gradekit-assignment",
        "cross_entropy",
        "--gradekit-max-examples",
        "10",
        "--junitxml",
        "report.xml",
    )
    assert done.returncode == 1, done.stdout + done.stderr
    assert "FAILED buggy.py::loss_matches_reference" in done.stdout
    assert "FAILED buggy.py::loss_matches_reference - the loss differs from the reference" in done.stdout
    assert "call: cross_entropy_loss(" in done.stdout and "you returned:" in done.stdout
    assert "hint: loss = -log softmax(z)[true_id]" in done.stdout
    assert "Traceback" not in done.stdout
    assert 'name="loss_matches_reference"' in (tmp_path / "report.xml").read_text()


def test_keywords_select_the_plugins_properties(tmp_path):
    shutil.copy(EXAMPLES / "buggy_submission.py", tmp_path / "buggy.py")
    done = pytest_with_gradekit(
        tmp_path,
        "--gradekit",
        "buggy.py",
        "--gradekit-max-examples",
        "10",
        "-k",
        "softmax_matches_reference or perplexity_matches_reference",
        "-q",
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert f"2 passed, {PROPERTIES - 2} deselected" in done.stdout


def test_the_pytest_plugin_reports_a_file_that_does_not_load(tmp_path):
    (tmp_path / "broken.py").write_text("def softmax(z):\n    return (\n")
    done = pytest_with_gradekit(tmp_path, "--gradekit", "broken.py", "--gradekit-assignment", "cross_entropy", "-q")
    assert done.returncode == 1
    assert f"{PROPERTIES} failed" in done.stdout and "broken.py has a SyntaxError on line 2" in done.stdout
    full = f"{assignment.load('cross_entropy').max_score:g}"
    assert f"gradekit: 0/{full} for broken.py (cross_entropy)" in done.stdout.splitlines()
    assert "gradekit: every property scores 0 until the file loads: broken.py has a SyntaxError" in done.stdout


def test_without_the_option_the_plugin_does_nothing(tmp_path):
    (tmp_path / "test_one.py").write_text("def test_one():\n    pass\n")
    done = pytest_with_gradekit(tmp_path, "-q")
    assert done.returncode == 0 and "1 passed" in done.stdout
