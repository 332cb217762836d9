"""The guide cannot drift: every `$ command` in docs/ runs from the repository root and exits as stated,
and every Python block in it compiles; every benchmark is in its folder's README and starts."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
DOCS = sorted((ROOT / "docs").glob("*.md"))
COMMAND = re.compile(r"^\$ (?P<command>.+?)(?:\s+# exits (?P<code>\d+))?$", re.MULTILINE)
PYTHON_BLOCK = re.compile(r"```python\n(?P<code>.*?)```", re.DOTALL)
SCRATCH = re.compile(r"/tmp/gradekit-docs-[\w.-]+")


def test_the_guide_has_commands_to_run():
    assert sum(len(COMMAND.findall(doc.read_text())) for doc in DOCS) >= 8


def test_every_path_under_tmp_a_command_names_is_a_scratch_path():
    """A command that wrote anywhere else under /tmp would leave its file behind on every run."""
    commands = [match["command"] for doc in DOCS for match in COMMAND.finditer(doc.read_text())]
    assert [path for command in commands for path in re.findall(r"/tmp/\S*", SCRATCH.sub("", command))] == []


@pytest.mark.parametrize("doc", DOCS, ids=[d.name for d in DOCS])
def test_every_command_exits_as_the_guide_says(doc, activated, tmp_path):
    """The guide's scratch paths (/tmp/gradekit-docs-NAME) are the test's own folder's: two runs of
    the suite at once never share one, and nothing is left in /tmp."""
    text = doc.read_text()
    for match in COMMAND.finditer(text):
        expected = int(match["code"] or 0)
        command = SCRATCH.sub(lambda scratch: str(tmp_path / scratch.group().rsplit("/", 1)[1]), match["command"])
        done = subprocess.run(command, shell=True, cwd=ROOT, capture_output=True, text=True, env=activated, timeout=300)
        assert done.returncode == expected, (
            f"{doc.name}: `{match['command']}` exited {done.returncode}, the guide says {expected}\n"
            f"{done.stdout[-2000:]}\n{done.stderr[-2000:]}"
        )


@pytest.mark.parametrize("doc", DOCS, ids=[d.name for d in DOCS])
def test_every_python_block_compiles(doc):
    for block in PYTHON_BLOCK.finditer(doc.read_text()):
        compile(block["code"], f"{doc.name} python block", "exec")


BENCHMARKS = sorted(path for path in (ROOT / "benchmarks").glob("*.py") if path.name != "environment.py")


@pytest.mark.parametrize("script", BENCHMARKS, ids=[b.name for b in BENCHMARKS])
def test_every_benchmark_is_in_its_readme_and_starts_as_it_says(script, activated):
    """A benchmark is run by hand, seldom: one that no longer imports is found here, not on the day its
    figure is wanted. Its README names it, and `--help` runs it as far as its arguments."""
    assert f"`{script.name}`" in (ROOT / "benchmarks" / "README.md").read_text()
    done = subprocess.run(
        ["python", str(script.relative_to(ROOT)), "--help"], cwd=ROOT, capture_output=True, text=True, env=activated
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.startswith("usage:")
