"""gradekit reaches past Hypothesis's public API in one module only, written for one pinned release."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import hypothesis
import pytest

from gradekit import hypothesis_pins

ROOT = Path(__file__).resolve().parents[2]


def test_the_installed_hypothesis_is_the_release_the_touches_were_written_for():
    assert hypothesis.__version__ == hypothesis_pins.PINNED, (
        "Hypothesis changed: check gradekit/hypothesis_pins.py against the new release, then update PINNED"
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
        internal = ("hypothesis.internal", "hypothesis.strategies._internal")
        if any(n.startswith(internal) for n in names) or "_hypothesis_internal" in text:
            touching.append(path.name)
    assert touching == []


def test_local_constants_are_not_collected():
    from hypothesis.internal.conjecture import providers

    import gradekit.engine.runner  # noqa: F401  (switches collection off when imported)

    assert providers._get_local_constants is providers.Constants


def test_a_run_works_out_no_database_key_and_draws_what_it_drew_with_one(monkeypatch):
    import hypothesis.core
    from hypothesis import Phase
    from hypothesis import strategies as st

    from gradekit.engine.runner import quiet

    def run(configure) -> list[int]:
        drawn: list[int] = []

        @hypothesis.given(st.lists(st.integers(-1000, 1000)))
        def test(xs):
            drawn.append(sum(xs))
            assert len(xs) < 4

        configure(test)
        hypothesis.seed(7)(test)
        try:
            test()
        except AssertionError:
            pass
        return drawn

    settings = quiet(30, (Phase.generate, Phase.shrink))
    with_key = run(settings)  # decorated: Hypothesis works a key out of the test's source
    monkeypatch.setattr(hypothesis.core, "function_digest", lambda f: pytest.fail("a database key was worked out"))
    without = run(lambda test: hypothesis_pins.set_run_settings(test, settings))
    assert len(with_key) > 5  # it drew, failed and shrank
    assert without == with_key


def test_a_run_builds_no_repr_of_an_explicit_example_and_still_fails_as_it_did():
    from hypothesis import Phase
    from hypothesis import strategies as st

    from gradekit.engine.runner import quiet

    shown: list[int] = []

    class Counted(int):
        def __repr__(self) -> str:
            shown.append(int(self))
            return int.__repr__(self)

    def run(configure) -> list[int]:
        seen: list[int] = []

        @hypothesis.given(st.builds(Counted, st.integers(0, 1000)))
        @hypothesis.example(Counted(3))
        def test(x):
            seen.append(int(x))
            if x >= 500:
                raise ValueError("too large")

        configure(test)
        hypothesis.seed(7)(test)
        with pytest.raises(ValueError):
            test()
        return seen

    settings = quiet(50, (Phase.explicit, Phase.generate, Phase.shrink))
    printed = run(settings)
    assert 3 in shown  # Hypothesis alone builds the explicit example's repr, to print it
    shown.clear()
    quiet_run = run(lambda test: hypothesis_pins.set_run_settings(test, settings))
    assert 3 not in shown
    assert quiet_run == printed and quiet_run[-1] == 500  # the same draws, shrunk to the same failure


def _composites() -> list[tuple[str, ast.FunctionDef]]:
    """Every function of gradekit and the built-in assignments decorated with `@composite`."""
    found = []
    for path in sorted([*(ROOT / "gradekit").rglob("*.py"), *(ROOT / "assignments").rglob("*.py")]):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.FunctionDef) and any(
                isinstance(decorator, ast.Name) and decorator.id == "composite" for decorator in node.decorator_list
            ):
                found.append((f"{path.relative_to(ROOT)}:{node.name}", node))
    return found


def test_every_composite_decorated_without_hypothesis_s_check_calls_its_draw():
    """The question `composite` does not let Hypothesis ask as each check loads an assignment, asked
    here of every one as Hypothesis asks it: whether the first parameter is read in the function."""
    composites = _composites()
    assert len(composites) >= 31
    unused = [
        name
        for name, node in composites
        if not any(
            isinstance(used, ast.Name) and used.id == node.args.args[0].arg and isinstance(used.ctx, ast.Load)
            for used in ast.walk(node)
        )
    ]
    assert unused == []


def test_composite_is_hypothesis_s_own_strategy_and_leaves_its_check_in_place():
    from hypothesis import strategies as st
    from hypothesis.strategies._internal import core

    asked = core.is_first_param_referenced_in_function

    def pair(draw, top):
        first = draw(st.integers(0, top))
        return first, draw(st.integers(first, top))

    def drawn(strategy) -> list[tuple[int, int]]:
        seen: list[tuple[int, int]] = []

        @hypothesis.settings(database=None, max_examples=40)
        @hypothesis.seed(3)
        @hypothesis.given(strategy)
        def test(value):
            seen.append(value)

        test()
        return seen

    pinned = hypothesis_pins.composite(pair)(100)
    assert core.is_first_param_referenced_in_function is asked
    assert drawn(pinned) == drawn(st.composite(pair)(100))
    assert len(set(drawn(pinned))) > 10
