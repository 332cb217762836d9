"""A student build: what the students of an instructor's own assignment may hold to check their work.

The installed gradekit carries the built-in assignments' solutions, which are the course's public
code; an instructor's own solution must stay with the instructor and the autograder. A student build
of assignment NAME is the folder NAME/ with `__init__.py`, `functions.py`, `public.py`, the modules of
the folder that public.py imports (followed from its import statements, nothing else), and
answers.json, the solution's answers to the worked examples (inputs and returned values, nothing of
how they were worked out). Comments are cut from every file: they are the instructor's notes, as in
the templates of `gradekit new`. Graded with `--assignments`, it runs the public properties alone.

A build is proved before it is kept: it is loaded where the solution is not, and must define the
same public properties with the same answers. A public.py that reaches the solution or
properties.py fails here, with the import that did it, not on a student's machine.
"""

from __future__ import annotations

import ast
import io
import shutil
import tempfile
import tokenize
from pathlib import Path

from gradekit import worked
from gradekit.assignment import HIDDEN, PUBLIC, Assignment, load_folder
from gradekit.errors import AssignmentError, UsageError

__all__ = ["files", "without_comments", "write"]

ALWAYS = ("__init__.py", "functions.py", PUBLIC)


def write(assignment: Assignment, out: Path) -> Path:
    """Write the student build of `assignment` to OUT/NAME, replacing a former build there; return it."""
    if assignment.solution is None:
        raise UsageError(f"{assignment.folder} is already a student build of {assignment.name}")
    public = [p.name for p in assignment.public]
    if not public:
        raise UsageError(
            f"{assignment.name} has no public properties: write public.py (see docs/writing-assignments.md) "
            "for a check students can run themselves"
        )
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    target = out / assignment.name
    with tempfile.TemporaryDirectory(dir=out, prefix=".gradekit-build-") as scratch:
        built = Path(scratch) / assignment.name
        built.mkdir()
        for name in files(assignment):
            source = assignment.folder / name
            if source.is_dir():
                shutil.copytree(source, built / name, ignore=shutil.ignore_patterns("__pycache__"))
            else:
                (built / name).write_text(without_comments(source.read_text()))
        answers = worked.answers_file(assignment.worked_examples, assignment.worked_answers)
        (built / worked.ANSWERS).write_text(answers)
        _prove(assignment, built, public)
        for cache in list(built.rglob("__pycache__")):  # what loading the build compiled: a build is its sources
            shutil.rmtree(cache)
        if target.is_dir():
            shutil.rmtree(target)
        elif target.exists():
            raise UsageError(f"{target} is a file; the student build is a folder of that name")
        built.rename(target)
    return target


def files(assignment: Assignment) -> list[str]:
    """The files of the assignment's folder a student build holds: the three every build has, and each
    module of the folder that one of them imports, followed from module to module."""
    folder = assignment.folder
    wanted, queue = set(ALWAYS), list(ALWAYS)
    while queue:
        path = folder / queue.pop()
        for module in _local_imports(path, assignment):
            name = module if (folder / module).is_dir() else f"{module}.py"
            if name not in wanted and (folder / name).exists():
                wanted.add(name)
                if name.endswith(".py"):
                    queue.append(name)
    return sorted(wanted)


def without_comments(source: str) -> str:
    """`source` with every comment cut out: comments are notes to the instructor (docstrings are what
    students read), and a line that was only a comment goes with it."""
    lines = source.splitlines(keepends=True)
    for token in tokenize.generate_tokens(io.StringIO(source).readline):
        if token.type == tokenize.COMMENT:
            row, column = token.start
            kept = lines[row - 1][:column].rstrip()
            lines[row - 1] = kept + "\n" if kept else ""
    return "".join(lines)


def _local_imports(path: Path, assignment: Assignment) -> set[str]:
    """The modules of the assignment's folder that `path` imports; the solution or properties.py is
    an error, since a build that imports them cannot run where they are not."""
    secret = {HIDDEN.removesuffix(".py")}
    if assignment.solution is not None and assignment.solution.parent == assignment.folder:
        secret.add(assignment.solution.stem)
    solution_module = _solution_module_name(assignment)
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.ImportFrom) and node.level == 1:
            names = [node.module.partition(".")[0]] if node.module else [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            names = [node.module] if node.module and node.module == solution_module else []
        elif isinstance(node, ast.Import):
            names = [a.name for a in node.names if a.name == solution_module]
        else:
            continue
        for name in names:
            if name in secret or name == solution_module:
                raise AssignmentError(
                    f"{path} imports {name} (line {node.lineno}): students do not get it, so a student build "
                    "cannot import it; move what public.py needs into a module of its own"
                )
        found |= set(names)
    return found


def _solution_module_name(assignment: Assignment) -> str | None:
    """The module named by SOLUTION in the assignment's __init__.py, if any."""
    init = assignment.folder / "__init__.py"
    if not init.is_file():
        return None
    for node in ast.parse(init.read_text()).body:
        if not isinstance(node, ast.Assign) or not isinstance(node.value, ast.Constant):
            continue
        if any(getattr(t, "id", None) == "SOLUTION" for t in node.targets) and isinstance(node.value.value, str):
            return node.value.value
    return None


def _prove(assignment: Assignment, built: Path, public: list[str]) -> None:
    """Load the build where the solution is not, and check it is the assignment's public part."""
    try:
        loaded = load_folder(built)
    except AssignmentError as error:
        raise AssignmentError(f"the student build of {assignment.name} does not load on its own: {error}") from None
    if [p.name for p in loaded.properties] != public or loaded.worked_answers != assignment.worked_answers:
        raise AssignmentError(f"the student build of {assignment.name} does not hold its public properties")
