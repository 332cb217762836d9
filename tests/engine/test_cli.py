"""The command line: exit codes, formats, options and errors in one sentence."""

from __future__ import annotations

import argparse
import importlib
import json
import os
import pkgutil
import re
import shutil
import subprocess
import sys
from pathlib import Path

import gradekit.commands
from gradekit.cli import build_parser, main, one_blas_thread
from gradekit.config import BLAS_THREADS
from gradekit.instructor import scaffold

ROOT = Path(__file__).resolve().parents[2]
CORRECT = ROOT / "examples" / "submission.py"
BUGGY = ROOT / "examples" / "buggy_submission.py"


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "gradekit", *args], capture_output=True, text=True)


def test_a_correct_submission_exits_0_with_full_marks():
    done = run("check", str(CORRECT), "--max-examples", "20")
    assert done.returncode == 0
    assert "Score: 100 / 100" in done.stdout


# A property whose own arithmetic on a submission's answers makes NumPy warn (inf - inf).
WARNING_PROPERTY = '''

import numpy as np


@prop(points=1, functions=["log_softmax"], hint="A log-probability is finite.")
@given(z=logits())
def log_softmax_is_finite(sub, z):
    """log_softmax's answers are finite: their difference with themselves is zero."""
    out = np.asarray(sub.log_softmax(z), dtype=float)
    assert not np.any(np.subtract(out, out)), "log_softmax returned an infinite log-probability"
'''
INFINITE = "def log_softmax(logits):\n    return [float('inf')] * len(logits)\n"


def test_numpy_warnings_of_a_propertys_own_arithmetic_never_reach_the_terminal(tmp_path):
    scaffold.create("demo", tmp_path)
    properties = tmp_path / "demo" / "properties.py"
    properties.write_text(properties.read_text() + WARNING_PROPERTY)
    submission = tmp_path / "infinite.py"
    submission.write_text(INFINITE)
    done = run("--assignments", str(tmp_path), "check", str(submission), "--assignment", "demo", "--max-examples", "5")
    assert done.returncode == 1
    assert "FAILED  log_softmax_is_finite  0/" in done.stdout, done.stdout
    assert "Warning" not in done.stderr, done.stderr


def test_a_buggy_submission_exits_1_and_shows_counterexample_and_hint():
    done = run("check", str(BUGGY), "--max-examples", "20")
    assert done.returncode == 1
    assert "FAILED  loss_matches_reference [cross_entropy_loss]" in done.stdout
    assert "you returned:" in done.stdout and "expected:" in done.stdout and "hint:" in done.stdout
    assert "Traceback" not in done.stdout + done.stderr


def test_the_command_exits_with_its_code_after_the_last_byte_of_its_output():
    done = run("check", str(BUGGY), "--format", "json", "--max-examples", "20")
    assert done.returncode == 1
    report = json.loads(done.stdout)
    assert report["score"] < report["max_score"]
    buffered = {k: v for k, v in os.environ.items() if k != "PYTHONUNBUFFERED"}
    listed = subprocess.run([sys.executable, "-m", "gradekit", "list"], capture_output=True, text=True, env=buffered)
    assert listed.returncode == 0  # a few short lines, all of them still in the pipe's buffer at the exit
    assert "cross_entropy" in listed.stdout and "training_step" in listed.stdout


def test_a_reader_that_leaves_early_gets_an_exit_code_and_no_traceback():
    command = [sys.executable, "-m", "gradekit", "check", str(BUGGY), "--format", "json", "--max-examples", "20"]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    process.stdout.close()
    _, errors = process.communicate()
    assert process.returncode == 1
    assert b"Traceback" not in errors and b"Exception ignored" not in errors


def test_json_report_has_the_documented_keys(tmp_path):
    out = tmp_path / "report.json"
    assert main(["check", str(BUGGY), "--format", "json", "--output", str(out), "--max-examples", "20"]) == 1
    report = json.loads(out.read_text())
    assert list(report)[:6] == ["assignment", "submission", "score", "max_score", "seed", "error"]
    assert report["assignment"] == "cross_entropy" and report["error"] is None
    test = report["tests"][0]
    assert {"name", "functions", "score", "max_score", "status", "message", "counterexample"} <= set(test)
    failed = [t for t in report["tests"] if t["status"] == "failed"]
    unchecked = [t for t in report["tests"] if t["status"] == "unchecked"]
    assert unchecked and all(t["counterexample"] is None for t in unchecked)
    assert all(t["counterexample"]["calls"] for t in failed)
    assert report["score"] == sum(t["score"] for t in report["tests"])


def test_an_unloadable_submission_still_writes_a_report_and_exits_1(tmp_path):
    broken = tmp_path / "broken.py"
    broken.write_text("def softmax(z):\n    return (\n")
    out = tmp_path / "report.json"
    assert main(["check", str(broken), "--format", "json", "--output", str(out)]) == 1
    report = json.loads(out.read_text())
    assert report["score"] == 0 and "line 2" in report["error"]


def test_a_missing_file_is_a_usage_error_in_one_sentence_and_its_report_is_written(tmp_path):
    nowhere = tmp_path / "nowhere.py"
    done = run("check", str(nowhere), "--assignment", "cross_entropy")
    assert (done.returncode, done.stdout, done.stderr) == (2, "", f"gradekit: {nowhere} does not exist\n")
    out = tmp_path / "report.json"
    assert main(["check", str(nowhere), "--format", "json", "--output", str(out)]) == 2
    report = json.loads(out.read_text())
    assert report["error"] == f"{nowhere} does not exist" and report["isolation"] is None  # nothing ran


def test_a_file_defining_none_of_the_functions_is_one_sentence(tmp_path):
    empty = tmp_path / "empty.py"
    empty.write_text("")
    done = run("check", str(empty), "--assignment", "training_step")
    assert done.returncode == 1
    assert "Could not grade: empty.py defines none of the functions training_step grades (`encode`," in done.stdout
    assert len(done.stdout.splitlines()) < 8 and "is not defined" not in done.stdout


def test_a_min_score_past_the_maximum_is_said_after_the_report_is_written(tmp_path):
    out = tmp_path / "report.json"
    argv = ["check", str(CORRECT), "--max-examples", "5", "--min-score", "200", "--format", "json"]
    done = run(*argv, "--output", str(out))
    assert done.returncode == 2 and json.loads(out.read_text())["score"] == 100
    assert done.stderr == "gradekit: --min-score 200 is more than the 100 points this check gives\n"


def test_usage_errors_exit_2_with_one_line(tmp_path):
    for args in (
        ["check", str(CORRECT), "--format", "xml"],
        ["check", str(CORRECT), "--assignment", "nope"],
        ["check", str(CORRECT), "--max-examples", "0"],
        ["check", str(CORRECT), "--max-examples", "1001"],
        ["check", str(CORRECT), "--timeout", "soon"],
        ["check", str(CORRECT), "--timeout", "nan"],
        ["check", str(CORRECT), "--budget", "inf"],
        ["check", str(CORRECT), "--memory", "10"],
        ["check", str(CORRECT), "--output", str(tmp_path)],
        ["release", "cross_entropy", "--out", str(CORRECT)],
        ["frobnicate"],
    ):
        done = run(*args)
        assert done.returncode == 2, args
        assert done.stderr.startswith("gradekit: ") and len(done.stderr.strip().splitlines()) == 1, done.stderr
        assert done.stdout == "", args


def test_an_unknown_assignment_says_how_to_add_a_folder_of_assignments():
    done = run("check", str(CORRECT), "--assignment", "nope")
    assert done.stderr == (
        "gradekit: there is no assignment named 'nope' (built in: autograd, cross_entropy, training_step; "
        "add the folder that holds it with --assignments DIR)\n"
    )


def test_a_call_that_raised_is_reported_with_one_raised(tmp_path):
    work = tmp_path / "work.py"
    raising = "def softmax(logits):\n    raise ValueError('boom')"
    work.write_text(CORRECT.read_text().replace("def softmax(logits):", raising))
    text = run("check", str(work), "--max-examples", "5")
    assert "`softmax` raised ValueError: boom (line 7)" in text.stdout
    assert "raised raised" not in text.stdout
    report = json.loads(run("check", str(work), "--max-examples", "5", "--format", "json").stdout)
    softmax = next(t for t in report["tests"] if t["name"] == "softmax_matches_reference")
    assert softmax["message"] == "`softmax` raised ValueError: boom (line 7)"
    assert [call["raised"] for call in softmax["counterexample"]["calls"]] == ["ValueError: boom (line 7)"]


def test_an_error_loading_the_file_takes_the_right_article_and_no_empty_message(tmp_path):
    indented = tmp_path / "indented.py"
    indented.write_text("def softmax(z):\nreturn z\n")
    report = json.loads(run("check", str(indented), "--assignment", "cross_entropy", "--format", "json").stdout)
    assert report["error"].startswith("indented.py has an IndentationError on line 2: expected an indented block")
    bare = tmp_path / "bare.py"
    bare.write_text("raise ValueError\n")
    report = json.loads(run("check", str(bare), "--assignment", "cross_entropy", "--format", "json").stdout)
    assert report["error"] == "bare.py could not be loaded: ValueError (line 1)"


def test_a_notebook_cell_that_does_not_parse_takes_the_right_article(tmp_path):
    solution = {"cell_type": "code", "metadata": {}, "execution_count": None, "outputs": []}
    cells = [{**solution, "source": "def softmax(z):\nreturn z\n"}, {**solution, "source": CORRECT.read_text()}]
    work = tmp_path / "work.ipynb"
    work.write_text(json.dumps({"nbformat": 4, "nbformat_minor": 4, "cells": cells, "metadata": {}}))
    report = json.loads(run("check", str(work), "--max-examples", "5", "--format", "json").stdout)
    assert report["notes"][0].startswith("cell 1 has an IndentationError on line 2: expected an indented block")


def test_a_count_of_one_is_one_in_markdown():
    report = run("check", str(BUGGY), "--max-examples", "20", "--format", "markdown").stdout
    # perplexity and the gradient wait on the loss alike: one line for both
    waits = (
        "- `perplexity` and `softmax_cross_entropy_grad`: 2 properties (7 points) count once `loss_matches_reference`"
    )
    assert waits in report
    assert "- `cross_entropy_loss`: 8 properties (23 points) and its speed (2 points) count once" in report
    assert "(1 points)" not in report and "1 properties" not in report
    alone = run("check", str(BUGGY), "--max-examples", "20", "--format", "markdown", "--function", "perplexity").stdout
    assert "- `perplexity`: 1 property (3 points) counts once `loss_matches_reference` passes" in alone


def test_list_shows_assignments_and_signatures():
    done = run("list")
    assert done.returncode == 0
    assert "cross_entropy:" in done.stdout
    assert "cross_entropy_loss(logits: list[float], true_id: int) -> float" in done.stdout


def test_seed_option_is_reported(tmp_path):
    out = tmp_path / "r.json"
    main(["check", str(CORRECT), "--format", "json", "--output", str(out), "--seed", "11", "--max-examples", "10"])
    assert json.loads(out.read_text())["seed"] == 11


def test_a_tiny_property_budget_pays_nothing_it_did_not_test_and_says_how_far_it_got(tmp_path):
    out = tmp_path / "r.json"
    main(["check", str(CORRECT), "--format", "json", "--output", str(out), "--property-budget", "0.001"])
    report = json.loads(out.read_text())
    stopped = [t for t in report["tests"] if re.search(r"budget of [\d.]+ s of CPU time ran out", t["message"])]
    assert stopped and all(t["status"] == "timeout" and t["score"] == 0 for t in stopped)
    assert all(re.search(r"after \d+ of its \d+ examples", t["message"]) for t in stopped)
    assert report["score"] == sum(t["score"] for t in report["tests"] if t not in stopped) < 100


def test_without_bubblewrap_a_class_is_graded_behind_landlock_and_a_wall_asked_for_and_missing_is_refused(tmp_path):
    """With no bubblewrap on the PATH: `grade` grades behind Landlock and says so; asked for bubblewrap
    by name, it is a usage error naming the remedy and writes nothing; --no-isolation grades behind the
    guard; `check` grades and says in its notes which wall it ran behind and why not the stronger."""
    (tmp_path / "class").mkdir()
    shutil.copy(CORRECT, tmp_path / "class" / "alice.py")
    bare = {**os.environ, "PATH": os.path.dirname(sys.executable)}
    grade = [
        *(sys.executable, "-m", "gradekit", "grade", str(tmp_path / "class"), "--assignment", "cross_entropy"),
        *("--max-examples", "5", "--seed", "1"),
    ]
    refused = subprocess.run(
        [*grade, "--out", str(tmp_path / "bw"), "--isolation", "bubblewrap"], env=bare, capture_output=True, text=True
    )
    assert refused.returncode == 2 and "bubblewrap is not installed" in refused.stderr, refused.stderr
    assert "gradekit doctor" in refused.stderr and not (tmp_path / "bw").exists()
    for out, options, wall in (("ll", [], "landlock"), ("guard", ["--no-isolation"], "guard")):
        told = subprocess.run(
            [*grade, "--out", str(tmp_path / out), *options], env=bare, capture_output=True, text=True
        )
        assert told.returncode == 0 and (tmp_path / out / "gradebook.csv").is_file(), told.stderr
        assert json.loads((tmp_path / out / "results" / "alice.json").read_text())["isolation"] == wall
    check = subprocess.run(
        [sys.executable, "-m", "gradekit", "check", str(CORRECT), "--format", "json", "--max-examples", "5"],
        env=bare,
        capture_output=True,
        text=True,
    )
    report = json.loads(check.stdout)
    assert report["isolation"] == "landlock"
    assert report["notes"] == [
        "the submission ran in the Landlock sandbox, without namespaces (bubblewrap: bubblewrap is not installed)"
    ]


VERBS = {
    "check": "check",
    "grade": "grade",
    "collect": "collect",
    "gradescope": "gradescope",
    "init-ci": "init_ci",
    "selftest": "selftest",
    "list": "listing",
    "new": "new",
    "release": "release",
    "doctor": "doctor",
}


def test_each_verb_is_a_module_that_adds_its_own_parser_and_runs_it():
    parser = build_parser()
    verbs = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    assert list(verbs.choices) == list(VERBS)
    found = {info.name for info in pkgutil.iter_modules(gradekit.commands.__path__)}
    assert found == {*VERBS.values(), "options", "exit_codes"}
    for module_name in VERBS.values():
        module = importlib.import_module(f"gradekit.commands.{module_name}")
        assert module.__doc__ and callable(module.add_parser) and callable(module.run), module_name
    chosen = {
        "check": ["x.py"],
        "grade": ["d", "--assignment", "a", "--out", "o"],
        "gradescope": ["build", "--assignment", "a"],
        "selftest": ["a"],
        "new": ["a"],
        "release": ["a", "--out", "o"],
        "collect": ["roster.csv", "--deadline", "2026-12-01T00:00:00Z", "--out", "o"],
    }
    for verb, module_name in VERBS.items():
        args = parser.parse_args([verb, *chosen.get(verb, [])])
        assert args.run is importlib.import_module(f"gradekit.commands.{module_name}").run, verb


def test_the_command_asks_for_one_blas_thread_before_numpy_is_imported_and_keeps_a_users_count():
    imported = subprocess.run(
        [sys.executable, "-c", "import sys, gradekit.cli; print('numpy' in sys.modules)"],
        capture_output=True,
        text=True,
        check=True,
    )
    assert imported.stdout.strip() == "False"  # so the setting is read when a verb imports NumPy
    environ = {"OMP_NUM_THREADS": "4"}
    one_blas_thread(environ)
    assert environ == {**dict.fromkeys(BLAS_THREADS, "1"), "OMP_NUM_THREADS": "4"}


def test_a_check_without_assignment_folders_of_its_own_starts_its_worker_before_importing_the_assignments():
    """Without --assignments or $GRADEKIT_ASSIGNMENTS no folder can take a built-in assignment's place,
    so the warning that says so imports nothing: the worker a check starts (gradekit.grade_one) boots
    while the assignments, Hypothesis and NumPy are imported, not after."""
    probe = (
        "import argparse, sys\n"
        "from gradekit import cli\n"
        "cli._warn_of_shadowing(argparse.Namespace(assignments=None))\n"
        "print('gradekit.assignment' in sys.modules, 'hypothesis' in sys.modules)\n"
    )
    environment = {k: v for k, v in os.environ.items() if k != "GRADEKIT_ASSIGNMENTS"}
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, env=environment, check=True)
    assert done.stdout.split() == ["False", "False"] and done.stderr == ""
