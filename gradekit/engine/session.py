"""A submission loaded in its worker: its top level run (or a notebook's cells, in order), what it
defines, and a fresh worker holding the same code whenever the last one had to be stopped.

Calls to the loaded functions go through gradekit.engine.calls; this module only keeps the worker loaded.
"""

from __future__ import annotations

import functools
import importlib.util
import time
from pathlib import Path
from types import FunctionType, ModuleType
from typing import Any, Protocol

from gradekit.config import Limits
from gradekit.engine.source import Cell, Source
from gradekit.engine.worker_errors import sentence
from gradekit.errors import CallTimedOut, WorkerDied
from gradekit.sandbox.replies import CallReply, LoadReply, WorkerError, decode, defined, to_plain


class Channel(Protocol):
    """What a session talks to: the sandboxed worker (gradekit.sandbox.Worker), or the stand-in that
    runs an assignment's own solution in this process to record its examples (Trusted). Code and
    calls go out as text, and what comes back is plain data, a reply of the shape
    gradekit.sandbox.replies names."""

    limits: Limits
    last_answer: bytes  # a digest of the last reply, to tell answers alike (gradekit.engine.calls)
    last_line: bytes  # that reply as it came; b"" where none came over the wire

    def load(
        self, source: str, filename: str, line: int = 1, fresh: bool = True, timeout: float | None = None
    ) -> LoadReply: ...

    def load_harness(self, source: str, filename: str) -> LoadReply: ...

    def call(
        self, function: str, encoded_args: str, want_args: bool = False, timeout: float | None = None
    ) -> CallReply: ...

    def interrupted(self) -> bool: ...

    def spent(self) -> float | None: ...

    def output(self) -> str: ...

    def restart(self) -> None: ...


class Session:
    """One submission behind one worker process, kept loaded for as long as a grade needs it."""

    def __init__(self, worker: Channel, source: str, filename: str, cells: tuple[Cell, ...] | None = None) -> None:
        self.worker = worker
        self._source = source
        self._filename = filename
        self._cells = cells
        self._layout = Source(source, filename, cells=cells)
        self._skipped: set[int] = set()
        self._notes: dict[int, str] = {}
        self._outputs: list[str] = []
        self.defined: dict[str, int | None] = {}
        self.restarts = 0
        self._harness: tuple[str, str] | None = None

    def use_harness(self, path: Path) -> str | None:
        """Load the assignment's harness beside the submission, now and after every restart (see
        worker.Loaded.load); the reason it could not be loaded, or None."""
        self._harness = (path.read_text(), path.name)
        return self._load_harness()

    def _load_harness(self) -> str | None:
        if self._harness is None:
            return None
        try:
            reply = self.worker.load_harness(*self._harness)
        except (CallTimedOut, WorkerDied) as stopped:
            return f"{self._filename} could not be loaded: {stopped.message}"
        if not reply["ok"]:
            return sentence(reply["error"], self._filename, "harness")
        self.defined = reply["functions"]
        return None

    def where(self, line: int | None) -> str:
        """A line as the student finds it: "line 3", "cell 4, line 2"."""
        return self._layout.where(line)

    def load(self) -> str | None:
        """Run the submission's top level in the worker; the reason it failed, or None.

        A top level that hangs or ends the worker is the submission's doing: it is reported, not raised.
        """
        if self._cells is not None:
            return self._load_cells()
        try:
            reply = self.worker.load(self._source, self._filename)
        except CallTimedOut as timeout:
            return f"{self._filename} could not be loaded: running its top level timed out ({timeout.message})"
        except WorkerDied as death:
            return f"{self._filename} could not be loaded: {death.message}"
        if not reply["ok"]:
            error = reply["error"]
            return sentence(error, self._filename, "load", self.where, on=error["line"])
        self.defined = reply["functions"]
        return self._load_harness()

    @property
    def notes(self) -> tuple[str, ...]:
        """What went wrong in a notebook's cells, one line per cell, in the notebook's order."""
        return tuple(self._notes[number] for number in sorted(self._notes))

    def _load_cells(self) -> str | None:
        """Run a notebook's code cells top to bottom in one module, as Jupyter's "Run All" would.

        A cell that raises is noted and the next one runs; the last definition of a name wins. A cell
        that runs past the per-cell limit (`cell_timeout`) is interrupted, as Jupyter's "Interrupt"
        would, and noted; one that will not stop, or ends the worker, is left out for good: the worker
        is replaced and runs the cells before it again. Each cell has the whole per-cell limit, so a slow
        cell that loads data costs nothing; all the cells together, runs again included, get one such
        cell's time more than a .py file's top level gets (`cell_timeout + load_timeout`), so that many
        slow cells cannot hold a class's grader: the cells left when it is spent are not run, and noted.
        """
        if not self._cells:
            return f"{self._filename} has no code cells"
        limits = self.worker.limits
        allowance = Allowance(self.worker, limits.cell_timeout + limits.load_timeout)
        while not self._run_cells(allowance):
            self._replace_worker()
        try:  # the functions every cell together left defined
            reply = self.worker.load("", self._filename, fresh=False)
        except (CallTimedOut, WorkerDied) as stopped:
            return f"{self._filename} could not be loaded: {stopped.message}"
        self.defined = reply["functions"] if reply["ok"] else {}
        return self._load_harness()

    def _run_cells(self, allowance: Allowance) -> bool:
        """Run every cell not left out; False when one had to be stopped (the worker must be replaced)."""
        assert self._cells is not None
        fresh = True
        for cell in self._cells:
            if cell.note:
                self._notes.setdefault(cell.number, cell.note)
            if cell.number in self._skipped or not cell.code.strip():
                continue
            own, left = self.worker.limits.cell_timeout, allowance.left()
            if left <= 0:
                self._not_run(cell, allowance)
                continue
            try:
                reply = self.worker.load(cell.code, self._filename, line=cell.line, fresh=fresh, timeout=min(own, left))
            except CallTimedOut:
                past = f"ran past the {own:g} s limit for one cell"
                if own > left:
                    past = f"ran past the {allowance.seconds:g} s the notebook's cells get together"
                if self.worker.interrupted():
                    self._notes.setdefault(cell.number, f"cell {cell.number} {past} and was interrupted")
                    fresh = False
                    continue
                return self._leave_out(cell, f"{past} and would not stop")
            except WorkerDied as death:
                return self._leave_out(cell, f"ended the grader's worker ({death.message})")
            fresh = False
            if not reply["ok"]:
                self._notes.setdefault(cell.number, self._cell_error(cell, reply["error"]))
        return True

    def _not_run(self, cell: Cell, allowance: Allowance) -> None:
        self._skipped.add(cell.number)
        spent = f"the notebook's cells had used the {allowance.seconds:g} s they get together"
        self._notes.setdefault(cell.number, f"cell {cell.number} was not run: {spent}")

    def _leave_out(self, cell: Cell, why: str) -> bool:
        self._skipped.add(cell.number)
        self._notes.setdefault(cell.number, f"cell {cell.number} {why}: it was stopped and skipped")
        return False

    def _cell_error(self, cell: Cell, error: WorkerError) -> str:
        line = error["line"]
        on = line - cell.line + 1 if line and self._layout.cell_at(line) is cell else None
        return sentence(error, f"cell {cell.number}", "cell", functools.partial(self._in_cell, cell), on)

    def _in_cell(self, cell: Cell, line: int) -> str:
        """A line of the notebook as a cell's note names it: "line 2" of the cell itself, "cell 3, line
        2" of another (a function defined there), or "" where no cell holds it."""
        at = self._layout.cell_at(line)
        if at is None:
            return ""
        return f"line {line - at.line + 1}" if at is cell else f"cell {at.number}, line {line - at.line + 1}"

    def restart(self) -> None:
        """Replace the worker with a fresh one holding the same submission."""
        self.restarts += 1
        self._replace_worker()
        self.load()

    def _replace_worker(self) -> None:
        self._outputs.append(self.worker.output())
        self.worker.restart()

    def output(self) -> str:
        """What the workers printed, held to one worker's cap: each restart loads (and prints) again."""
        return "".join(self._outputs + [self.worker.output()])[: self.worker.limits.output_bytes]


class Allowance:
    """Seconds a worker may still spend, computing or blocked (Worker.spent), out of `seconds`; the
    wall clock's where its clocks cannot be read."""

    def __init__(self, worker: Any, seconds: float) -> None:
        self.seconds = seconds
        self._worker = worker
        self._wall = time.monotonic()
        self._start = worker.spent()

    def left(self) -> float:
        now = self._worker.spent()
        used = time.monotonic() - self._wall if now is None or self._start is None else now - self._start
        return self.seconds - used


class Trusted:
    """The worker's side of the protocol, in this process, for an assignment's own solution only:
    recording the inputs a passing property draws runs it here (see gradekit.engine.speed.recorded).
    The solution (and its harness) is loaded when this is made; loading again defines what it defines."""

    def __init__(self, path: Path, harness: Path | None = None) -> None:
        self.module = _import_solution(path)
        self.harness = _import_solution(harness) if harness else None
        if self.harness is not None:
            self.harness.submission = self.module  # type: ignore[attr-defined]
        self.limits = Limits()
        self.last_answer = b""  # answers from here are never compared with another submission's
        self.last_line = b""  # nor sent as text

    def load(
        self, source: str, filename: str, line: int = 1, fresh: bool = True, timeout: float | None = None
    ) -> LoadReply:
        return {"ok": True, "functions": self._functions()}

    def load_harness(self, source: str, filename: str) -> LoadReply:
        """As a worker answers a harness's load: the solution's functions and the harness's by name."""
        harness = vars(self.harness) if self.harness is not None else {}
        names = [n for n, v in harness.items() if not n.startswith("_") and isinstance(v, FunctionType)]
        return {"ok": True, "functions": {**self._functions(), **dict.fromkeys(names)}}

    def _functions(self) -> dict[str, int | None]:
        """The solution's functions, classes and methods with their lines, read as a worker reads them."""
        return defined(self.module)

    def interrupted(self) -> bool:
        return False

    def spent(self) -> float | None:
        """What a worker's clocks would say: nothing runs apart from the grader here."""
        return None

    def output(self) -> str:
        return ""

    def restart(self) -> None:
        """Nothing to restart: the solution runs in this process."""

    def call(
        self, function: str, encoded_args: str, want_args: bool = False, timeout: float | None = None
    ) -> CallReply:
        args = decode(encoded_args)
        callee = getattr(self.harness, function, None) or getattr(self.module, function)
        reply: CallReply = {"ok": True, "returned": to_plain(callee(*args))}
        if want_args:
            reply["args_after"] = to_plain(args)
        return reply


def _import_solution(path: Path) -> ModuleType:
    spec = importlib.util.spec_from_file_location(f"gradekit_solution_{path.stem}", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module
