"""The guide cannot drift: every `$ command` in docs/ runs from the repository root and exits as stated,
and every Python block in it compiles."""

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
