"""Outcomes this process already worked out, given again to a submission that answers exactly alike.

What a property concludes depends on nothing but the answers the submission gives: the inputs come
from the seed, and the property's code and Hypothesis's search are deterministic. A class answers alike
far more often than it writes alike (one textbook softmax gives the same bits in every student's
file, and so does one textbook mistake). So a grader process that grades a class remembers, per
property:

    passes   digests of whole replayed answer streams that passed: a later submission whose replayed
             answers have the same digest passes without the property's checks running again (with
             the digests of their openings, so a stream that opens like none is not read whole);
    traces   after a replayed example failed (keyed by the answers up to the failure), the calls and
             answers of the Hypothesis run that shrank it, and what it concluded: a later submission
             that gives every one of those answers gets that conclusion without the engine.

Every call is still made, in the order the property would make it, and every answer still compared
byte for byte, so a submission that answers differently anywhere is graded in full from there.

A property may keep facts about the submission for the rest of its grade (gradekit.authoring.
per_submission): they shape the calls later properties make. So what is remembered is keyed by the
facts a property started from too, and keeps the facts it ended with, which a verdict given again
leaves behind as the property would have.
The graders of one `gradekit grade` pass what they learn to each other through the pool; nothing is
kept once it ends, and `gradekit check`, which grades one file, remembers nothing at all: a grade
remembers only when it is handed a Memory.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any

from gradekit.engine.calls import Exchange

MOST_PASSES = 64  # answer streams kept per property
MOST_TRACES = 4  # Hypothesis runs kept per property and failing answer stream
# Hypothesis runs kept in all, and the bytes their calls and answers carry, so a grader's memory stays
# bounded: a training_step run carries 70 KB of tables at the median, some several MB.
MOST_IN_ALL = 20_000
MOST_BYTES = 512 * 1024 * 1024
MOST_SHARED_BYTES = 4 * 1024 * 1024  # a Hypothesis run whose calls carry more stays in its own grader

# ("pass", key, digest, opening, facts) or ("run", key, transcript, outcome, quoted, facts)
Entry = tuple[Any, ...]
Facts = dict[str, Any]  # what a property left in gradekit.authoring.per_submission
Run = tuple[tuple[Exchange, ...], Any, dict[int, str], Facts]  # transcript, outcome, quoted, facts


@dataclass
class Memory:
    """What one grader process remembers; `take_learnt()` hands over what it learnt for the other graders."""

    passes: dict[Any, dict[bytes, Facts]] = field(default_factory=dict)
    openings: dict[Any, set[bytes]] = field(default_factory=dict)
    traces: dict[Any, list[Run]] = field(default_factory=dict)
    kept: int = 0
    kept_bytes: int = 0
    learnt: list[Entry] = field(default_factory=list)

    def passed(self, key: Any) -> tuple[dict[bytes, Facts], set[bytes]]:
        """The digests of the answer streams that passed, each with the facts the property left, and
        the digests of their openings (see `keep_pass`)."""
        return self.passes.get(key, {}), self.openings.get(key, set())

    def keep_pass(self, key: Any, digest: bytes, opening: bytes, facts: Facts) -> None:
        """`opening`: the digest of the stream's first chunk of calls, the first a replay reads."""
        known = self.passes.setdefault(key, {})
        if len(known) < MOST_PASSES and digest not in known:
            known[digest] = facts
            self.openings.setdefault(key, set()).add(opening)
            self.learnt.append(("pass", key, digest, opening, facts))

    def runs_after(self, key: Any) -> list[Run]:
        return self.traces.get(key, [])

    def keep_run(
        self, key: Any, transcript: list[Exchange], outcome: Any, quoted: dict[int, str], facts: Facts
    ) -> None:
        """`quoted`: the lines of the submission its errors named, as named ("line 33", "cell 2, line 4"),
        so that `relocate` can name them in another student's file."""
        runs = self.traces.setdefault(key, [])
        size = sum(len(encoded) + len(answer) for _, encoded, _, answer in transcript)
        if len(runs) < MOST_TRACES and self.kept < MOST_IN_ALL and self.kept_bytes + size <= MOST_BYTES:
            runs.append((tuple(transcript), outcome, dict(quoted), facts))
            self.kept += 1
            self.kept_bytes += size
            if size <= MOST_SHARED_BYTES:
                self.learnt.append(("run", key, tuple(transcript), outcome, dict(quoted), facts))

    def take_learnt(self) -> list[Entry]:
        """What was learnt since the last call, taken: plain data the pool passes to the other graders."""
        learnt, self.learnt = self.learnt, []
        return learnt

    def absorb(self, entries: list[Entry]) -> None:
        """Take in what other graders learnt (without handing it on again)."""
        own = len(self.learnt)
        for entry in entries:
            if entry[0] == "pass":
                self.keep_pass(entry[1], entry[2], entry[3], entry[4])
            else:
                self.keep_run(entry[1], list(entry[2]), entry[3], entry[4], entry[5])
        del self.learnt[own:]


def relocate(outcome: Any, quoted: dict[int, str], where: Callable[[int], str]) -> Any:
    """A remembered outcome, its errors named at the same lines of this submission's file instead.

    Equal answers raise at equal line numbers; only the file (and a notebook's cells) differ.
    """
    renamed = {f"({text})": f"({where(line)})" for line, text in quoted.items()}
    if not renamed:
        return outcome

    def text(value: str | None) -> str | None:
        for old, new in renamed.items():
            value = value.replace(old, new) if value else value
        return value

    counterexample = outcome.counterexample
    if counterexample is not None:
        calls = tuple(replace(call, raised=text(call.raised)) for call in counterexample.calls)
        counterexample = replace(counterexample, calls=calls)
    return replace(outcome, message=text(outcome.message), counterexample=counterexample)
