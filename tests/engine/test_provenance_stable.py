"""A property's provenance digests are the same in every process: a regrade in another process, or on
another day, sees no change where there is none."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from gradekit import assignment
from gradekit.engine import provenance

CROSS_ENTROPY = assignment.load("cross_entropy")

DIGESTS = """
import hashlib
from gradekit import assignment
from gradekit.config import GradeConfig
from gradekit.engine.provenance import property_parts
loaded = [assignment.load(name) for name in ("cross_entropy", "training_step", "autograd")]
parts = [property_parts(p, a, GradeConfig()) for a in loaded for p in a.properties]
print(hashlib.sha256(repr(parts).encode()).hexdigest())
"""


def test_every_property_is_digested_alike_in_two_processes():
    runs = [
        subprocess.run([sys.executable, "-c", DIGESTS], capture_output=True, text=True, check=True) for _ in range(2)
    ]
    assert runs[0].stdout == runs[1].stdout and len(runs[0].stdout.strip()) == 64


def test_the_parts_kept_in_the_cache_are_those_made_afresh_and_a_damaged_file_is_made_again(tmp_path):
    """A check reads its properties' parts from the cache folder (`provenance._module_parts`): in a
    process with an empty cache they are made and kept, in the next read back, and in a third, whose
    kept files were overwritten with other bytes, made again; all three alike, and alike with the
    digests of the module's syntax walked in this process (`_Module.parts`), which the cache stands in for."""
    environment = {**os.environ, "GRADEKIT_CACHE": str(tmp_path)}
    made = subprocess.run([sys.executable, "-c", DIGESTS], capture_output=True, text=True, check=True, env=environment)
    kept = sorted(tmp_path.glob("provenance-*.marshal"))
    assert len(kept) == 3  # one per properties module
    read = subprocess.run([sys.executable, "-c", DIGESTS], capture_output=True, text=True, check=True, env=environment)
    for path in kept:
        path.write_bytes(b"\0" * 64)
    damaged = subprocess.run(
        [sys.executable, "-c", DIGESTS], capture_output=True, text=True, check=True, env=environment
    )
    assert made.stdout == read.stdout == damaged.stdout
    assert all(path.read_bytes() != b"\0" * 64 for path in kept)  # made again and kept in their place
    walked = [
        provenance._Module(provenance._module_tree(path.read_text())).parts(name)
        for name, path in ((p.body.__name__, Path(p.body.__code__.co_filename)) for p in CROSS_ENTROPY.properties)
    ]
    cached = [provenance._source_parts(p.body) for p in CROSS_ENTROPY.properties]
    assert [(c["code"], c["strategy"], c["tolerance"]) for c in cached] == [(w[0], w[1], w[2]) for w in walked]
