"""Every exception gradekit raises, in one place.

    GradekitError                 a problem the user can fix; the message says how
    ├── UsageError                a bad command-line option or argument (exit code 2)
    ├── AssignmentError           an assignment that cannot be found, inferred or loaded
    └── InvalidProperty           a property defined wrongly, caught when it is defined

    PropertyFailure (AssertionError)      the submission broke a property on one input
    ├── SubmissionRaised                  ...by raising, or by returning something that is not a number
    └── ArgumentChanged                   ...by changing an argument it must leave as it was given

    PropertyAborted (BaseException)       stop this property now, without shrinking
    ├── CallTimedOut                      one call ran past the per-call timeout
    │   └── TimedOutEarlier               ...or calls a function that did, earlier in the grade
    ├── TooSlow                           a scale property's call ran past it on a large input
    ├── WorkerDied                        the worker process exited, crashed or was killed
    ├── FunctionMissing                   the submission does not define a function the property needs
    ├── BudgetExhausted                   the property's wall-clock budget ran out
    └── Unrepeatable                      the submission answered one input two ways, or changed
                                          an answer it gave before

PropertyAborted derives from BaseException on purpose: Hypothesis treats an Exception as a failure to
shrink and replay, which would re-run a hanging call dozens of times; a BaseException ends the run.
An answer that changes from one call to the next cannot be shrunk either: every smaller input tried
may or may not fail, so the input where it was seen is the one reported.
"""

from __future__ import annotations

from typing import Any


class GradekitError(Exception):
    """Raised when gradekit cannot do what it was asked because of how it was called or set up: the
    worker or its sandbox could not start, the OS sandbox is required and missing, --run-as names no
    usable account, a bundle cannot be built. The command stops and prints the message, which names
    the cause; the remedy is what the message says (install bubblewrap, pass --no-isolation, run as
    root, fix the path), done by whoever ran the command, and nothing is graded until then.
    """


class HostFailure(GradekitError):
    """Raised when the grading host, not the submission, kept a worker from starting: a sandbox that
    worked before in this run could not be set up again, or a worker died before it said it was
    confined, when no student code had run yet. Nothing is recorded for the submission, so the same
    command grades it again once the host is fixed; the remedy is the host's (`gradekit doctor` says
    what it lacks).
    """


class UsageError(GradekitError):
    """Raised when the command line is wrong: an unknown option or format, a missing argument, a path
    that is not the file or folder the command needs, an assignment name `gradekit new` cannot use.
    The command exits with code 2 before grading anything; the remedy is to correct the option the
    message names (`gradekit COMMAND --help` lists them).
    """


class AssignmentError(GradekitError):
    """Raised when an assignment cannot be found, inferred or loaded: no folder of that name on the
    search path, a submission whose functions fit no assignment or fit two equally, or an assignment's
    __init__.py, functions.py or properties.py that fails to import. For a student or grader the
    remedy is to name the assignment with --assignment (or add its folder with --assignments or
    GRADEKIT_ASSIGNMENTS); for the instructor, to fix the file the message names.
    """


class InvalidProperty(GradekitError):
    """Raised when a property is declared wrongly, at the moment it is defined rather than during a
    grade: points that are not positive, no functions, a hint that is not one line, `requires` given
    as a string, a test without @given under @prop. The message names the argument and its value; the
    remedy is for the instructor to correct that argument in the assignment's properties.py.
    """


class PropertyFailure(AssertionError):
    """Raised by a property (through `expect` and its kin) when the submission's answer is wrong on one
    input. Hypothesis shrinks that input, and the property scores 0 with the smallest input, what the
    submission returned and what was expected (carried here for the report). The remedy is the
    student's: fix the function against that counterexample and the property's hint.
    """

    def __init__(self, message: str, returned: Any = None, expected: Any = None) -> None:
        super().__init__(message)
        self.message = message
        self.returned = returned
        self.expected = expected


class SubmissionRaised(PropertyFailure):
    """Raised when the submission's function raised an exception, or returned something that is not a
    number or a (nested) list of numbers, on an input the property gave it. Graded as a wrong answer:
    the input is shrunk and reported with the exception's type, message and line. The remedy is the
    student's: make the function return plain numbers for every input in the assignment's domain.
    `raised` names the exception's type ("" where the function returned something it may not), and
    `line` the line of the submission it was raised on, where one was.
    """

    def __init__(
        self, message: str, returned: Any = None, expected: Any = None, raised: str = "", line: int | None = None
    ) -> None:
        super().__init__(message, returned, expected)
        self.raised = raised
        self.line = line


class ArgumentChanged(PropertyFailure):
    """Raised when a call changed an argument its function may not update: the worker compares every
    argument with a copy after every call, and the assignment's functions.py names the ones an update
    function may change in place (UPDATED_IN_PLACE). Graded as a wrong answer, on the function
    called. The remedy is the student's: work on a copy, or build a new list.
    """


class PropertyAborted(BaseException):
    """Raised to stop a property at once, without shrinking or replaying: the cause is not a wrong
    answer that a smaller input would show again (see the subclasses). It derives from BaseException
    so that Hypothesis does not retry it; the property is reported as an error or a timeout and pays
    nothing. A bare PropertyAborted is not raised; the remedy is the subclass's.
    """

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class CallTimedOut(PropertyAborted):
    """Raised when one call to the submission computed or blocked for longer than the per-call timeout
    (--timeout, 2 s by default): the worker's CPU time (every thread's) and the time it spent blocked
    (a sleep, a read that never returns) both count, and the time it spent waiting for a CPU does not,
    so a busy machine gives the same verdict as an idle one. The worker is restarted and the property
    reports that call as timed out. The remedy is the student's: find the loop that does not end, the
    work that grows too fast on that input, or the wait that never ends (a grader may raise --timeout
    for a slow machine).
    """


class WorkerDied(PropertyAborted):
    """Raised when the worker running the submission exited, crashed, was killed (by the memory cap,
    a signal or the sandbox's seccomp filter) or broke the reply protocol, including by sending more
    than the grader accepts. The worker is restarted for the next call and the property pays nothing.
    The remedy is the student's: do not exit, allocate without bound, print or return huge output,
    or try what the sandbox refuses (a grader may raise --memory if the cap is too tight).
    """


class FunctionMissing(PropertyAborted):
    """Raised when a property calls a function the submission does not define (a missing or misspelt
    name); the property is reported as an error and pays nothing. The remedy is the student's: define
    the function with the name and signature given in the assignment's functions.
    """


class BudgetExhausted(PropertyAborted):
    """Raised when a property's time budget (--property-budget) runs out before its examples are done.
    The budget counts the grader's CPU time and the worker's, computing or blocked, all read from the
    kernel, so a busy machine does not end it sooner and nothing the worker reports moves it; a
    wall-clock backstop of five budgets ends the rest. A failure already found is still reported;
    otherwise the property is a timeout and pays nothing, so a function slow on purpose cannot keep
    the points of examples it never faced. The remedy is the student's: make the function fast enough
    for the property's examples (a grader may raise --property-budget for a slow machine).
    """


class Unrepeatable(PropertyAborted):
    """Raised when the submission answered the same input two different ways (randomness, a clock, or
    state kept between calls). Graded as a failure on the input where it was seen, not shrunk, since
    every smaller input may or may not fail; carries both answers for the report. The remedy is the
    student's: make the function depend only on its arguments.
    """

    def __init__(self, message: str, returned: Any = None, expected: Any = None) -> None:
        super().__init__(message)
        self.returned = returned
        self.expected = expected


class TimedOutEarlier(CallTimedOut):
    """Raised, without calling the worker, when a property calls a function that already timed out in
    this grade: the property is a timeout on the input where it first happened. Once a function hangs,
    each later property would otherwise wait out the limit again (and restart the worker) for a
    verdict that is already known, so a submission with one hanging function is graded in seconds and
    its other functions still earn their points. The remedy is the student's, as for CallTimedOut.
    """


class TooSlow(PropertyAborted):
    """Raised by a scale property (see gradekit.authoring.call_at_scale) when a call's time grew faster
    than its input, or ran out on a large input: the property fails, unshrunk, with how its time grew
    or what was too slow on what size. Correctness properties never see such inputs, so a right but
    slow function keeps every correctness point and loses only the scale property's few. The remedy is
    the student's: find the work that grows faster than the input (a loop inside a loop over the
    vocabulary, a sum recomputed for every entry).
    """
