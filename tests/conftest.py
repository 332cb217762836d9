"""Shared fixtures: a repository-local example cache, the built-in assignment, a grading helper, and
work done once per session for every test process."""

from __future__ import annotations

import fcntl
import json
import os
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

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


@pytest.fixture(scope="session")
def once_per_session(
    tmp_path_factory: pytest.TempPathFactory, worker_id: str
) -> Callable[[str, Callable[[], Any]], Any]:
    """once_per_session(key, make) -> make()'s value, kept as JSON: made by the first test process of
    the session to ask for `key` and read back by every other. pytest-xdist runs a session fixture once
    per process, and a bank graded alike in two processes is the same grade paid for twice. The others
    wait for it under a lock; a `make` that raises leaves nothing behind, so the next to ask makes it."""
    # Every process of one session shares the folder above its own (pytest-xdist's documented recipe).
    folder = tmp_path_factory.getbasetemp() if worker_id == "master" else tmp_path_factory.getbasetemp().parent

    def shared(key: str, make: Callable[[], Any]) -> Any:
        path = folder / f"once-{key}.json"
        with open(folder / f"once-{key}.lock", "w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            if not path.exists():
                path.write_text(json.dumps(make()))
            return json.loads(path.read_text())

    return shared
