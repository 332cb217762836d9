"""Assignments: what students write, how it is graded, and where both are found.

An assignment is a folder:

    NAME/__init__.py     title and description (docstring); SOLUTION, if the solution is a module
    NAME/functions.py    the functions students write: signatures, return types and docstrings
    NAME/properties.py   the graded properties (see gradekit.authoring)
    NAME/solution.py     the reference solution, unless __init__ names a module in SOLUTION
    NAME/known_right/    correct submissions in other styles: each must get full marks
    NAME/known_slow/     correct but slow on large inputs: every correctness point, and a scale
                         property lost on the function the docstring's first word names
    NAME/known_wrong/    one mistake each; the docstring's first word names the function to blame

The built-in assignments live in gradekit/assignments and are written exactly this way; other
folders are found through --assignments or GRADEKIT_ASSIGNMENTS.
"""

from __future__ import annotations

import ast
import importlib.util
import inspect
import sys
import typing
import zlib
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

from gradekit.authoring import Property
from gradekit.config import search_path
from gradekit.errors import AssignmentError


@dataclass(frozen=True)
class FunctionSpec:
    name: str
    signature: str
    returns: Any
    doc: str
    parameters: tuple[str, ...] = ()


@dataclass(frozen=True)
class Assignment:
    name: str
    title: str
    description: str
    folder: Path
    functions: dict[str, FunctionSpec]
    properties: tuple[Property, ...]
    solution: Path

    @property
    def default_seed(self) -> int:
        """A seed of its own per assignment, the same on every machine."""
        return zlib.crc32(self.name.encode())

    @property
    def max_score(self) -> float:
        return sum(p.points for p in self.properties)

    def known(self, kind: str) -> list[Path]:
        """The bank of submissions in known_right/, known_slow/ or known_wrong/, sorted by name."""
        return sorted((self.folder / kind).glob("*.py"))


def available(extra: list[str] | None = None) -> dict[str, Path]:
    """Every assignment that can be graded, by name; the first folder on the search path wins."""
    found: dict[str, Path] = {}
    for folder in search_path(extra):
        if not folder.is_dir():
            raise AssignmentError(f"the assignments folder {folder} does not exist")
        for candidate in sorted(folder.iterdir()):
            if (candidate / "properties.py").is_file():
                found.setdefault(candidate.name, candidate)
    return found


def load(name: str, extra: list[str] | None = None) -> Assignment:
    folders = available(extra)
    if name not in folders:
        raise AssignmentError(f"there is no assignment named {name!r} ({_not_found(name, folders, extra or [])})")
    return load_folder(folders[name])


def _not_found(name: str, folders: dict[str, Path], extra: list[str]) -> str:
    """What can be graded instead, and how to add the folder that holds `name`: an --assignments
    folder that is the assignment itself, not the folder holding it, is the likeliest slip."""
    built_in = search_path([])[-1]  # gradekit's own folder, last on every search path
    own = [n for n, folder in folders.items() if folder.parent != built_in]
    found = f"built in: {', '.join(n for n in folders if n not in own)}"
    found += f"; from your folders: {', '.join(own)}" if own else ""
    itself = next((Path(d) for d in extra if Path(d).name == name and (Path(d) / "properties.py").is_file()), None)
    if itself is None:
        return f"{found}; add the folder that holds it with --assignments DIR"
    return f"{found}; {itself} is that assignment itself: give the folder that holds it, --assignments {itself.parent}"


def load_folder(folder: Path) -> Assignment:
    name = folder.name
    package = _import_package(folder)
    functions = _function_specs(_import(f"{package.__name__}.functions", folder))
    module = _import(f"{package.__name__}.properties", folder)
    properties = tuple(v for v in vars(module).values() if isinstance(v, Property))
    _validate(name, functions, properties)
    doc = package.__doc__
    title, _, description = (doc or name).partition("\n")
    return Assignment(
        name=name,
        title=title.strip(),
        description=description.strip(),
        folder=folder,
        functions=functions,
        properties=properties,
        solution=_solution(folder, package),
    )


def infer(defined: set[str], extra: list[str] | None = None) -> Assignment:
    """The assignment whose functions the submission defines most of; ambiguity is an error."""
    scored = []
    for name, folder in available(extra).items():
        assignment = load_folder(folder)
        scored.append((len(defined & set(assignment.functions)), name, assignment))
    scored.sort(key=lambda item: (-item[0], item[1]))
    if not scored or scored[0][0] == 0:
        raise AssignmentError("no assignment matches the functions this submission defines; name one with --assignment")
    if len(scored) > 1 and scored[1][0] == scored[0][0]:
        raise AssignmentError(
            f"the submission fits both {scored[0][1]!r} and {scored[1][1]!r}; name one with --assignment"
        )
    return scored[0][2]


def _import_package(folder: Path) -> ModuleType:
    """The folder as a package of its own, so properties.py can say `from .solution import ...`.

    The name carries a hash of the folder's path: two folders with one name stay two assignments.
    """
    folder = folder.resolve()
    name = f"gradekit_assignment_{folder.name}_{zlib.crc32(str(folder).encode()):08x}"
    if name in sys.modules:
        return sys.modules[name]
    init = folder / "__init__.py"
    locations = [str(folder)]
    if init.exists():
        spec = importlib.util.spec_from_file_location(name, init, submodule_search_locations=locations)
    else:
        spec = importlib.util.spec_from_loader(name, loader=None, is_package=True)
    if spec is None:
        raise AssignmentError(f"cannot read the assignment folder {folder}")
    spec.submodule_search_locations = locations
    package = importlib.util.module_from_spec(spec)
    sys.modules[name] = package
    try:
        if spec.loader is not None:
            spec.loader.exec_module(package)
    except Exception as exc:
        del sys.modules[name]
        raise AssignmentError(f"{init} could not be loaded: {type(exc).__name__}: {exc}") from exc
    return package


def _import(module_name: str, folder: Path) -> ModuleType:
    try:
        return importlib.import_module(module_name)
    except Exception as exc:
        path = folder / f"{module_name.rpartition('.')[2]}.py"
        raise AssignmentError(f"{path} could not be loaded: {type(exc).__name__}: {exc}") from exc


def _function_specs(module: ModuleType) -> dict[str, FunctionSpec]:
    specs = {}
    for name, function in vars(module).items():
        if inspect.isfunction(function) and function.__module__ == module.__name__ and not name.startswith("_"):
            hints = typing.get_type_hints(function)
            if "return" not in hints:
                raise AssignmentError(f"{module.__file__}: `{name}` needs a return annotation")
            signature = inspect.signature(function)
            specs[name] = FunctionSpec(
                name=name,
                signature=f"{name}{signature}",
                returns=hints["return"],
                doc=inspect.getdoc(function) or "",
                parameters=tuple(signature.parameters),
            )
    return specs


def _validate(name: str, functions: dict[str, FunctionSpec], properties: tuple[Property, ...]) -> None:
    seen: set[str] = set()
    scale: dict[str, bool] = {}
    for p in properties:
        if p.name in seen:
            raise AssignmentError(f"{name}: two properties are named {p.name!r}")
        unknown = [f for f in p.functions if f not in functions]
        if unknown:
            raise AssignmentError(f"{name}: property {p.name!r} exercises {unknown}, not in functions.py")
        missing = [r for r in p.requires if r not in seen]
        if missing:
            raise AssignmentError(f"{name}: property {p.name!r} requires {missing}, not defined before it")
        timed = [r for r in p.requires if scale[r]]
        if timed and not p.scale:
            raise AssignmentError(
                f"{name}: property {p.name!r} requires {timed}, which are about speed: slow is not wrong, "
                "so no correctness property may wait on one"
            )
        seen.add(p.name)
        scale[p.name] = p.scale
    if not properties:
        raise AssignmentError(f"{name}: properties.py defines no @prop properties")


def _solution(folder: Path, package: ModuleType) -> Path:
    module_name = getattr(package, "SOLUTION", None)
    if module_name:
        spec = importlib.util.find_spec(module_name)
        if spec is None or spec.origin is None:
            raise AssignmentError(f"{folder.name}: SOLUTION names {module_name!r}, which cannot be found")
        return Path(spec.origin)
    return folder / "solution.py"


def blamed_function(path: Path) -> str:
    """The function a known-wrong submission's docstring blames: the word before its first colon."""
    doc = ast.get_docstring(ast.parse(path.read_text())) or ""
    return doc.partition(":")[0].strip()
