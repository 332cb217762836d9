"""`gradekit release`: what students start from, written from the assignment's own functions.py.

The starter .py is the stubs themselves under a header: the title, what holds for every function
(functions.py's docstring) and the command that checks them. The starter notebook opens with the
title, the description and the same text; then each function gets a Markdown cell (its contract, and
the names and hints of the checks it must pass) and a stub cell that raises NotImplementedError; a
last cell runs the check on what the kernel ran (gradekit.jupyter), naming the student build when
the check needs one. Nothing of the solution is ever written.
"""

from __future__ import annotations

import ast
from pathlib import Path

from gradekit.assignment import Assignment
from gradekit.instructor import contracts


def release(assignment: Assignment, out: Path, assignments: str = "") -> list[Path]:
    """Write NAME.py and NAME.ipynb into `out`; return their paths. `assignments` is the folder, relative
    to `out`, that holds the assignment's student build, when the check needs one."""
    import nbformat
    from nbformat import v4

    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    stubs = _stub_sources(assignment.folder / "functions.py")
    script = out / f"{assignment.name}.py"
    notebook = out / f"{assignment.name}.ipynb"
    found = f" --assignments {assignments}" if assignments else ""
    fill_in = f"Fill in each function, then run: gradekit check {script.name}{found}"
    intro = "\n\n".join(filter(None, [assignment.title, contracts.functions_doc(assignment), fill_in]))
    header = '"""' + intro.replace("\\", "\\\\").replace('"""', '\\"\\"\\"') + '\n"""\n'
    script.write_text(header + "\n\n" + "\n\n\n".join(stubs.values()) + "\n")

    heading = [f"# {assignment.title}", assignment.description, contracts.functions_doc(assignment)]
    cells = [v4.new_markdown_cell("\n\n".join(filter(None, heading)))]
    for name in stubs:
        cells.append(v4.new_markdown_cell(_function_markdown(assignment, name)))
        cells.append(v4.new_code_cell(stubs[name]))
    check = "Run the cell below: it grades the cells you have run, in the order you ran them, saved or not."
    cells.append(v4.new_markdown_cell(f"## Check your work\n\n{check} Save the notebook before you hand it in."))
    cells.append(
        v4.new_code_cell(f"%run -m gradekit.jupyter {assignment.name}{found}")
    )  # why a magic: gradekit/jupyter.py
    kernel = {"name": "python3", "display_name": "Python 3 (ipykernel)", "language": "python"}
    document = v4.new_notebook(cells=cells, metadata={"kernelspec": kernel, "language_info": {"name": "python"}})
    nbformat.validate(document)
    nbformat.write(document, str(notebook))
    return [script, notebook]


def _stub_sources(functions_py: Path) -> dict[str, str]:
    """Each public function and class of functions.py, exactly as written there: signature,
    docstring, stub (a class with every method's stub)."""
    source = functions_py.read_text()
    return {
        node.name: ast.get_source_segment(source, node) or ""
        for node in ast.parse(source).body
        if isinstance(node, (ast.FunctionDef, ast.ClassDef)) and not node.name.startswith("_")
    }


def _function_markdown(assignment: Assignment, name: str) -> str:
    """A function's Markdown cell: its signature and the checks `gradekit list --details` prints; a
    class's cell lists the checks of its methods too. The contract itself is the docstring of the stub
    in the code cell below, which the student reads where they write, and not a second time here."""
    members = [n for n in assignment.functions if n == name or n.startswith(f"{name}.")]
    own = [p for member in members for p in contracts.checks(assignment, member)]
    others = [p for member in members for p in contracts.used_by(assignment, member) if p not in own]
    return contracts.markdown(assignment.functions[name].signature, own, list(dict.fromkeys(others)))
