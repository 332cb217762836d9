"""Every library gradekit imports at run time is one pyproject.toml declares, so a fresh install runs.

The imports are read from the source (gradekit/, reference/ and assignments/, less the banks of
student files), so one added anywhere without its declaration fails here before it fails a user.
"""

from __future__ import annotations

import ast
import re
import sys
from importlib import metadata
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
FOLDERS = ("gradekit", "reference", "assignments")
BANKS = ("known_right", "known_slow", "known_wrong")
# Imports a host provides, never an install of gradekit: each only where that host runs the code.
PROVIDED = {
    "IPython": "gradekit/jupyter.py runs inside a notebook's IPython kernel, and says so outside one",
    "pytest": "gradekit/pytest_plugin.py is loaded by pytest itself",
    "seccomp": "libseccomp's official binding (Debian's python3-seccomp), used before pyseccomp where installed",
}


def imported() -> dict[str, set[str]]:
    """Every top-level module the source imports that is neither the standard library nor gradekit, with
    the files importing it."""
    found: dict[str, set[str]] = {}
    for folder in FOLDERS:
        for path in (ROOT / folder).rglob("*.py"):
            if any(part in BANKS for part in path.parts):
                continue
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                if isinstance(node, ast.Import):
                    names = [alias.name for alias in node.names]
                elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                    names = [node.module]
                else:
                    continue
                for name in names:
                    top = name.split(".")[0]
                    if top not in sys.stdlib_module_names and top != "gradekit":
                        found.setdefault(top, set()).add(str(path.relative_to(ROOT)))
    return found


def declared() -> set[str]:
    """The distributions pyproject.toml names: its dependencies and every optional extra's."""
    tomllib = pytest.importorskip("tomllib", reason="reading pyproject.toml needs Python 3.11's tomllib")
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    wanted = list(project["dependencies"])
    for extra in project.get("optional-dependencies", {}).values():
        wanted += extra
    return {_normal(re.split(r"[\s<>=!~;\[]", spec, maxsplit=1)[0]) for spec in wanted}


def _normal(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def test_every_library_imported_at_run_time_is_declared():
    distributions = metadata.packages_distributions()
    names = declared()
    undeclared = {
        module: sorted(files)
        for module, files in imported().items()
        if module not in PROVIDED and not any(_normal(d) in names for d in distributions.get(module, [module]))
    }
    assert undeclared == {}, f"imported but not declared in pyproject.toml: {undeclared}"


def test_the_imports_a_host_provides_are_still_imported():
    """The list of exceptions holds nothing stale: each is still imported somewhere."""
    assert set(PROVIDED) <= set(imported())


def test_every_package_of_the_source_is_one_pyproject_installs():
    """A folder of modules left out of pyproject.toml's packages is missing from a wheel and from an
    editable install alike, where it fails only on a fresh machine."""
    tomllib = pytest.importorskip("tomllib", reason="reading pyproject.toml needs Python 3.11's tomllib")
    settings = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]
    mapped = {package: ROOT / folder for package, folder in settings["package-dir"].items()}
    mapped.setdefault("gradekit", ROOT / "gradekit")
    found = set()
    for package, folder in mapped.items():
        for init in folder.rglob("__init__.py"):
            if not {"templates", "__pycache__"} & set(init.parts):
                found.add(".".join((package, *init.parent.relative_to(folder).parts)))
    assert found == set(settings["packages"]), sorted(found ^ set(settings["packages"]))
