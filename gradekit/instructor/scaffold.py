"""`gradekit new`: a new assignment folder that already grades well, to be edited into the real one.

The templates in gradekit/instructor/templates/assignment hold a small but complete assignment (log_softmax): its
functions, two public properties (worked examples paying on their own, shift invariance gated on
them), one hidden property (the solution on drawn logits), a solution, one known-right and three
known-wrong submissions (one for each property to catch alone), so `gradekit selftest NAME` passes,
with no property idle, before the first edit, and the inputs its function must answer across its
contract (inputs.py), so `gradekit selftest NAME --mutants` judges what the properties miss.

Docstrings in `__init__.py`, `functions.py` and `public.py` are what `gradekit release` shows
students, so the templates write them for students; what they say to the instructor is in comments,
which no release copies (`tests/instructor/test_scaffold.py` releases a new assignment to prove it).
"""

from __future__ import annotations

import keyword
from pathlib import Path

from gradekit import assignment
from gradekit.errors import UsageError

TEMPLATES = Path(__file__).resolve().parent / "templates" / "assignment"
SUFFIX = ".template"


def create(name: str, directory: Path) -> Path:
    """Write DIRECTORY/NAME from the templates; refuse a bad name, a built-in assignment's name (the new
    folder would replace it on --assignments) or an existing folder."""
    if not name.isidentifier() or keyword.iskeyword(name) or not name.islower():
        raise UsageError(f"assignment name {name!r} must be a lowercase Python identifier, like label_smoothing")
    if assignment.is_built_in(name):
        raise UsageError(f"{name!r} is a built-in assignment, which a folder of that name would replace; pick another")
    target = Path(directory) / name
    if target.exists():
        raise UsageError(f"{target} already exists; choose another name or --dir")
    title = name.replace("_", " ").capitalize()
    for template in sorted(TEMPLATES.rglob(f"*{SUFFIX}")):
        destination = target / template.relative_to(TEMPLATES).with_suffix("")
        destination.parent.mkdir(parents=True, exist_ok=True)
        text = template.read_text().replace("{name}", name).replace("{title}", title).replace("{dir}", str(directory))
        destination.write_text(text)
    return target
