"""Mutants of an assignment's solution: every mutation point of every operator cosmic-ray has, and
every place for each of the kinds real code makes that operators do not (gradekit.instructor.slips:
an argument read as its default, a length cut at a block size, a loop that skips its last item, a
cache keyed by identity, a Value where a number is due).

cosmic-ray (https://github.com/sixty-north/cosmic-ray) is used as a library, for its operators
alone: each one lists the places it can change in a parse tree of the source (a `+` it can make a
`-`, a `>` it can make `>=`, a number it can move by one, ...), and `mutate_code` applies one of them
to a copy of the source in memory. Its own runner, which rewrites the file on disk and runs a test
command per mutant, is not used: gradekit grades each mutant as a submission (see
gradekit.instructor.mutation), so the solution's file is never touched. mutmut was the other
candidate, and fits worse: it writes every mutant of a module into one copy of the project under
./mutants/ and picks the one to run from the MUTANT_UNDER_TEST environment variable under its own
pytest run, so a mutant is not a source of its own that can be graded as a submission, in a sandbox
whose environment the grader sets.

Every operator that takes no arguments is used (the two that do, VariableReplacer and
VariableInserter, need a variable named per run); a mutant whose source is the solution's own, or
another mutant's, is made once. cosmic-ray is an optional dependency (`pip install
'gradekit[mutation]'`), imported only here and only when a campaign runs.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from typing import Any

from gradekit.errors import UsageError
from gradekit.instructor import slips

INSTALL = "the mutation campaign needs cosmic-ray: install it with pip install 'gradekit[mutation]'"


@dataclass(frozen=True)
class Mutant:
    """One change to the solution: the operator that made it, where, and the module it makes."""

    number: int  # from 1, in the order made: operator by operator, each over the source top to bottom
    operator: str  # cosmic-ray's name, without its provider: "ReplaceBinaryOperator_Sub_Add"
    line: int
    function: str  # the definition it is in ("Value.__add__", "softmax"); "" at the top level
    before: str  # the line as the solution has it
    after: str  # the line as the mutant has it (empty where the mutation removed it)
    source: str

    @property
    def label(self) -> str:
        where = f"{self.function}, line {self.line}" if self.function else f"line {self.line}"
        return f"mutant {self.number} ({self.operator}, {where})"


KINDS = ("all", "operators", "slips")  # which mutants a campaign makes: both, cosmic-ray's, or slips'


def make(source: str, kinds: str = "all") -> list[Mutant]:
    """Every mutant of `source` cosmic-ray's operators make, then every one of the kinds real code
    makes that they do not (gradekit.instructor.slips), each once; `kinds` keeps one of the two."""
    made: list[Mutant] = []
    seen = {source}
    changes = [] if kinds == "slips" else _operated(source)
    if kinds != "operators":
        changes += [(s.kind, s.line, s.function, _line(source, s.line), s.after, s.source) for s in slips.make(source)]
    for operator, line, function, before, after, mutated in changes:
        if mutated not in seen:
            seen.add(mutated)
            made.append(Mutant(len(made) + 1, operator, line, function, before, after, mutated))
    return made


def _operated(source: str) -> list[tuple[str, int, str, str, str, str]]:
    """Each change cosmic-ray's operators make: (operator, line, definition, before, after, source)."""
    operators, ast_nodes, get_ast, mutate_code = _cosmic_ray()
    tree = get_ast(source)
    changes = []
    for name, operator in operators:
        positions = [node for node in ast_nodes(tree) for _ in operator.mutation_positions(node)]
        for occurrence, node in enumerate(positions):
            mutated = mutate_code(source, operator, occurrence)
            if mutated is None:
                continue
            line = node.start_pos[0]
            before, after = _changed_line(source, mutated, line)
            changes.append((name, line, _definition(node), before, after, mutated))
    return changes


def _line(source: str, number: int) -> str:
    return source.splitlines()[number - 1].strip()


def _cosmic_ray() -> tuple[list[tuple[str, Any]], Any, Any, Any]:
    """cosmic-ray's operators that take no arguments, as (name, instance), and the three functions
    used from it; a usage error naming the install when it is missing."""
    try:
        from cosmic_ray import plugins
        from cosmic_ray.ast import ast_nodes, get_ast
        from cosmic_ray.mutating import mutate_code
    except ImportError:
        raise UsageError(INSTALL) from None
    operators = []
    for full_name in plugins.operator_names():
        kind = plugins.get_operator(full_name)
        if not kind.arguments():
            operators.append((full_name.partition("/")[2], kind()))
    return operators, ast_nodes, get_ast, mutate_code


def _definition(node: Any) -> str:
    """The functions and classes a parse-tree node is in, outermost first: "Value.__add__"."""
    names = []
    parent = node.parent
    while parent is not None:
        if parent.type in ("funcdef", "classdef"):
            names.append(parent.name.value)
        parent = parent.parent
    return ".".join(reversed(names))


def _changed_line(source: str, mutated: str, line: int) -> tuple[str, str]:
    """The first line the mutation changed, before and after, from `line` on (a mutation that spans
    lines shows its first)."""
    old, new = source.splitlines(), mutated.splitlines()
    for tag, first, last, other_first, other_last in difflib.SequenceMatcher(None, old, new).get_opcodes():
        if tag != "equal":
            before = old[first].strip() if first < last else ""
            after = new[other_first].strip() if other_first < other_last else ""
            return before, after
    shown = old[line - 1].strip() if 0 < line <= len(old) else ""
    return shown, shown
