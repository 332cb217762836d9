"""The machine-readable report: GradeResult.to_dict as JSON, keys in a fixed order."""

from __future__ import annotations

import json

from gradekit.result import GradeResult


def render(result: GradeResult) -> str:
    return json.dumps(result.to_dict(), indent=2) + "\n"
