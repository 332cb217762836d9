"""gradekit reaches past Hypothesis's public API in one module only, written for one pinned release."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import hypothesis

from gradekit.engine import hypothesis_pins

ROOT = Path(__file__).resolve().parents[2]


def test_the_installed_hypothesis_is_the_release_the_touches_were_written_for():
    assert hypothesis.__version__ == hypothesis_pins.PINNED, (
        "Hypothesis changed: check gradekit/engine/hypothesis_pins.py against the new release, then update PINNED"
    )


def test_pyproject_pins_the_same_release():
    pyproject = (ROOT / "pyproject.toml").read_text()
    assert re.search(r'"hypothesis==([^"]+)"', pyproject).group(1) == hypothesis_pins.PINNED


def test_no_other_module_touches_hypothesis_internals():
    touching = []
    for path in sorted((ROOT / "gradekit").rglob("*.py")):
        if path.name == "hypothesis_pins.py":
            continue
        text = path.read_text()
        tree = ast.parse(text)
        names = {node.module for node in ast.walk(tree) if isinstance(node, ast.ImportFrom) and node.module}
        names |= {alias.name for node in ast.walk(tree) if isinstance(node, ast.Import) for alias in node.names}
        if any(n.startswith("hypothesis.internal") for n in names) or "_hypothesis_internal" in text:
            touching.append(path.name)
    assert touching == []


def test_local_constants_are_not_collected():
    from hypothesis.internal.conjecture import providers

    import gradekit.engine.runner  # noqa: F401  (switches collection off when imported)

    assert providers._get_local_constants is providers.Constants
