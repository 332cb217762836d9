"""What a submission may import: the standard library, the packages every grader has, and those its
assignment declares.

The worker runs the grader's own Python, read-only, with gradekit and the reference out of reach
(gradekit.sandbox.process.BLOCKED_NAMES), so whatever is installed beside gradekit imports. What every
grader has, wherever it runs (a laptop, the course's server, the Gradescope image, a CI runner), is
the standard library and the numerical packages gradekit itself requires, OFFERED. An assignment may
declare more in its `__init__.py`, as pip requirements: `PACKAGES = ["scipy>=1.11"]`; `gradekit list
--details NAME` names them, `gradekit doctor` says whether this Python has them, and the Gradescope
bundle's setup.sh installs them. A submission importing a module the grader lacks is told, in one
sentence, which module and what it may import instead (`missing_module`).
"""

from __future__ import annotations

import ast
import re
from importlib import metadata
from pathlib import Path

from gradekit.errors import AssignmentError

__all__ = ["OFFERED", "declared", "installed", "missing_module", "offered"]

OFFERED = ("numpy", "sympy", "mpmath")  # gradekit's own requirements a submission may import
DECLARED = "PACKAGES"  # in an assignment's __init__.py
# A pip requirement of a package from the index: a name, extras, versions; nothing a shell or pip's
# own options would read otherwise (no path, URL, option or quote).
REQUIREMENT = re.compile(
    r"[A-Za-z0-9][A-Za-z0-9._-]*(\[[A-Za-z0-9._,-]+\])?( ?(==|>=|<=|~=|!=|<|>) ?[A-Za-z0-9.*+!]+,?)*"
)
NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*")
NO_MODULE = re.compile(r"No module named '([^']+)'")


def declared(folder: Path) -> tuple[str, ...]:
    """The requirements the assignment in `folder` declares in PACKAGES, read from its __init__.py's
    source (nothing of it runs); an AssignmentError for a PACKAGES that is not a list of them."""
    try:
        tree = ast.parse((folder / "__init__.py").read_text(encoding="utf-8"))
    except (OSError, SyntaxError, ValueError):
        return ()
    found: tuple[str, ...] = ()
    for statement in tree.body:
        if isinstance(statement, ast.Assign) and any(
            isinstance(t, ast.Name) and t.id == DECLARED for t in statement.targets
        ):
            try:
                value = ast.literal_eval(statement.value)
            except ValueError:
                value = None
            if not isinstance(value, (list, tuple)) or not all(
                isinstance(r, str) and REQUIREMENT.fullmatch(r) for r in value
            ):
                raise AssignmentError(
                    f"{folder.name}: {DECLARED} must be a list of pip requirements of packages on the index, "
                    "such as ['scipy>=1.11']"
                )
            found = tuple(value)
    return found


def name(requirement: str) -> str:
    """The distribution a requirement names: `scipy` for `scipy>=1.11`."""
    found = NAME.match(requirement)
    return found[0] if found else requirement


def installed(requirement: str) -> str | None:
    """The version of the distribution `requirement` names in the Python gradekit runs (the worker's), or None."""
    try:
        return metadata.version(name(requirement))
    except metadata.PackageNotFoundError:
        return None


def offered(packages: tuple[str, ...] = ()) -> str:
    """What a submission may import, in words: 'the standard library, numpy, sympy and mpmath'."""
    names = [*OFFERED, *(name(p) for p in packages if name(p) not in OFFERED)]
    return "the standard library, " + ", ".join(names[:-1]) + f" and {names[-1]}"


def missing_module(message: str) -> str | None:
    """`message` of a ModuleNotFoundError the worker reported, as one sentence naming the module and
    what a submission may import; None for one that names no module."""
    found = NO_MODULE.search(message)
    if found is None:
        return None
    module = found[1].split(".")[0]
    return (
        f"imports {module}, which the grader does not have: a submission may import {offered()}, "
        "and the packages its assignment declares (gradekit list --details NAME)"
    )
