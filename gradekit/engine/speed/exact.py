"""The autograd reference's exact answers, kept: each graph's values and gradients, worked out at 50
significant digits (gradekit.reference.autograd), for the graphs an assignment's recording replays.

Working a graph out in mpmath's arbitrary precision is slow beside float arithmetic, and an autograd
check replays the same recorded graphs every time. So the answers for those
graphs are worked out when the recording is shipped, carried beside it, and taught to the reference
whenever the recording is read (`learn_kept`): a graph the reference knows is not worked out again,
and one it does not know (a graph Hypothesis draws afresh) is worked out as before. With the
shortcuts off nothing is read, so `evaluate` works every graph out (tests/engine/test_speed_off.py).

mpmath works in Python's integers and rounds to floats itself, so the answers are the same on every
machine: they are carried once (`kept_files.ANY_MACHINE`), under a key naming the reference's source
and mpmath's version.

Only a process that has loaded the autograd reference (an assignment whose properties evaluate
graphs) has anything to teach it. The others never import it, nor mpmath, whose import alone is a
good part of a cross_entropy or training_step check's own time: this module imports both only where
it uses them.
"""

from __future__ import annotations

import functools
import hashlib
import sys
from pathlib import Path
from typing import Any

from gradekit.assignment import Assignment
from gradekit.config import cache_folder
from gradekit.engine import kept_files

REFERENCE = "gradekit.reference.autograd"  # the module the answers are taught to
FORMAT = 1  # bump when what is stored changes: an old file then simply misses
_learned: set[tuple[str, str]] = set()  # the files this process has taught the reference, with their key


def learn_kept(assignment: Assignment) -> None:
    """Teach the reference the answers the cache or the assignment's folder keeps for its graphs, where
    either keeps them, once per process that has loaded the reference; nothing is worked out here."""
    if REFERENCE not in sys.modules:
        return
    from gradekit.reference import autograd

    cache, carried, key = _files(assignment)
    if (str(carried), key) in _learned:
        return
    known = kept_files.found(cache, carried, key, _answers)
    if known is not None:
        autograd.learn(known)
        _learned.add((str(carried), key))


def worked() -> set[str]:
    """The graphs this process has worked out so far, by their JSON (see `ship`)."""
    from gradekit.reference import autograd

    return set(autograd.worked_out())


def ship(assignment: Assignment, before: set[str]) -> Path | None:
    """Write the answers to the graphs this process has worked out since it knew `before` (those of
    the assignment's recording, just made) into the assignment's own folder; None where there are none."""
    from gradekit.reference import autograd

    answers = {graph: lists for graph, lists in autograd.worked_out().items() if graph not in before}
    if not answers:
        return None
    _, carried, key = _files(assignment)
    kept_files.carry(carried, key, {"answers": answers}, per_machine=False)
    return carried


def _files(assignment: Assignment) -> tuple[Path, Path, str]:
    """The cache file, the carried file and the key of the assignment's kept answers."""
    key = _key()
    stem = f"{assignment.name}-exact-answers"
    cache = cache_folder() / f"{stem}-{key[:16]}.marshal"
    return cache, kept_files.carried(assignment.folder, per_machine=False) / f"{stem}-{key[:16]}.zlib", key


@functools.cache
def _key() -> str:
    """What the answers are worked out by: the reference's source and mpmath's version, read once per
    process (every grade reads its recording, and with it the answers' file)."""
    import mpmath

    from gradekit.reference import autograd

    digest = hashlib.sha256(f"{FORMAT}\0{mpmath.__version__}\0".encode())
    digest.update(Path(autograd.__file__).read_bytes())
    return digest.hexdigest()


def _answers(stored: dict[str, Any]) -> dict[str, list[list[float]]] | None:
    answers = stored.get("answers")
    return answers if type(answers) is dict else None
