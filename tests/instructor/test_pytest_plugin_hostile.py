"""The pytest plugin prints what a submission raised as inert text: a student's CI job runs it, and a
terminal shows it, so an escape sequence or a workflow command in an exception's message is shown, not
acted on."""

from __future__ import annotations

import importlib.metadata
import re
import subprocess
import sys
from pathlib import Path

HOSTILE = "\\x1b]52;c;aGk=\\x07\\u202e\\n::add-mask::x\\n::error::forged"  # as Python source: its escapes
LIVE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


def test_the_plugin_prints_an_exception_message_of_a_students_inert(tmp_path: Path):
    (tmp_path / "submission.py").write_text(f'raise ValueError("{HOSTILE}")\n')
    installed = any(e.value == "gradekit.pytest_plugin" for e in importlib.metadata.entry_points(group="pytest11"))
    plugin = [] if installed else ["-p", "gradekit.pytest_plugin"]
    done = subprocess.run(
        [sys.executable, "-m", "pytest", *plugin, "-p", "no:cacheprovider", "-p", "no:xdist", "-p", "no:benchmark"]
        + ["--basetemp", str(tmp_path / ".pytest-temporary")]  # in this test's folder, not the system's
        + ["--gradekit", "submission.py", "--gradekit-assignment", "cross_entropy", "-q"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 1, done.stdout + done.stderr
    assert "\\x1b]52;c;aGk=" in done.stdout and "\\u202e" in done.stdout  # shown, as its escapes
    assert not LIVE.search(done.stdout), LIVE.search(done.stdout)
    assert not any(line.lstrip().startswith("::") for line in done.stdout.splitlines())
