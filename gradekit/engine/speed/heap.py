"""The grader's heap, settled once: what a process has loaded before its first property runs
(Hypothesis, NumPy, the assignments, the recorded examples) stays for as long as the process, and
the garbage collector need not go through it again at every full collection, nor at the one
Hypothesis asks for when it first seeds its own random generator.

`gc.freeze` moves every object alive now out of the collector's reach; objects made later are
collected as before. It changes when memory is given back, never what a grade computes. A grade
with every shortcut off does not settle the heap (tests/engine/test_heap.py); a process forked from
one that has settled it (a class grader's, from a test process) starts with its parent's heap
frozen, as it starts with the rest of its parent's memory.
"""

from __future__ import annotations

import gc

__all__ = ["settle"]

_settled = False


def settle() -> None:
    """Freeze what this process holds now, the first time it is asked; later asks do nothing, so a
    process grading a whole class does not keep each grade's garbage for good."""
    global _settled
    if not _settled:
        gc.freeze()
        _settled = True
