"""How many examples each property needs to catch the assignment's known-wrong files.

Grades every file in known_wrong/ at a ladder of example counts (--max-examples; 1, 3, 10, 30 and the
default 100), and prints, for each property, how many known-wrong files it catches at the full count,
for each of them the fewest examples from which on every count of the ladder catches it (the worst
over the files: what the property's count must not fall below), and the share of a correct check's
time spent in it (the reference file, graded at the full count). Scale properties are left out: they
are about speed, which known_slow/ shows, and a wrong file fails them only because they are not timed.

This is the evidence to weigh a property's example count: fewer examples make a check faster, and a
count near the worst catch leaves little room for a student's mistake that shows more rarely than
the bank's do. Hypothesis draws its first examples plainest (zeros, the shortest names), which catch
little; with fewer examples to spend it reaches varied ones sooner, which is why each count is graded
rather than read off one run at the full count. The properties' own counts are in their assignment
(`max_examples=`, capped by the command's); the ladder caps them the same way.

    python benchmarks/example_counts.py [--assignment training_step] [--ladder 1,3,10,30,100] [--jobs N]
"""

from __future__ import annotations

import argparse
from collections import defaultdict

from gradekit import assignment
from gradekit.batch.pool import run_pool
from gradekit.batch.roster import Student
from gradekit.config import GradeConfig
from gradekit.grader import grade
from gradekit.result import FAULTS, GradeResult


def caught(chosen: assignment.Assignment, examples: int, jobs: int | None) -> dict[str, set[str]]:
    """The properties that fail on each known-wrong file, graded at `examples` examples per property."""
    students = [Student(path.name, path) for path in chosen.known("known_wrong")]
    failing: dict[str, set[str]] = {}

    def keep(student: Student, result: GradeResult) -> None:
        failing[student.name] = {test.name for test in result.tests if test.status in FAULTS}

    config = GradeConfig(max_examples=examples, diagnose=False)
    run_pool(students, chosen, config, None, jobs, keep, remember=False)
    return failing


def _caught_from(prop: str, name: str, ladder: list[int], by_count: dict[int, dict[str, set[str]]]) -> int:
    """The fewest examples of the ladder from which on `prop` catches the file `name` at every count:
    Hypothesis draws differently at each count, so a file caught at 3 examples may slip through at 10."""
    start = ladder[-1]
    for count in reversed(ladder):
        if prop not in by_count[count][name]:
            break
        start = count
    return start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--assignment", default="training_step")
    parser.add_argument("--ladder", default="1,3,10,30,100", help="example counts to grade at, comma-separated")
    parser.add_argument("--jobs", type=int, help="graders at once (default: the cores)")
    options = parser.parse_args()
    chosen = assignment.load(options.assignment)
    ladder = sorted({int(count) for count in options.ladder.split(",")})
    by_count = {count: caught(chosen, count, options.jobs) for count in ladder}
    full = by_count[ladder[-1]]
    fewest: dict[str, list[int]] = defaultdict(list)
    for name, properties in full.items():
        for prop in properties:
            fewest[prop].append(_caught_from(prop, name, ladder, by_count))
    correct = grade(chosen.solution, chosen, GradeConfig(max_examples=ladder[-1], diagnose=False))
    seconds = {test.name: test.seconds for test in correct.tests}
    total = sum(seconds.values()) or 1.0
    print(f"{options.assignment}: {len(full)} known-wrong files graded at {', '.join(map(str, ladder))} examples")
    print(f"{'property':58} {'count':>5} {'caught':>6} {'worst catch':>11} {'check time':>10}")
    for prop in (p for p in chosen.properties if not p.scale):
        count = min(ladder[-1], prop.max_examples or ladder[-1])
        catches = fewest.get(prop.name, [])
        worst = str(max(catches)) if catches else "-"
        share = f"{seconds.get(prop.name, 0.0) / total:.0%}"
        print(f"{prop.name:58} {count:5d} {len(catches):6d} {worst:>11} {share:>10}")


if __name__ == "__main__":
    main()
