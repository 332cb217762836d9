"""How long `gradekit grade` takes for a class: N submissions made from the assignment's banks.

Writes N submissions to a temporary folder, cycling through known_right/ and known_wrong/ (16 correct
and 63 buggy files for cross_entropy, so about four in five are buggy and need shrinking); every
tenth is a notebook and every seventh a folder, and each carries its own header, so no two files are
the same. Among them, --hostile students (default 4, one of each kind in turn) are a correct file
that does one hostile thing: a function that hangs, an exit at import, an output flood, a recursion
that crashes its worker. Then times, each as a whole `gradekit grade` process:
    cold    a fresh results folder and an empty example cache (the examples are recorded first)
    warm    a fresh results folder, the cache kept
    resume  the warm run again over its own results folder (everything is kept)
    bare    the warm run with --no-isolation, right after it: what the OS sandbox costs, side by side
Target on a 2-core machine: 200 submissions in at most 30 s, printed with its ratio to the floor
(starting Python and importing Hypothesis and NumPy) timed right after it. CPU seconds are the machine's own
count (Linux's /proc/stat), everything it ran meanwhile: run it on an otherwise idle machine.

    python benchmarks/batch_speed.py [--students 200] [--hostile 4] [--jobs N] [--bank both|right|wrong]
                                     [--assignment cross_entropy]
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from check_speed import floor
from environment import student_python

from gradekit import assignment
from gradekit.batch.pool import default_jobs

# What a hostile student adds to a correct file, by kind: each costs its own row, never a classmate's.
HOSTILE = {
    "hangs": "\n\ndef {function}(*args, **kwargs):\n    while True:\n        pass\n",
    "exits": "import os\n\nos._exit(3)\n",
    "floods": "\nfor _ in range(200_000):\n    print('spam ' * 20)\n",
    "recurses": (
        "\nimport sys\n\nsys.setrecursionlimit(10**7)\n\n\ndef {function}(*args):\n    return {function}(*args)\n"
    ),
}


def make_class(
    folder: Path, bank: list[Path], students: int, hostile: int, right: Path, function: str
) -> dict[str, str]:
    """Write the class into `folder`; return what each student (by name) was made from: the stem of
    its bank file, or "hostile"."""
    spacing = students // hostile if hostile else students + 1
    kinds = list(HOSTILE)
    made_from = {}
    for index in range(students):
        source = bank[index % len(bank)]
        name = f"student{index:03d}"
        text = f'"""Submission of {name}, after {source.stem}."""\n' + source.read_text()
        made_from[name] = source.stem
        if index % spacing == spacing // 2 and index // spacing < hostile:
            kind = kinds[(index // spacing) % len(kinds)]
            made_from[name] = "hostile"
            addition = HOSTILE[kind].format(function=function)
            text = f'"""Submission of {name}: {kind}."""\n' + right.read_text() + addition
            if kind == "exits":
                text = f'"""Submission of {name}: {kind}."""\n' + addition + right.read_text()
        if index % 10 == 9:
            cell = {"cell_type": "code", "metadata": {}, "execution_count": None, "outputs": [], "source": text}
            notebook = {
                "nbformat": 4,
                "nbformat_minor": 5,
                "metadata": {},
                "cells": [{**cell, "id": "c1"}, {**cell, "id": "c2", "source": "%matplotlib inline"}],
            }
            (folder / f"{name}.ipynb").write_text(json.dumps(notebook))
        elif index % 7 == 6:
            (folder / name).mkdir()
            (folder / name / "cross_entropy.py").write_text(text)
        else:
            (folder / f"{name}.py").write_text(text)
    return made_from


def timed(args: list[str], env: dict[str, str]) -> tuple[float, float]:
    """Wall seconds of one whole `gradekit` process, and the CPU seconds the machine spent meanwhile.

    The machine's own count (/proc/stat), not the process's children's: a sandboxed worker's CPU time
    reaches no parent's count (its sandbox is killed, not waited for), so on an otherwise idle machine
    this is the one figure that holds every grader and worker."""
    before = busy_seconds()
    started = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "gradekit", *args], env=env, capture_output=True, text=True)
    if done.returncode != 0:
        raise SystemExit(f"gradekit {' '.join(args)} failed:\n{done.stderr}")
    return time.perf_counter() - started, busy_seconds() - before


def busy_seconds() -> float:
    """CPU seconds every core of the machine has spent on anything but idling, since it started."""
    with open("/proc/stat") as stat:
        user, nice, system, _, _, irq, softirq, *_ = map(int, stat.readline().split()[1:])
    return (user + nice + system + irq + softirq) / os.sysconf("SC_CLK_TCK")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--students", type=int, default=200)
    parser.add_argument("--jobs", type=int, help="passed to gradekit grade (default: its own, one more than the cores)")
    parser.add_argument(
        "--bank",
        choices=("both", "right", "wrong"),
        default="both",
        help="which banks the class is made from (default: both, as they are)",
    )
    parser.add_argument("--assignment", default="cross_entropy")
    parser.add_argument("--hostile", type=int, default=4, help="hostile students among them (default 4)")
    options = parser.parse_args()
    chosen = assignment.load(options.assignment)
    right, wrong = chosen.known("known_right"), chosen.known("known_wrong")
    bank = {"both": right + wrong, "right": right, "wrong": wrong}[options.bank]
    cores = len(os.sched_getaffinity(0))
    with tempfile.TemporaryDirectory() as scratch:
        root = Path(scratch)
        (root / "class").mkdir()
        function = next(iter(chosen.functions))
        make_class(root / "class", bank, options.students, options.hostile, right[0], function)
        env = {**student_python(), "GRADEKIT_CACHE": str(root / "cache")}
        jobs = ["--jobs", str(options.jobs)] if options.jobs else []
        command = ["grade", str(root / "class"), "--assignment", options.assignment, *jobs]
        cold, _ = timed([*command, "--out", str(root / "cold")], env)
        warm, cpu = timed([*command, "--out", str(root / "warm")], env)
        base = statistics.median([floor(), floor(), floor()])  # beside the warm run, on the machine as it is
        bare, bare_cpu = timed([*command, "--no-isolation", "--out", str(root / "bare")], env)
        resume, _ = timed([*command, "--out", str(root / "warm")], env)
        with open(root / "warm" / "gradebook.csv", newline="") as handle:
            rows = list(csv.DictReader(handle))
        correct = sum(1 for i in range(options.students) if bank[i % len(bank)] in right)
        full = sum(float(r["score"]) == float(r["max_score"]) for r in rows)
        print(
            f"{len(rows)} submissions ({correct} from known_right, {len(rows) - correct} from known_wrong, "
            f"{options.hostile} of them hostile; {full} full marks), {cores} cores, "
            f"jobs {options.jobs or default_jobs()}"
        )
        print(f"cold  {cold:6.1f} s  ({cold / len(rows) * 1000:.0f} ms a submission, examples recorded first)")
        print(
            f"warm  {warm:6.1f} s  ({warm / len(rows) * 1000:.0f} ms a submission, {warm / base:.0f}x the floor "
            f"of {base:.2f} s)  target <= 30 s on 2 cores"
        )
        print(
            f"      {cpu:6.1f} CPU s of the machine's ({cpu / len(rows) * 1000:.0f} ms a submission): "
            f"{cpu / cores:.1f} s on {cores} idle cores at best"
        )
        print(
            f"bare  {bare:6.1f} s  ({bare_cpu:.1f} CPU s) without the OS sandbox: the "
            f"sandboxed warm run took {warm / bare:.2f}x its time"
        )
        print(f"resume {resume:5.1f} s  (every result kept)")


if __name__ == "__main__":
    main()
