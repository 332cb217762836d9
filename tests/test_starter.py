"""`gradekit release`: starter files that never show the solution and grade to 0 without crashing."""

from __future__ import annotations

import json

import nbformat

from gradekit.config import GradeConfig
from gradekit.grader import grade
from gradekit.starter import release


def test_starter_files_show_functions_and_checks_but_not_the_solution(tmp_path, cross_entropy):
    script, notebook = release(cross_entropy, tmp_path)
    document = nbformat.read(str(notebook), as_version=4)
    nbformat.validate(document)
    text = "\n".join(cell.source for cell in document.cells)
    for name in cross_entropy.functions:
        assert f"def {name}(" in text and f"def {name}(" in script.read_text()
    for prop in cross_entropy.properties:
        if prop.functions[0] in cross_entropy.functions:
            assert prop.name in text and prop.hint in text
    solution = cross_entropy.solution.read_text()
    assert "log1p" in solution and "log1p" not in text + script.read_text()
    assert document.cells[-1].source == f"!gradekit check {notebook.name} --assignment cross_entropy"
    assert json.loads(notebook.read_text())["nbformat"] == 4


def test_the_starter_script_grades_to_zero_saying_not_implemented(tmp_path, cross_entropy):
    script, _ = release(cross_entropy, tmp_path)
    result = grade(script, cross_entropy, GradeConfig(max_examples=10))
    assert result.error is None and result.score == 0
    assert "`softmax` is not implemented yet" in {t.message for t in result.tests}


def test_the_released_notebook_graded_as_is_scores_zero_not_a_crash(tmp_path, cross_entropy):
    _, notebook = release(cross_entropy, tmp_path)
    result = grade(notebook, cross_entropy, GradeConfig(max_examples=10))
    assert result.error is None and result.score == 0
    messages = {t.message for t in result.tests}
    for name in cross_entropy.functions:
        assert f"`{name}` is not implemented yet" in messages
