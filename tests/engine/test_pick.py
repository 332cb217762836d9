"""Which file of a student's folder is graded (`source.pick`), rule by rule, and the note that says so.

The rule: a lone file; else the files named like the assignment (else like submission, else all);
of those, the ones nearest the top; of those, a notebook over its .py export. Still tied: nothing.
A symbolic link, named pipe, socket or device is never a candidate, nor read as the submission.
"""

from __future__ import annotations

import hashlib
import json
import os
import socket
from pathlib import Path

import nbformat
import pytest
from nbformat import v4

from gradekit.cli import main
from gradekit.engine import source
from gradekit.engine.source import pick, read

NAME = "cross_entropy"
SOLUTION = Path(__file__).resolve().parents[2] / "examples" / "submission.py"  # scores 100


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


def test_a_link_is_not_a_candidate_nor_a_folder_reached_through_one(tmp_path):
    classmate = folder_of(tmp_path / "classmate", "cross_entropy.py", "lib/helpers.py")
    folder = folder_of(tmp_path, "scratch.py")
    (folder / "cross_entropy.py").symlink_to(classmate / "cross_entropy.py")
    (folder / "theirs").symlink_to(classmate, target_is_directory=True)
    assert pick(folder, NAME) == (folder / "scratch.py", "")


def test_a_folder_holding_only_links_or_special_files_says_what_they_are(tmp_path):
    folder = tmp_path / "submission"
    folder.mkdir()
    (folder / "cross_entropy.py").symlink_to(SOLUTION)
    (folder / "notes.txt").symlink_to(SOLUTION)  # not named like a candidate: not mentioned
    said = "submission holds no .py or .ipynb file but cross_entropy.py, a symbolic link; submit the file itself"
    assert pick(folder, NAME) == (None, said)
    os.mkfifo(folder / "work.ipynb")
    assert pick(folder, NAME) == (
        None,
        "submission holds no .py or .ipynb file but symbolic links or special files "
        "(cross_entropy.py, work.ipynb); submit the files themselves",
    )


def test_a_folder_nested_thousands_deep_is_walked(tmp_path):
    folder = deep = tmp_path / "submission"
    for _ in range(1500):  # a folder at a time: pathlib and shutil make and remove them by recursion
        deep.mkdir()
        deep /= "d"
    deep.mkdir()
    (deep / "cross_entropy.py").write_text("x = 1\n")
    try:
        assert pick(folder, NAME) == (deep / "cross_entropy.py", "")
    finally:  # else pytest's removal of old temporary folders fails on it
        (deep / "cross_entropy.py").unlink()
        while deep != tmp_path:
            deep.rmdir()
            deep = deep.parent


def test_a_link_pipe_socket_or_device_is_refused_in_one_sentence_and_never_opened(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # a socket's path must be short
    Path("upload.py").symlink_to(SOLUTION)
    Path("upload").symlink_to(SOLUTION.parent, target_is_directory=True)
    os.mkfifo("pipe.py")  # opened for reading, a pipe without a writer would wait forever
    server = socket.socket(socket.AF_UNIX)
    server.bind("socket.py")
    try:
        refused = {
            "upload.py": "upload.py is a symbolic link; submit the file itself",
            "upload": "upload is a symbolic link; submit the folder itself",
            "pipe.py": "pipe.py is a named pipe; submit the file itself",
            "socket.py": "socket.py is a socket; submit the file itself",
            os.devnull: "null is a device; submit the folder itself",
        }
        for path, said in refused.items():
            found = read(Path(path), NAME)
            assert (found.problem, found.text, found.path, found.sha256) == (said, "", None, None)
    finally:
        server.close()


def test_the_open_itself_refuses_a_link_put_in_the_files_place(tmp_path, monkeypatch):
    """As if the file became a link after it was looked at: the open does not follow it either."""
    (tmp_path / "upload.py").symlink_to(SOLUTION)
    monkeypatch.setattr(source, "refused", lambda path: None)
    found = read(tmp_path / "upload.py")
    assert found.problem == "upload.py is a symbolic link; submit the file itself"
    assert found.text == "" and found.sha256 is None


def test_the_bytes_graded_are_the_bytes_hashed(tmp_path):
    path = folder_of(tmp_path, "cross_entropy.py") / "cross_entropy.py"
    path.write_bytes(b"x = 1\r\ny = 2\r\n")
    found = read(path)
    assert found.text == "x = 1\ny = 2\n" and found.sha256 == hashlib.sha256(b"x = 1\r\ny = 2\r\n").hexdigest()


@pytest.mark.parametrize(
    "where, said",
    [
        ("submission/cross_entropy.py", "submission holds no .py or .ipynb file but cross_entropy.py, a symbolic link"),
        ("cross_entropy.py", "cross_entropy.py is a symbolic link"),
    ],
    ids=["an upload holding a link", "an upload that is a link"],
)
def test_check_never_grades_the_file_a_link_names(tmp_path, where, said):
    """On Gradescope the grader reads the upload as root: a link to the installed solution would score 100."""
    link = tmp_path / where
    link.parent.mkdir(exist_ok=True)
    link.symlink_to(SOLUTION)
    out = tmp_path / "report.json"
    graded = link.parent if link.parent != tmp_path else link
    assert main(["check", str(graded), "--assignment", NAME, "--format", "json", "--output", str(out)]) == 1
    report = json.loads(out.read_text())
    assert report["error"] == f"{said}; submit the file itself"
    assert report["score"] == 0 and report["max_score"] == 100 and len(report["tests"]) > 0
