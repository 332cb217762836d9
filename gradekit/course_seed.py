"""A course seed: the secret seed a course's own grades draw their inputs from.

An assignment's default seed is public: every report prints it, and the examples recorded for it
ship inside gradekit with the inputs of every call a grade makes. Those are the inputs of the public
check a student runs, so answers looked up for them would score full marks with no implementation
behind them. A course's grade therefore draws its inputs from a seed of its own, 128 random bits
no student is ever shown: every report names it by `digest` alone.

It is kept in a file (one integer as text, readable by its owner alone), made on first use with
`secrets`: `gradekit grade` keeps one in its RESULTS_DIR unless given --seed-file (or
$GRADEKIT_SEED_FILE), and a Gradescope bundle carries one. Graded with the same seed file, the same
submission gets the same report.
"""

from __future__ import annotations

import hashlib
import os
import secrets
import stat
from pathlib import Path

from gradekit.errors import UsageError

__all__ = ["BITS", "FILE_NAME", "VARIABLE", "digest", "fresh", "kept", "private", "read", "write"]

BITS = 128  # too many to guess, or to look up from the digest reports show
FILE_NAME = "course-seed"  # in a RESULTS_DIR, or in a Gradescope bundle
VARIABLE = "GRADEKIT_SEED_FILE"  # names the seed file where --seed-file is left out
DIGEST_DIGITS = 12  # hex digits of SHA-256 a report shows: enough to tell two seeds apart


def fresh() -> int:
    """A new course seed."""
    return secrets.randbits(BITS)


def digest(seed: int) -> str:
    """What names a course seed where the seed itself must not show: the first hex digits of SHA-256
    of its decimal text. Two seeds are told apart by it; none is found from it."""
    return hashlib.sha256(str(seed).encode()).hexdigest()[:DIGEST_DIGITS]


def read(path: Path) -> int:
    """The seed kept in `path`; a file that cannot be read or holds no integer is a usage error. A
    file others may read (copied, or written under a wide umask) is narrowed to its owner alone
    (0600) where this user owns it: the seed draws every input of the course's grade."""
    private(path)
    try:
        text = path.read_text(encoding="ascii")
    except (OSError, UnicodeDecodeError) as error:
        why = error.strerror if isinstance(error, OSError) and error.strerror else "it is not text"
        raise UsageError(
            f"the seed file {path} cannot be read ({why}); name the file that holds the course seed"
        ) from None
    try:
        return int(text.strip())
    except ValueError:
        raise UsageError(
            f"the seed file {path} holds no integer; it must hold the one whole number gradekit wrote there"
        ) from None


def private(path: Path) -> None:
    """Narrow the file at `path` to its owner alone where this user owns it and others may read it;
    anything else (another's file, no file) is left as it is."""
    try:
        status = os.stat(path)
        if status.st_uid == os.geteuid() and stat.S_ISREG(status.st_mode) and status.st_mode & 0o077:
            os.chmod(path, stat.S_IMODE(status.st_mode) & 0o700)
    except OSError:  # said when it is read
        return


def write(path: Path, seed: int) -> None:
    """Write `seed` to a new file at `path`, readable and writable by its owner alone; one that is
    already there is left as it is (FileExistsError)."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with open(fd, "w", encoding="ascii") as handle:
        handle.write(f"{seed}\n")


def kept(path: Path) -> tuple[int, bool]:
    """The seed kept in `path`, made there first where there is none; and whether it was made now."""
    try:
        write(path, fresh())
    except FileExistsError:
        return read(path), False
    except OSError as error:
        raise UsageError(
            f"a seed file cannot be made at {path} ({error.strerror or error}); name a file in a folder you can write"
        ) from None
    return read(path), True
