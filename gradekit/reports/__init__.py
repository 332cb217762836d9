"""Report writers: each a pure `render(result) -> str`. Writers format; they never score."""
from __future__ import annotations

from collections.abc import Callable

from gradekit.reports import json_report, text
from gradekit.result import GradeResult

WRITERS: dict[str, Callable[[GradeResult], str]] = {
    "text": text.render,
    "json": json_report.render,
}

__all__ = ["WRITERS"]
