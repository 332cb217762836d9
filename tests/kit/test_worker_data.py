"""One owner for a worker's data: on the grader's side, sandbox/replies.py alone imports the worker's
module for its encoding and decoding, and every other module takes them from it; process.py, which
starts the worker, takes only the exit code it starts it against. The worker itself imports nothing of
gradekit, so it runs in the sandbox without the grader. The imports are read with `ast` (every form:
`import`, `from ... import`, relative), and the rule is also a contract of pyproject.toml's, shown
here to break on a copy where the engine imports the worker."""

from __future__ import annotations

import ast
import os
import shutil
import subprocess
import sys
from pathlib import Path

import gradekit

PACKAGE = Path(gradekit.__file__).resolve().parent
ROOT = PACKAGE.parent
WORKER = "gradekit.sandbox.worker"
OWNER = "gradekit/sandbox/replies.py"
# The one other module that may import the worker, and what it may take: the code a worker that could
# not confine itself ends with, which the grader starting it reads.
STARTER = ("gradekit/sandbox/process.py", {"UNCONFINED"})


def _module(path: Path, root: Path) -> str:
    return ".".join(path.relative_to(root).with_suffix("").parts)


def _absolute(node: ast.ImportFrom, module: str, is_package: bool) -> str:
    """The module a `from` import names, its dots resolved against `module`."""
    if not node.level:
        return node.module or ""
    parts = module.split(".")
    base = parts[: len(parts) - node.level + (1 if is_package else 0)]
    return ".".join(base + ([node.module] if node.module else []))


def _taken_from_worker(path: Path, root: Path = ROOT) -> set[str]:
    """What `path` (a module of the package under `root`) imports of the worker's module: the names it
    takes, or "*" for the module itself."""
    module, is_package = _module(path, root), path.name == "__init__.py"
    taken: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            taken |= {"*" for alias in node.names if alias.name == WORKER}
        elif isinstance(node, ast.ImportFrom):
            source = _absolute(node, module, is_package)
            if source == WORKER:
                taken |= {alias.name for alias in node.names}
            elif any(f"{source}.{alias.name}" == WORKER for alias in node.names):
                taken.add("*")
    return taken


def test_the_grader_takes_the_workers_encoding_from_one_owner():
    modules = [path for path in PACKAGE.rglob("*.py") if "templates" not in path.relative_to(PACKAGE).parts]
    assert len(modules) > 100
    importers = {
        str(path.relative_to(ROOT)): taken
        for path in modules
        if path.name != "worker.py" and (taken := _taken_from_worker(path))
    }
    assert set(importers) == {OWNER, STARTER[0]}, sorted(importers)
    assert importers[STARTER[0]] <= STARTER[1], importers[STARTER[0]]
    assert {"encode", "decode", "to_plain"} <= importers[OWNER]


def test_the_import_reader_sees_every_form_of_import(tmp_path):
    engine = tmp_path / "gradekit" / "engine"
    engine.mkdir(parents=True)
    forms = {
        "import gradekit.sandbox.worker\n": {"*"},
        "from gradekit.sandbox import worker\n": {"*"},
        "from gradekit.sandbox.worker import encode, decode\n": {"encode", "decode"},
        "from ..sandbox.worker import encode\n": {"encode"},
        "from ..sandbox import worker as w\n": {"*"},
        "from gradekit.sandbox import replies\n": set(),
    }
    for text, taken in forms.items():
        (engine / "calls.py").write_text(text)
        assert _taken_from_worker(engine / "calls.py", tmp_path) == taken, text


def test_the_worker_imports_nothing_of_gradekit():
    """worker.py imported where gradekit cannot be, as the sandbox's child runs it."""
    script = f"import sys; sys.modules['gradekit'] = None; sys.path[:0] = [{str(PACKAGE / 'sandbox')!r}]; import worker"
    imported = subprocess.run([sys.executable, "-I", "-c", script], capture_output=True, text=True, timeout=60)
    assert imported.returncode == 0, imported.stderr


def test_the_contract_refuses_an_engine_module_that_imports_the_worker(tmp_path):
    shutil.copytree(PACKAGE, tmp_path / "gradekit", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(ROOT / "pyproject.toml", tmp_path)
    calls = tmp_path / "gradekit" / "engine" / "calls.py"
    calls.write_text(calls.read_text() + "\nfrom gradekit.sandbox.worker import encode as _encode\n")
    lint = Path(sys.executable).with_name("lint-imports")
    environment = {**os.environ, "PYTHONPATH": str(tmp_path)}
    checked = subprocess.run([str(lint)], cwd=tmp_path, env=environment, capture_output=True, text=True, timeout=120)
    assert checked.returncode != 0
    assert "gradekit.engine.calls -> gradekit.sandbox.worker" in checked.stdout, checked.stdout
