"""A submission to a GradeResult: read it, load it in a sandboxed worker, run the properties
(gradekit.engine.runner), score the outcomes (gradekit.engine.scorer), and name the known mistakes behind the
failures (gradekit.diagnosis.diagnose). Never raises for anything the submission does.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from gradekit import assignment as assignments
from gradekit import course_seed, course_terms
from gradekit.assignment import Assignment
from gradekit.config import GradeConfig
from gradekit.course_terms import counted
from gradekit.engine.budget import Budget
from gradekit.engine.outcome import Outcome
from gradekit.engine.provenance import made
from gradekit.engine.recording import recorded, recorded_if_kept
from gradekit.engine.runner import VerdictMemory, run_all
from gradekit.engine.scorer import score
from gradekit.engine.session import Session
from gradekit.engine.source import Source, parsed
from gradekit.engine.source import read as read_source
from gradekit.errors import AssignmentError, UsageError
from gradekit.result import FAULTS, Counterexample, Diagnosis, GradeResult, PropertyResult, Status
from gradekit.sandbox import Worker

__all__ = [
    "SHOWN_LOADED",
    "SHOWN_MESSAGE",
    "Grading",
    "answered",
    "grade",
    "needed",
    "printed",
    "seed_named",
    "selected",
    "unfinished",
]

# The most a result shows, under a course seed, of what the submission printed while it loaded: a few
# lines, as every report shows them.
SHOWN_LOADED = 1000
SHOWN_MESSAGE = 300  # characters of a message of the submission's a result keeps under the course's seed


@dataclass(frozen=True)
class Grading:
    """One grade's setting beyond its options (GradeConfig).

    `assignment_dirs`: where assignments are found besides the built-in ones, folders the worker may not
    read. `functions`, where given, narrow the grade to those functions' properties (`selected`), a
    student's check of the functions they have written so far; a name the assignment does not have is
    a UsageError. The rest is what a caller has ready: a `worker` already started (`Worker.started`, so
    its interpreter boots while this process is still importing; it is stopped here either way); the
    submission as `read` from the path already (given, it is what is graded and the path is never
    opened; one only found, `source.located`, as a class grade finds, reads and hashes each file before
    any is graded, is parsed here from the bytes it carries); and the verdicts a class grader
    remembers across its submissions (`memory`, gradekit.engine.speed.verdicts): a grade of one file
    remembers nothing.
    """

    assignment_dirs: list[str] | None = None
    functions: tuple[str, ...] = ()
    worker: Worker | None = None
    read: Source | None = None
    memory: VerdictMemory | None = None


def grade(
    path: Path, assignment: Assignment | None = None, config: GradeConfig = GradeConfig(), grading: Grading = Grading()
) -> GradeResult:
    """Grade one submission: a .py file, a notebook, or a student's folder holding one (see
    `source.pick`), with `config`'s options, in `grading`'s setting. Never raises for anything the
    submission does."""
    started = time.monotonic()
    # One found ahead (a class grade reads and hashes each file first) is parsed here, where it is graded.
    read = read_source(path, assignment.name if assignment else None) if grading.read is None else parsed(grading.read)
    source, problem, shown = read.text, read.problem, str(read.path or path)
    with grading.worker or Worker.started(config.limits, grading.assignment_dirs, read.preload) as worker:
        session = Session(worker, source, read.filename, read.cells)
        if problem is None and config.shortcuts:
            _recorded_ahead(assignment or _named_assignment(source, grading.assignment_dirs), config)
        if problem is None:
            problem = session.load()
        loaded = session.output()  # printed before the first call, which no input of the grade reached
        # Loading has limits of its own (a notebook's cells, each their `cell_timeout`): the grade's
        # budget is the properties' and the diagnosis's.
        budget = Budget(config.check_budget, worker.spent)
        unsandboxed = (worker.note,) if worker.note else ()  # why it ran behind a weaker wall than bubblewrap
        if assignment is None:
            try:
                assignment = (
                    assignments.infer(set(session.defined), grading.assignment_dirs)
                    if session.defined
                    else assignments.inferred_from(source, grading.assignment_dirs)
                )
            except AssignmentError as error:
                return GradeResult(
                    "unknown",
                    shown,
                    _shown(config, config.seed or 0),
                    error=problem or str(error),
                    notes=(*read.notes, *session.notes, *unsandboxed),
                    seed_digest=_digest(config, config.seed or 0),
                    isolation=_wall(worker),
                )
        graded, waiting = _written(selected(assignment, grading.functions), grading.functions, session.defined)
        seed = config.seed_or(assignment.default_seed)
        if problem is None:
            problem = _none_defined(graded, session.defined, read.filename)
        if problem is None and assignment.harness is not None:
            problem = session.use_harness(assignment.harness)
        if problem is not None:
            outcomes = {p.name: Outcome(Status.ERROR, problem) for p in graded.properties}
        else:
            # Recording is the grader's own work: no budget of the student's pays for it. It records
            # every property, whatever this grade runs, so that a check of some functions reuses it.
            replay = (
                budget.excluding(lambda: recorded(assignment, seed, config.max_examples)) if config.shortcuts else None
            )
            outcomes = run_all(needed(assignment, graded), session, config, seed, budget, grading.memory, replay)
        output, withheld = printed(config, loaded, session.output())
        defined = dict(session.defined)
        notes = (*read.notes, *session.notes, *waiting, *withheld, *unsandboxed, *_public_check(assignment))
        wall = _wall(worker)
        diagnosis, unexplained = (
            _diagnosis(assignment, graded, session, outcomes, config, grading.assignment_dirs, budget)
            if problem is None
            else ((), {})
        )
    tests = answered(config, score(graded, outcomes))
    notes = (*notes, *_built_on(tests))
    lines = {k: v for k, v in defined.items() if type(v) is int and k in assignment.functions}
    cells = {}
    if read.cells is not None:  # script lines -> the cell and the line within it
        located = {k: read.cell_at(v) for k, v in lines.items()}
        cells = {k: cell.number for k, cell in located.items() if cell is not None}
        lines = {k: v - cell.line + 1 for k, v in lines.items() if (cell := located[k]) is not None}
    return GradeResult(
        assignment=assignment.name,
        submission=shown,
        seed=_shown(config, seed),
        tests=tests,
        error=problem,
        output=output,
        seconds=time.monotonic() - started,
        function_lines=lines,
        notes=notes,
        function_cells=cells,
        diagnosis=diagnosis,
        unexplained=unexplained,
        seed_digest=_digest(config, seed),
        isolation=wall,
        provenance=made(graded, config, seed_named(config, seed), wall, read.sha256),
        checked=tuple(f for f in assignment.functions if f in grading.functions),
    )


def selected(assignment: Assignment, functions: tuple[str, ...]) -> Assignment:
    """`assignment` as a check of `functions` alone grades it: with the properties that belong to them,
    a property belonging to the first function it names, so that each belongs to one function and the
    functions' points add up to the assignment's; the whole assignment where none is named. A name the
    assignment does not have is a UsageError, raised before any property runs."""
    if not functions:
        return assignment
    unknown = [f for f in functions if f not in assignment.functions]
    if unknown:
        names = ", ".join(repr(f) for f in unknown)
        raise UsageError(
            f"--function {names}: {assignment.name} has no such function; its functions are "
            f"{', '.join(assignment.functions)}"
        )
    return replace(assignment, properties=tuple(p for p in assignment.properties if p.functions[0] in functions))


def needed(assignment: Assignment, graded: Assignment) -> Assignment:
    """`graded` with every property of `assignment` its properties require, are checked after or without, at any
    depth, in the assignment's order: those must run for the graded ones to be paid or blamed (see
    gradekit.engine.runner), though only the graded ones are scored. A name `assignment` does not hold
    (one narrowed by hand to some properties, as tests do) is left out: the runner runs what it holds."""
    named = {p.name: p for p in assignment.properties}
    wanted: set[str] = set()
    waiting = [p.name for p in graded.properties]
    while waiting:
        name = waiting.pop()
        if name in named and name not in wanted:
            wanted.add(name)
            waiting += [*named[name].requires, *named[name].after, *named[name].without]
    return replace(assignment, properties=tuple(p for p in assignment.properties if p.name in wanted))


def _wall(worker: Worker) -> str | None:
    """The isolation the submission's code ran under, by name; None where none ran it."""
    return worker.isolation.value if worker.isolation is not None else None


def _built_on(tests: tuple[PropertyResult, ...]) -> tuple[str, ...]:
    """A note per function whose answers were right only against the submission's own wrong function
    it is built on (gradekit.authoring.expect_built_on), or right where the functions that did not pass
    were left out (gradekit.authoring.left_out): it keeps its points, and the student learns why a
    wrong loss did not cost its sequence loss too, or a wrong `/` their backward. Functions noted alike
    share one note. A function some of whose properties were held back keeps only the points it was
    paid, and the note says how many: "its points" would claim the ones held back too."""
    functions: dict[str, list[str]] = {}  # by note, each function once, under its last note
    for function, note in {t.functions[0]: t.note for t in tests if t.note}.items():
        functions.setdefault(note, []).append(function)
    return tuple(_kept(named, note, tests) for note, named in functions.items())


def _kept(named: list[str], note: str, tests: tuple[PropertyResult, ...]) -> str:
    """One note of `_built_on`: what each function in `named` keeps, and why."""
    own = {f: [t for t in tests if t.functions[0] == f] for f in named}
    whole = {f: all(t.status is Status.PASSED for t in own[f]) for f in named}
    kept = {f: "its points" if whole[f] else counted(sum(t.score for t in own[f]), "point") for f in named}
    if len(named) == 1:
        return f"`{named[0]}` keeps {kept[named[0]]}: it is {note}"
    if all(whole.values()):
        return f"{' and '.join(f'`{f}`' for f in named)} keep their points: they are {note}"
    return f"{' and '.join(f'`{f}` keeps {kept[f]}' for f in named)}: they are {note}"


def _shown(config: GradeConfig, seed: int) -> int | None:
    """The seed a result shows: none where it is the course's own, which no student may learn."""
    return None if config.course_seed else seed


def _digest(config: GradeConfig, seed: int) -> str | None:
    """What names the course's own seed in a result instead (gradekit.course_seed); None for a public one."""
    return course_seed.digest(seed) if config.course_seed else None


def seed_named(config: GradeConfig, seed: int) -> str:
    """The seed as a result's provenance names it: the number, or the course's own seed's digest."""
    return course_seed.digest(seed) if config.course_seed else str(seed)


def printed(config: GradeConfig, loaded: str, output: str) -> tuple[str, tuple[str, ...]]:
    """What a result shows of what the submission printed (`output`, of which it had printed `loaded`
    before its first call), and a note where some is withheld.

    Under a public seed, all of it: the inputs are the public check's, which the student may see.
    Under the course's own seed, what it printed once called could carry the grade's inputs (a file
    that prints a table of the calls it answered would hand back every input, and a later file could
    look the answers up), so only a short excerpt of what it printed while it loaded is shown: no input
    had reached it then. The note says how much was withheld, and why.
    """
    if not config.course_seed:
        return output, ()
    shown = loaded[:SHOWN_LOADED]
    withheld = len(output) - len(shown)
    if withheld <= 0:
        return shown, ()
    cut = " or more" if len(output.encode()) >= config.limits.output_bytes - 3 else ""  # as far as it was kept
    return shown, (
        f"{withheld:,} characters{cut} of what the code printed are not shown: graded with the course's own "
        "seed, a report shows only the start of what it printed while it loaded, before any call, since "
        "what it prints once called could carry the grade's inputs",
    )


def answered(config: GradeConfig, tests: tuple[PropertyResult, ...]) -> tuple[PropertyResult, ...]:
    """What a result keeps of the submission's own answers in each counterexample: all of it under a
    public seed; under the course's own, what a report shows of it. An answer or message is the
    submission's to fill, and a function that fails on purpose could hand back, in an answer of
    thousands of numbers or a long message, every input it was called with: so a long answer is kept
    as its summary (its size and the entries that matter) and a message as its first SHOWN_MESSAGE
    characters, which a student reads all the same."""
    if not config.course_seed:
        return tests
    return tuple(
        replace(t, message=_cut(t.message) or "", counterexample=_summarised(t.counterexample))
        if t.counterexample is not None
        else replace(t, message=_cut(t.message) or "")
        for t in tests
    )


def _summarised(example: Counterexample) -> Counterexample:
    calls = tuple(replace(c, returned=_summary(c.returned), raised=_cut(c.raised)) for c in example.calls)
    return replace(example, calls=calls, returned=_summary(example.returned))


def _summary(value: Any) -> Any:
    """A number, or a short vector or table, as it is; anything else as a report's short text of it."""
    if value is None or course_terms.is_number(value) or (isinstance(value, list) and course_terms.whole(value)):
        return value
    return _cut(value if isinstance(value, str) else course_terms.value(value))


def _cut(text: str | None) -> str | None:
    return text if text is None or len(text) <= SHOWN_MESSAGE else text[: SHOWN_MESSAGE - 3] + "..."


def _diagnosis(
    assignment: Assignment,
    graded: Assignment,
    session: Session,
    outcomes: dict[str, Outcome],
    config: GradeConfig,
    assignment_dirs: list[str] | None,
    budget: Budget,
) -> tuple[tuple[Diagnosis, ...], dict[str, str]]:
    """The known mistakes behind the graded properties' failures, asked for once the grade is made and
    what the report shows of the submission is taken (what it printed, its notes, where it defines each
    function), so nothing the probes do reaches the score or the rest of the report. The bank is the
    whole `assignment`'s, whatever properties were `graded`. With them, the digests of the answers of
    the failing functions no known mistake explains."""
    faults = [p for p in graded.properties if outcomes[p.name].status in FAULTS]
    if not config.diagnose or not faults or budget.left() <= 0:
        return (), {}
    # Imported here, where a grade has failures to diagnose: a check that passes never loads the bank.
    from gradekit.diagnosis.diagnose import diagnose
    from gradekit.diagnosis.mistakes import bank

    known = budget.excluding(lambda: bank(assignment, config.limits, assignment_dirs))
    return ((), {}) if known is None else diagnose(graded, session, outcomes, known, budget)


def _public_check(assignment: Assignment) -> tuple[str, ...]:
    """What a grade from a student build is: the public check, not the course's grade."""
    if not assignment.student_build:
        return ()
    return (
        f"this is the public check of {assignment.name}: the properties students may see; the course's "
        "autograder also grades hidden ones, so the final score may differ",
    )


def unfinished(
    path: Path, assignment: Assignment, config: GradeConfig, why: str, submission: str | None = None
) -> GradeResult:
    """The result for a submission whose grading could not finish (its grader was stopped): every
    property an error scoring 0, so it still has a full row wherever results are collected.
    `submission` is the sha256 of the file's bytes, where they were read."""
    seed = config.seed_or(assignment.default_seed)
    outcomes = {p.name: Outcome(Status.ERROR, why) for p in assignment.properties}
    return GradeResult(
        assignment.name,
        str(path),
        _shown(config, seed),
        tests=score(assignment, outcomes),
        error=why,
        seed_digest=_digest(config, seed),
        provenance=made(assignment, config, seed_named(config, seed), submission=submission),
    )


def _written(
    graded: Assignment, functions: tuple[str, ...], defined: Mapping[str, object]
) -> tuple[Assignment, tuple[str, ...]]:
    """A check of some `functions` grades what the student has written so far: a property of theirs
    that needs another function the file does not define yet is left for later, with a note saying
    whose points wait on what, so a right function is neither failed nor scored for the missing one."""
    if not functions:
        return graded, ()
    waits = {p.name: [f for f in p.functions if f not in defined and f not in functions] for p in graded.properties}
    later = [p for p in graded.properties if waits[p.name]]
    if not later:
        return graded, ()
    notes = []
    for owner in dict.fromkeys(p.functions[0] for p in later):
        own = [p for p in later if p.functions[0] == owner]
        needed = ", ".join(f"`{f}`" for f in dict.fromkeys(f for p in own for f in waits[p.name]))
        worth = f"{counted(len(own), 'property')} of `{owner}` ({counted(sum(p.points for p in own), 'point')})"
        notes.append(f"{worth} {'waits' if len(own) == 1 else 'wait'} on {needed}, which this file does not define yet")
    return replace(graded, properties=tuple(p for p in graded.properties if not waits[p.name])), tuple(notes)


def _none_defined(graded: Assignment, defined: Mapping[str, object], filename: str) -> str | None:
    """One sentence for a file that defines none of the functions graded (an empty file, or another
    assignment's), in place of a failed property for every one of them; None where it defines one."""
    wanted = {f for p in graded.properties for f in p.functions}
    if not wanted or wanted & set(defined):
        return None
    names = ", ".join(f"`{f}`" for f in graded.functions if f in wanted)
    return f"{filename} defines none of the functions {graded.name} grades ({names})"


def _recorded_ahead(assignment: Assignment | None, config: GradeConfig) -> None:
    """Read the assignment's recording, where one is kept, into this process while the worker it was
    just given starts, which the grader would otherwise wait for: `recorded`, after the file has
    loaded, finds it in memory. Nothing is recorded here. The assignment is the one asked for, or the
    one the source's def and class lines name; the grade's own choice is made from what the loaded
    file defines, and a guess that differs costs this read alone."""
    if assignment is not None:
        recorded_if_kept(assignment, config.seed_or(assignment.default_seed), config.max_examples)


def _named_assignment(source: str, assignment_dirs: list[str] | None) -> Assignment | None:
    """The assignment the function names a source defines point to, read from its text; None where
    they point to none, or to two."""
    try:
        return assignments.inferred_from(source, assignment_dirs)
    except AssignmentError:
        return None
