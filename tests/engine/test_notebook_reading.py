"""Reading a notebook is bounded before any budget of the student's starts.

A notebook's saved outputs and attachments are dropped as its JSON is read, so nbformat never parses
them: 32 MiB of empty outputs once cost the grader 1.3 GB and tens of CPU-seconds, and now read like the
same notebook cleared. Whatever else a notebook is shaped to cost (millions of nested lists, hundreds of
thousands of empty cells) is read in a child the kernel holds to bounded memory and CPU time, and is one
sentence. Each is measured in a child process of its own: the peak memory of the reading, its children
included.
"""

from __future__ import annotations

import base64
import json
import pickle
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import pytest

from gradekit.config import GradeConfig, Limits
from gradekit.engine import source
from gradekit.grader import grade

ROOT = Path(__file__).resolve().parents[2]
SOLUTION = (ROOT / "examples" / "submission.py").read_text()
FAST = GradeConfig(max_examples=10, limits=Limits(call_timeout=1.0, cell_timeout=1.0))
OUTPUTS = 32 * 2**20
# Far below the 1.3 GB the 32 MiB of outputs once took, and above what an interpreter with gradekit and
# nbformat imported takes (about 90 MiB) plus the reading (about 100 MiB), with
# room for what a machine busy with other tests leaves in its allocator (over 450 MiB seen there).
BOUND = 640 * 2**20

MEASURE = """
import pickle, resource, sys
from pathlib import Path
from gradekit.engine.source import read
found = read(Path(sys.argv[1]))
peak = max(resource.getrusage(who).ru_maxrss for who in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN))
sys.stdout.buffer.write(pickle.dumps((found, peak * 1024)))
"""


def measured(path: Path) -> tuple[source.Source, int]:
    """The notebook at `path` as a fresh process reads it, and the peak memory of that reading (bytes)."""
    done = subprocess.run([sys.executable, "-c", MEASURE, str(path)], capture_output=True, timeout=300)
    assert done.returncode == 0, done.stderr.decode()[-2000:]
    found, peak = pickle.loads(done.stdout)
    return found, peak


def notebook(path: Path, outputs: list, attachments: dict | None = None, tail: str = "") -> Path:
    """A notebook of one Markdown cell (with `attachments`) and one code cell, the solution, with
    `outputs`; `tail` is JSON written after the code cell's outputs, inside them."""
    markdown = {"cell_type": "markdown", "id": "notes", "metadata": {}, "source": "![plot](attachment:plot.png)"}
    if attachments is not None:
        markdown["attachments"] = attachments
    code = {"cell_type": "code", "id": "code", "metadata": {}, "execution_count": 1, "source": SOLUTION}
    code["outputs"] = outputs
    document = {"nbformat": 4, "nbformat_minor": 5, "metadata": {"language_info": {"name": "python"}}}
    document["cells"] = [markdown, code]
    text = json.dumps(document)
    if tail:
        text = text.replace('"outputs": []', '"outputs": [' + tail + "]", 1)
    path.write_text(text)
    return path


def test_a_notebook_of_32_mib_of_outputs_is_read_in_bounded_memory_and_grades_as_it_does_cleared(
    tmp_path, cross_entropy
):
    empty = {"output_type": "stream", "name": "stdout", "text": ""}
    image = {"plot.png": {"image/png": base64.b64encode(bytes(2**20)).decode()}}
    saved = notebook(tmp_path / "saved.ipynb", [empty] * (OUTPUTS // len(json.dumps(empty))), image)
    cleared = notebook(tmp_path / "cleared.ipynb", [], {})
    assert saved.stat().st_size > OUTPUTS
    found, peak = measured(saved)
    assert peak < BOUND, f"reading took {peak / 2**20:.0f} MiB"
    assert found.problem is None and found.cells == source.read(cleared).cells and found.text
    narrowed = replace(cross_entropy, properties=cross_entropy.properties[:6])
    as_saved, as_cleared = grade(saved, narrowed, FAST), grade(cleared, narrowed, FAST)
    assert as_saved.score == as_cleared.score == as_saved.max_score
    assert [t.status for t in as_saved.tests] == [t.status for t in as_cleared.tests]
    assert as_saved.notes == as_cleared.notes and as_saved.output == as_cleared.output


@pytest.mark.parametrize(
    "shape, says",
    [
        pytest.param("lists", "it is too large to read", id="millions of nested lists in its outputs"),
        pytest.param("cells", "too large to read", id="hundreds of thousands of empty cells"),
    ],
)
def test_a_notebook_shaped_to_cost_more_is_one_sentence_read_in_bounded_memory(tmp_path, shape, says):
    path = tmp_path / "work.ipynb"
    if shape == "lists":
        notebook(path, [], tail=",".join(["[]"] * (OUTPUTS // 3)))
    else:
        cell = '{"cell_type": "code", "execution_count": null, "metadata": {}, "source": "", "outputs": []}'
        cells = ",".join([cell] * (OUTPUTS // (len(cell) + 1)))
        path.write_text('{"nbformat": 4, "nbformat_minor": 4, "metadata": {}, "cells": [' + cells + "]}")
    found, peak = measured(path)
    assert found.problem is not None and found.problem.startswith("work.ipynb is not")
    assert says in found.problem and "\n" not in found.problem and found.cells is None
    assert peak < source.READING_MEMORY + BOUND, f"reading took {peak / 2**20:.0f} MiB"


def test_a_file_past_the_largest_is_one_sentence_without_being_read(tmp_path):
    path = tmp_path / "work.ipynb"
    with path.open("wb") as handle:
        handle.truncate(source.LARGEST + 1)
    found = source.located(path)
    assert found.problem == f"work.ipynb is too large to be a submission (over {source.LARGEST:,} bytes)"


def test_a_located_file_is_read_once_and_parsed_where_it_is_graded(tmp_path):
    path = notebook(tmp_path / "work.ipynb", [{"output_type": "stream", "name": "stdout", "text": "printed once"}])
    found = source.located(tmp_path)
    assert found.unread and found.data == path.read_bytes() and found.text == "" and found.cells is None
    as_found = source.read(tmp_path)
    assert found.path == path and found.sha256 == as_found.sha256 and source.parsed(found) == as_found
    travelled = pickle.loads(pickle.dumps(found))  # as a grader process or a Dask task receives it
    path.write_text(path.read_text().replace("printed once", "printed twice"))
    assert source.parsed(travelled) == source.parsed(found) == as_found  # its bytes, never the file again
    changed = source.parsed(replace(found, data=None))  # one whose bytes were let go is read again, checked
    assert changed.problem == (
        "work.ipynb changed after it was found for this grade (its bytes are not those hashed then); grade it again"
    )


def spins(text: str, filename: str) -> source.Source:
    while True:
        pass


def grows(text: str, filename: str) -> source.Source:
    held = []
    while True:
        held.append(bytearray(2**20))


def waits(text: str, filename: str) -> source.Source:
    import time

    time.sleep(3600)
    raise AssertionError("never woken")


@pytest.mark.parametrize(
    "reading, seconds, wall, says",
    [
        (spins, 1, 2, "reading it takes more than 1 CPU-seconds"),
        (grows, 60, 600, "it is too large to read"),
        (waits, 1, 2, "reading it takes more than 1 CPU-seconds"),
    ],
)
def test_a_reading_that_never_ends_is_ended_by_the_kernel_or_the_clock(monkeypatch, reading, seconds, wall, says):
    """The child that reads a notebook is held to its CPU time and memory by the kernel, and to a
    wall-clock bound by the grader where it waits on nothing it can finish. The one that grows is
    given a clock it cannot reach on a busy machine, so only its memory limit can end it."""
    monkeypatch.setattr(source, "_read_notebook", reading)
    monkeypatch.setattr(source, "READING_SECONDS", seconds)
    monkeypatch.setattr(source, "READING_MEMORY", 64 * 2**20)
    monkeypatch.setattr(source, "READING_WALL", wall)
    found = source.read_notebook('{"nbformat": 4, "nbformat_minor": 5, "metadata": {}, "cells": []}', "work.ipynb")
    assert found.problem == f"work.ipynb is not a notebook gradekit can read: {says}"
