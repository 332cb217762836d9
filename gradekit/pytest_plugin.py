"""A pytest plugin: `pytest --gradekit submission.py [--gradekit-assignment NAME]`.

Each property of the assignment becomes one pytest test item, named after the property, that
passes or fails with the text report's own lines (message, counterexample, hint). Registered through
the `pytest11` entry point, so installing gradekit is enough; nothing happens without --gradekit.

The submission is one more collector of the session, beside whatever pytest collects from its
arguments: it is added to the session's own collection report, so pytest collects it as it collects a
test file (the "collected N items" count, -k, -m and --collect-only all see its items) and it is
graded once per pytest process, when it is collected. An item added after collection, in
pytest_collection_modifyitems, would run but never be counted.

The grade is more than pass or fail: a property is not checked until the properties it requires
pass (its item is skipped, with the reason), and points are not a count of items. So each item's report
carries the grade's summary (`gradekit` on the report, which pytest-xdist sends from its workers too),
and the terminal summary has a `gradekit` section with the score and the properties not checked yet.
"""

from __future__ import annotations

from collections.abc import Generator
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import pytest

from gradekit.commands.options import MAX_EXAMPLES, examples
from gradekit.errors import GradekitError
from gradekit.result import GradeResult, PropertyResult, Status


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("gradekit", "grading a submission with gradekit")
    group.addoption("--gradekit", metavar="SUBMISSION", help="grade this .py/.ipynb: one test per property")
    group.addoption("--gradekit-assignment", metavar="NAME", help="the assignment (inferred when left out)")
    group.addoption(
        "--gradekit-max-examples",
        type=examples,  # the range `gradekit check --max-examples` takes, refused as pytest's usage error
        metavar="N",
        help=f"examples per property, from 1 to {MAX_EXAMPLES} (default 100)",
    )


@pytest.hookimpl(hookwrapper=True)
def pytest_make_collect_report(collector: pytest.Collector) -> Generator[None, Any, None]:
    """Add the submission to what the session collects, after the collectors of pytest's arguments."""
    outcome = yield
    submission = collector.config.getoption("gradekit")
    if submission and isinstance(collector, pytest.Session):
        report: pytest.CollectReport = outcome.get_result()
        if report.passed:
            report.result.append(Submission.from_parent(collector, path=Path(submission).resolve()))


@dataclass(frozen=True)
class Summary:
    """The grade in a few plain values: what the terminal summary shows."""

    submission: str
    assignment: str
    score: float
    max_score: float
    unchecked: tuple[str, ...]
    error: str | None
    known_mistakes: tuple[str, ...] = ()  # "function: mistake", one per diagnosis

    @classmethod
    def of(cls, result: GradeResult, submission: str) -> Summary:
        from gradekit.reports.waiting import waiting

        unchecked = tuple(waiting([t for t in result.tests if t.status is Status.UNCHECKED]))
        known = tuple(f"{d.function}: {d.misconception}" for d in result.diagnosis)
        return cls(submission, result.assignment, result.score, result.max_score, unchecked, result.error, known)

    def lines(self) -> list[str]:
        if not self.max_score:  # not even the assignment could be told
            return [f"gradekit: could not grade {self.submission}: {self.error}"]
        lines = [f"gradekit: {self.score:g}/{self.max_score:g} for {self.submission} ({self.assignment})"]
        if self.error:
            lines.append(f"gradekit: every property scores 0 until the file loads: {self.error}")
        lines += [f"gradekit: not checked yet: {line}" for line in self.unchecked]
        lines += [f"gradekit: known mistake (see `gradekit check` for how to fix it): {m}" for m in self.known_mistakes]
        return lines


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Generator[None, Any, None]:
    """Put the grade's summary on each property's report, as plain values pytest-xdist can send."""
    outcome = yield
    if isinstance(item, Property) and call.when == "call":
        summary = Summary.of(item.result, str(item.config.getoption("gradekit")))
        outcome.get_result().gradekit = asdict(summary)


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """The score, and the properties not checked yet, once any property of the submission has run."""
    reports = (report for kind in terminalreporter.stats.values() for report in kind)
    found = next((report.gradekit for report in reports if getattr(report, "gradekit", None)), None)
    if found is None:
        return
    terminalreporter.write_sep("=", "gradekit")
    sent = {**found, "unchecked": tuple(found["unchecked"]), "known_mistakes": tuple(found["known_mistakes"])}
    from gradekit.reports.inert import console  # the submission's name and error are the student's

    for line in Summary(**sent).lines():
        terminalreporter.write_line(console(line))


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
        options = self.config.getoption
        try:
            self.result = _grade(self.path, options("gradekit_assignment"), options("gradekit_max_examples"))
        except GradekitError as error:  # an unknown --gradekit-assignment, a sandbox that cannot start
            raise self.CollectError(f"gradekit: {error}") from None
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
        from gradekit.reports.inert import console  # what the submission raised or returned, shown inert
        from gradekit.reports.text import block, details

        result = self.result
        if self.test is None:
            raise PropertyFailed(console(f"could not grade {result.submission}: {result.error}"))
        self.user_properties.append(("score", self.test.score))
        self.user_properties.append(("max_score", self.test.max_score))
        if result.error:
            raise PropertyFailed(console(f"could not grade {result.submission}: {result.error}"))
        if self.test.status is Status.UNCHECKED:
            pytest.skip(console(self.test.message))
        if self.test.status is not Status.PASSED:  # the message first: pytest's summary line shows it
            raise PropertyFailed(console("\n".join(details(self.test) or block(self.test))))

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
