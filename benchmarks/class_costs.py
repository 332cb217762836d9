"""Where a class grade's CPU goes: which students cost it, and whether the grader or the worker spends it.

Builds the class `batch_speed.py` times (the same banks, notebooks, folders and hostile students), then
grades it in this one process as one grader of `gradekit grade` does: a worker per student, a verdict
memory kept across the class. Each student falls in one group:
    first    the first student made from a bank file: its failures are searched and shrunk
    repeat   a later student made from the same bank file: it answers as the first did, so the
             grader settles it from memory while its worker still answers every call
    hostile  a correct file that hangs, exits, floods or recurses
and each group's seconds are split into the grader's own CPU time and the rest of the machine's (the
workers running the students' code, their sandbox, the kernel). Then, for the first and the repeated
students, the properties that took longest, in seconds on the clock summed over the group: one grader
and its worker take turns, so on an otherwise idle machine a property's time is what it cost the
machine, run under Hypothesis or settled from memory. What to make faster next is where the largest
figure is. Run it on an otherwise idle machine: the machine's count holds everything it ran.

    python benchmarks/class_costs.py [--students 200] [--hostile 4] [--assignment training_step] [--properties 8]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path

from batch_speed import busy_seconds, make_class

from gradekit import assignment
from gradekit.config import GradeConfig
from gradekit.engine.runner import VerdictMemory
from gradekit.grader import Grading, grade
from gradekit.sandbox.process import forked_workers


@dataclass
class Costs:
    """What one group of students cost: CPU seconds of the machine, and of the grader among them; and
    each property's seconds on the clock, as their results carry them."""

    students: int = 0
    machine: float = 0.0
    grader: float = 0.0
    properties: Counter[str] = field(default_factory=Counter)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--students", type=int, default=200)
    parser.add_argument("--hostile", type=int, default=4, help="hostile students among them (default 4)")
    parser.add_argument("--assignment", default="training_step")
    parser.add_argument("--properties", type=int, default=8, help="the longest properties shown per group")
    options = parser.parse_args()
    chosen = assignment.load(options.assignment)
    right, wrong = chosen.known("known_right"), chosen.known("known_wrong")
    config = GradeConfig()
    groups: dict[str, Costs] = defaultdict(Costs)
    seen: set[str] = set()
    with tempfile.TemporaryDirectory() as scratch:
        folder = Path(scratch)
        made_from = make_class(
            folder, right + wrong, options.students, options.hostile, right[0], next(iter(chosen.functions))
        )
        memory = VerdictMemory()
        started = time.perf_counter()
        with forked_workers(config.limits):
            for student in sorted(folder.iterdir()):
                source = made_from[student.stem]
                group = "hostile" if source == "hostile" else "repeat" if source in seen else "first"
                seen.add(source)
                machine, grader = busy_seconds(), time.process_time()
                result = grade(student, chosen, config, Grading(memory=memory))
                costs = groups[group]
                costs.properties.update({test.name: test.seconds for test in result.tests})
                costs.students += 1
                costs.machine += busy_seconds() - machine
                costs.grader += time.process_time() - grader
        wall = time.perf_counter() - started
    total = sum(costs.machine for costs in groups.values())
    print(f"{options.assignment}: {options.students} students graded by one grader; CPU seconds of the machine")
    print(f"{'group':8} {'students':>8} {'machine':>8} {'share':>6} {'grader':>7} {'the rest':>8} {'a student':>10}")
    for group in ("first", "repeat", "hostile"):
        costs = groups[group]
        if costs.students:
            print(
                f"{group:8} {costs.students:8d} {costs.machine:8.1f} {costs.machine / total:6.0%} "
                f"{costs.grader:7.1f} {costs.machine - costs.grader:8.1f} {costs.machine / costs.students:9.2f}s"
            )
    print(f"{'all':8} {options.students:8d} {total:8.1f} {'':6} {'':7} {'':8} {total / options.students:9.2f}s")
    print(f"wall {wall:.1f} s for one grader; `gradekit grade` shares the class among the cores")
    for group in ("first", "repeat"):
        longest = groups[group].properties.most_common(options.properties)
        if longest:
            print(f"\nthe longest properties of the {group} students, seconds on the clock summed over them")
            for name, seconds in longest:
                print(f"{seconds:8.2f}  {name}")


if __name__ == "__main__":
    main()
