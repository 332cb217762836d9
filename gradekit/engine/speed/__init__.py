"""Shortcuts: what makes a grade come sooner, and never changes it.

Running a property (gradekit.engine.runner) first asks these shortcuts whether they settle it, and runs
the property under Hypothesis only when none does:

    recorded.py    the inputs Hypothesis draws for a passing property, recorded once against the
                   assignment's solution and replayed in order without the engine
    read_ahead.py  the replay's calls sent to the worker before the property makes them, and the
                   first of the next property's while this one's last are answered; a call whose
                   arguments match a recorded call's takes its recorded encoding
    exact.py       the autograd reference's exact answers for the graphs a recording replays,
                   worked out when it was shipped and read with it
    verdicts.py    in a class grade, the outcome of answers exactly like an earlier student's
    heap.py        what the grader holds before its first property runs, kept out of the garbage
                   collector's way

A grade with every shortcut off (`GradeConfig(shortcuts=False)`) equals the grade with them on:
tests/engine/test_speed_off.py grades every file of the assignments' banks both ways. Only
gradekit.engine.runner, where a property runs, and gradekit.engine.recording, where its examples are
recorded, import this package (a contract in pyproject.toml); nothing here gives points.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from dataclasses import dataclass
from itertools import takewhile
from typing import Any

from hypothesis.errors import UnsatisfiedAssumption

from gradekit.authoring import LEFT_OUT, Property
from gradekit.engine.calls import Calls, Direct, FirstAnswers, Replies
from gradekit.engine.outcome import Outcome
from gradekit.engine.session import Session
from gradekit.engine.speed.heap import settle
from gradekit.engine.speed.read_ahead import ReadAhead, opening, stream
from gradekit.engine.speed.recorded import Recorded, kept_inputs, recorded_inputs, ship, shipped_path, without_key
from gradekit.engine.speed.verdicts import Memory, relocate
from gradekit.result import Status

__all__ = [
    "Attempt",
    "Memory",
    "Recorded",
    "Shortcuts",
    "kept_inputs",
    "recorded_inputs",
    "replays",
    "settle",
    "ship",
    "shipped_path",
    "without_key",
]


@dataclass(frozen=True)
class Attempt:
    """What the shortcuts made of one property: the outcome, when they settled it; else what a run
    under Hypothesis should be remembered by (None: it is not remembered)."""

    outcome: Outcome | None = None
    after: Any = None


class Shortcuts:
    """The shortcuts one grade takes: `replay` holds the recorded inputs by property, `memory` the
    verdicts of a class grade (None for a grade of one file)."""

    def __init__(
        self, session: Session, answers: FirstAnswers, replay: Recorded | None = None, memory: Memory | None = None
    ) -> None:
        self._session = session
        self._replay = replay or {}
        self._memory = memory
        self._read_ahead = ReadAhead(session, answers, _encodings(self._replay)) if replay is not None else None
        self.replies: Replies = self._read_ahead or Direct(session)

    def prepare(self, prop: Property, calls: Calls, following: Property | None = None) -> None:
        """Before `prop`'s budget starts: let go of what the property before left in flight, then send
        `prop`'s recorded calls ahead, and those of `following`, the property expected next. A property
        that ran out of its budget leaves calls in flight; waiting for them here keeps their time off
        the next property's budget, as it is with every shortcut off, where no call goes ahead."""
        if self._read_ahead is None:
            return
        replay = self._replay.get(prop.name)
        if replay is None:
            self._read_ahead.drain(everything=True)
            return
        then = self._replay.get(following.name) if following is not None else None
        ahead = (
            (following.name, _callable(then["calls"], calls)) if following is not None and then is not None else None
        )
        name, made = _made(prop, replay, calls)
        self._read_ahead.prefetch(_callable(made, calls), name, ahead)

    def attempt(self, prop: Property, calls: Calls, run_example: Callable[[dict[str, Any]], None], key: Any) -> Attempt:
        """Settle `prop` without Hypothesis if a shortcut can: its recorded inputs all pass (checked by
        `run_example`, or known to pass from answers alike), or a remembered run answered alike. Its
        calls went ahead in `prepare`. A scale property's verdict may rest on its calls' time, which
        answers alike do not share, so nothing is remembered of it."""
        replay = self._replay.get(prop.name)
        if replay is None or self._read_ahead is None:
            return Attempt()
        # What is remembered is keyed by the facts the property starts from (see gradekit.engine.speed.verdicts).
        started = _facts(calls.kept)
        memory = self._memory if started is not None and not prop.scale else None
        key = (key, started)
        if self._replay_passes(
            self._read_ahead, calls, replay["inputs"], _made(prop, replay, calls)[1], key, run_example, memory
        ):
            return Attempt(Outcome(Status.PASSED, examples=len(replay["inputs"])))
        after = (key, stream(calls.transcript)) if memory is not None else None
        calls.begin_property()
        known = memory.runs_after(after) if memory is not None else []
        found = self._read_ahead.follow([run[0] for run in known], set(calls.timed_out)) if known else None
        if found is not None:
            _, outcome, quoted, facts = known[found]
            calls.kept = copy.deepcopy(facts)
            return Attempt(relocate(outcome, quoted, self._session.where))
        return Attempt(after=after)

    def learn(self, attempt: Attempt, calls: Calls, outcome: Outcome) -> None:
        """Remember what a run under Hypothesis concluded, for a later submission that answers alike."""
        if self._memory is not None and attempt.after is not None and (facts := _left(calls)) is not None:
            self._memory.keep_run(attempt.after, calls.transcript, outcome, calls.quoted, facts)

    def _replay_passes(
        self,
        read_ahead: ReadAhead,
        calls: Calls,
        inputs: list[dict[str, Any]],
        made: list[Any],
        key: Any,
        run_example: Callable[[dict[str, Any]], None],
        memory: Memory | None,
    ) -> bool:
        known, openings = memory.passed(key) if memory is not None else ({}, set())
        digest = read_ahead.read_ahead(openings) if known else None
        if digest in known and read_ahead.answers_repeat():
            read_ahead.drain()
            calls.kept = copy.deepcopy(known[digest])
            return True
        if not replays(inputs, run_example):
            return False
        read_ahead.drain()
        # Only a replay that made exactly the calls sent: those are what a later submission's replay reads.
        if (
            memory is not None
            and [e[:3] for e in calls.transcript] == [tuple(c) for c in made]
            and (facts := _left(calls)) is not None
        ):
            memory.keep_pass(key, stream(calls.transcript), opening(calls.transcript), facts)
        return True


def replays(inputs: list[dict[str, Any]], run_example: Callable[[dict[str, Any]], None]) -> bool:
    """Whether every recorded example of `inputs` passes `run_example`; one whose assumptions do not
    hold is passed over, as Hypothesis passes over it."""
    for example in inputs:
        try:
            run_example(example)
        except UnsatisfiedAssumption:
            continue
        except Exception:
            return False
    return True


def _facts(kept: dict[str, Any]) -> str | None:
    """The facts properties keep about a submission (gradekit.authoring.per_submission), as part of
    a key: their repr, where they are plain data; None otherwise (the repr of an object may name its
    address), and a property that starts or ends with such facts is not remembered."""
    return repr(kept) if _plain(kept) else None


def _left(calls: Calls) -> dict[str, Any] | None:
    """The facts a property leaves, as the memory keeps them: a copy, which later properties cannot
    change; None where they are not plain data."""
    return copy.deepcopy(calls.kept) if _plain(calls.kept) else None


def _plain(kept: dict[str, Any]) -> bool:
    try:
        json.dumps(kept)
    except (TypeError, ValueError):
        return False
    return True


def _encodings(replay: Recorded) -> dict[bytes, str]:
    """Each recorded call's encoded arguments by their digest, where one was recorded."""
    return {
        digest: call[1]
        for recorded in replay.values()
        for digest, call in zip(recorded["digests"], recorded["calls"])
        if digest is not None
    }


def _made(prop: Property, replay: dict[str, Any], calls: Calls) -> tuple[str, list[Any]]:
    """The calls a replay of `prop` makes, judged without the functions the grade left out of it
    (gradekit.authoring.left_out), and what the read-ahead names them by: the calls recorded so
    judged, or none where they were not (several properties it is judged without did not pass), and
    then each is asked for as it is made."""
    left_out = calls.kept.get(LEFT_OUT)
    if not left_out:
        return prop.name, replay["calls"]
    return f"{prop.name} without {', '.join(left_out)}", replay["without"].get(without_key(left_out), [])


def _callable(made: list[Any], calls: Calls) -> list[Any]:
    """A replay's calls that can be made: calls to a function that timed out are not made (see
    gradekit.engine.calls), so none goes ahead, nor any after one, as the property stops there."""
    return list(takewhile(lambda call: call[0] not in calls.timed_out, made))
