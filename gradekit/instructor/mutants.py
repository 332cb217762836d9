"""Mutants of an assignment's solution: every mutation point of every operator cosmic-ray has.

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


def make(source: str) -> list[Mutant]:
    """Every mutant of `source` cosmic-ray's operators make, each once."""
    operators, ast_nodes, get_ast, mutate_code = _cosmic_ray()
    tree = get_ast(source)
    seen = {source}
    made: list[Mutant] = []
    for name, operator in operators:
        positions = [node for node in ast_nodes(tree) for _ in operator.mutation_positions(node)]
        for occurrence, node in enumerate(positions):
            mutated = mutate_code(source, operator, occurrence)
            if mutated is None or mutated in seen:
                continue
            seen.add(mutated)
            line = node.start_pos[0]
            before, after = _changed_line(source, mutated, line)
            made.append(Mutant(len(made) + 1, name, line, _definition(node), before, after, mutated))
    return made


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
