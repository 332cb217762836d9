"""A worker's interpreter runs worker.py's cached bytecode only where Python would use it for the source
(gradekit/sandbox/bytecode.py): current, this interpreter's, unoptimised and as readable; else the
source. Behind every wall, a worker started either way answers alike."""

from __future__ import annotations

import os
import py_compile
import shutil
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import pytest

from gradekit.config import Limits
from gradekit.sandbox import Worker, bytecode, process

SCRIPT = "import sys\nprint(__name__, sys.argv[1:])\n"
LOADED = "def doubled(x):\n    return 2 * x\n"


def compiled(source: Path, mode: py_compile.PycInvalidationMode = py_compile.PycInvalidationMode.TIMESTAMP) -> Path:
    return Path(py_compile.compile(str(source), doraise=True, invalidation_mode=mode))


def test_current_timestamped_bytecode_stands_for_its_source_and_runs_as_it(tmp_path):
    source = tmp_path / "script.py"
    source.write_text(SCRIPT)
    assert bytecode.current(source) is None  # none cached yet
    cached = compiled(source)
    assert bytecode.current(source) == cached
    runs = [
        subprocess.run([sys.executable, str(path), "told"], capture_output=True, text=True) for path in (source, cached)
    ]
    assert runs[0].stdout == runs[1].stdout == "__main__ ['told']\n"


def test_bytecode_of_an_older_source_is_never_run(tmp_path):
    source = tmp_path / "script.py"
    source.write_text(SCRIPT)
    compiled(source)
    source.write_text(SCRIPT + "print('changed')\n")
    assert bytecode.current(source) is None
    compiled(source)
    kept = source.stat()
    os.utime(source, ns=(kept.st_atime_ns, kept.st_mtime_ns + 2 * 10**9))  # same text and size, a later time
    assert bytecode.current(source) is None


def test_hash_based_bytecode_stands_for_the_source_it_hashes(tmp_path):
    source = tmp_path / "script.py"
    source.write_text(SCRIPT)
    cached = compiled(source, py_compile.PycInvalidationMode.CHECKED_HASH)
    assert bytecode.current(source) == cached
    source.write_text(SCRIPT.replace("argv", "path"))
    assert bytecode.current(source) is None


def test_bytecode_of_another_interpreter_or_less_readable_than_its_source_is_not_run(tmp_path):
    source = tmp_path / "script.py"
    source.write_text(SCRIPT)
    cached = compiled(source)
    source.chmod(0o644)
    cached.chmod(0o600)  # a worker run as a user of its own may read the source, not this
    assert bytecode.current(source) is None
    cached.chmod(0o644)
    assert bytecode.current(source) == cached
    data = bytearray(cached.read_bytes())
    data[0] ^= 0xFF
    cached.write_bytes(bytes(data))
    assert bytecode.current(source) is None
    cached.write_bytes(b"")
    assert bytecode.current(source) is None


@pytest.mark.parametrize("wall", ["bubblewrap", "landlock"])
def test_a_worker_answers_alike_from_its_source_and_from_its_bytecode(tmp_path, monkeypatch, wall):
    script = tmp_path / "worker.py"
    shutil.copyfile(process.WORKER_SCRIPT, script)
    monkeypatch.setattr(process, "WORKER_SCRIPT", script)
    answers = []
    for runs in ("worker.py", "worker.cpython"):
        if runs == "worker.cpython":
            compiled(script)
        assert Path(process.worker_program()).name.startswith(runs)
        with Worker(replace(Limits(), isolation=wall)) as running:
            assert running.load(LOADED, "loaded.py")["ok"]
            answers.append(running.call("doubled", "[21]")["returned"])
    assert answers == [42, 42]
