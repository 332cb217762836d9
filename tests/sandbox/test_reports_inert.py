"""A submission that writes live forms into everything it controls (tests/hostile/writes_into_reports.py),
graded for real under a file name that holds them too: every report and class file it reaches shows
them inert, and its JSON is strict."""

from __future__ import annotations

import csv
import io
import json
import re
import shutil
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from gradekit import assignment
from gradekit.batch import class_summary, gradebook, lms
from gradekit.batch.gradebook import Listing
from gradekit.config import GradeConfig
from gradekit.grader import grade
from gradekit.reports import WRITERS
from gradekit.reports.inert import FORMULA
from gradekit.result import GradeResult, Status

HOSTILE = Path(__file__).parent.parent / "hostile" / "writes_into_reports.py"
NAME = "\x1b]52;c;aGk=\x07\u202e=cmd|x\n::error::forged"  # a file's name may hold any of these
LIVE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069\u2028\u2029\ud800-\udfff]")


def refuse(name: str) -> None:
    pytest.fail(f"{name} written as a JSON literal")


@pytest.fixture(scope="module")
def graded(tmp_path_factory) -> GradeResult:
    path = tmp_path_factory.mktemp("class") / f"{NAME}.py"
    shutil.copy(HOSTILE, path)
    return grade(path, assignment.load("cross_entropy"), GradeConfig(max_examples=10))


def outside_blocks(markdown: str) -> str:
    """The Markdown less its fenced blocks (a fence of three backticks or more, "text" after it)."""
    kept, fence = [], None
    for line in markdown.split("\n"):
        if fence is None and re.fullmatch(r"`{3,}text", line):
            fence = line[: -len("text")]
        elif fence is not None:
            fence = None if line == fence else fence
        else:
            kept.append(line)
    return "\n".join(kept)


def no_workflow_command(out: str) -> None:
    assert not any(line.lstrip().startswith("::") for line in re.split(r"\r\n|\r|\n", out)), out


def test_the_hostile_file_is_graded_and_fails_every_function(graded):
    assert graded.error is None and graded.score == 0, graded.error
    assert "::add-mask::x" in graded.output and "\x1b]52" in graded.output  # the result holds them as printed
    assert all(t.status is not Status.PASSED for t in graded.tests)


@pytest.mark.parametrize("name", ["text", "markdown", "junit"])
def test_what_staff_read_shows_every_live_form_inert(graded, name):
    out = WRITERS[name](graded)
    assert not LIVE.search(out), LIVE.search(out)
    no_workflow_command(out)
    assert "\\x1b]52;c;" in out  # shown, as its escape
    if name == "junit":
        ET.fromstring(out.encode())
    if name == "markdown":
        prose = outside_blocks(out)
        assert "<img" not in prose.replace("\\<img", "") and "](http" not in prose.replace("\\](http", "")


def test_the_github_format_is_gradekits_commands_alone(graded):
    lines = WRITERS["github"](graded).rstrip("\n").split("\n")
    assert all(re.match(r"::(error|warning|notice) [^:]*::", line) for line in lines), lines
    assert not LIVE.search("\n".join(lines))


@pytest.mark.parametrize("name", ["json", "gradescope"])
def test_the_json_reports_are_strict(graded, name):
    out = WRITERS[name](graded)
    assert not LIVE.search(out)
    data = json.loads(out, parse_constant=refuse)
    assert data


def test_the_class_files_of_a_hostile_student_are_inert(graded, cross_entropy):
    student = NAME
    roster = {student: Listing(NAME, gradebook.GRADED, {"login": NAME, "section": NAME, "email": NAME})}
    for text in (
        gradebook.render(cross_entropy, [(student, graded)], roster),
        lms.canvas(cross_entropy, [(student, graded)], roster),
    ):
        assert not LIVE.search(text)
        no_workflow_command(text)
        for row in csv.reader(io.StringIO(text)):
            assert all(
                cell.lstrip(" ")[:1] not in FORMULA or cell.lstrip("+-").replace(".", "").isdigit() for cell in row
            ), row
    summary = class_summary.render(cross_entropy, [(student, graded)], "h.svg", roster)
    assert not LIVE.search(summary)
    no_workflow_command(summary)
