"""Report writers: each a pure `render(result) -> str`. Writers format; they never score."""

from __future__ import annotations

from collections.abc import Callable

from gradekit.reports import github, gradescope, json_report, junit, markdown, text
from gradekit.result import GradeResult

WRITERS: dict[str, Callable[[GradeResult], str]] = {
    "text": text.render,
    "json": json_report.render,
    "gradescope": gradescope.render,
    "junit": junit.render,
    "github": github.render,
    "markdown": markdown.render,
}

__all__ = ["WRITERS"]
