"""The class's progress, on one line: a terminal redraws it in place, a log gets a line now and then.

The names on it are the students' (a file's name, without a roster), so each is written as one line of
terminal text (gradekit.reports.inert): an escape sequence or a line break in a name is shown, not acted
on, and the line always starts with gradekit's own words, never a workflow command of a student's."""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Sequence
from typing import TextIO

from gradekit.course_terms import counted
from gradekit.reports.inert import terminal

__all__ = ["Progress", "listed"]


class Progress:
    """The class's progress on one line: how many are done, the time so far, and who is being graded now.

    On a terminal the line is redrawn in place at every change and every time the pool waits TICK
    seconds (see `run_pool`), so a student who hangs shows as a clock still running beside their name.
    Elsewhere (a log file, CI) a line is written at each tenth of the class and at the end, and between
    those every QUIET seconds while someone is being graded: a log says whom a long wait is for without
    a line a second.
    """

    WIDTH = 30
    NARROWEST = 10
    QUIET = 30.0
    NAMES = 3  # names shown at most; past that, two and how many more

    def __init__(
        self,
        total: int,
        done: int,
        stream: TextIO,
        unit: str = "student",
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.total, self.done, self.kept = total, done, done
        self.stream, self.unit, self.clock = stream, unit, clock
        self.started = clock()
        self.live = hasattr(stream, "isatty") and stream.isatty()
        self.names: tuple[str, ...] = ()
        self.why = ""  # why nobody is being graded, where something says
        self.width = self.WIDTH  # of the bar
        self.tenth = -1  # the tenth of the class the last line written elsewhere than a terminal showed
        self.written = self.started  # when a line was last written
        self.length = 0  # of the line on the terminal now, which a shorter one must cover
        self._show()

    def advance(self) -> None:
        self.done += 1
        self._show()

    def grading(self, names: Sequence[str]) -> None:
        """Who is being graded now, the longest first: a terminal shows it at once, a log within QUIET s."""
        self.names, self.why = tuple(terminal(name, one_line=True) for name in names), ""
        if self.live or (self.names and self.clock() - self.written >= self.QUIET):
            self._write()

    def waiting(self, why: str) -> None:
        """Why nobody is being graded now (a cluster without a worker), shown as names are, the clock
        still running: a wait says what it waits for."""
        self.names, self.why = (), why
        if self.live or self.clock() - self.written >= self.QUIET:
            self._write()

    def finish(self) -> None:
        if self.live:
            self.stream.write("\n")
            self.stream.flush()

    def _show(self) -> None:
        tenth = self.done * 10 // max(self.total, 1)
        if self.live or tenth != self.tenth or self.done == self.total:
            self.tenth = tenth
            self._write()

    def _write(self) -> None:
        now = self.clock()
        kept = f", {self.kept} from before" if self.kept else ""
        rest = f" {self.done}/{counted(self.total, self.unit)}{kept}, {now - self.started:.0f} s"
        if self.names:
            rest += f"; grading: {listed(self.names, self.NAMES)}"
        elif self.why:
            rest += f"; {self.why}"
        if self.live:  # one row: a line that wrapped would leave its first rows behind at every redraw
            room = _columns(self.stream) - 1
            # The bar gives way to the names, down to NARROWEST, and stays narrow: the line keeps still.
            self.width = max(self.NARROWEST, min(self.width, room - len("grading []") - len(rest)))
            line = (self._bar() + rest)[:room]
            self.stream.write("\r" + line.ljust(self.length))
            self.length = len(line)
        else:
            self.stream.write(self._bar() + rest + "\n")
        self.stream.flush()
        self.written = now

    def _bar(self) -> str:
        filled = self.done * self.width // max(self.total, 1)
        return f"grading [{'#' * filled}{'.' * (self.width - filled)}]"


def listed(names: Sequence[str], most: int) -> str:
    """Up to `most` names as "alice, bob"; past that, "alice, bob and 3 more" (never "and 1 more")."""
    if len(names) <= most:
        return ", ".join(names)
    return f"{', '.join(names[: most - 1])} and {len(names) - most + 1} more"


def _columns(stream: TextIO) -> int:
    """The terminal's width, or 80 where it does not say (some report 0)."""
    try:
        columns = os.get_terminal_size(stream.fileno()).columns
    except (AttributeError, OSError, ValueError):
        columns = 0
    return columns or 80
