"""The notebook's check cell grades what the kernel ran, with the kernel's own interpreter.

A fake shell stands in for IPython: all `check` reads of it is `history_manager.input_hist_raw`, the
cells as typed, in the order they ran, after IPython's empty entry 0; its last entry is the cell
running the check.
"""

from __future__ import annotations

import os
import stat
import subprocess
import sys
import time
from pathlib import Path
from types import SimpleNamespace

import nbformat
import pytest

from gradekit import jupyter
from gradekit.config import GradeConfig
from gradekit.engine.source import read
from gradekit.grader import grade
from gradekit.instructor.starter import release

ROOT = Path(__file__).resolve().parents[2]
SOLUTION = (ROOT / "examples" / "submission.py").read_text()
CHECK = "%run -m gradekit.jupyter cross_entropy"
SANITY_SECONDS = 60.0  # a bound on a runaway, not a speed target


def shell(*cells: str):
    """An IPython-like shell whose kernel ran `cells` in order, the last one running the check."""
    return SimpleNamespace(history_manager=SimpleNamespace(input_hist_raw=["", *cells]))


def test_the_cells_that_ran_are_graded_in_order_by_the_kernels_interpreter(monkeypatch, capsys):
    seen = {}

    def fake_run(command, cwd, **_):
        graded = Path(cwd) / command[4]
        seen.update(command=command, folder_mode=stat.S_IMODE(Path(cwd).stat().st_mode), source=read(graded))
        return subprocess.CompletedProcess(command, 1, "Score: 43 / 100\n", "")

    monkeypatch.setattr(jupyter.subprocess, "run", fake_run)
    ran = shell("import math", "def softmax(z):\n    return z", CHECK, "def softmax(z):\n    return [1.0]", CHECK)
    jupyter.check("cross_entropy", "--max-examples", "10", shell=ran)

    command = seen["command"]
    assert command[:4] == [sys.executable, "-m", "gradekit", "check"]
    assert command[5:] == ["--assignment", "cross_entropy", "--max-examples", "10"]
    assert seen["folder_mode"] == 0o700
    source = seen["source"]
    # Each cell keeps its execution count; the earlier check (3) and the running one (5) are left out.
    assert [(c.number, c.code) for c in source.cells] == [
        (1, "import math\n"),
        (2, "def softmax(z):\n    return z\n"),
        (4, "def softmax(z):\n    return [1.0]\n"),
    ]
    assert not source.path.parent.exists()  # the private copy is gone
    out = capsys.readouterr().out
    assert "Grading the 3 cells" in out and "Score: 43 / 100" in out and "saved notebook" in out


def test_unsaved_work_is_graded_as_it_ran_magics_and_all(tmp_path, cross_entropy, capsys):
    _, saved = release(cross_entropy, tmp_path)  # the file on disk still holds the stubs
    assert grade(saved, cross_entropy, GradeConfig(max_examples=10)).score == 0
    ran = shell(
        "%matplotlib inline\n!pip install numpy\nimport math",
        "%%bash\necho not python",
        SOLUTION,
        "probs = softmax([1.0, 2.0])\nprobs?",
        CHECK,
    )
    jupyter.check("cross_entropy", "--max-examples", "10", shell=ran)
    out = capsys.readouterr().out
    assert "Score: 100 / 100" in out
    assert "cell 2: a %%bash cell is not Python, so it was not run" in out  # numbered as it ran


def test_earlier_checks_and_the_running_one_are_left_out_keeping_the_numbering():
    history = ["", "x = 1", 'from gradekit.jupyter import check\ncheck("a")', CHECK, "!gradekit check a.ipynb", CHECK]
    assert jupyter.ran_cells(history) == ["x = 1", "", "", "!gradekit check a.ipynb"]


def test_a_cell_of_many_blank_lines_is_read_once_for_a_check():
    """A check is told by a line of its own: a run of blank lines, which a pattern spanning lines would
    read again from each line, is read once; a check below it is still found."""
    started = time.monotonic()
    blank, checked = "\n" * 131072 + "x = 1", "\n" * 131072 + "  import gradekit"
    assert jupyter.ran_cells(["", blank, checked, CHECK]) == [blank, ""]
    assert time.monotonic() - started < SANITY_SECONDS


def test_the_released_check_cell_is_a_check_in_jupyter_and_nothing_in_a_grade_of_the_file(tmp_path, cross_entropy):
    _, notebook = release(cross_entropy, tmp_path)
    typed = nbformat.read(str(notebook), as_version=4).cells[-1].source
    assert jupyter.ran_cells(["", typed, "x = 1", typed]) == ["", "x = 1"]
    graded = read(notebook).cells[-1]
    assert graded.code.startswith("pass  #") and graded.note is None


def test_when_nothing_but_checks_ran_nothing_is_graded(monkeypatch, capsys):
    monkeypatch.setattr(jupyter.subprocess, "run", lambda *a, **k: pytest.fail("nothing should be graded"))
    jupyter.check("cross_entropy", shell=shell(CHECK, CHECK))
    captured = capsys.readouterr()
    assert captured.out == "" and captured.err == jupyter.NOTHING_RAN + "\n"


def test_outside_a_kernel_the_message_says_to_check_the_saved_file(monkeypatch, capsys):
    monkeypatch.setattr(jupyter.subprocess, "run", lambda *a, **k: pytest.fail("nothing should be graded"))
    assert jupyter.main(["cross_entropy"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "no kernel here" in err and "gradekit check FILE --assignment cross_entropy" in err


def test_run_as_a_module_in_a_terminal_it_is_a_usage_error_in_one_sentence():
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    done = subprocess.run(
        [sys.executable, "-m", "gradekit.jupyter", "cross_entropy"], capture_output=True, text=True, env=env
    )
    assert done.returncode == 2 and done.stdout == ""
    assert done.stderr.count("\n") == 1 and "no kernel here" in done.stderr and "Traceback" not in done.stderr


def test_a_usage_error_from_gradekit_reaches_the_notebook_without_the_reminder(capsys):
    jupyter.check("no_such_assignment", shell=shell("x = 1", CHECK))
    captured = capsys.readouterr()
    assert "no_such_assignment" in captured.err and "Traceback" not in captured.err
    assert "saved notebook" not in captured.out
