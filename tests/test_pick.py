"""Which file of a student's folder is graded (`source.pick`), rule by rule, and the note that says so.

The rule: a lone file; else the files named like the assignment (else like submission, else all);
of those, the ones nearest the top; of those, a notebook over its .py export. Still tied: nothing.
"""

from __future__ import annotations

from pathlib import Path

import nbformat
import pytest
from nbformat import v4

from gradekit.source import pick, read

NAME = "cross_entropy"


def folder_of(tmp_path: Path, *files: str) -> Path:
    folder = tmp_path / "submission"
    for name in files:
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_text("x = 1\n")
    return folder


ALSO = "graded {}; also found {}"
PICKED = [
    pytest.param(["homework.py"], NAME, "homework.py", "", id="a lone file, whatever its name"),
    pytest.param(
        ["homework.py", ".ipynb_checkpoints/homework-checkpoint.ipynb", "__pycache__/x.py", ".old.py"],
        NAME,
        "homework.py",
        "",
        id="hidden files, caches and checkpoints are not candidates",
    ),
    pytest.param(
        ["cross_entropy.ipynb", "cross_entropy.py"],
        NAME,
        "cross_entropy.ipynb",
        ALSO.format("cross_entropy.ipynb", "cross_entropy.py"),
        id="a notebook over its .py export",
    ),
    pytest.param(
        ["cross_entropy.py", "scratch.py", "submission.py"],
        NAME,
        "cross_entropy.py",
        ALSO.format("cross_entropy.py", "scratch.py, submission.py"),
        id="the assignment's name over any other",
    ),
    pytest.param(
        ["scratch.py", "submission.ipynb", "submission.py"],
        NAME,
        "submission.ipynb",
        ALSO.format("submission.ipynb", "scratch.py, submission.py"),
        id="submission when nothing is named like the assignment",
    ),
    pytest.param(
        ["cross_entropy.ipynb", "backup/cross_entropy.ipynb"],
        NAME,
        "cross_entropy.ipynb",
        ALSO.format("cross_entropy.ipynb", "backup/cross_entropy.ipynb"),
        id="nearest the top over a copy in a subfolder",
    ),
    pytest.param(
        ["cross_entropy.py", "starter/cross_entropy.ipynb"],
        NAME,
        "cross_entropy.py",
        ALSO.format("cross_entropy.py", "starter/cross_entropy.ipynb"),
        id="nearest the top before a notebook over a .py",
    ),
    pytest.param(
        ["hw/cross_entropy.ipynb", "hw/cross_entropy.py"],
        NAME,
        "hw/cross_entropy.ipynb",
        ALSO.format("hw/cross_entropy.ipynb", "hw/cross_entropy.py"),
        id="a notebook over its export, both in a subfolder",
    ),
    pytest.param(
        ["work.ipynb", "work.py"],
        NAME,
        "work.ipynb",
        ALSO.format("work.ipynb", "work.py"),
        id="a notebook over its export, whatever their name",
    ),
    pytest.param(
        ["work.ipynb", "work.py"],
        None,
        "work.ipynb",
        ALSO.format("work.ipynb", "work.py"),
        id="a notebook over its export, with no assignment named",
    ),
    pytest.param(
        ["work.ipynb", "lib/helpers.py"],
        NAME,
        "work.ipynb",
        ALSO.format("work.ipynb", "lib/helpers.py"),
        id="the file at the top over one in a subfolder",
    ),
]
NAME_IT = "name the one to grade cross_entropy.ipynb or cross_entropy.py"
NOT_PICKED = [
    pytest.param([], NAME, "submission holds no .py or .ipynb file", id="nothing"),
    pytest.param(["a.py", "b.py"], NAME, f"submission holds 2 files (a.py, b.py); {NAME_IT}", id="two unrelated"),
    pytest.param(
        ["a.py", "b.py"],
        None,
        "submission holds 2 files (a.py, b.py); name the one to grade submission.ipynb or submission.py",
        id="two unrelated, no assignment named",
    ),
    pytest.param(
        ["notes.ipynb", "helpers.py"],
        NAME,
        f"submission holds 2 files (helpers.py, notes.ipynb); {NAME_IT}",
        id="a notebook and an unrelated .py",
    ),
    pytest.param(
        ["a/cross_entropy.py", "b/cross_entropy.py", "scratch.py"],
        NAME,
        "submission holds 2 files named cross_entropy (a/cross_entropy.py, b/cross_entropy.py); "
        "keep only the one to grade",
        id="two named like the assignment, side by side",
    ),
    pytest.param(
        [f"part{i}.py" for i in range(7)],
        NAME,
        f"submission holds 7 files (part0.py, part1.py, part2.py, part3.py, part4.py and 2 more); {NAME_IT}",
        id="many files",
    ),
]


@pytest.mark.parametrize(("files", "assignment", "picked", "note"), PICKED)
def test_the_rule_picks_one_file_and_names_the_others(tmp_path, files, assignment, picked, note):
    folder = folder_of(tmp_path, *files)
    assert pick(folder, assignment) == (folder / picked, note)


@pytest.mark.parametrize(("files", "assignment", "problem"), NOT_PICKED)
def test_when_the_rule_cannot_pick_one_sentence_names_the_files(tmp_path, files, assignment, problem):
    folder = folder_of(tmp_path, *files)
    folder.mkdir(exist_ok=True)
    assert pick(folder, assignment) == (None, problem)


def test_reading_a_folder_carries_the_note_and_reads_the_file_picked(tmp_path):
    folder = folder_of(tmp_path, "cross_entropy.py")
    nbformat.write(v4.new_notebook(cells=[v4.new_code_cell("y = 2")]), str(folder / "cross_entropy.ipynb"))
    source = read(folder, NAME)
    assert source.problem is None and source.path == folder / "cross_entropy.ipynb" and source.text == "y = 2\n"
    assert source.notes == ("graded cross_entropy.ipynb; also found cross_entropy.py",)
    assert read(folder / "cross_entropy.py").notes == ()
    assert read(folder_of(tmp_path / "one", "homework.py")).notes == ()
