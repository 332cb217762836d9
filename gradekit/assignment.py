"""Assignments: what students write, how it is graded, and where both are found.

An assignment is a folder:

    NAME/__init__.py     title and description (docstring); SOLUTION, if the solution is a module
    NAME/functions.py    the functions students write: signatures, return types and docstrings
    NAME/public.py       optional: the properties students may read and run themselves, worked
                         examples among them (gradekit.worked); it may not import the solution
    NAME/properties.py   the hidden properties (see gradekit.authoring), graded after the public ones
    NAME/harness.py      optional: functions the properties call, run in the worker beside the
                         submission (its module is their global `submission`): where students
                         write a class, these build from it what a property asks for and answer
                         with plain data. Plain Python: it may import nothing of gradekit
    NAME/solution.py     the reference solution, unless __init__ names a module in SOLUTION
    NAME/known_right/    correct submissions in other styles: each must get full marks
    NAME/known_slow/     correct but slow on large inputs: every correctness point, and a scale
                         property lost on the function the docstring's first word names
    NAME/known_wrong/    one mistake each; the docstring's first word names the function to blame

A student build (`gradekit release`, see gradekit.instructor.student_build) is such a folder without
properties.py, the solution or the banks: public.py, the modules it needs, and answers.json, the
solution's answers to the worked examples. It grades the public properties alone.

The built-in assignments live in gradekit/assignments and are written exactly this way; other
folders are found through --assignments or GRADEKIT_ASSIGNMENTS.
"""

from __future__ import annotations

import ast
import hashlib
import importlib.machinery
import importlib.util
import inspect
import re
import sys
import typing
import zlib
from dataclasses import dataclass, field, replace
from pathlib import Path
from types import CodeType, ModuleType
from typing import Any

from gradekit import worked
from gradekit.authoring import Property
from gradekit.config import built_in_folder, search_path
from gradekit.errors import AssignmentError

PUBLIC = "public.py"
HIDDEN = "properties.py"
HARNESS = "harness.py"
INPUTS = "inputs.py"  # the mutation campaign's inputs (gradekit.instructor.differential), which no grade reads
MISTAKES = "mistakes.py"  # the known mistakes as models (gradekit.known_mistakes), read by the diagnosis alone
BANKS = ("known_right", "known_slow", "known_wrong")  # the self-test's files, which no grade reads


# The names functions.py gives its maps of function -> the arguments it may change in place, and those
# it may only set to zeros; every other argument of every call must come back as it was given (the
# worker compares each with its copy).
UPDATED_IN_PLACE = "UPDATED_IN_PLACE"
ZEROED_IN_PLACE = "ZEROED_IN_PLACE"


@dataclass(frozen=True)
class FunctionSpec:
    name: str
    signature: str
    returns: Any
    doc: str
    parameters: tuple[str, ...] = ()
    updates: tuple[str, ...] = ()  # the parameters it may change in place (functions.py's UPDATED_IN_PLACE)
    zeroes: tuple[str, ...] = ()  # those it may only set to zeros (ZEROED_IN_PLACE)


@dataclass(frozen=True)
class Assignment:
    name: str
    title: str
    description: str
    folder: Path
    functions: dict[str, FunctionSpec]
    properties: tuple[Property, ...]
    solution: Path | None  # None in a student build, which has the solution's answers alone
    harness: Path | None = None  # see HARNESS
    harness_functions: dict[str, FunctionSpec] = field(default_factory=dict)
    worked_examples: dict[str, worked.WorkedExamples] = field(default_factory=dict)  # public.py's, by name
    worked_answers: worked.Answers = field(default_factory=dict)  # the solution's answers to them

    @property
    def student_build(self) -> bool:
        return self.solution is None

    @property
    def built_in(self) -> bool:
        """One of gradekit's own assignments, which every installed gradekit has."""
        return self.folder.resolve().is_relative_to(built_in_folder())

    @property
    def public(self) -> tuple[Property, ...]:
        """The properties of public.py, which students may read and run: every one, in a student build."""
        return tuple(p for p in self.properties if p.public)

    def files(self) -> list[Path]:
        """The files a grade of it may read: its folder less the banks, caches and hidden files."""
        return sorted(
            path
            for path in self.folder.rglob("*")
            if path.is_file()
            and not any(
                part in BANKS or part == "__pycache__" or part.startswith(".")
                for part in path.relative_to(self.folder).parts
            )
        )

    @property
    def default_seed(self) -> int:
        """A seed of its own per assignment, the same on every machine."""
        return zlib.crc32(self.name.encode())

    @property
    def max_score(self) -> float:
        return sum(p.points for p in self.properties)

    @property
    def property_set(self) -> str:
        """A short digest of its properties' names, which tells the assignment narrowed to some of its
        properties (as tests narrow one) from the whole of it: what is kept for one (a recording, its
        known mistakes' answers) is no older version of what is kept for the other, and replaces none."""
        return hashlib.sha256("\0".join(p.name for p in self.properties).encode()).hexdigest()[:8]

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
            if _is_assignment(candidate):
                found.setdefault(candidate.name, candidate)
    return found


def shadowing(extra: list[str] | None = None) -> list[Path]:
    """The folders on the search path that take the place of a built-in assignment of the same name:
    allowed (a course may grade its own version), but never silently."""
    return [
        folder
        for name, folder in available(extra).items()
        if folder.parent.resolve() != built_in_folder() and is_built_in(name)
    ]


def is_built_in(name: str) -> bool:
    """Whether gradekit ships an assignment named `name`."""
    return _is_assignment(built_in_folder() / name)


def _is_assignment(folder: Path) -> bool:
    """A folder with properties: an instructor's (properties.py) or a student build (public.py alone)."""
    return (folder / HIDDEN).is_file() or (folder / PUBLIC).is_file()


def load(name: str, extra: list[str] | None = None) -> Assignment:
    folders = available(extra)
    if name not in folders:
        raise AssignmentError(f"there is no assignment named {name!r} ({_not_found(name, folders, extra or [])})")
    return load_folder(folders[name])


def _not_found(name: str, folders: dict[str, Path], extra: list[str]) -> str:
    """What can be graded instead, and how to add the folder that holds `name`: an --assignments
    folder that is the assignment itself, not the folder holding it, is the likeliest slip."""
    own = [n for n, folder in folders.items() if folder.parent.resolve() != built_in_folder()]
    found = f"built in: {', '.join(n for n in folders if n not in own)}"
    found += f"; from your folders: {', '.join(own)}" if own else ""
    itself = next((Path(d) for d in extra if Path(d).name == name and _is_assignment(Path(d))), None)
    if itself is None:
        return f"{found}; add the folder that holds it with --assignments DIR"
    return f"{found}; {itself} is that assignment itself: give the folder that holds it, --assignments {itself.parent}"


def load_folder(folder: Path) -> Assignment:
    return _load(folder, _functions(folder))


def _load(folder: Path, functions: dict[str, FunctionSpec]) -> Assignment:
    """The assignment in `folder`, whose functions.py has been read as `functions`."""
    name = folder.name
    package = _import_package(folder)
    harness = folder / HARNESS if (folder / HARNESS).is_file() else None
    harness_functions = _function_specs(_import(f"{package.__name__}.harness", folder)) if harness else {}
    build = not (folder / HIDDEN).is_file()
    solution = None if build else _solution(folder, package)
    examples, answers, public = _public_properties(folder, package, functions, solution)
    hidden = () if build else _properties(_import(f"{package.__name__}.properties", folder))
    properties = public + hidden
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
        solution=solution,
        worked_examples=examples,
        worked_answers=answers,
        harness=harness,
        harness_functions=harness_functions,
    )


def _properties(module: ModuleType) -> tuple[Property, ...]:
    return tuple(v for v in vars(module).values() if isinstance(v, Property))


def _public_properties(
    folder: Path, package: ModuleType, functions: dict[str, FunctionSpec], solution: Path | None
) -> tuple[dict[str, worked.WorkedExamples], worked.Answers, tuple[Property, ...]]:
    """public.py's worked examples, their answers and its properties, marked public, the worked
    examples made properties with the solution's answers: worked out now where the solution is at
    hand, read from answers.json in a student build."""
    if not (folder / PUBLIC).is_file():
        return {}, {}, ()
    module = _import(f"{package.__name__}.public", folder)
    examples = {n: v for n, v in vars(module).items() if isinstance(v, worked.WorkedExamples)}
    unknown = sorted({e.function for e in examples.values()} - set(functions))
    if unknown:
        raise AssignmentError(f"{folder / PUBLIC}: worked examples of {unknown}, not in functions.py")
    if not examples:
        answers: worked.Answers = {}
    elif solution is None:
        answers = _recorded_answers(folder, examples)
    else:
        returns = {n: spec.returns for n, spec in functions.items()}
        answers = worked.solution_answers(examples, _solution_module(package, solution, folder), returns)
    found = []
    for name, value in vars(module).items():
        if isinstance(value, Property):
            found.append(replace(value, public=True))
        elif isinstance(value, worked.WorkedExamples):
            parameters = functions[value.function].parameters
            found.append(worked.as_property(name, value, answers[name], parameters, module.__name__))
    return examples, answers, tuple(found)


def _recorded_answers(folder: Path, examples: dict[str, worked.WorkedExamples]) -> worked.Answers:
    path = folder / worked.ANSWERS
    try:
        text = path.read_text()
    except OSError:
        raise AssignmentError(f"{path} is missing: a student build carries its worked answers there") from None
    return worked.read_answers(text, examples, str(path))


def _solution_module(package: ModuleType, solution: Path, folder: Path) -> ModuleType:
    named = getattr(package, "SOLUTION", None)
    if named:
        return _import(named, folder)
    return _import(f"{package.__name__}.{solution.stem}", folder)


def infer(defined: set[str], extra: list[str] | None = None) -> Assignment:
    """The assignment whose functions the submission defines most of; ambiguity is an error. Only
    the chosen one is loaded whole: the others' functions.py is all the choice reads."""
    return _chosen(defined, _candidates(extra))


def inferred_from(source: str, extra: list[str] | None = None) -> Assignment:
    """`infer` from a source's text, where the file cannot run or before it has: from the names its
    def and class lines define (`named_in`) that some assignment declares, as a file may define
    millions and only those choose."""
    candidates = _candidates(extra)
    declared = {name for _, functions in candidates.values() for name in functions}
    return _chosen(named_in(source, declared), candidates)


def _candidates(extra: list[str] | None) -> dict[str, tuple[Path, dict[str, FunctionSpec]]]:
    """Every assignment that can be graded, by name, with its folder and its functions.py read."""
    return {name: (folder, _functions(folder)) for name, folder in available(extra).items()}


def _chosen(defined: set[str], candidates: dict[str, tuple[Path, dict[str, FunctionSpec]]]) -> Assignment:
    scored = []
    for name, (folder, functions) in candidates.items():
        matched = defined & set(functions)
        # Top-level names first: a training step written on a microgpt Value is no autograd submission.
        fit = (len({f for f in matched if "." not in f}), len(matched))
        scored.append((fit, name, (folder, functions)))
    scored.sort(key=lambda item: ((-item[0][0], -item[0][1]), item[1]))
    if not scored or scored[0][0][0] == 0:
        raise AssignmentError("no assignment matches the functions this submission defines; name one with --assignment")
    if len(scored) > 1 and scored[1][0] == scored[0][0]:
        raise AssignmentError(
            f"the submission fits both {scored[0][1]!r} and {scored[1][1]!r}; name one with --assignment"
        )
    return _load(*scored[0][2])


# A def or class line: its indentation (spaces and tabs), its keyword and its name.
_DEFINED = re.compile(r"^([ \t]*)(def|class)[ \t]+(\w+)", re.MULTILINE)


def named_in(source: str, among: set[str] | None = None) -> set[str]:
    """The function names a source defines, read from its text, those `among` alone where given: every
    def's name; and a top-level class's, and its methods' as "Class.method", as a loaded file names
    them (a microgpt `Value` is what autograd's functions are). A line's indentation is spaces and
    tabs: a pattern whose space could span lines would read a run of blank lines again from each of
    them, which a file of a million takes hours to do."""
    names = set()
    within = None  # the top-level class the lines read are in
    for indent, kind, name in map(re.Match.groups, _DEFINED.finditer(source)):
        if not indent:
            within = name if kind == "class" else None
        elif kind == "class":
            continue
        elif within is not None:
            method = f"{within}.{name}"
            if among is None or method in among:
                names.add(method)
        if among is None or name in among:
            names.add(name)
    return names


def _functions(folder: Path) -> dict[str, FunctionSpec]:
    """What students write for the assignment in `folder`, read from its functions.py."""
    package = _import_package(folder)
    module = _import(f"{package.__name__}.functions", folder)
    specs = _function_specs(module)
    updated, zeroed = (_in_place(module, declared, specs) for declared in (UPDATED_IN_PLACE, ZEROED_IN_PLACE))
    for name in {*updated, *zeroed}:
        specs[name] = replace(specs[name], updates=updated.get(name, ()), zeroes=zeroed.get(name, ()))
    return specs


def _in_place(module: ModuleType, declared: str, specs: dict[str, FunctionSpec]) -> dict[str, tuple[str, ...]]:
    """functions.py's map `declared` (see UPDATED_IN_PLACE), each name checked against the functions."""
    found = {}
    for name, arguments in getattr(module, declared, {}).items():
        unknown = [a for a in arguments if name not in specs or a not in specs[name].parameters]
        if unknown or isinstance(arguments, str):
            raise AssignmentError(f"{module.__file__}: {declared} names {name}({', '.join(unknown)}), not in it")
        found[name] = tuple(arguments)
    return found


def _import_package(folder: Path) -> ModuleType:
    """The folder as a package of its own, so properties.py can say `from .solution import ...`.

    The name carries a hash of the folder's path, so two folders with one name stay two assignments,
    and one of its Python files' contents, so an assignment edited since this process loaded it is
    loaded as it is now (what is graded is what its provenance names).
    """
    folder = folder.resolve()
    contents = zlib.crc32(b"".join(p.name.encode() + b"\0" + p.read_bytes() for p in sorted(folder.glob("*.py"))))
    stamp = f"{zlib.crc32(str(folder).encode()):08x}_{contents:08x}"
    name = f"gradekit_assignment_{folder.name}_{stamp}"
    if name in sys.modules:
        return sys.modules[name]
    init = folder / "__init__.py"
    locations = [str(folder)]
    # Every module of the folder is compiled from its source as it is now (see _FromSource).
    sys.path_importer_cache[str(folder)] = importlib.machinery.FileFinder(
        str(folder), (_FromSource, importlib.machinery.SOURCE_SUFFIXES)
    )
    if init.exists():
        loader = _FromSource(name, str(init))
        spec = importlib.util.spec_from_file_location(name, init, loader=loader, submodule_search_locations=locations)
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


class _FromSource(importlib.machinery.SourceFileLoader):
    """An assignment's module compiled from its file, never from cached bytecode: bytecode is checked
    against the file's size and its time in whole seconds, so an edit of the same size within a second
    (points=4 to points=8) would load the module as it was, and grade by what the provenance no
    longer names."""

    def get_code(self, fullname: str) -> CodeType:
        path = self.get_filename(fullname)
        return compile(self.get_data(path), path, "exec", dont_inherit=True)


def _import(module_name: str, folder: Path) -> ModuleType:
    try:
        return importlib.import_module(module_name)
    except Exception as exc:
        path = folder / f"{module_name.rpartition('.')[2]}.py"
        raise AssignmentError(f"{path} could not be loaded: {type(exc).__name__}: {exc}") from exc


def _function_specs(module: ModuleType) -> dict[str, FunctionSpec]:
    """The functions a module defines, and each class with its methods as "Class.method": what a
    submission must define, or (for a harness) what the properties may call."""
    specs = {}
    for name, value in vars(module).items():
        if name.startswith("_") or getattr(value, "__module__", None) != module.__name__:
            continue
        if inspect.isfunction(value):
            specs[name] = _spec(name, value, module)
        elif inspect.isclass(value):
            signature = inspect.signature(value.__init__)
            own = list(signature.parameters.values())[1:]  # all but self
            shown = str(signature.replace(parameters=own, return_annotation=inspect.Signature.empty))
            parameters = tuple(p.name for p in own)
            specs[name] = FunctionSpec(name, f"class {name}{shown}", value, inspect.getdoc(value) or "", parameters)
            for method, function in vars(value).items():
                if inspect.isfunction(function) and method != "__init__":
                    specs[f"{name}.{method}"] = _spec(f"{name}.{method}", function, module)
    return specs


def _spec(name: str, function: Any, module: ModuleType) -> FunctionSpec:
    annotations = function.__annotations__
    if "return" not in annotations:
        raise AssignmentError(f"{module.__file__}: `{name}` needs a return annotation")
    hints = typing.get_type_hints(function) if "." not in name else annotations  # a method's name its own class
    signature = inspect.signature(function)
    return FunctionSpec(
        name=name,
        signature=f"{name}{signature}",
        returns=hints["return"],
        doc=inspect.getdoc(function) or "",
        parameters=tuple(signature.parameters),
    )


def _validate(name: str, functions: dict[str, FunctionSpec], properties: tuple[Property, ...]) -> None:
    seen: set[str] = set()
    scale: dict[str, bool] = {}
    hidden = {p.name for p in properties if not p.public}
    for p in properties:
        if p.name in seen:
            raise AssignmentError(f"{name}: two properties are named {p.name!r}")
        unknown = [f for f in p.functions if f not in functions]
        if unknown:
            raise AssignmentError(f"{name}: property {p.name!r} exercises {unknown}, not in functions.py")
        missing = [r for r in (*p.requires, *p.after, *p.without) if r not in seen]
        if p.public and set(missing) & hidden:
            raise AssignmentError(
                f"{name}: public property {p.name!r} requires {sorted(set(missing) & hidden)}, in properties.py: "
                "students' own check could not hold it back; require a public property (worked examples) instead"
            )
        if missing:
            raise AssignmentError(f"{name}: property {p.name!r} requires {missing}, not defined before it")
        timed = [r for r in (*p.requires, *p.after, *p.without) if scale[r]]
        if timed and not p.scale:
            raise AssignmentError(
                f"{name}: property {p.name!r} requires {timed}, which are about speed: slow is not wrong, "
                "so no correctness property may wait on one"
            )
        seen.add(p.name)
        scale[p.name] = p.scale
    if not properties:
        raise AssignmentError(f"{name}: properties.py and public.py define no @prop properties")


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
