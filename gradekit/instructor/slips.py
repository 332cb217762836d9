"""Mutants of the kinds real code makes and operator mutation does not.

cosmic-ray changes operators and numbers (gradekit.instructor.mutants). The mistakes that slip past a
grader in real code are often of other kinds, each made here at every place it can go in the
solution, one change per mutant:

- ArgumentAsDefault: an argument read as its default (`eps = 1e-08` first thing in the body: the Adam
  that ignores the `eps` it is given).
- ArgumentAsConstant: an argument read as the module's constant of the same name (`base_lr =
  BASE_LR`: the course's value hard-coded where the caller's is due).
- LengthCut8 ... LengthCut256: a list, string or array argument cut at a common block size (`tokens =
  tokens[:16]`, microgpt's `n = min(block_size, len(tokens) - 1)` pasted into a loss).
- LoopSkipsLast: a loop or comprehension over all but its last item (`range(len(x) - 1)` where
  `range(len(x))` was due, the last position dropped).
- CacheById: a function that remembers its answers by its arguments' identity (`id(W)`), which a new
  list at a freed list's address reads back.
- DataDropped: a Value's `.data` left off, so a gradient or a result is a Value where a number is due.

Each is written as source text at the place it changes, the rest of the file untouched, so a report
shows the line as the solution has it and as the mutant does.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from dataclasses import dataclass

BLOCK_SIZES = (8, 16, 32, 64, 256)  # the block sizes code is cut at: microgpt's 16 among them
SEQUENCE_CALLS = frozenset({"len", "zip", "enumerate", "asarray", "array", "list", "tuple", "sum", "max", "min"})


@dataclass(frozen=True)
class Slip:
    """One change: the kind, the line it is on (in the solution), the definition it is in, and the
    mutated source."""

    kind: str
    line: int
    function: str
    source: str
    after: str  # the change as one line shows it


def make(source: str) -> list[Slip]:
    """Every slip of every kind `source` has a place for, in the order of its definitions."""
    tree = ast.parse(source)
    text = source.encode()
    constants = _constants(tree)
    made: list[Slip] = []
    for qualname, function in _definitions(tree):
        made += _arguments(text, qualname, function, constants)
        made += _loops(text, qualname, function)
        made += _data(text, qualname, function)
    public = [(name, node) for name, node in _definitions(tree) if "." not in name and not name.startswith("_")]
    made += [_cached(source, name, node.lineno) for name, node in public]
    return made


def _definitions(tree: ast.Module) -> Iterator[tuple[str, ast.FunctionDef]]:
    """The module's functions, and its classes' methods, by qualified name."""
    for node in tree.body:
        if isinstance(node, ast.FunctionDef):
            yield node.name, node
        elif isinstance(node, ast.ClassDef):
            for inner in node.body:
                if isinstance(inner, ast.FunctionDef):
                    yield f"{node.name}.{inner.name}", inner


def _constants(tree: ast.Module) -> set[str]:
    """The names the module gives its constants: upper case, assigned at the top level."""
    return {
        name.id
        for node in tree.body
        if isinstance(node, ast.Assign)
        for target in node.targets
        for name in ast.walk(target)
        if isinstance(name, ast.Name) and name.id.isupper()
    }


def _arguments(text: bytes, qualname: str, function: ast.FunctionDef, constants: set[str]) -> list[Slip]:
    """An argument read as its default, or as the constant of its name, or cut at a block size."""
    first = _first_statement(function)
    if first is None:
        return []
    positional = function.args.args
    defaults = dict(
        zip([a.arg for a in positional[len(positional) - len(function.args.defaults) :]], function.args.defaults)
    )
    made = []
    for argument in positional:
        name = argument.arg
        if name in ("self", "cls"):
            continue
        if name in defaults:
            default = ast.get_source_segment(text.decode(), defaults[name])
            made.append(_inserted(text, qualname, first, "ArgumentAsDefault", f"{name} = {default}"))
        if name.upper() in constants and ast.unparse(defaults.get(name, ast.Constant(None))) != name.upper():
            made.append(_inserted(text, qualname, first, "ArgumentAsConstant", f"{name} = {name.upper()}"))
        if _used_as_sequence(function, name):
            for size in BLOCK_SIZES:
                cut = f"if hasattr({name}, '__len__'): {name} = {name}[:{size}]"
                made.append(_inserted(text, qualname, first, f"LengthCut{size}", cut))
    return made


def _first_statement(function: ast.FunctionDef) -> ast.stmt | None:
    """The body's first statement past its docstring, where one starts a line of its own."""
    body = function.body
    if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
        body = body[1:]
    if not body or body[0].lineno == function.lineno:
        return None
    return body[0]


def _used_as_sequence(function: ast.FunctionDef, name: str) -> bool:
    """Whether the body iterates, indexes, measures or converts the argument: a list, then."""
    for node in ast.walk(function):
        if isinstance(node, (ast.For, ast.comprehension)) and _named(node.iter, name):
            return True
        if isinstance(node, ast.Subscript) and _named(node.value, name):
            return True
        if isinstance(node, ast.Call) and _called(node) in SEQUENCE_CALLS and any(_named(a, name) for a in node.args):
            return True
    return False


def _named(node: ast.AST, name: str) -> bool:
    return isinstance(node, ast.Name) and node.id == name


def _called(call: ast.Call) -> str:
    func = call.func
    return func.id if isinstance(func, ast.Name) else func.attr if isinstance(func, ast.Attribute) else ""


def _inserted(text: bytes, qualname: str, before: ast.stmt, kind: str, statement: str) -> Slip:
    """`statement` as the first line of the body, at its indentation."""
    lines = text.decode().splitlines(keepends=True)
    at = before.lineno - 1
    indent = lines[at][: len(lines[at]) - len(lines[at].lstrip())]
    mutated = "".join([*lines[:at], f"{indent}{statement}\n", *lines[at:]])
    return Slip(kind, before.lineno, qualname, mutated, statement)


def _loops(text: bytes, qualname: str, function: ast.FunctionDef) -> list[Slip]:
    """Each loop and comprehension over all but its last item."""
    made = []
    for node in ast.walk(function):
        if isinstance(node, (ast.For, ast.comprehension)):
            iterated = node.iter
            shown = _segment(text, iterated)
            mutated = _replaced(text, iterated, f"list({shown})[:-1]")
            made.append(Slip("LoopSkipsLast", iterated.lineno, qualname, mutated, _line(mutated, iterated.lineno)))
    return made


def _data(text: bytes, qualname: str, function: ast.FunctionDef) -> list[Slip]:
    """Each `.data` read left off: the Value itself where its number is due."""
    made = []
    for node in ast.walk(function):
        if isinstance(node, ast.Attribute) and node.attr == "data" and isinstance(node.ctx, ast.Load):
            mutated = _replaced(text, node, _segment(text, node.value))
            made.append(Slip("DataDropped", node.lineno, qualname, mutated, _line(mutated, node.lineno)))
    return made


def _cached(source: str, name: str, line: int) -> Slip:
    """`name` remembering its answers by its arguments' identity, as a wrapper appended to the file."""
    wrapper = (
        f"\n\n_{name}_uncached, _{name}_answers = {name}, {{}}\n\n\n"
        f"def {name}(*args):\n"
        f"    key = tuple(id(a) for a in args)\n"
        f"    if key not in _{name}_answers:\n"
        f"        _{name}_answers[key] = _{name}_uncached(*args)\n"
        f"    return _{name}_answers[key]\n"
    )
    shown = f"{name} answers from a dict keyed by tuple(id(a) for a in args)"
    return Slip("CacheById", line, name, source.rstrip("\n") + "\n" + wrapper, shown)


def _line(source: str, number: int) -> str:
    return source.splitlines()[number - 1].strip()


def _segment(text: bytes, node: ast.expr) -> str:
    start, end = _offsets(text, node)
    return text[start:end].decode()


def _replaced(text: bytes, node: ast.expr, new: str) -> str:
    start, end = _offsets(text, node)
    return (text[:start] + new.encode() + text[end:]).decode()


def _offsets(text: bytes, node: ast.expr) -> tuple[int, int]:
    """Where a node starts and ends in the source's bytes (the parser counts columns in UTF-8 bytes)."""
    starts = [0]
    for line in text.splitlines(keepends=True):
        starts.append(starts[-1] + len(line))
    end_line, end_col = node.end_lineno or node.lineno, node.end_col_offset or node.col_offset
    return starts[node.lineno - 1] + node.col_offset, starts[end_line - 1] + end_col
