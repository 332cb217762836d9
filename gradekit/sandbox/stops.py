"""Ctrl-C and SIGTERM, which may come at any moment, and the places where one must wait a moment.

A grader's handlers turn either signal into an exception that unwinds through every `finally` that
stops a worker or removes a folder. Three places cannot take it where it lands: a clean-up, which a
stop cut short would leave half done (`uninterrupted`); the start of a program, between its fork and
the moment its handle is kept where a clean-up finds it (`deferred`); and a callback whose exceptions
Python drops (`stops_kept`).
"""

from __future__ import annotations

import os
import signal
import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

STOP_SIGNALS = {signal.SIGINT, signal.SIGTERM}
RESEND_SECONDS = 0.01  # after a stop was dropped inside a callback (see `stops_kept`)


@contextmanager
def uninterrupted() -> Iterator[None]:
    """Hold SIGINT and SIGTERM back from this thread for the block: a clean-up cut short would leave a
    process running or a folder behind. One that comes meanwhile is delivered as the block ends.

    A forked process inherits the held signals, so this suits a fork that lets them in itself; a
    program started inside the block would run with them held, and `deferred` is for that."""
    held = signal.pthread_sigmask(signal.SIG_BLOCK, STOP_SIGNALS)
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, held)


@contextmanager
def deferred() -> Iterator[None]:
    """Take a stop that comes during the block as the block ends: for starting a program and keeping
    its handle. A stop raised in between (inside `subprocess.Popen`, after its fork) would lose the
    only handle on a process that may outlive the grader.

    The signals are not held back, which the program would inherit, but noted by handlers of the
    block's own, and the first one noted is raised again once the grader's handlers are back. Only
    the main thread receives signals in Python, and only it may set handlers: elsewhere the block runs
    as it is, and so it does where a handler was set outside Python, which could not be put back."""
    previous = {number: signal.getsignal(number) for number in STOP_SIGNALS}
    if threading.current_thread() is not threading.main_thread() or None in previous.values():
        yield
        return
    noted: list[int] = []
    for number in STOP_SIGNALS:
        signal.signal(number, lambda signum, frame: noted.append(signum))
    try:
        yield
    finally:
        for number, handler in previous.items():
            signal.signal(number, handler)
        if noted:
            signal.raise_signal(noted[0])


def stops_kept(signal_of: Callable[[BaseException], int | None]) -> None:
    """Make a stop that a signal handler raised count wherever it landed.

    A handler's exception is raised at whatever Python runs next, which may be a callback whose
    exceptions Python only reports and drops: a garbage collector callback (Hypothesis keeps one), a
    fork handler (logging keeps one). The stop would be lost and a traceback printed. Here such a
    report, of an exception `signal_of` maps to a signal, has this process sent that signal again
    RESEND_SECONDS later (by SIGALRM, which gradekit's graders use for nothing else): by then Python
    is out of the callback, and the handler's exception goes where it should."""
    default = sys.unraisablehook

    def report(unraisable: Any) -> None:
        number = signal_of(unraisable.exc_value) if unraisable.exc_value is not None else None
        if number is None:
            default(unraisable)
            return
        signal.signal(signal.SIGALRM, lambda signum, frame: os.kill(os.getpid(), number))
        signal.setitimer(signal.ITIMER_REAL, RESEND_SECONDS)

    sys.unraisablehook = report
