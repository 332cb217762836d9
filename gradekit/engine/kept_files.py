"""Files gradekit keeps for itself: cache files in the user's cache folder (`config.cache_folder`),
and the files an assignment carries in its own folder so that no machine has to make them.

What is kept is plain data in marshal's binary form behind a SHA-256 of it, under a key naming
everything it was made from: a file is read only for its very key, and the digest turns a damaged
or cut file into a miss before marshal reads a byte of it.

Under the same versions, two machines can still work out a float differently in its last bits: NumPy
picks each elementary function's loop by the CPU (its own SIMD code, SVML where there is AVX-512,
else the C library's libm, whose results change with the library), and a matrix product the BLAS
kernel picked for the CPU. What is kept holds such floats: training_step's recorded run of steps
feeds the reference's answer to each step into the next call, and the known mistakes' answers are
floats. So a file also holds the `fingerprint` of the floating-point results of the machine that
made it, and is read only where that is this machine's: elsewhere it is a miss, and this machine
makes its own. An assignment carries them in one folder per fingerprint that has shipped them
(`carried`), so every kind of machine that has shipped reads its own on a first check; what is the
same on every machine (the provenance digests, the autograd reference's exact answers) it carries
once, for all.

Without the OS sandbox a submission could still put something else where a cache file goes: a named
pipe (a plain read waits for a writer forever), a link to /dev/zero (never ends) or to a huge file, a
folder. So a cache file is opened without following a link and without waiting, and only a regular
file of a sane size is read: anything else is a miss, which costs the work of making it again, never
a grade. A file is written whole and renamed into place, so a reader sees the old one or the new.

Kept this way: the recorded examples (gradekit.engine.speed.recorded), the known mistakes' answers
(gradekit.diagnosis.mistakes) and the properties' provenance digests (gradekit.engine.provenance).
"""

from __future__ import annotations

import functools
import hashlib
import marshal
import math
import os
import stat
import struct
import tempfile
import zlib
from collections.abc import Callable
from contextlib import suppress
from pathlib import Path
from typing import Any, TypeVar

from gradekit.config import private_folder

__all__ = ["CARRIED", "LARGEST", "carried", "carry", "fingerprint", "kept", "sealed", "unsealed"]

T = TypeVar("T")
CARRIED = "recorded"  # the folder of an assignment that holds the files it carries
DIGEST = 16  # bytes of SHA-256 in front of the marshalled contents
# What a kept file the same on every machine has for a fingerprint (no float in it is one a machine's
# results could change): it is read on every machine.
ANY_MACHINE = "the same on every machine"
FOLDER_DIGITS = 16  # hex digits of a fingerprint naming the folder of the files carried for it (`carried`)
# The largest cache file read. An honest file grows with --max-examples; this leaves room for runs of
# thousands of examples, while a file past it, which no recording makes, costs at most this much memory
# and a digest of it before it misses.
LARGEST = 256 * 1024 * 1024
# Opened without following a link (a link to /dev/zero or a huge file fails to open) and without
# waiting (a named pipe opens at once, to be refused by its type); 0 where the OS has no such flag.
OPEN_FLAGS = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0)

# The elementary functions whose results `fingerprint` takes: NumPy's, in float64 and float32, and
# Python's math (libm's), which the properties, the references and the known mistakes compute with.
UNARY: tuple[str, ...] = ("exp", "exp2", "expm1", "log", "log2", "log10", "log1p", "sin", "cos", "tan", "arcsin")
UNARY += ("arccos", "arctan", "sinh", "cosh", "tanh", "arcsinh", "arccosh", "arctanh", "cbrt")
BINARY = ("power", "arctan2", "hypot", "logaddexp", "logaddexp2")
LIBM = ("exp", "expm1", "log", "log1p", "log2", "log10", "sin", "cos", "tan", "atan", "sinh", "cosh", "tanh", "erf")
# Where it takes them: small arguments, a logit's range and exp's whole range, at uneven steps. Two
# implementations that both round well part on few arguments (glibc's exp on one in 1,300 from the
# correctly rounded result, its expm1 on one in 40), so each range has a thousand.
PROBES = ((-0.999, 0.997), (-41.3, 40.1), (-709.1, 708.3))
PER_RANGE = 1023

# What this process has already read, by file and its stat: a grader process that grades a whole class
# parses the file once, and a file changed on disk is read again. Replay never changes what it is
# given (properties copy an input before changing it).
_read: dict[tuple[str, int, int], Any] = {}


def _cached(path: Path, key: str, accept: Callable[[dict[str, Any]], T | None]) -> T | None:
    """What the cache file at `path` holds for `key`, as `accept` reads its contents; None for a miss,
    whatever is there instead."""
    try:
        fd = os.open(path, OPEN_FLAGS)
    except OSError:  # missing, a link, a folder where the OS will not open one, not ours
        return None
    try:
        status = os.fstat(fd)  # of what was opened, not of what the name points to by now
        if not stat.S_ISREG(status.st_mode) or status.st_size > LARGEST:
            return None
        seen = (str(path), status.st_mtime_ns, status.st_size)
        if seen in _read:
            return _read[seen]
        data = _contents(fd, status.st_size)
    except OSError:
        return None
    finally:
        os.close(fd)
    found = None if data is None else _accepted(data, key, accept)
    if found is not None:
        _read[seen] = found
    return found


def _accepted(data: bytes, key: str, accept: Callable[[dict[str, Any]], T | None]) -> T | None:
    """What `data` holds, if it is whole, made for `key`, and `accept` can read it; else None."""
    stored = unsealed(data)
    if type(stored) is dict and stored.get("key") == key and stored.get("fingerprint") in (fingerprint(), ANY_MACHINE):
        return accept(stored)
    return None


def _shipped(path: Path, key: str, cache: Path, accept: Callable[[dict[str, Any]], T | None]) -> T | None:
    """What a file the assignment carries holds for `key`; None where it has none. Found, it is written
    to the `cache` file uncompressed, so the next check reads it as it reads any cache file, without
    inflating it again."""
    seen = (str(path), 0, 0)
    if seen in _read:
        return _read[seen]
    try:
        data = zlib.decompress(path.read_bytes())
    except (OSError, zlib.error):
        return None
    found = _accepted(data, key, accept)
    if found is not None:
        _read[seen] = found
        written = _write(cache, data)
        if written is not None:  # what the cache file now holds, for this process's next read of it
            _read[(str(cache), written.st_mtime_ns, written.st_size)] = found
    return found


def found(cache: Path, carried: Path | None, key: str, accept: Callable[[dict[str, Any]], T | None]) -> T | None:
    """What `kept` finds for `key` without making anything: the `cache` file's contents, else the
    carried file's (then written to the cache); None where neither holds them."""
    held = _cached(cache, key, accept)
    if held is None and carried is not None:
        held = _shipped(carried, key, cache, accept)
    return held


def kept(
    cache: Path,
    carried: Path | None,
    key: str,
    accept: Callable[[dict[str, Any]], T | None],
    make: Callable[[], dict[str, Any]],
    per_machine: bool = True,
) -> T:
    """What the `cache` file holds for `key`, else the file an assignment carries (`carried`, as
    `carry` writes it; None for what no assignment carries), else what `make` makes now, written to
    the cache in place of those other versions left (named alike but for the key). `accept` reads the
    stored contents (the key aside): None for contents it cannot use, which is a miss. What `make`
    makes is the same on every machine where `per_machine` is false: then it is read on every machine."""
    held = found(cache, carried, key, accept)
    if held is not None:
        return held
    contents = {"key": key, "fingerprint": fingerprint() if per_machine else ANY_MACHINE, **make()}
    for stale in cache.parent.glob(f"{cache.stem.rpartition('-')[0]}-*"):  # of other versions
        if stale != cache:
            with suppress(OSError):
                stale.unlink(missing_ok=True)
    _write(cache, sealed(contents))
    made = accept(contents)
    assert made is not None, "`accept` refused what `make` made"
    return made


def carried(folder: Path, per_machine: bool = True) -> Path:
    """The folder where `folder` (an assignment's, or that of a module of one) carries the files made by
    machines whose floating-point results are this one's: one folder per fingerprint that has shipped,
    so every kind of machine that shipped reads its own files, and none makes them again. Files the
    same on every machine (`per_machine` false) are carried once, for all."""
    return folder / CARRIED / fingerprint()[:FOLDER_DIGITS] if per_machine else folder / CARRIED


def carry(path: Path, key: str, contents: dict[str, Any], per_machine: bool = True) -> None:
    """Write `contents` for `key` as a file an assignment carries (where `carried` names; see `kept`),
    replacing those of other keys with the same name before the key, whichever machine made them.
    What other machines made for this very key stays, as current as this, unless it is the same on
    every machine."""
    path.parent.mkdir(parents=True, exist_ok=True)
    stem = path.name.rpartition("-")[0]
    folder = path.parent.parent if per_machine else path.parent
    for stale in [*folder.glob(f"{stem}-*.zlib"), *folder.glob(f"*/{stem}-*.zlib")]:
        if stale.parent == path.parent or stale.name != path.name or not per_machine:
            stale.unlink()
    for emptied in folder.iterdir():
        if emptied != path.parent and emptied.is_dir() and not any(emptied.iterdir()):
            emptied.rmdir()
    contents = {"key": key, "fingerprint": fingerprint() if per_machine else ANY_MACHINE, **contents}
    path.write_bytes(zlib.compress(sealed(contents), 9))


@functools.cache
def fingerprint() -> str:
    """A digest of this machine's floating-point results wherever machines differ under the same
    versions: NumPy's elementary functions in float64 and float32, its matrix and vector products and
    sums, and Python's math and powers. Two machines with one fingerprint work out a kept file's
    floats alike.

    NumPy is imported here, not with this module: the command line sets BLAS's thread count before
    anything imports NumPy (gradekit.cli), and gradekit.engine.source imports this module.
    """
    import numpy as np

    digest = hashlib.sha256()
    grid = np.concatenate([np.linspace(low, high, PER_RANGE) for low, high in PROBES])
    with np.errstate(all="ignore"):
        for dtype in (np.float64, np.float32):
            x = grid.astype(dtype)
            y = x[::-1].copy()
            table = x[: 31 * 33].reshape(31, 33)
            results = [getattr(np, name)(x) for name in UNARY]
            results += [getattr(np, name)(x, y) for name in BINARY]
            results += [table @ table.T, table @ x[:33], x @ y, table.sum(axis=0), table.sum(axis=1)]
            for result in map(np.atleast_1d, results):
                result[np.isnan(result)] = np.nan  # one NaN: which NaN a function returns is no result
                digest.update(result.tobytes())
    values = grid[::7].tolist()
    for name in LIBM:  # the logarithms of the magnitudes, inside their domain: a raise is no result
        arguments = [abs(v) for v in values] if name.startswith("log") else values
        digest.update(struct.pack(f"{len(arguments)}d", *map(getattr(math, name), arguments)))
    powers = [(1 + abs(v)) ** (w / 64) for v, w in zip(values, reversed(values))]
    digest.update(struct.pack(f"{len(powers)}d", *powers))
    return digest.hexdigest()[: 2 * DIGEST]


def _contents(fd: int, size: int) -> bytes | None:
    """The `size` bytes fstat saw; None where the file holds more or less by the time it is read.

    It asks for one byte more than `size`, so a file that grows while it is read is never read past that.
    """
    chunks: list[bytes] = []
    got = 0
    while got <= size:
        chunk = os.read(fd, size + 1 - got)
        if not chunk:
            break
        chunks.append(chunk)
        got += len(chunk)
    return b"".join(chunks) if got == size else None


def sealed(stored: dict[str, Any]) -> bytes:
    """A kept file's bytes: a digest, then the contents in marshal's form."""
    contents = marshal.dumps(stored)
    return hashlib.sha256(contents).digest()[:DIGEST] + contents


def unsealed(data: bytes) -> Any:
    """What `sealed` made of `data`; None for bytes it did not make whole (cut short, changed)."""
    contents = memoryview(data)[DIGEST:]
    if hashlib.sha256(contents).digest()[:DIGEST] != data[:DIGEST]:
        return None
    try:
        return marshal.loads(contents)
    except (ValueError, EOFError, TypeError):
        return None


def _write(path: Path, data: bytes) -> os.stat_result | None:
    """Write atomically, and return the status of the file written (None where it was not): a cache
    that cannot be written only costs speed.

    A whole new file (0600) in the same folder, which is its owner's alone (`config.private_folder`),
    is renamed over whatever is at `path`: a reader sees the old file or the new one, never part of
    one, and a rename replaces a link or a pipe itself, never what it leads to. A temporary file that
    was not renamed is removed, an interrupted write's too (Ctrl-C during a first recording), so no
    cache folder fills with them; only OSError is swallowed.
    """
    temporary: str | None = None
    try:
        private_folder(path.parent)
        with tempfile.NamedTemporaryFile("wb", dir=path.parent, delete=False, suffix=".tmp") as handle:
            temporary = handle.name
            handle.write(data)
        written = os.stat(temporary)  # a rename keeps the file's size and times
        os.replace(temporary, path)
    except BaseException as error:
        if temporary is not None:
            with suppress(OSError):
                os.unlink(temporary)
        if not isinstance(error, OSError):
            raise
        return None
    return written
