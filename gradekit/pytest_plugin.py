"""A pytest plugin: `pytest --gradekit submission.py [--gradekit-assignment NAME]`.

Each property of the assignment becomes one pytest test item, named after the property, that
passes or fails with the text report's own lines (message, counterexample, hint). The submission is
graded once per pytest process, at collection; the items only read the result. Registered through
the `pytest11` entry point, so installing gradekit is enough; nothing happens without --gradekit.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from gradekit.result import GradeResult, PropertyResult, Status


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("gradekit", "grading a submission with gradekit")
    group.addoption("--gradekit", metavar="SUBMISSION", help="grade this .py/.ipynb: one test per property")
    group.addoption("--gradekit-assignment", metavar="NAME", help="the assignment (inferred when left out)")
    group.addoption("--gradekit-max-examples", type=int, metavar="N", help="examples per property (default 100)")


@pytest.hookimpl(tryfirst=True)  # before -k and -m deselect, so they apply to these items too
def pytest_collection_modifyitems(session: pytest.Session, config: pytest.Config, items: list[pytest.Item]) -> None:
    submission = config.getoption("gradekit")
    if not submission:
        return
    path = Path(submission).resolve()
    result = _grade(path, config.getoption("gradekit_assignment"), config.getoption("gradekit_max_examples"))
    collector = Submission.from_parent(session, path=path)
    collector.result = result
    items.extend(collector.collect())


def _grade(path: Path, assignment_name: str | None, max_examples: int | None) -> GradeResult:
    from gradekit import assignment
    from gradekit.config import GradeConfig
    from gradekit.grader import grade

    config = GradeConfig() if max_examples is None else GradeConfig(max_examples=max_examples)
    chosen = assignment.load(assignment_name) if assignment_name else None
    return grade(path, chosen, config)


class Submission(pytest.File):
    """The graded submission: its items are the properties."""

    result: GradeResult

    def collect(self) -> list[pytest.Item]:
        if not self.result.tests:  # the assignment could not even be told
            return [Property.from_parent(self, name="gradekit", test=None)]
        return [Property.from_parent(self, name=test.name, test=test) for test in self.result.tests]


class PropertyFailed(Exception):
    """A property that did not pass: its text is the report's own."""


class Property(pytest.Item):
    def __init__(self, *, test: PropertyResult | None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.test = test

    @property
    def result(self) -> GradeResult:
        return self.parent.result  # type: ignore[union-attr]

    def runtest(self) -> None:
        from gradekit.reports.text import block

        result = self.result
        if self.test is None:
            raise PropertyFailed(f"could not grade {result.submission}: {result.error}")
        self.user_properties.append(("score", self.test.score))
        self.user_properties.append(("max_score", self.test.max_score))
        if result.error:
            raise PropertyFailed(f"could not grade {result.submission}: {result.error}")
        if self.test.status is not Status.PASSED:
            raise PropertyFailed("\n".join(block(self.test)))

    def repr_failure(self, excinfo: pytest.ExceptionInfo[BaseException], style: Any = None) -> str:
        if isinstance(excinfo.value, PropertyFailed):
            return str(excinfo.value)
        return str(super().repr_failure(excinfo))

    def reportinfo(self) -> tuple[Path, int | None, str]:
        line = None
        if self.test is not None and self.test.functions:
            found = self.result.function_lines.get(self.test.functions[0])
            line = found - 1 if found and not self.result.function_cells else None
        return self.path, line, f"gradekit: {self.name}"
