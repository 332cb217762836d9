"""The house's layers, as pyproject.toml's import-linter contracts state them: every layer imports only
from those below it, no folder's modules import each other in a cycle, the speed shortcuts are reached
through one seam, the worker's module through its one owner on the grader's side (see
test_worker_data.py), and the scorer reaches neither running nor the sandbox. The contracts are checked on
gradekit as it is, and shown to break on a copy with one upward import; reference/ and assignments/,
which install inside the package from folders of their own, are held to the kit by reading them."""

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
LINT = Path(sys.executable).with_name("lint-imports")
# What an assignment's properties and the trusted maths may import of gradekit: the kit an author
# writes with, and the reference itself.
KIT = {
    "gradekit",
    "gradekit.authoring",
    "gradekit.course_terms",
    "gradekit.declared_types",
    "gradekit.precision",
    "gradekit.strategies",
    "gradekit.worked",
}


def _lint(root: Path) -> subprocess.CompletedProcess[str]:
    environment = {**os.environ, "PYTHONPATH": str(root)}
    return subprocess.run([str(LINT)], cwd=root, env=environment, capture_output=True, text=True, timeout=120)


def test_gradekit_keeps_every_contract():
    checked = _lint(ROOT)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert "5 kept, 0 broken" in checked.stdout


def test_an_upward_import_breaks_the_layers(tmp_path):
    """The engine importing the class grader, under TYPE_CHECKING even, is refused by name."""
    shutil.copytree(PACKAGE, tmp_path / "gradekit", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(ROOT / "pyproject.toml", tmp_path)
    runner = tmp_path / "gradekit" / "engine" / "runner.py"
    runner.write_text(
        runner.read_text() + "\nfrom typing import TYPE_CHECKING\n\nif TYPE_CHECKING:\n    import gradekit.batch.pool\n"
    )
    checked = _lint(tmp_path)
    assert checked.returncode != 0
    assert "gradekit.engine is not allowed to import gradekit.batch" in checked.stdout
    assert "gradekit.engine.runner -> gradekit.batch.pool" in checked.stdout


def _imported(path: Path) -> set[str]:
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            found.add(node.module)
    return {name for name in found if name == "gradekit" or name.startswith("gradekit.")}


def test_the_reference_imports_nothing_but_itself():
    for path in (ROOT / "reference").rglob("*.py"):
        outside = {name for name in _imported(path) if not name.startswith("gradekit.reference")}
        assert not outside, f"{path.name} imports {sorted(outside)}"


def test_the_built_in_assignments_import_the_kit_and_the_reference_alone():
    paths = [
        path
        for path in (ROOT / "assignments").rglob("*.py")
        if not {"known_right", "known_slow", "known_wrong", "recorded"} & set(path.parts)
    ]
    assert len(paths) >= 6
    for path in paths:
        outside = {name for name in _imported(path) if name not in KIT and not name.startswith("gradekit.reference")}
        assert not outside, f"{path.relative_to(ROOT)} imports {sorted(outside)}"
