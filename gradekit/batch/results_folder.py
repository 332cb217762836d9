"""A class's results folder: what each student's result was made from, which results a run may keep,
the earlier results a regrade replaces, and every file written whole or not at all.

results/STUDENT.json is written last and atomically, so it exists only for a finished student. A result
is kept when it was made from the same file (name and bytes) and from everything else a grade is made
from as it is now (its provenance, gradekit.engine.provenance; see gradekit.batch.regrade.stale). Before a
result made earlier is replaced, it is kept in regrades/under-way/earlier; once every student is graded,
the regrade's report is written beside it and the folder is numbered after the regrades before it.
A result is strict JSON, as the JSON report is (gradekit.reports.json_report): a float that is not
finite is written as "NaN", "Infinity" or "-Infinity", and read back as that float.
"""

from __future__ import annotations

import os
import tempfile
from collections import Counter
from collections.abc import Collection
from contextlib import suppress
from dataclasses import replace
from pathlib import Path
from typing import Any

from gradekit.assignment import Assignment
from gradekit.batch import regrade_report
from gradekit.batch.regrade import compare, stale
from gradekit.batch.roster import Student
from gradekit.config import GradeConfig
from gradekit.course_terms import counted
from gradekit.grader import unfinished
from gradekit.reports import adjustments, json_report
from gradekit.reports.inert import json_text
from gradekit.result import Adjustment, GradeResult, Provenance

FEEDBACK_SUFFIX = {"markdown": ".md", "text": ".txt"}
NEW = "new"  # a student with no result yet
UNWRITTEN = "with no report written"  # a writer failed: no grade to compare with
ASKED = "asked for"
ALL = "all"  # `again` for every student
REGRADES = "regrades"  # RESULTS_DIR/regrades: one numbered folder per regrade, and the one under way
UNDER_WAY = "under-way"


def stamp(student: Student) -> dict[str, str | None]:
    """Which file a student's result is made from, kept with it: the file graded and the sha256 of the
    bytes read from it (the ones graded, not a second read), or the problem that left nothing to grade.
    The rest a result is made from is its provenance (gradekit.engine.provenance)."""
    source = student.source
    file = source.path if source is not None and source.path is not None else student.path
    return {"student": student.name, "file": str(file), "sha256": sha256(student), "problem": student.problem}


def sha256(student: Student) -> str | None:
    return student.source.sha256 if student.source is not None else None


def why_again(
    out: Path, student: Student, stamp: dict[str, str | None], now: Provenance, feedback: str, again: Collection[str]
) -> str | None:
    """Why `student` is graded now; None when their result is kept from before."""
    try:
        data = read_result(out / "results" / f"{student.name}.json")
        before = GradeResult.from_dict(data)
    except Exception:  # missing, cut short, or not a result: made again
        return NEW
    if not (out / "feedback" / f"{student.name}{FEEDBACK_SUFFIX[feedback]}").is_file():
        return UNWRITTEN
    if ALL in again or student.name in again:
        return ASKED
    if data["batch"] != stamp:
        return "resubmitted"
    return stale(before, now, sha256(student))


def readjusted(
    out: Path, students: list[Student], adjusted: dict[str, tuple[Adjustment, ...]]
) -> dict[str, GradeResult]:
    """The kept results of `students` whose adjustments by hand are not those of the overrides file now
    (`adjusted`, by student): each with the new ones in place, to be written without grading again.
    A result that cannot be read is left to `read_back`."""
    found = {}
    for student in students:
        with suppress(Exception):
            kept = GradeResult.from_dict(read_result(out / "results" / f"{student.name}.json"))
            now = adjusted.get(student.name, ())
            if kept.adjustments != now:
                found[student.name] = replace(kept, adjustments=now, regraded=None)
    return found


def why_graded(reasons: list[str]) -> str:
    """The account's tail: how many were graded now for each reason, the most common first."""
    if not reasons:
        return ""
    counts = Counter(reasons).most_common()
    return "; graded now: " + ", ".join(f"{n} {reason}" for reason, n in counts)


def keep_earlier(out: Path, students: list[Student]) -> dict[str, GradeResult]:
    """The earlier results of a regrade, kept in RESULTS_DIR/regrades/under-way/earlier before any is
    replaced, each as it was first found: a regrade interrupted and run again still compares with the
    results from before it began. Every result kept there so far, by student."""
    folder = out / REGRADES / UNDER_WAY / "earlier"
    if students:
        folder.mkdir(parents=True, exist_ok=True)
    for student in students:
        kept = folder / f"{student.name}.json"
        if not kept.exists():
            write_atomic(kept, (out / "results" / f"{student.name}.json").read_text(encoding="utf-8"))
    return earlier_results(folder)


def earlier_results(folder: Path) -> dict[str, GradeResult]:
    found = {}
    for path in sorted(folder.glob("*.json")) if folder.is_dir() else []:
        with suppress(Exception):  # one unreadable is left out of the comparison, not the grade
            found[path.stem] = GradeResult.from_dict(read_result(path))
    return found


def explained(student: str, before: GradeResult, result: GradeResult) -> GradeResult:
    """`result`, with the line that says why its score differs from `before`'s, where it does."""
    regrade = compare(student, before, result)
    return replace(result, regraded=regrade.line()) if regrade.changed else result


def finish_regrade(out: Path, assignment: Assignment, graded: dict[str, GradeResult]) -> str:
    """Once every student of a regrade is graded again: its report, in the regrade's folder, which is
    numbered after the regrades before it; the account's tail naming it. Nothing without a regrade."""
    under_way = out / REGRADES / UNDER_WAY
    earlier = earlier_results(under_way / "earlier")
    if not under_way.is_dir():
        return ""
    regrades = [compare(name, before, graded[name]) for name, before in earlier.items() if name in graded]
    title = f"{assignment.name} in {out}"
    write_atomic(under_way / "regrade.md", regrade_report.markdown(title, regrades))
    write_atomic(under_way / "regrade.csv", regrade_report.csv_text(regrades))
    write_atomic(under_way / "regrade.json", regrade_report.json_text(regrades))
    numbers = [int(p.name) for p in (out / REGRADES).iterdir() if p.name.isdigit()]
    done = out / REGRADES / str(max(numbers, default=0) + 1)
    under_way.rename(done)
    changed = sum(r.changed for r in regrades)
    return f"; {changed} of {counted(len(regrades), 'score')} graded again changed: {done / 'regrade.md'}"


def read_result(path: Path) -> dict[str, Any]:
    data = json_report.loads(path.read_text(encoding="utf-8"))
    if not isinstance(data, dict) or not isinstance(data.get("batch"), dict):
        raise ValueError(f"{path} is not a gradekit result")
    return data


def read_back(out: Path, student: Student, assignment: Assignment, config: GradeConfig) -> GradeResult:
    """A student's result as written, for the gradebook; one that cannot be read back is a row saying so."""
    try:
        return GradeResult.from_dict(read_result(out / "results" / f"{student.name}.json"))
    except Exception as error:  # missing, cut short, or not a result
        why = f"results/{student.name}.json could not be read back ({type(error).__name__}); run the grade again"
        return unfinished(student.path, assignment, config, why)


def write_student(
    out: Path, student: Student, result: GradeResult, stamp: dict[str, str | None], feedback: str
) -> None:
    """The feedback first, the result last: a result on disk means the student is done."""
    write_atomic(
        out / "feedback" / f"{student.name}{FEEDBACK_SUFFIX[feedback]}", adjustments.feedback(result, feedback)
    )
    write_result(out, student, result, stamp)


def write_unwritten(
    out: Path, student: Student, result: GradeResult, stamp: dict[str, str | None], feedback: str
) -> None:
    """In place of a report that could not be written, `result` (saying so) alone: without feedback the
    student is not finished, so a rerun grades them again. Nothing of an earlier report is left beside
    it; a result that cannot be written either is read back as missing (see `read_back`)."""
    for path in (
        out / "feedback" / f"{student.name}{FEEDBACK_SUFFIX[feedback]}",
        out / "results" / f"{student.name}.json",
    ):
        with suppress(OSError):
            path.unlink(missing_ok=True)
    with suppress(OSError):
        write_result(out, student, result, stamp)


def write_result(out: Path, student: Student, result: GradeResult, stamp: dict[str, str | None]) -> None:
    data = {**result.to_dict(), "batch": stamp}
    write_atomic(out / "results" / f"{student.name}.json", json_text(data))


def write_atomic(path: Path, text: str) -> None:
    """`path` holds all of `text` or what it held before; a write cut short (an error, Ctrl-C) leaves
    no partial file beside it. A file name that is not UTF-8 (a student's, or one in their folder, as
    the OS gives it) is written as its escape, \\udcff, so a report of it is still UTF-8 text."""
    fd, name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with open(fd, "w", encoding="utf-8", errors="backslashreplace") as handle:
            handle.write(text)
        os.replace(name, path)
    except BaseException:
        with suppress(FileNotFoundError):  # gone already if the replace was done
            os.unlink(name)
        raise
