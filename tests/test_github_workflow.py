"""CI in student repositories: the workflow `gradekit init-ci` writes, and the pytest plugin."""

from __future__ import annotations

import importlib.metadata
import shutil
import subprocess
import sys
from pathlib import Path

import yaml

from gradekit import assignment
from gradekit.cli import main

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"
PROPERTIES = len(assignment.load("cross_entropy").properties)  # one pytest item each


def test_init_ci_writes_a_workflow_that_grades_annotates_uploads_and_fails_below_the_threshold(tmp_path):
    shutil.copy(EXAMPLES / "submission.py", tmp_path / "my work.py")
    assert main(["init-ci", "--dir", str(tmp_path), "--min-score", "60", "--assignment", "cross_entropy"]) == 0
    text = (tmp_path / ".github" / "workflows" / "gradekit.yml").read_text()
    assert "python -m pip install gradekit==0.1.0" in text
    assert "gradekit check 'my work.py' --assignment cross_entropy --format github --min-score 60" in text
    assert (
        "gradekit check 'my work.py' --assignment cross_entropy --format junit --output gradekit-junit.xml "
        "--min-score 0"
    ) in text
    assert "uses: actions/upload-artifact@v4" in text and "path: gradekit-junit.xml" in text
    assert "\t" not in text
    workflow = yaml.safe_load(text)
    steps = workflow["jobs"]["grade"]["steps"]
    assert [s.get("uses", "").split("@")[0] for s in steps if "uses" in s] == [
        "actions/checkout",
        "actions/setup-python",
        "actions/upload-artifact",
    ]
    runs = [s["run"] for s in steps if "run" in s]
    assert "apt-get install -y -q bubblewrap" in runs[0]  # the OS sandbox, before anything is graded
    assert runs[2].strip().endswith("--format github --min-score 60")
    assert steps[-1]["if"] == "always()" and steps[-1]["with"]["path"] == "gradekit-junit.xml"
    assert set(workflow[True]) == {"push", "pull_request", "workflow_dispatch"}  # YAML 1.1 reads `on` as True


def test_init_ci_without_a_threshold_fails_unless_every_property_passes(tmp_path):
    (tmp_path / "notebooks").mkdir()
    shutil.copy(EXAMPLES / "submission.py", tmp_path / "notebooks" / "submission.py")
    assert main(["init-ci", "--dir", str(tmp_path), "--install", "git+https://example.org/course/gradekit"]) == 0
    text = (tmp_path / ".github" / "workflows" / "gradekit.yml").read_text()
    assert "gradekit check notebooks/submission.py --format github\n" in text
    assert "python -m pip install git+https://example.org/course/gradekit" in text


def test_init_ci_asks_for_the_file_when_the_repository_holds_several(tmp_path, capsys):
    (tmp_path / "a.py").write_text("")
    (tmp_path / "b.py").write_text("")
    assert main(["init-ci", "--dir", str(tmp_path)]) == 2
    error = capsys.readouterr().err
    assert error.startswith("gradekit: could not choose the file to grade") and "--submission" in error
    assert not (tmp_path / ".github").exists()


def pytest_with_gradekit(folder: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """pytest in a folder of its own (so this repository's settings stay out), with the plugin: through
    its entry point when gradekit is installed with it, else named with -p."""
    installed = any(e.value == "gradekit.pytest_plugin" for e in importlib.metadata.entry_points(group="pytest11"))
    plugin = [] if installed else ["-p", "gradekit.pytest_plugin"]
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            *plugin,
            "-p",
            "no:cacheprovider",
            "-p",
            "no:xdist",
            "-p",
            "no:benchmark",
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
    assert "FAILED  loss_matches_reference [cross_entropy_loss]  0/8" in done.stdout
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


def test_without_the_option_the_plugin_does_nothing(tmp_path):
    (tmp_path / "test_one.py").write_text("def test_one():\n    pass\n")
    done = pytest_with_gradekit(tmp_path, "-q")
    assert done.returncode == 0 and "1 passed" in done.stdout
