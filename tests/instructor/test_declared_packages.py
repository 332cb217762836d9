"""What a submission may import: said by `gradekit list --details`, told in one sentence when a file
imports what the grader lacks, and extended by an assignment's PACKAGES, which `gradekit doctor`
checks and the Gradescope bundle's setup.sh installs."""

from __future__ import annotations

import zipfile
from pathlib import Path

import nbformat
import pytest

from gradekit.cli import main
from gradekit.errors import AssignmentError
from gradekit.sandbox import host, packages

OFFERED = "the standard library, numpy, sympy and mpmath"
LACKING = "imports no_such_module_here, which the grader does not have: a submission may import " + OFFERED


def _course(tmp_path: Path, declared: str | None) -> Path:
    course = tmp_path / "course"
    assert main(["new", "label_smoothing", "--dir", str(course)]) == 0
    if declared is not None:
        init = course / "label_smoothing" / "__init__.py"
        init.write_text(init.read_text() + f"\nPACKAGES = {declared}\n")
    return course


def test_list_details_says_what_a_submission_may_import(tmp_path, capsys):
    assert main(["list", "--details", "cross_entropy"]) == 0
    assert f"A submission may import {OFFERED}; nothing else." in capsys.readouterr().out
    course = _course(tmp_path, '["pyyaml>=6", "scipy"]')
    capsys.readouterr()
    assert main(["--assignments", str(course), "list", "--details", "label_smoothing"]) == 0
    assert "may import the standard library, numpy, sympy, mpmath, pyyaml and scipy; nothing else." in (
        capsys.readouterr().out
    )


def test_an_import_the_grader_lacks_is_one_sentence_naming_the_module(grade_file):
    result = grade_file("import no_such_module_here.sub\n\ndef softmax(z):\n    return z\n")
    assert result.error == f"submission.py (line 1) {LACKING}, and the packages its assignment " + (
        "declares (gradekit list --details NAME)"
    )


def test_an_import_the_grader_lacks_in_a_notebook_cell_is_one_note(grade_file, tmp_path):
    notebook = nbformat.v4.new_notebook()
    notebook.cells = [nbformat.v4.new_code_cell("import no_such_module_here"), nbformat.v4.new_code_cell("x = 1")]
    path = tmp_path / "work.ipynb"
    nbformat.write(notebook, path)
    result = grade_file(path)
    assert any(note.startswith(f"cell 1 (line 1) {LACKING}") for note in result.notes), result.notes


def test_doctor_checks_every_declared_package(tmp_path):
    course = _course(tmp_path, '["pyyaml>=6", "no-such-package-here==1.0"]')
    checks = host.declared_packages([str(course)])
    assert [(c.name, c.status) for c in checks] == [("package", host.MISSING), ("package", host.OK)]
    assert checks[0].found == "no-such-package-here==1.0, which label_smoothing declares, is not installed"
    assert checks[0].remedy is not None and "-m pip install 'no-such-package-here==1.0'" in checks[0].remedy
    assert checks[1].found.startswith("pyyaml 6") and checks[1].found.endswith(", which label_smoothing declares")
    assert host.declared_packages(None) == []  # the built-in assignments declare none


def test_the_gradescope_setup_installs_the_declared_packages(tmp_path):
    course = _course(tmp_path, '["scipy>=1.11", "pyyaml"]')
    out = tmp_path / "autograder.zip"
    assert (
        main(
            ["--assignments", str(course), "gradescope", "build", "--assignment", "label_smoothing", "--out", str(out)]
        )
        == 0
    )
    setup = zipfile.ZipFile(out).read("setup.sh").decode()
    assert "/opt/gradekit/bin/python -m pip install ./gradekit-" in setup
    assert any(line.endswith(".whl 'scipy>=1.11' pyyaml") for line in setup.splitlines())


@pytest.mark.parametrize(
    "declared",
    ['"scipy"', '["scipy; rm -rf /"]', '["--index-url=http://evil"]', '["./local.whl"]', "[f()]"],
    ids=["string", "shell", "option", "path", "call"],
)
def test_packages_that_are_not_a_list_of_requirements_are_refused(tmp_path, declared):
    course = _course(tmp_path, declared)
    with pytest.raises(AssignmentError, match="PACKAGES must be a list of pip requirements"):
        packages.declared(course / "label_smoothing")
