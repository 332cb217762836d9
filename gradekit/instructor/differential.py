"""Is a mutant that keeps full marks really wrong? Ask it and the solution the same questions.

An assignment declares, in `inputs.py` beside its properties, the inputs its graded functions must
answer right: INPUTS maps each function to a Hypothesis strategy of argument tuples covering the
whole domain its docstring in functions.py promises, boundaries weighted (the extremes, ties, the
largest sizes). For an assignment whose students write a class, the functions are the harness's
(harness.py), which build from the class what a property asks for. RTOL and ATOL are the tolerance
two answers are one answer within, as the properties judge them: `gradekit.precision.tolerances`
grows ATOL with the inputs' magnitude, and loosens both for an answer computed in float32.

`draw` draws `count` inputs per function once, under a fixed seed. The solution answers them in a
sandboxed worker of its own, as any submission would (see gradekit.engine.session), and a survivor in
another: every input sent at once, each answer read with the arguments as the call left them. An
input the solution itself does not answer in time is left out. A survivor that answers one input
otherwise (another number, an exception the solution does not raise, no answer in time) is a blind
spot of the properties. The input shown is shrunk: the same draws are made again by a Hypothesis
search that fails where the two answers differ, and shrinks to the plainest such input, within
SHRINK_SECONDS. A survivor that never answers otherwise is likely equivalent: the drawn inputs are
many, but they are not a proof.
"""

from __future__ import annotations

import importlib
import math
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

import hypothesis
from hypothesis import Phase
from hypothesis import strategies as st

from gradekit.assignment import INPUTS, Assignment
from gradekit.config import Limits
from gradekit.engine.runner import quiet
from gradekit.engine.session import Session
from gradekit.engine.worker_errors import named
from gradekit.errors import AssignmentError, CallTimedOut, WorkerDied
from gradekit.hypothesis_pins import set_run_settings, stop_collecting_local_constants
from gradekit.precision import close, floats, is_float32, tolerances
from gradekit.sandbox import Worker
from gradekit.sandbox.process import preloads
from gradekit.sandbox.replies import CallReply, decode, encode

CHUNK = 50  # calls sent to a worker at once
SHRINK_SECONDS = 30.0  # wall-clock seconds a blind spot's input may be shrunk for

# What one call was seen to do: ("returned", value, arguments after the call), ("raised", exception type,
# message) or ("stopped", why): it ran out of time or ended its worker.
Observed = tuple[Any, ...]


@dataclass(frozen=True)
class Drawn:
    """The inputs of each function, drawn from inputs.py, and the tolerance they are judged with."""

    strategies: dict[str, st.SearchStrategy[Any]]
    calls: dict[str, tuple[str, ...]]  # function -> encoded argument lists, in the order drawn
    rtol: float
    atol: float
    seed: int
    count: int


@dataclass(frozen=True)
class Difference:
    """An input on which a mutant answers otherwise than the solution."""

    function: str
    arguments: list[Any]
    expected: Observed
    got: Observed

    def to_dict(self) -> dict[str, Any]:
        return {
            "function": self.function,
            "arguments": self.arguments,
            "expected": shown(self.expected),
            "got": shown(self.got),
        }


def shown(answer: Observed) -> Any:
    """An answer as a report shows it: the value returned, what was raised, or why it stopped."""
    if answer[0] == "returned":
        return answer[1]
    if answer[0] == "raised":
        return f"raised {named(answer[1], answer[2])}"
    return f"no answer: {answer[1]}"


def declared(assignment: Assignment) -> ModuleType | None:
    """The assignment's inputs.py, imported beside its properties (so it may import from its own
    folder), or None where it has none."""
    if not (assignment.folder / INPUTS).is_file():
        return None
    hidden = next(p for p in assignment.properties if not p.public)
    package = hidden.body.__module__.rpartition(".")[0]  # the package the assignment's modules load in
    try:
        module = importlib.import_module(f"{package}.{Path(INPUTS).stem}")
    except Exception as error:
        raise AssignmentError(
            f"{assignment.folder / INPUTS} could not be loaded: {type(error).__name__}: {error}"
        ) from None
    callable_names = {*assignment.functions, *assignment.harness_functions}
    inputs = getattr(module, "INPUTS", None)
    if not isinstance(inputs, dict) or not inputs:
        raise AssignmentError(f"{assignment.folder / INPUTS} must define INPUTS, a dict of function -> strategy")
    unknown = sorted(set(inputs) - callable_names)
    if unknown:
        raise AssignmentError(
            f"{assignment.folder / INPUTS}: INPUTS names {unknown}, which no submission or harness defines"
        )
    return module


def draw(assignment: Assignment, count: int, seed: int) -> Drawn | None:
    """`count` inputs per function of the assignment's inputs.py, drawn under `seed`; None without one."""
    module = declared(assignment)
    if module is None:
        return None
    strategies: dict[str, st.SearchStrategy[Any]] = dict(module.INPUTS)
    calls = {}
    for function, strategy in strategies.items():
        made: list[str] = []

        def kept(args: Any, made: list[str] = made) -> bool:
            made.append(encode(list(args)))
            return False  # every draw is kept, none searched for

        _search(strategy, seed, count, kept, shrink=False)
        calls[function] = tuple(dict.fromkeys(made))
    rtol, atol = float(getattr(module, "RTOL", 1e-9)), float(getattr(module, "ATOL", 1e-12))
    return Drawn(strategies, calls, rtol, atol, seed, count)


class _Found(Exception):
    """Raised by a search's test where its predicate holds, for Hypothesis to shrink."""


def _search(strategy: st.SearchStrategy[Any], seed: int, count: int, holds: Any, shrink: bool = True) -> Any:
    """Draw up to `count` argument tuples from `strategy` under `seed`, and return the plainest one
    `holds` is true of (shrunk, with `shrink`), or None. The draws are the same on every call with the
    same strategy, seed and count, up to the first that holds."""
    stop_collecting_local_constants()
    found: list[Any] = []

    @hypothesis.given(strategy)
    def test(args: Any) -> None:
        if holds(args):
            found.append(args)
            raise _Found

    phases = (Phase.generate, Phase.shrink) if shrink else (Phase.generate,)
    set_run_settings(test, quiet(count, phases))
    hypothesis.seed(seed)(test)
    try:
        test()
    except _Found:
        return found[-1]  # Hypothesis runs the plainest failing example last
    return None


class Solution:
    """The assignment's solution, loaded in a sandboxed worker for as long as the `with` block lasts,
    with its answers to every drawn input; `difference` judges a program against it."""

    def __init__(self, assignment: Assignment, drawn: Drawn, limits: Limits, assignment_dirs: list[str] | None):
        assert assignment.solution is not None
        self.assignment, self.drawn, self.limits, self.dirs = assignment, drawn, limits, assignment_dirs
        self.dropped = 0  # drawn inputs the solution itself gave no answer to in time
        self.answers: dict[str, dict[str, Observed]] = {}  # to the drawn inputs
        self._shrunk_answers: dict[tuple[str, str], Observed] = {}  # to inputs tried while shrinking
        self._stack = ExitStack()
        self._program: _Program | None = None

    def __enter__(self) -> Solution:
        solution = self.assignment.solution
        assert solution is not None
        program, problem = self._stack.enter_context(self.loaded(solution.read_text(), solution.name))
        if problem is not None:
            self._stack.close()
            raise AssignmentError(f"the solution could not be loaded for the differential run: {problem}")
        self._program = program
        for function, calls in self.drawn.calls.items():
            answered = dict(zip(calls, program.answers(function, calls, stop_early=False)))
            self.answers[function] = {encoded: a for encoded, a in answered.items() if a[0] != "stopped"}
            self.dropped += len(answered) - len(self.answers[function])
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._stack.close()

    @contextmanager
    def loaded(self, source: str, filename: str) -> Iterator[tuple[_Program, str | None]]:
        """`source` loaded in a sandboxed worker with the assignment's harness, and why it could not
        load (None when it did)."""
        with Worker.started(self.limits, self.dirs, preloads(source)) as worker:
            session = Session(worker, source, filename)
            problem = session.load()
            if problem is None and self.assignment.harness is not None:
                problem = session.use_harness(self.assignment.harness)
            yield _Program(worker, session), problem

    def difference(self, source: str, filename: str) -> Difference | None:
        """The plainest input on which the program `source` answers otherwise than the solution,
        looked for function by function in inputs.py's order; None where it answers every drawn
        input as the solution does."""
        with self.loaded(source, filename) as (program, problem):
            if problem is not None:
                return Difference("", [], ("returned", None, None), ("stopped", problem))
            for function, expected in self.answers.items():
                calls = tuple(expected)
                got = dict(zip(calls, program.answers(function, calls, stop_early=True)))
                differing = [c for c, answer in got.items() if not self.agree(expected[c], answer, c)]
                if differing:
                    witness = self._shrunk(program, function, differing) or min(differing, key=len)
                    answer = got.get(witness) or program.answers(function, (witness,), stop_early=True)[0]
                    wanted = self._solution_answer(function, witness)
                    assert wanted is not None  # a witness is an input the solution answered
                    return Difference(function, decode(witness), wanted, answer)
        return None

    def agree(self, expected: Observed, got: Observed, encoded: str) -> bool:
        """Whether two answers to one input are one answer, within the assignment's tolerance, of the
        solution's: a NaN where the solution gives a NaN is its answer, and an answer may be any plain
        value (None, True, text), alike where equal."""
        if expected[0] != got[0]:
            return False
        if expected[0] != "returned":
            return bool(expected[1] == got[1])
        scale = max([1.0, *(abs(x) for x in floats(decode(encoded)) if math.isfinite(x))])
        rtol, atol = tolerances(self.drawn.rtol, self.drawn.atol, scale, is_float32(got[1]))
        alike = {"nan_equal": True, "others_equal": True}
        return close(got[1], expected[1], rtol, atol, **alike) and close(got[2], expected[2], rtol, atol, **alike)

    def _shrunk(self, program: _Program, function: str, differing: list[str]) -> str | None:
        """The plainest differing input Hypothesis shrinks to, searching the same draws again; None
        where the search does not find one again within its draws."""
        deadline = time.monotonic() + SHRINK_SECONDS
        seen: dict[str, bool] = dict.fromkeys(differing, True)

        def differs(args: Any) -> bool:
            encoded = encode(list(args))
            if encoded not in seen:
                if time.monotonic() > deadline:
                    return False  # out of time: nothing new is tried, and the search ends
                expected = self._solution_answer(function, encoded)
                got = program.answers(function, (encoded,), stop_early=True)[0]
                seen[encoded] = expected is not None and not self.agree(expected, got, encoded)
            return seen[encoded]

        found = _search(self.drawn.strategies[function], self.drawn.seed, self.drawn.count, differs)
        return None if found is None else encode(list(found))

    def _solution_answer(self, function: str, encoded: str) -> Observed | None:
        """The solution's answer to an input, asked now if it was not drawn (a shrunk one); None where
        it gives none in time."""
        known = self.answers[function].get(encoded) or self._shrunk_answers.get((function, encoded))
        if known is not None or self._program is None:
            return known
        answer = self._program.answers(function, (encoded,), stop_early=True)[0]
        if answer[0] == "stopped":
            return None
        self._shrunk_answers[function, encoded] = answer
        return answer


class _Program:
    """A program loaded in a sandboxed worker (`session`, with the harness where there is one)."""

    def __init__(self, worker: Worker, session: Session) -> None:
        self.worker, self.session = worker, session

    def answers(self, function: str, calls: tuple[str, ...], stop_early: bool) -> list[Observed]:
        """The answers to `calls`, sent CHUNK at a time. A call that runs out of time or ends the
        worker is answered ("stopped", why) and the worker replaced; with `stop_early`, it is the last
        answer, as a program that stops once has answered otherwise already."""
        answers: list[Observed] = []
        while len(answers) < len(calls):
            chunk = calls[len(answers) : len(answers) + CHUNK]
            try:
                for request in self.worker.send_calls([(function, encoded, True) for encoded in chunk]):
                    answers.append(_answer(self.worker.receive(request)))
            except (CallTimedOut, WorkerDied) as stopped:
                answers.append(("stopped", stopped.message))
                self.session.restart()
                if stop_early:
                    break
        return answers


def _answer(reply: CallReply) -> Observed:
    if reply.get("missing"):
        return ("raised", "missing", "not defined")
    if reply["ok"]:
        return ("returned", reply["returned"], reply.get("args_after"))
    error = reply["error"]
    return ("raised", error["type"], error.get("message") or "")
