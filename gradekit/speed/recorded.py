"""Recorded examples: the inputs Hypothesis draws for a passing property, replayed without its engine.

With a fixed seed, Hypothesis draws the same inputs for every submission that passes a property:
what it draws next never depends on what the submission returned, only on the seed and on no failure
having occurred yet. So the inputs are recorded once, by running each property under Hypothesis
against the assignment's trusted solution in this process, and cached on disk per assignment, seed,
example count and versions. Grading replays them in order, and only when a replayed example fails does
the property run under Hypothesis itself, which fails first on that same example and shrinks it.

The cache changes how fast a grade comes, never which grade: with or without it, every submission
takes the same path. A replay costs the calls alone, not Hypothesis's engine per example.

An assignment may carry its recordings, so the first check on a machine is as fast as the next: a
file in its `recorded/` folder, zlib-compressed, named like a cache file (`ship` writes it; gradekit
ships those of the built-in assignments at their default seed and example count). It is read where
the cache misses, and only for the very key it was recorded under: the same assignment sources,
gradekit, Hypothesis, NumPy and Python versions; then it is the cache file. Any other machine records
as before.
tests/test_shipped_recordings.py proves each shipped file equals a fresh recording.

The file is marshal's binary form behind a SHA-256 of it: a check reads it at every start, and
marshal gives back the drawn inputs, floats and all, faster than JSON text with base64 floats did
(benchmarks/check_speed.py times a warm check). marshal is not meant for data anyone else may have
written; this file is the grader's own (0600, in the user's cache folder), and the digest turns a
damaged or cut file into a miss before marshal reads a byte of it.

Without the OS sandbox a submission could still put something else where the file goes: a named pipe
(a plain read waits for a writer forever), a link to /dev/zero (never ends) or to a huge file, a
folder. So the file is opened without following a link and without waiting, and only a regular file
of a sane size is read: anything else is a miss, which costs a recording, never a grade.
"""

from __future__ import annotations

import hashlib
import marshal
import os
import stat
import sys
import tempfile
import zlib
from collections.abc import Callable
from contextlib import suppress
from pathlib import Path
from typing import Any, TypeVar

import hypothesis
import numpy

import gradekit
import gradekit.sandbox.worker
import gradekit.strategies
from gradekit.assignment import Assignment
from gradekit.config import cache_folder
from gradekit.sandbox.worker import SEPARATOR

Recorded = dict[str, dict[str, list[Any]]]
T = TypeVar("T")
SHIPPED = "recorded"  # the folder of an assignment that carries its recordings
FORMAT = 5  # bump when what is stored changes: an old file then simply misses
DIGEST = 16  # bytes of SHA-256 in front of the marshalled contents
# The largest cache file read. An honest file grows with --max-examples; this leaves room for runs of
# thousands of examples, while a file past it, which no recording makes, costs at most this much memory
# and a digest of it before it misses.
LARGEST = 256 * 1024 * 1024
# Opened without following a link (a link to /dev/zero or a huge file fails to open) and without
# waiting (a named pipe opens at once, to be refused by its type); 0 where the OS has no such flag.
OPEN_FLAGS = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0)

# What this process has already read, by file and its stat: a grader process that grades a whole class
# parses the file once, and a file changed on disk is read again. Replay never changes what it is
# given (properties copy an input before changing it).
_read: dict[tuple[str, int, int], Any] = {}


def recorded_inputs(
    assignment: Assignment, seed: int, max_examples: int, record: Callable[[Assignment, int, int], Recorded]
) -> Recorded:
    """The recorded inputs of every property the solution passes, from the cache or made now by
    `record` (gradekit.runner.record: each property run under Hypothesis against the solution).
    Recording is the grader's own first-time work, so it is announced on stderr: a user waiting on a
    first check learns why, and that later checks skip it. A student build has no solution to record
    against: its few public properties draw their inputs as they go."""
    if assignment.solution is None:
        return {}
    key = recording_key(assignment, seed, max_examples)
    stem = _stem(assignment, seed, max_examples)
    path = cache_folder() / f"{stem}-{key[:16]}.marshal"
    cached = _cached(path, key, _recording)
    if cached is None:
        cached = _shipped(shipped_path(assignment, seed, max_examples, key), key, path, _recording)
    if cached is not None:
        return cached
    print(
        f"gradekit: recording examples for {assignment.name} (seed {seed}, {max_examples} per property), "
        "once per machine: no budget of the submission's pays for it",
        file=sys.stderr,
        flush=True,
    )
    properties = record(assignment, seed, max_examples)
    for stale in path.parent.glob(f"{stem}-*"):  # made by other versions of the same assignment
        if stale != path:
            with suppress(OSError):  # a folder, or not ours to remove: it is never read, so it costs nothing
                stale.unlink(missing_ok=True)
    _write(path, sealed({"key": key, **_packed(properties)}))
    return properties


def _stem(assignment: Assignment, seed: int, max_examples: int) -> str:
    """What names the recordings of one assignment, seed and example count, whatever their key."""
    return f"{assignment.name}-{seed}-{max_examples}"


def _recording(stored: dict[str, Any]) -> Recorded | None:
    return _unpacked(stored) if _well_formed(stored) else None


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
    if type(stored) is dict and stored.get("key") == key:
        return accept(stored)
    return None


def shipped_path(assignment: Assignment, seed: int, max_examples: int, key: str | None = None) -> Path:
    """Where the assignment carries its recording for this seed and example count, on this machine's key."""
    key = key or recording_key(assignment, seed, max_examples)
    return assignment.folder / SHIPPED / f"{_stem(assignment, seed, max_examples)}-{key[:16]}.zlib"


def ship(
    assignment: Assignment, seed: int, max_examples: int, record: Callable[[Assignment, int, int], Recorded]
) -> Path:
    """Record the assignment's inputs now and write them into its `recorded/` folder, compressed,
    replacing the recordings of other keys for this seed and count; return the file written."""
    key = recording_key(assignment, seed, max_examples)
    path = shipped_path(assignment, seed, max_examples, key)
    carry(path, key, _packed(record(assignment, seed, max_examples)))
    return path


def _shipped(path: Path, key: str, cache: Path, accept: Callable[[dict[str, Any]], T | None]) -> T | None:
    """What a file the assignment carries holds for `key`; None where it has none. The file is the
    assignment's own, read like any of its modules. Found, it is written to the `cache` file
    uncompressed, so the next check reads it as it reads any cache file, without inflating it again."""
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
        _write(cache, data)
    return found


def kept(
    cache: Path,
    carried: Path,
    key: str,
    accept: Callable[[dict[str, Any]], T | None],
    make: Callable[[], dict[str, Any]],
) -> T:
    """Another file kept like a recording: what the `cache` file holds for `key`, else the file an
    assignment carries (`carried`, as `carry` writes it), else what `make` makes now, written to the
    cache. `accept` reads the stored contents (the key aside), None for contents it cannot use."""
    found = _cached(cache, key, accept)
    if found is None:
        found = _shipped(carried, key, cache, accept)
    if found is not None:
        return found
    contents = {"key": key, **make()}
    for stale in cache.parent.glob(f"{cache.stem.rpartition('-')[0]}-*"):  # of other versions
        if stale != cache:
            with suppress(OSError):
                stale.unlink(missing_ok=True)
    _write(cache, sealed(contents))
    made = accept(contents)
    assert made is not None, "`accept` refused what `make` made"
    return made


def carry(path: Path, key: str, contents: dict[str, Any]) -> None:
    """Write `contents` for `key` as a file an assignment carries (see `kept`), replacing those of
    other keys with the same name before the key."""
    path.parent.mkdir(exist_ok=True)
    for stale in path.parent.glob(f"{path.name.rpartition('-')[0]}-*.zlib"):
        stale.unlink()
    path.write_bytes(zlib.compress(sealed({"key": key, **contents}), 9))


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
    """The cache file's bytes: a digest, then the contents in marshal's form."""
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


def _packed(properties: Recorded) -> dict[str, Any]:
    """The cache file's contents: the drawn inputs as they are, and each run of floats the calls
    carry (see `encode`) stored once.

    Properties drawn under one seed share most of their tables, so the file is far smaller this way.
    """
    blobs: dict[str, int] = {}

    def packed(function: str, encoded: str, want_args: bool) -> list[Any]:
        head, *floats = encoded.split(SEPARATOR)
        return [function, head, [blobs.setdefault(run, len(blobs)) for run in floats], want_args]

    stored = {
        name: {"inputs": p["inputs"], "calls": [packed(*call) for call in p["calls"]]} for name, p in properties.items()
    }
    return {"blobs": list(blobs), "properties": stored}


def _unpacked(stored: dict[str, Any]) -> Recorded:
    """What `_packed` stored, each call encoded as the property will encode it again."""
    blobs = stored["blobs"]
    return {
        name: {
            "inputs": p["inputs"],
            "calls": [
                [function, SEPARATOR.join([head, *(blobs[i] for i in runs)]), want_args]
                for function, head, runs, want_args in p["calls"]
            ],
        }
        for name, p in stored["properties"].items()
    }


def _well_formed(stored: dict[str, Any]) -> bool:
    """A damaged cache file must cost speed, never a grade: every call must be one a property could make."""
    blobs, properties = stored.get("blobs"), stored.get("properties")
    if not isinstance(blobs, list) or not all(type(run) is str for run in blobs):
        return False
    return isinstance(properties, dict) and all(
        isinstance(p, dict)
        and type(p.get("inputs")) is list
        and all(type(i) is dict for i in p["inputs"])
        and isinstance(p.get("calls"), list)
        and all(
            type(c) is list
            and len(c) == 4
            and list(map(type, c)) == [str, str, list, bool]
            and all(type(i) is int and 0 <= i < len(blobs) for i in c[2])
            for c in p["calls"]
        )
        for p in properties.values()
    )


def recording_key(assignment: Assignment, seed: int, max_examples: int) -> str:
    digest = hashlib.sha256()
    versions = (
        FORMAT,
        marshal.version,
        gradekit.__version__,
        hypothesis.__version__,
        numpy.__version__,
        sys.version_info[:2],
    )
    names = [p.name for p in assignment.properties]  # a grade of some properties records only those
    digest.update(repr((versions, assignment.name, names, seed, max_examples)).encode())
    sources = sorted(assignment.folder.glob("*.py")) + ([assignment.solution] if assignment.solution else [])
    sources += [Path(str(module.__file__)) for module in (gradekit.strategies, gradekit.sandbox.worker)]
    for source in sources:
        digest.update(source.read_bytes())
    return digest.hexdigest()


def _write(path: Path, data: bytes) -> None:
    """Write atomically; a cache that cannot be written only costs speed.

    A whole new file (0600) in the same folder is renamed over whatever is at `path`: a reader sees the
    old file or the new one, never part of one, and a rename replaces a link or a pipe itself, never
    what it leads to. A temporary file that was not renamed is removed, an interrupted write's too
    (Ctrl-C during a first recording), so no cache folder fills with them; only OSError is swallowed.
    """
    temporary: str | None = None
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile("wb", dir=path.parent, delete=False, suffix=".tmp") as handle:
            temporary = handle.name
            handle.write(data)
        os.replace(temporary, path)
    except BaseException as error:
        if temporary is not None:
            with suppress(OSError):
                os.unlink(temporary)
        if not isinstance(error, OSError):
            raise
