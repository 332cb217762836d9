"""The machine-readable report: GradeResult.to_dict as strict JSON, keys in a fixed order.

A float that is not finite (a loss of NaN the submission returned) is written as the string "NaN",
"Infinity" or "-Infinity" (gradekit.reports.inert), so every JSON reader can parse the report. `loads`
reads such a report (or a class's results/STUDENT.json) back, those strings as floats again where the
result holds values: a score, a time, an adjustment's points and a counterexample's inputs, arguments
and answers. Text (a message, what a call raised) stays as written, even where it reads "NaN".
"""

from __future__ import annotations

import json
from typing import Any

from gradekit.reports.inert import json_text, restored
from gradekit.result import GradeResult

NUMBERS = ("score", "max_score", "seconds")  # a result's and each test's
POINTS = ("add", "set")  # an adjustment's


def render(result: GradeResult) -> str:
    return json_text(result.to_dict())


def loads(text: str) -> Any:
    """The JSON `render` wrote (or a class's result, which adds its `batch`), its values read back."""
    data = json.loads(text)
    if not isinstance(data, dict):
        return data
    _restore(data, NUMBERS)
    for test in _dicts(data.get("tests")):
        _restore(test, NUMBERS)
        example = test.get("counterexample")
        if isinstance(example, dict):
            _restore(example, ("inputs", "returned", "expected"))
            for call in _dicts(example.get("calls")):
                _restore(call, ("args", "returned"))
    for adjustment in _dicts(data.get("adjustments")):
        _restore(adjustment, POINTS)
    return data


def _dicts(found: Any) -> list[dict[str, Any]]:
    return [item for item in found if isinstance(item, dict)] if isinstance(found, list) else []


def _restore(data: dict[str, Any], keys: tuple[str, ...]) -> None:
    for key in keys:
        if key in data:
            data[key] = restored(data[key])
