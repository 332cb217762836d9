"""CONTRIBUTING's recipes work as written: a report format added by following it alone is a `--format`
choice that writes what its example says, and every built-in assignment has taken each of its steps."""

from __future__ import annotations

import ast
import re
import sys
from pathlib import Path

import gradekit.reports
from gradekit import assignment
from gradekit.cli import main
from gradekit.config import built_in_folder

ROOT = Path(__file__).resolve().parents[2]
CONTRIBUTING = (ROOT / "CONTRIBUTING.md").read_text()


def _section(title: str) -> str:
    return CONTRIBUTING.split(f"## {title}\n", 1)[1].split("\n## ", 1)[0]


def test_a_report_format_added_as_contributing_says_is_a_format_choice(tmp_path, monkeypatch):
    recipe = _section("Add a report format")
    (code,) = re.findall(r"```python\n(.*?)```", recipe, re.S)
    (name, module) = re.search(r'`"(\w+)": "(\w+)"`', recipe).groups()
    assert "`MODULES` in `gradekit/reports/__init__.py`" in recipe
    (tmp_path / f"{module}.py").write_text(code)
    monkeypatch.setattr(gradekit.reports, "__path__", [*gradekit.reports.__path__, str(tmp_path)])
    monkeypatch.setitem(gradekit.reports.MODULES, name, module)
    monkeypatch.delitem(sys.modules, f"gradekit.reports.{module}", raising=False)
    out = tmp_path / "report.txt"
    submission = ROOT / "examples" / "submission.py"
    assert main(["check", str(submission), "--max-examples", "5", "--format", name, "--output", str(out)]) == 0
    assert out.read_text() == "cross_entropy: 100 / 100\n"
    sys.modules.pop(f"gradekit.reports.{module}", None)


def _names(path: Path, variable: str) -> set[str]:
    """The names a test module's top-level `variable` (a list, set or dict literal) holds."""
    for node in ast.parse(path.read_text()).body:
        if isinstance(node, ast.Assign) and any(getattr(t, "id", None) == variable for t in node.targets):
            return set(ast.literal_eval(node.value))
    raise AssertionError(f"{path} has no {variable}")


def test_every_built_in_assignment_has_taken_the_steps_contributing_names():
    recipe = _section("Add an assignment")
    assert "`MIN_BANKS`" in recipe and "`NAMES`" in recipe and "scripts/ship_recordings.py" in recipe
    packages = set(re.findall(r'"(gradekit\.assignments\.\w+)"', (ROOT / "pyproject.toml").read_text()))
    banks = _names(ROOT / "tests" / "batch" / "test_banks.py", "MIN_BANKS")
    shipped = _names(ROOT / "tests" / "engine" / "test_shipped_recordings.py", "NAMES")
    built_in = {n for n, folder in assignment.available().items() if folder.parent == built_in_folder()}
    assert built_in == {"cross_entropy", "training_step", "autograd"}
    for name in built_in:
        assert f"gradekit.assignments.{name}" in packages, f"{name}: not in pyproject.toml's packages (step 1)"
        assert name in banks, f"{name}: not in MIN_BANKS (step 2)"
        assert name in shipped, f"{name}: not in test_shipped_recordings.NAMES (step 3)"
        shipped_by_any = (built_in_folder() / name / "recorded").glob(f"*/{name}-*.zlib")  # by any machine
        assert list(shipped_by_any), f"{name}: nothing shipped (step 4)"
