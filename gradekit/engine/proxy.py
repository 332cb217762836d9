"""The student's functions, and nothing else, as a property sees them.

`sub.softmax(z)` inside a property calls the student's `softmax` in the sandboxed worker and gives back
plain numbers. The object has no public members of its own, so any function a student writes (`load`,
`call`, `output`, ...) is theirs and never shadowed; assignment function names may not begin with an
underscore (gradekit.assignment leaves such names out of functions.py's graded functions), which keeps
the few private ones out of reach as well.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from gradekit.authoring import Reply
from gradekit.engine.calls import Calls
from gradekit.result import Call


class StudentFunctions:
    """One example's view of the submission: each call is logged in that example's `log`."""

    __slots__ = ("_calls", "_log")

    def __init__(self, calls: Calls, log: list[Call]) -> None:
        self._calls = calls
        self._log = log

    def __getattr__(self, name: str) -> Callable[..., Any]:
        self._refuse_unless_graded(name)
        return lambda *args: self._calls.value(name, args, self._log)

    def _refuse_unless_graded(self, name: str) -> None:
        """AttributeError for a name that is no graded function of the submission's."""
        if name.startswith("_") or name not in self._calls.returns:
            raise AttributeError(name)

    def _call(self, function: str, args: tuple[Any, ...], want_args: bool) -> Reply:
        """The reply to one call as it came: for `gradekit.authoring.call`."""
        return self._calls.call(function, args, self._log, want_args)

    def _timed(self, function: str, args: tuple[Any, ...], want_args: bool, timeout: float) -> tuple[Reply, float]:
        """A reply and the seconds it took, within `timeout`: for `gradekit.authoring.call_at_scale`."""
        return self._calls.timed(function, args, self._log, want_args, timeout)

    def _announce(self, function: str, argument_lists: list[tuple[Any, ...]]) -> list[str | None]:
        """The calls of `function` this example makes next, in order, and their arguments as encoded:
        for `gradekit.authoring.each`."""
        return self._calls.announce(function, argument_lists)

    def _announced(self, function: str, args: tuple[Any, ...], encoded: str | None) -> Any:
        """`function(*args)`, a call `_announce` encoded the arguments of: for `gradekit.authoring.each`."""
        self._refuse_unless_graded(function)
        return self._calls.value(function, args, self._log, encoded)

    def _call_timeout(self) -> float:
        """The time one call may take: for `gradekit.authoring.call_at_scale`."""
        return float(self._calls.session.worker.limits.call_timeout)

    def _logged(self) -> int:
        """How many calls this example has made: for `gradekit.authoring.expect_built_on`."""
        return len(self._log)

    def _unlog(self, since: int) -> None:
        """Leave the calls made since `since` out of what the example shows: for
        `gradekit.authoring.expect_built_on`, whose calls of the function built on explain nothing
        where the function's own mistake is the verdict."""
        del self._log[since:]

    def _per_submission(self) -> dict[str, Any]:
        """What properties keep about this submission for its whole grade: for `gradekit.authoring.per_submission`."""
        return self._calls.kept
