"""How fast a Dask cluster grades a class: students per second per worker process.

Makes a class of N submissions from the assignment's banks (as batch_speed.py does), then grades it
with `gradekit grade --dask` on a LocalCluster of one worker process and of two, one thread each, and
with the local pool of as many graders, each into a fresh results folder, and prints the wall time,
students per second and students per second per worker process. The gradebooks must agree.

    python benchmarks/cluster_speed.py [--students 60] [--assignment cross_entropy]
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from batch_speed import make_class
from distributed import LocalCluster
from environment import student_python

from gradekit import assignment


def timed(args: list[str]) -> float:
    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-m", "gradekit", *args], env=student_python(), capture_output=True, text=True
    )
    if done.returncode != 0:
        raise SystemExit(f"gradekit {' '.join(args)} failed:\n{done.stderr}")
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--students", type=int, default=60)
    parser.add_argument("--assignment", default="cross_entropy")
    options = parser.parse_args()
    chosen = assignment.load(options.assignment)
    bank = chosen.known("known_right") + chosen.known("known_wrong")
    with tempfile.TemporaryDirectory() as scratch:
        root = Path(scratch)
        (root / "class").mkdir()
        make_class(root / "class", bank, options.students, 0, bank[0], next(iter(chosen.functions)))
        base = ["grade", str(root / "class"), "--assignment", options.assignment]
        books = {}
        for workers in (1, 2):
            local = timed([*base, "--jobs", str(workers), "--out", str(root / f"local{workers}")])
            with LocalCluster(n_workers=workers, threads_per_worker=1, dashboard_address=None) as cluster:
                remote = timed([*base, "--dask", cluster.scheduler_address, "--out", str(root / f"dask{workers}")])
            books[workers] = (root / f"dask{workers}" / "gradebook.csv").read_text()
            same = books[workers] == (root / f"local{workers}" / "gradebook.csv").read_text()
            print(
                f"{workers} worker process{'es' if workers > 1 else ''}: dask {remote:5.1f} s "
                f"({options.students / remote:.2f} students/s, {options.students / remote / workers:.2f} per process); "
                f"local pool {local:5.1f} s ({options.students / local / workers:.2f} per process); "
                f"gradebooks {'identical' if same else 'DIFFER'}"
            )


if __name__ == "__main__":
    main()
