"""A property's provenance digests are the same in every process: a regrade in another process, or on
another day, sees no change where there is none."""

from __future__ import annotations

import subprocess
import sys

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
