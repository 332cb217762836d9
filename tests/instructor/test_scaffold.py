"""`gradekit new`: the scaffold is a working assignment from the first minute."""

from __future__ import annotations

import ast
import io
import shutil
import tokenize
from pathlib import Path

import nbformat
import pytest

from gradekit import assignment
from gradekit.cli import main
from gradekit.config import GradeConfig
from gradekit.errors import UsageError
from gradekit.grader import grade
from gradekit.instructor import differential, scaffold, student_build
from gradekit.instructor.starter import release
from gradekit.sandbox.worker import decode

FAST = GradeConfig(max_examples=20)
# Words that only an instructor needs to read, in any text students are given.
INSTRUCTOR_WORDS = ("instructor", "selftest", "gradekit new", "solution", "properties.py", "known_", "todo", "your own")


def test_a_new_assignment_grades_its_own_banks(tmp_path):
    folder = scaffold.create("my_log_softmax", tmp_path)
    made = assignment.load("my_log_softmax", [str(tmp_path)])
    assert made.title.startswith("My log softmax")
    assert list(made.functions) == ["log_softmax"] and made.max_score == 10
    assert grade(made.solution, made, FAST).score == 10
    (right,) = made.known("known_right")
    no_max_shift, not_normalised, sorts_logits = made.known("known_wrong")
    assert grade(right, made, FAST).score == 10
    assert grade(not_normalised, made, FAST).score == 0
    assert grade(no_max_shift, made, FAST).score == 6  # caught by shift invariance alone
    assert grade(sorts_logits, made, FAST).score == 6  # caught by the hidden property alone
    assert {assignment.blamed_function(w) for w in made.known("known_wrong")} == {"log_softmax"}
    assert (folder / "properties.py").read_text().count("@prop") == 1
    assert [p.name for p in made.properties if p.public] == [
        "log_softmax_on_worked_examples",
        "log_softmax_shift_invariant",
    ]


def test_a_released_scaffold_shows_students_none_of_the_instructor_s_text(tmp_path):
    folder = scaffold.create("my_log_softmax", tmp_path / "course")
    made = assignment.load("my_log_softmax", [str(tmp_path / "course")])
    notes = _instructor_text(folder)
    assert any("instructor" in note for note in notes)  # the scaffold does speak to the instructor
    script, notebook = release(made, tmp_path / "starter")
    cells = [cell.source for cell in nbformat.read(str(notebook), as_version=4).cells]
    shown = "\n".join([script.read_text(), *cells])
    stubs = {node.name: node for node in ast.parse(script.read_text()).body if isinstance(node, ast.FunctionDef)}
    assert made.description in shown and ast.get_docstring(stubs["log_softmax"]) == made.functions["log_softmax"].doc
    assert [note for note in notes if note in shown] == []
    assert [word for word in INSTRUCTOR_WORDS if word in shown.lower()] == []


def test_a_student_build_of_the_scaffold_carries_none_of_the_instructor_s_text(tmp_path):
    folder = scaffold.create("my_log_softmax", tmp_path / "course")
    made = assignment.load("my_log_softmax", [str(tmp_path / "course")])
    notes = _instructor_text(folder)
    built = student_build.write(made, tmp_path / "handout")
    shown = "\n".join(path.read_text() for path in sorted(built.iterdir()))
    assert [note for note in notes if note in shown] == []
    assert [word for word in INSTRUCTOR_WORDS if word in shown.lower()] == []


def _instructor_text(folder: Path) -> list[str]:
    """Every comment in the scaffold, and the docstrings of what students never see: the hidden
    properties, the solution and the banks."""
    found = []
    for path in sorted(folder.rglob("*.py")):
        text = path.read_text()
        tokens = tokenize.generate_tokens(io.StringIO(text).readline)
        found += [t.string.lstrip("# ") for t in tokens if t.type == tokenize.COMMENT]
        if path.name not in ("__init__.py", "functions.py", "public.py"):
            nodes = [n for n in ast.walk(ast.parse(text)) if isinstance(n, (ast.Module, ast.FunctionDef))]
            found += [doc for node in nodes if (doc := ast.get_docstring(node))]
    return [line for line in found if line]


@pytest.mark.parametrize("name", ["Bad", "two words", "class", "9lives"])
def test_bad_names_are_refused(tmp_path, name):
    with pytest.raises(UsageError, match="lowercase Python identifier"):
        scaffold.create(name, tmp_path)


def test_an_existing_folder_is_never_overwritten(tmp_path):
    scaffold.create("taken", tmp_path)
    with pytest.raises(UsageError, match="already exists"):
        scaffold.create("taken", tmp_path)


def test_a_new_assignment_declares_inputs_across_its_contract_for_the_mutation_campaign(tmp_path):
    scaffold.create("my_log_softmax", tmp_path)
    made = assignment.load("my_log_softmax", [str(tmp_path)])
    drawn = differential.draw(made, 200, seed=0)
    assert drawn is not None and set(drawn.calls) == set(made.functions)
    vectors = [decode(encoded)[0] for encoded in drawn.calls["log_softmax"]]
    assert {1, 128, 256} <= {len(z) for z in vectors}
    assert any(max(z) - min(z) > 700 for z in vectors)  # exp overflows without the max shift
    assert any(len(set(z)) == 1 and len(z) > 1 for z in vectors)


def test_a_built_in_assignment_s_name_is_refused(tmp_path):
    with pytest.raises(UsageError, match="'cross_entropy' is a built-in assignment"):
        scaffold.create("cross_entropy", tmp_path)
    assert not (tmp_path / "cross_entropy").exists()


def test_the_commands_in_the_scaffold_s_notes_work_as_written(tmp_path, monkeypatch, capsys):
    """The notes give the command with the folder the assignment was written into, as `new` was given it."""
    monkeypatch.chdir(tmp_path)
    scaffold.create("my_log_softmax", Path("course"))
    notes = (tmp_path / "course" / "my_log_softmax" / "__init__.py").read_text()
    (selftest,) = (line[1:].strip() for line in notes.splitlines() if "gradekit selftest" in line)
    assert selftest == "gradekit selftest my_log_softmax --assignments course"
    assert main(selftest.split()[1:]) == 0
    assert "Grades well" in capsys.readouterr().out


def test_a_folder_that_replaces_a_built_in_assignment_is_named_on_stderr(tmp_path, capsys):
    shutil.copytree(assignment.load("cross_entropy").folder, tmp_path / "cross_entropy")
    assert main(["list", "--assignments", str(tmp_path)]) == 0
    said = f"gradekit: {tmp_path / 'cross_entropy'} takes the place of the built-in assignment 'cross_entropy'"
    assert capsys.readouterr().err == said + "\n"
