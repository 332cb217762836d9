"""The three places gradekit reaches past Hypothesis's public API, kept together.

Hypothesis is pinned to one release in pyproject.toml (its generator changes between releases, and the
promise is the same grade for the same file everywhere); tests/kit/test_hypothesis_pins.py fails when the
installed release is not the one these touches were written for.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import hypothesis
from hypothesis import strategies as st
from hypothesis.internal.conjecture import providers
from hypothesis.strategies._internal import core

Drawn = TypeVar("Drawn")

PINNED = "6.155.2"


def stop_collecting_local_constants() -> None:
    """Hypothesis mixes into its draws numeric constants found in "local" source files (any outside
    site-packages), and caches them under ./.hypothesis. Which files are local depends on how gradekit
    was installed and where it runs, so one seed would draw different examples on different machines,
    and the student's folder would be written to. Grades must depend on neither: collection is off."""
    providers._get_local_constants = providers.Constants


def set_run_settings(test: Callable[..., Any], settings: hypothesis.settings) -> None:
    """Settings for one run of a @given test: Hypothesis binds them at decoration, when the grade's
    example count and seed are not known yet.

    And no database key. Without one, Hypothesis works a key out of the test's source at every run
    (finding, tokenizing and parsing it), only to look its examples up in a database, and gradekit's
    runs have none (`database=None`): the key would name nothing, and nothing drawn depends on it.

    And no printed arguments. Hypothesis builds the repr of every explicit example's arguments, and of
    the shrunk failing one it replays, for a report it prints whatever the verbosity; gradekit reads a
    run from what it raises (`runner.quiet`), and its reports show inputs of their own, so the repr of a
    long document or a 27 x 27 table would be built to be thrown away."""
    test._hypothesis_internal_use_settings = settings  # type: ignore[attr-defined]
    test._hypothesis_internal_database_key = None  # type: ignore[attr-defined]
    test._hypothesis_internal_print_given_args = False  # type: ignore[attr-defined]


def composite(make: Callable[..., Drawn]) -> Callable[..., st.SearchStrategy[Drawn]]:
    """`st.composite`, without the check Hypothesis makes as it decorates: whether `make` calls its
    `draw` at all, which it answers by finding, tokenizing and parsing `make`'s source. Every check
    loads an assignment, and with it 20 to 23 composites: their answers are known before any check,
    so gradekit asks the question once, in its tests (tests/kit/test_hypothesis_pins.py asks it of
    every composite of gradekit and the built-in assignments). The strategy is Hypothesis's own."""
    asked = core.is_first_param_referenced_in_function
    core.is_first_param_referenced_in_function = _draws
    try:
        return st.composite(make)
    finally:
        core.is_first_param_referenced_in_function = asked


def _draws(f: Any) -> bool:
    """What Hypothesis's check answers for every composite decorated by `composite`."""
    return True
