"""Report writers: each a pure `render(result) -> str`. Writers format; they never score.

`WRITERS` names every format (from `MODULES`); a writer's module is imported when its format is first
asked for, so a check that writes one report does not import the other five (the JUnit one brings in
an XML library). Beside them: the staff's `adjustments` as each report shows them, what the human
reports share (`stubs`, `waiting`), and `inert`, the one escaping routine per output kind every writer
puts a student's text through. The writers of a whole class (the gradebook, the summary, the LMS
exports, a regrade's report) live with the class grade, in gradekit.batch.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterator, Mapping

from gradekit.result import GradeResult

Writer = Callable[[GradeResult], str]


MODULES = {  # each format, in the order the CLI lists them, and the module that writes it
    "text": "text",
    "json": "json_report",
    "gradescope": "gradescope",
    "junit": "junit",
    "github": "github",
    "markdown": "markdown",
}


class _Writers(Mapping[str, Writer]):
    """Each format's `render`, by the format's name."""

    def __getitem__(self, name: str) -> Writer:
        render: Writer = importlib.import_module(f"{__name__}.{MODULES[name]}").render
        return render

    def __iter__(self) -> Iterator[str]:
        return iter(MODULES)

    def __len__(self) -> int:
        return len(MODULES)


WRITERS: Mapping[str, Writer] = _Writers()

__all__ = ["WRITERS"]
