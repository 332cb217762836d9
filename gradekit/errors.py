"""Every exception gradekit raises, in one place.

    GradekitError                 a problem the user can fix; the message says how
    ├── UsageError                a bad command-line option or argument (exit code 2)
    ├── AssignmentError           an assignment that cannot be found, inferred or loaded
    └── InvalidProperty           a property defined wrongly, caught when it is defined

    PropertyFailure (AssertionError)      the submission broke a property on one input
    └── SubmissionRaised                  ...by raising, or by returning something that is not a number

    PropertyAborted (BaseException)       stop this property now, without shrinking
    ├── CallTimedOut                      one call ran past the per-call timeout
    ├── WorkerDied                        the worker process exited, crashed or was killed
    ├── FunctionMissing                   the submission does not define a function the property needs
    ├── BudgetExhausted                   the property's wall-clock budget ran out
    └── Unrepeatable                      the submission answered one input two ways

PropertyAborted derives from BaseException on purpose: Hypothesis treats an Exception as a failure to
shrink and replay, which would re-run a hanging call dozens of times; a BaseException ends the run.
An answer that changes from one call to the next cannot be shrunk either: every smaller input tried
may or may not fail, so the input where it was seen is the one reported.
"""
from __future__ import annotations

from typing import Any


class GradekitError(Exception):
    """A problem with how gradekit was called or set up, reported to the user in one sentence."""


class UsageError(GradekitError):
    pass


class AssignmentError(GradekitError):
    pass


class InvalidProperty(GradekitError):
    pass


class PropertyFailure(AssertionError):
    """Raised by a property when the submission's answer is wrong; carries both sides for the report."""

    def __init__(self, message: str, returned: Any = None, expected: Any = None) -> None:
        super().__init__(message)
        self.message = message
        self.returned = returned
        self.expected = expected


class SubmissionRaised(PropertyFailure):
    pass


class PropertyAborted(BaseException):
    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class CallTimedOut(PropertyAborted):
    pass


class WorkerDied(PropertyAborted):
    pass


class FunctionMissing(PropertyAborted):
    pass


class BudgetExhausted(PropertyAborted):
    pass


class Unrepeatable(PropertyAborted):
    def __init__(self, message: str, returned: Any = None, expected: Any = None) -> None:
        super().__init__(message)
        self.returned = returned
        self.expected = expected
