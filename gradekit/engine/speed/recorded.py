"""Recorded examples: the inputs Hypothesis draws for a passing property, replayed without its engine.

With a fixed seed, Hypothesis draws the same inputs for every submission that passes a property:
what it draws next never depends on what the submission returned, only on the seed and on no failure
having occurred yet. So the inputs are recorded once, by running each property under Hypothesis
against the assignment's trusted solution in this process, and cached on disk per assignment, seed,
example count and versions. Grading replays them in order, and only when a replayed example fails does
the property run under Hypothesis itself, which fails first on that same example and shrinks it.

A course's own seed is secret (gradekit.course_seed), and so are the inputs it draws: a cache file is
named by a digest of the assignment, seed and example count, never by the seed, in a folder its owner
alone can read (`config.private_folder`), and recording names a seed other than the assignment's public
one by its digest alone.

The cache changes how fast a grade comes, never which grade: with or without it, every submission
takes the same path. A replay costs the calls alone, not Hypothesis's engine per example.

An assignment may carry its recordings, so the first check on a machine is as fast as the next: a
file in its `recorded/` folder, zlib-compressed, named like a cache file (`ship` writes it; gradekit
ships those of the built-in assignments at their default seed and example count). It is read where
the cache misses, and only for the very key it was recorded under: the same assignment sources,
gradekit, Hypothesis, NumPy and Python versions; then it is the cache file. And only on a machine
whose floating-point results are those of the machine that recorded it (`kept_files.fingerprint`):
a property may call with floats the solution worked out (training_step's run of steps feeds each
step's answer into the next call), which another machine works out differently in their last bits,
and a replay whose recorded calls are not the calls the property makes sends the worker calls that
were never asked for, which a submission that keeps state between calls answers and remembers. Any
other machine records as before. tests/engine/test_shipped_recordings.py proves each shipped file equals a
fresh recording where it is read.

A property that judges its inputs without the functions of another that did not pass (gradekit.
authoring.left_out: autograd's whole graphs, each wrong operation made a leaf of its value) makes
other calls from the same inputs. Each such property is recorded judged without each of those others
alone too (`without`): a grade in which one operation is wrong replays those calls, read ahead, and
one in which several are asks each call as it comes.

Each recorded call keeps a digest of its arguments (`arguments_digest`): while a replay runs, a call
whose arguments have that digest is sent as recorded instead of encoded again, which is what encoding
would give. A recording is trusted as its inputs already are: kept by the grader, or carried by the
assignment.

Both are kept as gradekit.engine.kept_files keeps files (marshal behind a digest, read without trusting
what is there): a check reads its recording at every start, and marshal gives back the drawn
inputs, floats and all, faster than JSON text with base64 floats did (benchmarks/check_speed.py
times a warm check). A file that is damaged, cut or not a file at all is a miss, which costs a
recording, never a grade.
"""

from __future__ import annotations

import hashlib
import marshal
import re
import sys
from collections.abc import Callable, Sequence
from contextlib import suppress
from pathlib import Path
from typing import Any

import hypothesis
import numpy

import gradekit
import gradekit.strategies
from gradekit import course_seed
from gradekit.assignment import INPUTS, MISTAKES, Assignment
from gradekit.config import cache_folder, private_folder
from gradekit.engine import kept_files
from gradekit.engine.speed import exact
from gradekit.sandbox.replies import ENCODER, SEPARATOR, decode, encode

Recorded = dict[str, dict[str, Any]]  # property -> inputs, calls, digests, without
FORMAT = 8  # bump when what is stored changes: an old file then simply misses
DIGEST = 16  # bytes of SHA-256 kept of a call's arguments (see `arguments_digest`)
STEM_DIGITS = 16  # hex digits of SHA-256 that name a recording's assignment, properties, seed and count


def recorded_inputs(
    assignment: Assignment, seed: int, max_examples: int, record: Callable[[Assignment, int, int], Recorded]
) -> Recorded:
    """The recorded inputs of every property the solution passes, from the cache or made now by
    `record` (gradekit.engine.recording.record: each property run under Hypothesis against the solution).
    Recording is the grader's own first-time work, so it is announced on stderr: a user waiting on a
    first check learns why, and that later checks skip it. A student build has no solution to record
    against: its few public properties draw their inputs as they go."""
    if assignment.solution is None:
        return {}
    path, key = _cache_file(assignment, seed, max_examples)

    def make() -> dict[str, Any]:
        _forget_named_by_seed(assignment)
        print(
            f"gradekit: recording examples for {assignment.name} ({_named(assignment, seed)}, "
            f"{max_examples} per property), "
            "once per machine: no budget of the submission's pays for it",
            file=sys.stderr,
            flush=True,
        )
        return _packed(record(assignment, seed, max_examples))

    recording = kept_files.kept(path, shipped_path(assignment, seed, max_examples, key), key, _recording, make)
    exact.learn_kept(assignment)
    return recording


def kept_inputs(assignment: Assignment, seed: int, max_examples: int) -> Recorded | None:
    """The recorded inputs `recorded_inputs` would give, where the cache or the assignment's own file
    holds them; None where neither does: nothing is recorded here."""
    if assignment.solution is None:
        return {}
    path, key = _cache_file(assignment, seed, max_examples)
    recording = kept_files.found(path, shipped_path(assignment, seed, max_examples, key), key, _recording)
    if recording is not None:
        exact.learn_kept(assignment)
    return recording


def _cache_file(assignment: Assignment, seed: int, max_examples: int) -> tuple[Path, str]:
    """The cache file of the recording and its key, the cache folder made where it is missing."""
    key = _key(assignment, seed, max_examples)
    with suppress(OSError):  # made earlier, wider; a cache that cannot be made costs speed alone
        private_folder(cache_folder())
    return cache_folder() / f"{_stem(assignment, seed, max_examples)}-{key[:16]}.marshal", key


def _forget_named_by_seed(assignment: Assignment) -> None:
    """Remove the assignment's cache files named as gradekit named them before digests did, after
    their seed (NAME-SEED-COUNT-PROPERTIES-KEY.marshal): whatever they recorded is recorded again."""
    named_by_seed = re.compile(rf"{re.escape(assignment.name)}-\d+-\d+-[0-9a-f]+-[0-9a-f]+\.marshal")
    for path in cache_folder().glob(f"{assignment.name}-*.marshal"):
        if named_by_seed.fullmatch(path.name):
            with suppress(OSError):
                path.unlink()


def _named(assignment: Assignment, seed: int) -> str:
    """The seed as the recording's message names it: the assignment's public seed by its number, any
    other by its digest alone, as a course's own seed must be (gradekit.course_seed)."""
    return f"seed {seed}" if seed == assignment.default_seed else f"seed with digest {course_seed.digest(seed)}"


def _stem(assignment: Assignment, seed: int, max_examples: int) -> str:
    """What names the recordings of one assignment, set of properties (`Assignment.property_set`), seed
    and example count, whatever their key: the assignment's name and a digest of the rest, so that no
    file name in the cache folder shows a course's seed."""
    named = repr((assignment.name, assignment.property_set, seed, max_examples)).encode()
    return f"{assignment.name}-{hashlib.sha256(named).hexdigest()[:STEM_DIGITS]}"


def _recording(stored: dict[str, Any]) -> Recorded | None:
    return _unpacked(stored) if _well_formed(stored) else None


def shipped_path(assignment: Assignment, seed: int, max_examples: int, key: str | None = None) -> Path:
    """Where the assignment carries its recording for this seed and example count, on this machine's key,
    for its floating-point results."""
    key = key or _key(assignment, seed, max_examples)
    return kept_files.carried(assignment.folder) / f"{_stem(assignment, seed, max_examples)}-{key[:16]}.zlib"


def ship(
    assignment: Assignment, seed: int, max_examples: int, record: Callable[[Assignment, int, int], Recorded]
) -> list[Path]:
    """Record the assignment's inputs now and write them into its `recorded/` folder, compressed,
    replacing the recordings of other keys for this seed and count, and beside them the reference's
    exact answers the recording worked out (gradekit.engine.speed.exact); return the files written."""
    key = _key(assignment, seed, max_examples)
    path = shipped_path(assignment, seed, max_examples, key)
    before = exact.worked()
    kept_files.carry(path, key, _packed(record(assignment, seed, max_examples)))
    answers = exact.ship(assignment, before)
    return [path] if answers is None else [path, answers]


def arguments_digest(arguments: list[Any]) -> bytes | None:
    """A digest of a call's arguments that differs wherever their values or exact types do, floats
    to the bit: SHA-256 of marshal's version 2, which writes no references, so equal arguments give
    equal bytes however they share objects. None for what marshal cannot write (a float subclass).

    Two calls with one digest are encoded alike, so a replayed call whose digest was recorded takes
    its recorded encoding instead of encoding its tables again (gradekit.engine.speed.read_ahead).
    """
    try:
        return hashlib.sha256(marshal.dumps(arguments, 2)).digest()[:DIGEST]
    except ValueError:
        return None


def without_key(left_out: Sequence[str]) -> str:
    """How a recording names the calls a property makes judged without the functions `left_out`
    (gradekit.authoring.left_out)."""
    return "\n".join(left_out)


def _recorded_digest(encoded: str) -> bytes | None:
    """The digest of the arguments a recorded call encodes, where encoding them again gives back that
    very text (so a call whose arguments match it would be encoded so too); None elsewhere."""
    arguments = decode(encoded)
    return arguments_digest(arguments) if encode(arguments) == encoded else None


def _packed(properties: Recorded) -> dict[str, Any]:
    """The cache file's contents: the drawn inputs as they are, each run of floats the calls carry
    (see `encode`) stored once, and the digest of each call's arguments (see `arguments_digest`).

    Properties drawn under one seed share most of their tables, so the file is far smaller this way.
    """
    blobs: dict[str, int] = {}

    def packed(function: str, encoded: str, want_args: bool) -> list[Any]:
        head, *floats = encoded.split(SEPARATOR)
        return [function, head, [blobs.setdefault(run, len(blobs)) for run in floats], want_args]

    stored = {
        name: {
            "inputs": p["inputs"],
            "calls": [packed(*call) for call in p["calls"]],
            "digests": [_recorded_digest(encoded) for _, encoded, _ in p["calls"]],
            "without": {key: [packed(*call) for call in made] for key, made in p["without"].items()},
        }
        for name, p in properties.items()
    }
    return {"blobs": list(blobs), "properties": stored}


def _unpacked(stored: dict[str, Any]) -> Recorded:
    """What `_packed` stored, each call encoded as the property will encode it again."""
    blobs = stored["blobs"]

    def unpacked(made: list[Any]) -> list[Any]:
        return [
            [function, SEPARATOR.join([head, *(blobs[i] for i in runs)]), want_args]
            for function, head, runs, want_args in made
        ]

    return {
        name: {
            "inputs": p["inputs"],
            "calls": unpacked(p["calls"]),
            "digests": p["digests"],
            "without": {key: unpacked(made) for key, made in p["without"].items()},
        }
        for name, p in stored["properties"].items()
    }


def _well_formed(stored: dict[str, Any]) -> bool:
    """A damaged cache file must cost speed, never a grade: every call must be one a property could make."""
    blobs, properties = stored.get("blobs"), stored.get("properties")
    if not isinstance(blobs, list) or not all(type(run) is str for run in blobs):
        return False

    def calls(made: Any) -> bool:
        return isinstance(made, list) and all(
            type(c) is list
            and len(c) == 4
            and list(map(type, c)) == [str, str, list, bool]
            and all(type(i) is int and 0 <= i < len(blobs) for i in c[2])
            for c in made
        )

    return isinstance(properties, dict) and all(
        isinstance(p, dict)
        and type(p.get("inputs")) is list
        and all(type(i) is dict for i in p["inputs"])
        and calls(p.get("calls"))
        and type(p.get("digests")) is list
        and len(p["digests"]) == len(p["calls"])
        and all(d is None or (type(d) is bytes and len(d) == DIGEST) for d in p["digests"])
        and type(p.get("without")) is dict
        and all(type(key) is str and calls(made) for key, made in p["without"].items())
        for p in properties.values()
    )


def _key(assignment: Assignment, seed: int, max_examples: int) -> str:
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
    sources = [path for path in sorted(assignment.folder.glob("*.py")) if path.name not in (INPUTS, MISTAKES)]
    sources += [assignment.solution] if assignment.solution else []
    sources += [Path(str(gradekit.strategies.__file__)), ENCODER]
    for source in sources:
        digest.update(source.read_bytes())
    return digest.hexdigest()
