"""Shared fixtures: a repository-local example cache, the built-in assignment, and a grading helper."""

from __future__ import annotations

import os
from dataclasses import replace
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
os.environ.setdefault("GRADEKIT_CACHE", str(ROOT / ".gradekit-test-cache"))

from gradekit import assignment  # noqa: E402
from gradekit.config import GradeConfig, Limits  # noqa: E402
from gradekit.grader import grade  # noqa: E402
from gradekit.result import GradeResult  # noqa: E402


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """The tests marked `longest` first, the rest in their order: pytest-xdist hands tests out in
    collection order, and a long test handed out last would run alone on one core at the end."""
    items.sort(key=lambda item: item.get_closest_marker("longest") is None)


@pytest.fixture(scope="session")
def cross_entropy() -> assignment.Assignment:
    return assignment.load("cross_entropy")


@pytest.fixture
def grade_file(tmp_path: Path):
    """grade_file(source_or_path, **limits) -> GradeResult for the cross_entropy assignment."""

    def run(submission: str | Path, config: GradeConfig = GradeConfig(), **limits: float) -> GradeResult:
        path = Path(submission) if isinstance(submission, Path) else tmp_path / "submission.py"
        if not isinstance(submission, Path):
            path.write_text(submission)
        if limits:
            config = replace(config, limits=replace(Limits(), **limits))
        return grade(path, assignment.load("cross_entropy"), config)

    return run
