"""Write the recordings the built-in assignments carry (assignments/NAME/recorded/), the autograd
reference's exact answers for the graphs they replay (gradekit.engine.speed.exact), their known
mistakes' answers (gradekit.diagnosis.mistakes) and their properties' provenance digests
(gradekit.engine.provenance), so a first check is as fast as the next: run it after changing an
assignment, its known-wrong files, gradekit's strategies, the worker's protocol or how provenance is
digested, or after upgrading Hypothesis, NumPy or Python, when tests/engine/test_shipped_recordings.py
says a file is stale.

    python scripts/ship_recordings.py
    git add assignments/*/recorded   # the files written, and those of older keys it removed

The files hold this machine's floating-point results, and say so (gradekit.engine.kept_files.fingerprint),
in a folder named for them: a machine whose results differ reads none of them and records its own,
once, as it would without them. Any machine may ship: it writes its own folder, and removes every
machine's files of an older key, so what other kinds of machine shipped for the current sources stays.
"""

from __future__ import annotations

from gradekit import assignment
from gradekit.config import Limits
from gradekit.diagnosis import mistakes
from gradekit.engine import kept_files, provenance, recording


def main() -> None:
    for folder in assignment.available().values():
        built_in = assignment.load_folder(folder)
        if not built_in.built_in:
            continue
        for path in (*recording.ship(built_in), mistakes.carry(built_in, Limits()), *provenance.carry(built_in)):
            print(f"wrote {path} ({path.stat().st_size / 1024:.0f} KiB)")
    print(f"for this machine's floating-point results, fingerprint {kept_files.fingerprint()}")


if __name__ == "__main__":
    main()
