"""Notebooks: graded as Jupyter's "Run All" would run them, without a kernel.

Notebooks are written here as plain JSON, so each test controls the nbformat version and whether
cells have ids. The solution cell is examples/submission.py, which needs nothing but math.
"""

from __future__ import annotations

import json
import sys
import time
from dataclasses import replace
from pathlib import Path

import pytest

from gradekit.cli import main
from gradekit.config import GradeConfig, Limits
from gradekit.engine.source import cell_code, read, read_notebook
from gradekit.grader import grade
from gradekit.result import Status

ROOT = Path(__file__).resolve().parents[2]
SOLUTION = (ROOT / "examples" / "submission.py").read_text()
FAST = GradeConfig(max_examples=10, limits=Limits(call_timeout=1.0, cell_timeout=1.0))


def notebook(path: Path, *cells: str, minor: int = 5, ids: bool = True, language: str = "python") -> Path:
    """A notebook of code cells (a cell starting with '# md' is Markdown), as JSON written by hand."""
    made = []
    for number, source in enumerate(cells):
        if source.startswith("# md"):
            cell = {"cell_type": "markdown", "metadata": {}, "source": source[4:]}
        else:
            cell = {
                "cell_type": "code",
                "metadata": {},
                "execution_count": None,
                "outputs": [],
                "source": source.splitlines(keepends=True),
            }
        if ids:
            cell["id"] = f"cell-{number}"
        made.append(cell)
    document = {
        "nbformat": 4,
        "nbformat_minor": minor,
        "cells": made,
        "metadata": {"language_info": {"name": language}},
    }
    path.write_text(json.dumps(document, indent=1))
    return path


def graded(path: Path, config: GradeConfig = FAST, assignment=None):
    return grade(path, assignment, config)


def test_a_correct_notebook_with_magics_and_shell_escapes_gets_full_marks(tmp_path, cross_entropy):
    marker = tmp_path / "shell-ran.txt"
    path = notebook(
        tmp_path / "work.ipynb",
        "# md# My work\nSome *notes*.",
        f"%matplotlib inline\n%load_ext autoreload\n!echo ran > {marker}\nimport math",
        "%%time\n" + SOLUTION,
        "files = !ls\nmath.exp?\nfor i in range(2):\n    !echo {i}\n    print('loop', i)",
        "%%capture\nprint('captured')",
    )
    result = graded(path, assignment=cross_entropy)
    assert result.error is None and result.notes == ()
    assert result.score == result.max_score == 100
    assert not marker.exists()  # a shell escape is never run
    assert "loop 1" in result.output and "captured" in result.output


def test_a_non_python_cell_magic_is_left_out_with_a_note(tmp_path, cross_entropy):
    path = notebook(tmp_path / "work.ipynb", SOLUTION, "%%bash\necho hi\nexit 1", "%%writefile x.py\nprint(1)")
    result = graded(path, assignment=cross_entropy)
    assert result.score == 100
    assert result.notes == (
        "cell 2: a %%bash cell is not Python, so it was not run",
        "cell 3: a %%writefile cell is not Python, so it was not run",
    )


def test_failing_scratch_cells_are_noted_and_grading_goes_on(tmp_path, cross_entropy):
    path = notebook(
        tmp_path / "work.ipynb",
        "import math",
        "print(not_defined_yet)",
        SOLUTION,
        "def helper():\n    return 1 / 0",
        "helper()",
        "def broken(:\n    pass",
    )
    result = graded(path, assignment=cross_entropy)
    assert result.error is None and result.score == 100
    assert result.notes == (
        "cell 2 raised NameError: name 'not_defined_yet' is not defined (line 1)",
        "cell 5 raised ZeroDivisionError: division by zero (cell 4, line 2)",
        "cell 6 has a SyntaxError on line 1: invalid syntax; none of it ran",
    )


def test_the_last_definition_of_a_function_wins(tmp_path, cross_entropy):
    path = notebook(
        tmp_path / "work.ipynb",
        "def softmax(logits):\n    return [0.0 for _ in logits]",  # a first try, replaced below
        SOLUTION,
        "# md## A second go at perplexity",
        "import math\n\n\ndef perplexity(loss):\n    return 2 ** loss  # wrong base",
    )
    result = graded(path, assignment=cross_entropy)
    tests = {t.name: t for t in result.tests}
    assert tests["softmax_matches_reference"].status is Status.PASSED
    assert tests["perplexity_matches_reference"].status is Status.FAILED
    assert result.score == 100 - 10
    assert result.function_cells == {
        "softmax": 2,
        "cross_entropy_loss": 2,
        "sequence_loss": 2,
        "perplexity": 4,
        "softmax_cross_entropy_grad": 2,
    }
    assert result.function_lines["perplexity"] == 4  # the line within cell 4


def test_a_call_that_raises_names_the_cell_and_line(tmp_path, cross_entropy):
    path = notebook(tmp_path / "work.ipynb", SOLUTION, "def perplexity(loss):\n    raise ValueError('not yet')")
    result = graded(path, assignment=cross_entropy)
    failed = next(t for t in result.tests if t.name == "perplexity_matches_reference")
    assert failed.message == "`perplexity` raised ValueError: not yet (cell 2, line 2)"


@pytest.mark.parametrize(
    "cell, says",
    [
        ("while True:\n    pass", "cell 2 ran past the 1 s limit for one cell and was interrupted"),
        (
            "import time\nwhile True:\n    try:\n        time.sleep(10)\n    except BaseException:\n        pass",
            "cell 2 ran past the 1 s limit for one cell and would not stop: it was stopped and skipped",
        ),
        (
            "import os\nos._exit(4)",
            ("cell 2 ended the grader's worker (the worker process exited with code 4): it was stopped and skipped"),
        ),
    ],
)
def test_a_cell_that_never_ends_or_ends_the_worker_is_interrupted_or_skipped_and_the_cells_after_it_run(
    tmp_path, cross_entropy, cell, says
):
    path = notebook(
        tmp_path / "work.ipynb",
        SOLUTION,
        cell,
        "import math\n\n\ndef perplexity(loss):\n    return math.exp(loss)\nprint('after')",
    )
    started = time.monotonic()
    result = graded(path, assignment=cross_entropy)
    assert time.monotonic() - started < 20
    assert result.notes == (says,)
    assert result.score == 100 and result.function_cells["perplexity"] == 3
    assert "after" in result.output


def test_input_fails_at_once_instead_of_waiting(tmp_path, cross_entropy):
    path = notebook(tmp_path / "work.ipynb", "name = input('Your name: ')", SOLUTION)
    started = time.monotonic()
    result = graded(path, assignment=cross_entropy)
    assert time.monotonic() - started < 15
    assert result.notes == ("cell 1 raised EOFError: EOF when reading a line (line 1)",)
    assert result.score == 100


@pytest.mark.parametrize("minor, ids", [(0, False), (4, False), (5, False), (5, True)])
def test_nbformat_4_0_to_4_5_with_or_without_cell_ids(tmp_path, cross_entropy, minor, ids):
    path = notebook(tmp_path / "work.ipynb", "import math", SOLUTION, minor=minor, ids=ids)
    result = graded(path, assignment=cross_entropy)
    assert result.error is None and result.score == 100


def test_an_nbformat_3_notebook_is_upgraded(tmp_path, cross_entropy):
    document = {
        "nbformat": 3,
        "nbformat_minor": 0,
        "metadata": {"name": "old"},
        "worksheets": [
            {
                "metadata": {},
                "cells": [
                    {"cell_type": "markdown", "metadata": {}, "source": "An old notebook"},
                    {
                        "cell_type": "code",
                        "metadata": {},
                        "collapsed": False,
                        "language": "python",
                        "outputs": [],
                        "input": SOLUTION,
                    },
                ],
            }
        ],
    }
    path = tmp_path / "old.ipynb"
    path.write_text(json.dumps(document))
    assert graded(path, assignment=cross_entropy).score == 100


def test_the_assignment_is_inferred_from_a_notebook_too(tmp_path):
    path = notebook(tmp_path / "work.ipynb", SOLUTION)
    assert graded(path).assignment == "cross_entropy"


@pytest.mark.parametrize(
    "text, says",
    [
        ("{ this is not json", "is not a notebook: it is not valid JSON"),
        ('["a", "list"]', "is not a Jupyter notebook: it has no nbformat version"),
        ('{"cells": []}', "is not a Jupyter notebook: it has no nbformat version"),
        ('{"nbformat": 4, "nbformat_minor": 5, "metadata": {}, "cells": "nope"}', "is not a valid Jupyter notebook"),
        ('{"nbformat": 4, "nbformat_minor": 5, "metadata": {}}', "is not a valid Jupyter notebook"),
        (
            (
                '{"nbformat": 4, "nbformat_minor": 5, "metadata": {"kernelspec": {"language": "R", "name": "ir"}}, '
                '"cells": []}'
            ),
            "is a notebook in r; gradekit runs Python",
        ),
        pytest.param(
            "[" * 100_000 + "]" * 100_000, "is not a notebook gradekit can read: it is nested too deeply", id="deep"
        ),
        pytest.param(
            '{"nbformat": 4, "nbformat_minor": ' + "9" * 5000 + "}",
            "is not a notebook gradekit can read: it holds a number too long",
            id="a number of 5,000 digits",
        ),
    ],
)
def test_a_file_that_is_not_a_notebook_is_one_line_a_zero_and_a_report(tmp_path, text, says):
    path = tmp_path / "work.ipynb"
    path.write_text(text)
    out = tmp_path / "report.json"
    assert main(["check", str(path), "--assignment", "cross_entropy", "--format", "json", "--output", str(out)]) == 1
    report = json.loads(out.read_text())
    assert report["score"] == 0 and report["max_score"] == 100
    assert says in report["error"] and "\n" not in report["error"]
    assert all(t["status"] == "error" for t in report["tests"])


HOSTILE = [
    pytest.param(
        "[" * 100_000 + "]" * 100_000, "is not a notebook gradekit can read: it is nested too deeply", id="deep"
    ),
    pytest.param(
        '{"nbformat": 4, "nbformat_minor": 5, "cells": [], "metadata": {"a": ' + "[" * 900 + "]" * 900 + "}}",
        "is not a valid Jupyter notebook: it is nested too deeply",
        id="deep enough for nbformat alone",
    ),
    pytest.param(
        '{"nbformat": 4, "nbformat_minor": 5, "metadata": {"a": ' + "9" * 5000 + '}, "cells": []}',
        "is not a notebook gradekit can read: it holds a number too long",
        id="a number of 5,000 digits",
    ),
    pytest.param(
        '{"nbformat": 4, "nbformat_minor": 1e999, "metadata": {}, "cells": []}',
        "is not a valid Jupyter notebook: AssertionError",
        id="a number too large for a float",
    ),
    pytest.param(
        '{"nbformat": ' + "9" * 4000 + ', "nbformat_minor": 5, "metadata": {}, "cells": []}',
        "is not a valid Jupyter notebook: Unsupported nbformat version 999",
        id="a version of 4,000 digits",
    ),
    pytest.param(
        '{"nbformat": 3, "nbformat_minor": 0, "metadata": {}, "worksheets": [{"cells": [5]}]}',
        "is not a valid Jupyter notebook: The notebook is invalid",
        id="an old version holding no cells",
    ),
]


@pytest.fixture
def default_recursion_limit():
    """Python's own recursion limit, which `gradekit check` reads a notebook under: IPython, which
    another test may have imported into this process, raises it to 3000, deep enough for nbformat."""
    before = sys.getrecursionlimit()
    sys.setrecursionlimit(1000)
    yield
    sys.setrecursionlimit(before)


@pytest.mark.parametrize("text, says", HOSTILE)
def test_a_notebook_of_any_shape_is_one_sentence(text, says, default_recursion_limit):
    found = read_notebook(text, "work.ipynb")
    assert found.problem.startswith(f"work.ipynb {says}") and "\n" not in found.problem
    assert len(found.problem) < 300 and found.text == "" and found.cells is None


class Unsayable(Exception):
    def __str__(self):
        raise RecursionError("the message shows the notebook, as deep as it is")


@pytest.mark.parametrize(
    "error, says",
    [
        (RecursionError(), "it is nested too deeply"),
        (MemoryError(), "it is too large to read"),
        (Unsayable(), "Unsayable"),
    ],
)
def test_whatever_nbformat_raises_is_one_sentence(monkeypatch, error, says):
    def raises(text):
        raise error

    monkeypatch.setattr("gradekit.engine.source._normalised", raises)
    found = read_notebook('{"nbformat": 4, "nbformat_minor": 5, "metadata": {}, "cells": []}', "work.ipynb")
    assert found.problem == f"work.ipynb is not a valid Jupyter notebook: {says}"


@pytest.mark.parametrize(
    "cell",
    [
        "(" * 100_000 + ")" * 100_000,
        "x = " + "-" * 100_000 + "1",
        "x = " + "9" * 100_000,
        " " * 100_000 + "x",
        "x" + " " * 100_000 + "= y",
        "".join("    " * depth + "if x:\n" for depth in range(200)) + "    " * 200 + "pass",
        "x = 1\0",
    ],
    ids=["parentheses", "signs", "digits", "spaces", "an assignment", "blocks", "a null byte"],
)
def test_any_cell_source_is_read_at_once_and_never_raises(cell):
    """With a line magic, so the cell is compiled as it stands and each line tried by every IPython
    pattern: a line of thousands of spaces takes them time in proportion to its length."""
    started = time.monotonic()
    code, note = cell_code("%matplotlib inline\n" + cell)
    assert time.monotonic() - started < 5
    assert (code, note) == ("pass  # matplotlib inline\n" + cell, None)


def test_a_notebook_without_code_is_an_error(tmp_path, cross_entropy):
    path = notebook(tmp_path / "work.ipynb", "# md just words", "   \n")
    result = graded(path, assignment=cross_entropy)
    assert result.error == "work.ipynb has no code cells" and result.score == 0


def test_the_notebook_as_a_script_numbers_cells_by_their_place_in_the_notebook(tmp_path):
    path = notebook(tmp_path / "work.ipynb", "# md title", "a = 1\nb = 2\n\n\n", "# md more", "%%time\nc = 3")
    source = read(path)
    assert [(c.number, c.line, c.lines) for c in source.cells] == [(2, 1, 2), (4, 3, 2)]
    assert source.text == "a = 1\nb = 2\n\nc = 3\n"
    assert source.where(4) == "cell 4, line 2"


@pytest.mark.parametrize(
    "cell, code",
    [
        ("x = 5 % 2", "x = 5 % 2"),  # valid Python is never touched
        ("  %timeit f()", "  pass  # timeit f()"),
        ("out = %env HOME", "out = None  # env HOME"),
        ("np.exp??", "pass"),
        ("a = b != c\n!ls", "a = b != c\npass  # ls"),
    ],
)
def test_ipython_syntax_becomes_python_that_does_nothing(cell, code):
    assert cell_code(cell) == (code, None)


def test_the_text_report_shows_the_notes(tmp_path):
    path = notebook(tmp_path / "work.ipynb", SOLUTION, "1 / 0")
    out = tmp_path / "report.txt"
    assert main(["check", str(path), "--max-examples", "10", "--output", str(out)]) == 0
    report = out.read_text()
    assert "Score: 100 / 100" in report
    assert "Notes:\n  cell 2 raised ZeroDivisionError" in report


def test_the_cell_timeout_option_reaches_the_worker(tmp_path):
    path = notebook(tmp_path / "work.ipynb", SOLUTION, "import time\ntime.sleep(3)")
    out = tmp_path / "report.json"
    started = time.monotonic()
    main(
        ["check", str(path), "--max-examples", "10", "--cell-timeout", "0.5", "--format", "json", "--output", str(out)]
    )
    assert time.monotonic() - started < 10
    assert json.loads(out.read_text())["notes"] == ["cell 2 ran past the 0.5 s limit for one cell and was interrupted"]


def test_limits_default_the_cell_timeout():
    assert replace(Limits()).cell_timeout == 10.0


def test_a_slow_cell_that_ends_within_its_time_costs_nothing(tmp_path, cross_entropy):
    """A data-loading cell near the top takes longer than a .py file's top level and the whole grade's
    budget may, and still every function after it is graded."""
    path = notebook(tmp_path / "work.ipynb", "import time\ntime.sleep(2.5)", SOLUTION)
    limits = Limits(call_timeout=1.0, load_timeout=1.0, cell_timeout=4.0)
    result = graded(path, GradeConfig(max_examples=10, check_budget=2.0, limits=limits), cross_entropy)
    assert result.notes == () and result.score == 100


def test_the_cells_together_get_one_cell_s_time_more_than_a_file_s_top_level(tmp_path, cross_entropy):
    """Three cells that sleep 0.9 s each: the third would end about half a second past the 2 s the
    cells get together and their margin, so it is interrupted however late a busy grader looks."""
    nap = "import time\ntime.sleep(0.9)"
    path = notebook(tmp_path / "work.ipynb", SOLUTION, nap, nap, nap, "print('last')")
    limits = Limits(call_timeout=1.0, load_timeout=1.0, cell_timeout=1.0)
    result = graded(path, replace(FAST, limits=limits), cross_entropy)
    assert result.notes == (
        "cell 4 ran past the 2 s the notebook's cells get together and was interrupted",
        "cell 5 was not run: the notebook's cells had used the 2 s they get together",
    )
    assert result.score == 100 and "last" not in result.output
