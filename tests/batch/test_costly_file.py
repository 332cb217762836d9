"""A class whose one student submitted a notebook shaped to cost the grader dearly still grades the others.

The class grade finds and hashes every file first, reading none into memory, and each file is read by
the grader that grades it, in a child held to bounded memory and CPU time: the costly notebook is that
student's row, one sentence, and the process that grades the class never holds or parses it.
"""

from __future__ import annotations

import csv
import json
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples"
NESTED = 32 * 2**20  # bytes of nested empty lists in the costly notebook's outputs
# The class's own process: far below what the costly notebook took to parse (gigabytes), above an
# interpreter with gradekit, NumPy and Hypothesis imported, with room for what a
# machine busy with other tests leaves in its allocator (over 450 MiB seen under pytest-xdist).
BOUND = 640 * 2**20

GRADE = """
import io, resource, sys
from pathlib import Path
from gradekit import assignment
from gradekit.batch import class_grade
from gradekit.config import GradeConfig, Limits
config = GradeConfig(max_examples=10, limits=Limits(call_timeout=1.0, load_timeout=1.5, cell_timeout=1.0))
chosen = assignment.load("cross_entropy")
options = class_grade.ClassConfig(jobs=2, progress=io.StringIO())
class_grade.grade_all(Path(sys.argv[1]), chosen, Path(sys.argv[2]), config, options)
print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024)
"""


def code_cell(source: str, outputs: str = "[]") -> str:
    fields = '"cell_type": "code", "execution_count": null, "metadata": {}, "source": '
    return "{" + fields + json.dumps(source) + ', "outputs": ' + outputs + "}"


def notebook(*cells: str) -> str:
    return '{"nbformat": 4, "nbformat_minor": 4, "metadata": {}, "cells": [' + ",".join(cells) + "]}"


def test_a_costly_notebook_is_its_own_row_and_the_class_is_graded(tmp_path):
    submissions, out = tmp_path / "class", tmp_path / "results"
    submissions.mkdir()
    solution = (EXAMPLES / "submission.py").read_text()
    shutil.copy(EXAMPLES / "submission.py", submissions / "ann.py")
    (submissions / "bob.ipynb").write_text(notebook(code_cell(solution)))
    nested = "[" + ",".join(["[]"] * (NESTED // 3)) + "]"
    (submissions / "eve.ipynb").write_text(notebook(code_cell(solution, nested)))
    done = subprocess.run(
        [sys.executable, "-c", GRADE, str(submissions), str(out)], capture_output=True, text=True, timeout=600
    )
    assert done.returncode == 0, done.stderr[-3000:]
    peak = int(done.stdout.split()[-1])
    assert peak < BOUND, f"the class's own process took {peak / 2**20:.0f} MiB"
    with (out / "gradebook.csv").open(newline="") as table:
        rows = {row["student"]: row for row in csv.DictReader(table)}
    assert rows["ann"]["score"] == rows["bob"]["score"] == "100"
    assert not rows["ann"]["error"] and not rows["bob"]["error"]
    assert rows["eve"]["score"] == "0"
    assert rows["eve"]["error"] == "eve.ipynb is not a notebook gradekit can read: it is too large to read"
