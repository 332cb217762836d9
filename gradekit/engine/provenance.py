"""What a result was made from, so a later grade can tell whether it still holds and say why it changed.

A grade depends on the submission, the assignment (its contract, its properties, their points and
tolerances and strategies, its solution), the seed and the examples drawn, the grade's options, and the
code that ran it: gradekit itself, Hypothesis, NumPy and Python. Every result carries a `Provenance`
naming each of these by value or digest, made where the grade is made, and every writer can read it.

Each property is named by its parts, so a change is put down to the part that changed:
- `code`: the property's own source (its body and decorators other than `@given` and `@prop`) and every
  definition of its module it uses, however indirectly, with its tolerance arguments left out;
- `strategy`: its `@given(...)` and the definitions of its module that uses;
- `tolerance`: the values passed as `rtol`, `atol`, `tol` or `tolerance` in its body, as written;
- `points`, `requires`, `after` and `without` (where it has any) and `examples` (the most examples it runs), by value.
A worked example (gradekit.worked) has its cases and answers for code and strategy and its rtol and atol
for tolerance. Sources are compared as syntax trees, so moving a property within its file or reformatting
it changes nothing.
"""

from __future__ import annotations

import ast
import functools
import hashlib
import importlib
import inspect
import json
import platform
import sys
import types
from dataclasses import replace
from pathlib import Path
from typing import Any

import gradekit
from gradekit.assignment import Assignment
from gradekit.authoring import Property
from gradekit.config import GradeConfig, cache_folder
from gradekit.engine import kept_files
from gradekit.engine.kept_files import CARRIED
from gradekit.result import Provenance

__all__ = ["LIBRARIES", "TOLERANCE_WORDS", "carried", "carry", "made", "property_parts"]

LIBRARIES = ("hypothesis", "numpy")  # the libraries a grade's examples and arithmetic come from
TOLERANCE_WORDS = frozenset({"rtol", "atol", "tol", "tolerance"})
DIGEST = 16  # hex digits of SHA-256 kept: enough to tell versions apart, short enough to read
PARTS_FORMAT = 2  # bump when what `_module_parts` keeps changes: an old file then simply misses


def made(
    assignment: Assignment, config: GradeConfig, seed: str, isolation: str | None = None, submission: str | None = None
) -> Provenance:
    """The provenance of a grade of `assignment` under `config` with `seed` (as a result shows it)."""
    return Provenance(
        gradekit=gradekit.__version__,
        build=_build(),
        python=platform.python_version(),
        libraries={name: _version(name) for name in LIBRARIES},
        assignment=_assignment_digest(assignment),
        solution=_file_digest(assignment.solution) if assignment.solution is not None else None,
        properties={p.name: property_parts(p, assignment, config) for p in assignment.properties},
        seed=seed,
        examples=config.max_examples,
        options=_options(config),
        isolation=isolation,
        submission=submission,
    )


def _options(config: GradeConfig) -> str:
    """The digest of what else a grade is made from. Left out: the seed and examples (kept apart), the
    shortcuts (a grade is the same without them, tests/engine/test_speed_off.py), and the wall asked for and
    the user run as (a grade is the same behind every wall, tests/batch/test_banks.py)."""
    limits = replace(config.limits, isolation="auto", run_as=None)
    return _digest(repr(replace(config, seed=None, max_examples=0, shortcuts=True, limits=limits)))


def property_parts(prop: Property, assignment: Assignment, config: GradeConfig) -> dict[str, Any]:
    """The parts of `prop` a change is put down to (see the module docstring)."""
    examples = min(prop.max_examples or config.max_examples, config.max_examples)
    values = {"points": prop.points, "requires": list(prop.requires), "examples": examples}
    if prop.after:  # named only where given, so a result made before `after` existed reads alike
        values["after"] = list(prop.after)
    if prop.without:
        values["without"] = list(prop.without)
    worked = assignment.worked_examples.get(prop.name)
    if worked is not None:
        answers = assignment.worked_answers.get(prop.name)
        cases = _digest(json.dumps([worked.function, worked.cases, answers], default=repr))
        return {
            "code": cases,
            "strategy": cases,
            "tolerance": [f"rtol={worked.rtol!r}", f"atol={worked.atol!r}"],
            **values,
        }
    parts = _source_parts(prop.body)
    return {**parts, "tolerance": list(parts["tolerance"]), **values}  # copies: the cached parts stay as made


@functools.lru_cache(maxsize=256)
def _source_parts(body: Any) -> dict[str, Any]:
    """`code`, `strategy` and `tolerance` of a property's function, read from its module's source; its
    compiled code where the source cannot be read."""
    try:
        path = Path(inspect.getsourcefile(body) or "")
        parts = _module_parts(str(path), path.read_text(encoding="utf-8")).get(body.__name__)
    except (OSError, TypeError, SyntaxError, ValueError):
        parts = None
    if parts is None:
        compiled = _digest(_compiled(body.__code__))
        return {"code": compiled, "strategy": compiled, "tolerance": []}
    code, strategy, tolerance = parts
    return {"code": code, "strategy": strategy, "tolerance": list(tolerance)}


@functools.lru_cache(maxsize=32)
def _module_parts(path: str, source: str) -> dict[str, tuple[str, str, list[str]]]:
    """The parts of every decorated function defined at the top of the module at `path`, whose text
    is `source`, by name (see `_made_parts`). Kept in the cache folder (gradekit.engine.kept_files)
    under their key (`_parts_key`), so that a check, a process of its own, reads them instead of
    walking the module's syntax again; where the cache has none, read from what the module's folder
    carries (`carry`: a first check on a machine walks no syntax either). The file kept for an earlier
    version goes."""
    key = _parts_key(source)
    cache = cache_folder() / f"provenance-{_digest(path)}-{key[:DIGEST]}.marshal"
    made = lambda: _made_parts(source)
    return kept_files.kept(cache, carried(Path(path), key), key, _read_parts, made, per_machine=False)


def carry(assignment: Assignment) -> list[Path]:
    """Work out the parts of the modules of the assignment's folder that define its properties, and
    write them into that folder, beside its recordings."""
    modules = {Path(inspect.getsourcefile(p.body) or "") for p in assignment.properties}
    written = []
    for module in sorted(m for m in modules if m.parent == assignment.folder):
        source = module.read_text(encoding="utf-8")
        key = _parts_key(source)
        path = carried(module, key)
        kept_files.carry(path, key, _made_parts(source), per_machine=False)
        written.append(path)
    return written


def carried(module: Path, key: str | None = None) -> Path:
    """Where the folder of `module` carries its parts for this version of its source (`carry`)."""
    key = key or _parts_key(module.read_text(encoding="utf-8"))
    return kept_files.carried(module.parent, per_machine=False) / f"provenance-{module.stem}-{key[:DIGEST]}.zlib"


def _parts_key(source: str) -> str:
    """What a module's parts are made from: its source, the code that makes them (this module's own),
    and the Python that parses it, whose syntax trees are dumped differently from one version to the
    next."""
    made_by = hashlib.sha256(Path(__file__).read_bytes()).hexdigest()
    parsed_by = "{}.{}".format(*sys.version_info[:2])
    return hashlib.sha256(f"{PARTS_FORMAT}\0{made_by}\0{parsed_by}\0{source}".encode()).hexdigest()


def _made_parts(source: str) -> dict[str, Any]:
    """The parts of every decorated function at the top of a module whose text is `source`, by name: a
    property is made by its decorator (`@prop`), and an undecorated helper's parts are never asked for."""
    module = _Module(_module_tree(source))
    names = [n.name for n in module.tree.body if isinstance(n, ast.FunctionDef) and n.decorator_list]
    return {"parts": {name: module.parts(name) for name in names}}


def _read_parts(stored: dict[str, Any]) -> dict[str, tuple[str, str, list[str]]] | None:
    """The parts a cache file holds; None for contents not laid out as `_module_parts` lays them."""
    parts = stored.get("parts")
    if type(parts) is not dict:
        return None
    for name, entry in parts.items():
        if not (type(name) is str and type(entry) is tuple and len(entry) == 3):
            return None
        code, strategy, tolerance = entry
        if not (type(code) is str and type(strategy) is str and type(tolerance) is list):
            return None
        if not all(type(t) is str for t in tolerance):
            return None
    return parts


class _Module:
    """A module's syntax, read for its functions' parts: its top-level definitions by the names they
    bind, and the names each uses and its dump, worked out once however many functions use it."""

    def __init__(self, tree: ast.Module) -> None:
        self.tree = tree
        self.definitions = _definitions(tree)
        self._names: dict[int, frozenset[str]] = {}
        self._dumps: dict[int, str] = {}

    def parts(self, name: str) -> tuple[str, str, list[str]]:
        """`code`, `strategy` and `tolerance` of the last function named `name`."""
        node = _function(self.tree, name)
        assert node is not None
        given = [d for d in node.decorator_list if _called(d) == "given"]
        others = [d for d in node.decorator_list if _called(d) not in ("given", "prop")]
        stripped, tolerance = _without_tolerances(node)
        stripped.decorator_list = others
        return (
            _digest(self._dumped([stripped], self._used([stripped], name))),
            _digest(self._dumped(given, self._used(given, name))),
            tolerance,
        )

    def _used(self, nodes: list[Any], own: str) -> list[ast.stmt]:
        """The definitions `nodes` use, and those they use in turn, each once, in a fixed order."""
        seen: dict[int, ast.stmt] = {}
        pending = [_names(node) for node in nodes]
        while pending:
            for used in pending.pop():
                statement = self.definitions.get(used)
                if statement is not None and used != own and id(statement) not in seen:
                    seen[id(statement)] = statement
                    pending.append(self._names_in(statement))
        return sorted(seen.values(), key=lambda s: (s.lineno, s.col_offset))

    def _names_in(self, statement: ast.stmt) -> frozenset[str]:
        if id(statement) not in self._names:
            self._names[id(statement)] = _names(statement)
        return self._names[id(statement)]

    def _dumped(self, nodes: list[Any], used: list[ast.stmt]) -> str:
        """`nodes`, then the definitions they use, as text: a definition's dumped once."""
        for statement in used:
            if id(statement) not in self._dumps:
                self._dumps[id(statement)] = _dump(statement)
        return "\n".join([*map(_dump, nodes), *(self._dumps[id(s)] for s in used)])


def _compiled(code: types.CodeType) -> str:
    """A code object as text that is the same in every process: its bytecode and constants, a nested
    code object (a function defined inside) by its own, never by its repr, which holds its address."""
    consts = [_compiled(c) if isinstance(c, types.CodeType) else repr(c) for c in code.co_consts]
    return repr(code.co_code) + "(" + ",".join(consts) + ")"


@functools.lru_cache(maxsize=32)
def _module_tree(source: str) -> ast.Module:
    """The syntax tree of a module's source, parsed once per source."""
    return ast.parse(source)


def _function(tree: ast.Module, name: str) -> ast.FunctionDef | None:
    found = [n for n in tree.body if isinstance(n, ast.FunctionDef) and n.name == name]
    return found[-1] if found else None


def _definitions(tree: ast.Module) -> dict[str, ast.stmt]:
    """The module's top-level definitions by the names they bind (an import binds nothing here: what
    it brings comes with its own version or the assignment's digest)."""
    bound: dict[str, ast.stmt] = {}
    for statement in tree.body:
        if isinstance(statement, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            bound[statement.name] = statement
        elif isinstance(statement, (ast.Assign, ast.AnnAssign, ast.AugAssign)):
            targets = statement.targets if isinstance(statement, ast.Assign) else [statement.target]
            for target in targets:
                for name in ast.walk(target):
                    if isinstance(name, ast.Name):
                        bound[name.id] = statement
    return bound


def _names(node: ast.AST) -> frozenset[str]:
    """The names `node` reads or binds, wherever in it."""
    return frozenset(n.id for n in ast.walk(node) if isinstance(n, ast.Name))


def _called(decorator: ast.expr) -> str | None:
    """The name a decorator calls or is (`given` for `@given(...)` and `@hypothesis.given(...)`)."""
    target = decorator.func if isinstance(decorator, ast.Call) else decorator
    if isinstance(target, ast.Attribute):
        return target.attr
    return target.id if isinstance(target, ast.Name) else None


def _without_tolerances(node: ast.FunctionDef) -> tuple[ast.FunctionDef, list[str]]:
    """A copy of `node` without its tolerance arguments, and those arguments as written: a tolerance
    given, changed or taken away changes the tolerance alone."""
    copied = ast.parse(ast.unparse(node)).body[0]
    assert isinstance(copied, ast.FunctionDef)
    values = []
    for call in ast.walk(copied):
        if isinstance(call, ast.Call):
            values += [f"{k.arg}={ast.unparse(k.value)}" for k in call.keywords if k.arg in TOLERANCE_WORDS]
            call.keywords = [k for k in call.keywords if k.arg not in TOLERANCE_WORDS]
    return copied, values


def _dump(node: ast.AST) -> str:
    return ast.dump(node, include_attributes=False)


def _assignment_digest(assignment: Assignment) -> str:
    """The digest of the assignment's files, by their names within it, less its solution (named apart)
    and its recordings (which make a grade faster, never different). Read each time: an edit made
    within the file system's timestamp granularity, of the same size, still shows."""
    solution = assignment.solution.resolve() if assignment.solution is not None else None
    digest = hashlib.sha256()
    for path in assignment.files():
        relative = path.relative_to(assignment.folder)
        if relative.parts[0] == CARRIED or path.resolve() == solution:
            continue
        digest.update(f"{relative.as_posix()}\0".encode() + path.read_bytes() + b"\0")
    return digest.hexdigest()[:DIGEST]


def _file_digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()[:DIGEST]


@functools.cache
def _build() -> str:
    """The digest of gradekit's own Python source as installed."""
    root = Path(gradekit.__file__).parent
    digest = hashlib.sha256()
    for path in sorted(root.rglob("*.py")):
        digest.update(f"{path.relative_to(root).as_posix()}\0".encode() + path.read_bytes() + b"\0")
    return digest.hexdigest()[:DIGEST]


def _version(name: str) -> str:
    """The version of a library as imported, as the recorded examples' key reads it
    (gradekit.engine.speed.recorded): the module a grade ran, not whichever distribution's metadata a
    search of the path finds first."""
    module = importlib.import_module(name)  # the loaded module itself, where a grade has imported it
    return str(getattr(module, "__version__", "unknown"))


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:DIGEST]
