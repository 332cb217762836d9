"""`gradekit release`: starter files that never show the solution and grade to 0 without crashing."""

from __future__ import annotations

import ast
import json
import re
import textwrap
from dataclasses import replace

import nbformat
import pytest

from gradekit import assignment
from gradekit.config import GradeConfig
from gradekit.grader import grade
from gradekit.instructor import contracts
from gradekit.instructor.starter import release

# What Markdown would read as emphasis or HTML in a line of prose (CommonMark leaves an `_` inside a
# word, as in m_hat, alone).
MARKUP = re.compile(r"[*<]|(?<![A-Za-z0-9\\])_|_(?![A-Za-z0-9])")


def shown(markdown: str) -> str:
    """The text a Markdown cell shows: each backslash escape read as the character it escapes."""
    return re.sub(r"\\(.)", r"\1", markdown)


def test_starter_files_show_functions_and_checks_but_not_the_solution(tmp_path, cross_entropy):
    script, notebook = release(cross_entropy, tmp_path)
    document = nbformat.read(str(notebook), as_version=4)
    nbformat.validate(document)
    text = "\n".join(cell.source for cell in document.cells)
    for name in cross_entropy.functions:
        assert f"def {name}(" in text and f"def {name}(" in script.read_text()
    for prop in cross_entropy.properties:
        if prop.functions[0] in cross_entropy.functions:
            assert prop.name in text and prop.hint in shown(text)
    solution = cross_entropy.solution.read_text()
    assert "log1p" in solution and "log1p" not in text + script.read_text()
    assert document.cells[-1].source == "%run -m gradekit.jupyter cross_entropy"  # see tests/engine/test_jupyter.py
    assert json.loads(notebook.read_text())["nbformat"] == 4


def test_the_starter_notebook_names_its_kernel_and_language(tmp_path, cross_entropy):
    _, notebook = release(cross_entropy, tmp_path)
    metadata = json.loads(notebook.read_text())["metadata"]
    assert metadata["kernelspec"] == {"name": "python3", "display_name": "Python 3 (ipykernel)", "language": "python"}
    assert metadata["language_info"]["name"] == "python"


def test_the_starter_script_grades_to_zero_saying_not_implemented(tmp_path, cross_entropy):
    script, _ = release(cross_entropy, tmp_path)
    result = grade(script, cross_entropy, GradeConfig(max_examples=10))
    assert result.error is None and result.score == 0
    assert "`softmax` is not implemented yet" in {t.message for t in result.tests}


def test_the_released_notebook_graded_as_is_scores_zero_not_a_crash(tmp_path, cross_entropy):
    _, notebook = release(cross_entropy, tmp_path)
    result = grade(notebook, cross_entropy, GradeConfig(max_examples=10))
    assert result.error is None and result.score == 0
    assert not [note for note in result.notes if note.startswith("cell")]  # the check cell does nothing here
    messages = {t.message for t in result.tests}
    for name in cross_entropy.functions:
        assert f"`{name}` is not implemented yet" in messages


@pytest.mark.parametrize("name", ["cross_entropy", "training_step", "autograd"])
def test_the_starter_files_carry_the_contract_list_details_prints(tmp_path, name):
    loaded = assignment.load(name)
    script, notebook = release(loaded, tmp_path)
    module = ast.parse(script.read_text())
    stubs = {node.name: node for node in module.body if isinstance(node, (ast.FunctionDef, ast.ClassDef))}
    for cls in [node for node in module.body if isinstance(node, ast.ClassDef)]:  # methods as "Class.method"
        stubs |= {f"{cls.name}.{node.name}": node for node in cls.body if isinstance(node, ast.FunctionDef)}
    cells = [cell.source for cell in nbformat.read(str(notebook), as_version=4).cells]
    listed = contracts.text(loaded)
    for function, spec in loaded.functions.items():
        assert (ast.get_docstring(stubs[function]) or "") == spec.doc
        assert textwrap.indent(spec.doc, "    ") in listed
        if "." in function:
            continue  # a method's checks are listed in its class's cell
        [cell] = [c for c in cells if c.startswith(f"## `{spec.signature}`")]
        (stub,) = ast.parse(cells[cells.index(cell) + 1]).body
        assert ast.get_docstring(stub) == spec.doc and spec.doc not in cell, "the contract is read once, in the stub"
        members = [f for f in loaded.functions if f == function or f.startswith(f"{function}.")]
        for prop in [p for member in members for p in contracts.checks(loaded, member)]:
            assert f"`{prop.name}` ({contracts.points(prop.points)}" in cell and prop.hint in shown(cell)
    assert contracts.functions_doc(loaded) in ast.get_docstring(module)
    assert contracts.functions_doc(loaded) in cells[0] and loaded.description in cells[0]
    assert textwrap.indent(contracts.functions_doc(loaded), "  ") in listed


def test_the_script_header_keeps_the_functions_docstring_as_written(tmp_path, cross_entropy):
    folder = tmp_path / "course"
    folder.mkdir()
    source = (cross_entropy.folder / "functions.py").read_text()
    docstring = '"""What holds for every function.\n\nA newline is `\\\\n`; a docstring ends at `\\"\\"\\"`.\n"""\n'
    (folder / "functions.py").write_text(docstring + source[source.index("\ndef ") :])
    moved = replace(cross_entropy, folder=folder)
    common = contracts.functions_doc(moved)
    assert "`\\n`" in common and '`"""`' in common
    script, _ = release(moved, tmp_path / "out")
    header = ast.get_docstring(ast.parse(script.read_text()))
    run = f"Fill in each function, then run: gradekit check {script.name}"
    assert header == f"{cross_entropy.title}\n\n{common}\n\n{run}"


def test_a_hint_in_a_notebook_shows_as_written(cross_entropy):
    hints = [p.hint for p in (*cross_entropy.properties, *assignment.load("training_step").properties)]
    for hint in [*hints, "g**2 over <b>, a \\ and `x`, _x_ but m_hat"]:
        escaped = contracts.escape(hint)
        assert shown(escaped) == hint
        bare = re.sub(r"\\.", "", escaped)  # the text with every escaped character taken out
        assert not MARKUP.search(bare) and "`" not in bare


@pytest.mark.parametrize("name", ["cross_entropy", "training_step", "autograd"])
def test_a_contract_reads_the_same_as_markdown(name):
    """Outside code spans and the indented blocks of formulas, no line of a contract holds what a
    notebook would render as emphasis, HTML, a heading or a quote."""
    loaded = assignment.load(name)
    for doc in [contracts.functions_doc(loaded), *(spec.doc for spec in loaded.functions.values())]:
        prose = "\n".join(line for line in doc.splitlines() if not line.startswith("    "))
        outside_code = re.sub(r"`[^`]*`", "", prose)
        assert not MARKUP.search(outside_code), MARKUP.search(outside_code)
        assert not re.search(r"^(#|>|\+ |\d+[.)] )", prose, re.MULTILINE)
