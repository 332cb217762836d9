"""Known mistakes seen in what a call does, not in what it answers.

A function that changes its caller's list, or hands back a list it keeps and fills again at the next
call, answers right: no model of its answers can tell it. The grade's watch of every call
(gradekit.engine.calls) caught it, and the failed property's message says what it found: which
arguments the call changed, or that it changed the answer it gave the call before. An assignment's
mistakes.py names such mistakes with `known_behaviour`; a function is told one when the watch found
exactly what one of them does, and no other does the same.
"""

from __future__ import annotations

from collections.abc import Sequence

from gradekit.assignment import MISTAKES, Assignment
from gradekit.diagnosis.models import mistakes_module
from gradekit.engine.calls import watched
from gradekit.engine.outcome import Outcome
from gradekit.errors import AssignmentError
from gradekit.known_mistakes import KnownBehaviour
from gradekit.result import FAULTS, Diagnosis

__all__ = ["behaving", "declared_behaviours"]


def declared_behaviours(assignment: Assignment) -> tuple[KnownBehaviour, ...]:
    """The known behaviours of the assignment's mistakes.py; () without one."""
    module = mistakes_module(assignment)
    if module is None:
        return ()
    found = tuple(v for v in vars(module).values() if isinstance(v, KnownBehaviour))
    for behaviour in found:
        if behaviour.function not in assignment.functions:
            raise AssignmentError(f"{assignment.folder / MISTAKES}: `{behaviour.function}` is not in functions.py")
        if not (assignment.folder / "known_wrong" / behaviour.file).is_file():
            raise AssignmentError(f"{assignment.folder / MISTAKES}: known_wrong/{behaviour.file} does not exist")
    return found


def behaving(
    behaviours: Sequence[KnownBehaviour], outcomes: dict[str, Outcome], order: Sequence[str]
) -> list[Diagnosis]:
    """The known behaviours the watch found, in the failed properties' messages: one per function, where
    exactly one behaviour of that function is what the watch found. Functions are read in `order` (the
    assignment's): once one changed its arguments, a later one that changed its own may have done it
    by calling that one (a gradient built on softmax, a sequence loss on the loss), and is told
    nothing."""
    seen: dict[str, tuple[frozenset[str], bool]] = {}
    for outcome in outcomes.values():
        found = watched(outcome.message) if outcome.status in FAULTS else None
        if found is not None:
            function, names, kept = found
            before = seen.get(function, (frozenset(), False))
            seen[function] = (before[0] | set(names), before[1] or kept)
    told: list[Diagnosis] = []
    shown: set[str] = set()
    for function in [f for f in order if f in seen]:
        fact = seen[function]
        if fact[0] and shown:
            continue  # an earlier function changes its arguments, which this one may do by calling it
        shown |= fact[0]
        alike = [b for b in behaviours if b.function == function and (frozenset(b.changes), b.keeps) == fact]
        if len(alike) == 1:
            told.append(_told(alike[0]))
    return told


def _told(behaviour: KnownBehaviour) -> Diagnosis:
    """The diagnosis a behaviour makes: in words that say only what the watch saw, since the same
    change is made many ways (its file's one among them); agreement (0, 0): no probe tells it."""
    source = f"known_wrong/{behaviour.file}"
    if behaviour.keeps:
        name = "returns one list it keeps and fills again at every call, so the next call changes the last answer"
        explanation = (
            "A caller that keeps an answer (a softmax it reads later, a gradient it adds up) finds it changed "
            "by the next call. Build a new list at every call, and keep nothing between calls."
        )
    else:
        which = " and ".join(f"`{name}`" for name in behaviour.changes)
        name = f"changes its argument {which} in place, though the answer it returns is right"
        explanation = (
            f"The caller's {which} is theirs: a training loop that uses it again after the call gets it back "
            "changed. Work on a copy (list(x), np.array(x)) or build a new list."
        )
    return Diagnosis(behaviour.function, name, explanation, (0, 0), source)
