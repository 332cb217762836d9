"""What a command's exit code says, in a module of its own: the notebook magic returns one too, and
should not import the command-line options to do it."""

from __future__ import annotations

from enum import IntEnum


class Exit(IntEnum):
    """What a command's exit code says: the submission (or every file) passed, something failed, or
    the command line was wrong (a usage error, said in one sentence, with the report still written)."""

    PASSED = 0
    FAILED = 1
    USAGE = 2
