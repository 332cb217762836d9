"""A script's cached bytecode, where it can stand for the script: a worker's interpreter runs it
without compiling the worker's source again at every start.

Python keeps what it compiled of a module in `__pycache__`, beside the source (pip writes it as it
installs; an import writes it where bytecode may be written), and checks it against the source before
it uses it: a timestamp-based file by the source's modification time and size, a hash-based one by
the source's hash (PEP 552). A script given to `python` by the name of such a file runs it as the
source would run. The same check is made here, so a file that no longer matches its source, was
written for another interpreter or an optimisation level, or is less readable than the source (a
worker may run as a user of its own) is never run: the source is, as before.
"""

from __future__ import annotations

import importlib.util
import stat
from pathlib import Path

HEADER = 16  # bytes: the magic number, the flags, then the source's time and size, or its hash (PEP 552)
HASH_BASED = 0b01


def current(source: Path) -> Path | None:
    """The bytecode Python cached of `source`, unoptimised, where it is this interpreter's and still
    that of `source`, and readable by whoever may read `source`; None otherwise."""
    cached = Path(importlib.util.cache_from_source(str(source), optimization=""))
    try:
        with open(cached, "rb") as file:
            header = file.read(HEADER)
        kept, found = cached.stat(), source.stat()
        text = source.read_bytes() if _hash_based(header) else b""
    except OSError:
        return None
    if len(header) < HEADER or header[:4] != importlib.util.MAGIC_NUMBER:
        return None
    if stat.S_IMODE(found.st_mode) & 0o444 & ~kept.st_mode:
        return None
    if _hash_based(header):
        return cached if header[8:16] == importlib.util.source_hash(text) else None
    time_and_size = (int(found.st_mtime) & 0xFFFFFFFF, found.st_size & 0xFFFFFFFF)
    return cached if (_word(header, 8), _word(header, 12)) == time_and_size else None


def _hash_based(header: bytes) -> bool:
    return len(header) >= 8 and bool(_word(header, 4) & HASH_BASED)


def _word(header: bytes, at: int) -> int:
    return int.from_bytes(header[at : at + 4], "little")
