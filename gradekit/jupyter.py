"""The check cell of a starter notebook: grade the code this Jupyter kernel has run, saved or not.

`gradekit check NAME.ipynb` grades the saved file, so from inside Jupyter it would give 0 to cells
filled in and run but not yet saved, and `!gradekit` runs whichever gradekit the shell finds first,
not necessarily the kernel's. The starter's last cell is instead

    %run -m gradekit.jupyter NAME

which runs this module in the kernel, and so `check(NAME)`; `%run -m gradekit.jupyter NAME softmax`
checks the function `softmax` alone (any number of functions may follow NAME, before any option), as
`gradekit check --function softmax` does: a partial check, scored out of those functions' points.
The cells the kernel has run, as typed
and in the order they ran, go into a notebook in a private temporary folder, one cell per execution
count, and the kernel's own interpreter grades it (`sys.executable -m gradekit check`). The history
is IPython's raw one, as typed: its parsed one turns `!pip install x` into `get_ipython().system(...)`,
which would raise in the grader's worker and stop the rest of its cell.
The grading happens in that separate process and its sandboxed worker, never in the kernel; its
report is printed as the cell's output. `check` can also be called from Python.

Why a line magic rather than `from gradekit.jupyter import check`: the same cell is in the saved
notebook that gets handed in, and there it must do nothing. A grade of the saved notebook turns
IPython's line magics into `pass` without a word (gradekit.engine.source.cell_code), while importing gradekit
inside the sandbox fails and would add a note to every student's report. `%run` is built into
IPython, so the cell needs no extension loaded first and can be run again and again.

What is graded: every cell run so far but the one running the check. Magics and shell escapes in
them are handled as in any graded notebook (they become `pass`; a %%bash cell is left out with a
note). Earlier checks are left out: a cell that runs `%run -m gradekit...` or imports gradekit (a
check called from Python), which could not be imported where the code is graded anyway. A cell
edited but not run again counts as it was run; one run and then deleted still counts, as the kernel
still holds what it defined.

Outside IPython there is no history, and nothing is graded: the message says to run `gradekit check`
on the file instead. When nothing but the check has run, the message says to run the cells first.
The saved file is not compared with what ran: a kernel cannot reliably tell which file it belongs to.
Instead the output ends by reminding the student that what they hand in is the saved notebook.
"""

from __future__ import annotations

import itertools
import re
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from gradekit.commands.exit_codes import Exit
from gradekit.course_terms import counted

GRADED_NAME = "ran_in_this_kernel.ipynb"
# An earlier check: gradekit imported (`check` called from Python) or run with %run -m.
A_CHECK = re.compile(r"^[^\S\n]*(?:(?:from|import)\s+gradekit\b|%run\s+-m\s+gradekit\b)", re.MULTILINE)
USAGE = "usage: %run -m gradekit.jupyter ASSIGNMENT [FUNCTION ...] [gradekit check options]"
NO_KERNEL = (
    "gradekit.jupyter grades the cells a Jupyter kernel has run, and there is no kernel here: "
    "run `gradekit check FILE --assignment {name}` on your saved file instead."
)
NOTHING_RAN = (
    "Nothing has run in this kernel yet but this cell: run the cells with your functions "
    "(or Run All), then run this cell again."
)
REMINDER = (
    "This graded the cells as this kernel ran them. What you hand in is the saved notebook, "
    "run top to bottom: save it, and after Restart Kernel and Run All Cells it should score the same."
)


def check(assignment: str, *options: str, shell: Any = None, functions: Sequence[str] = ()) -> None:
    """Grade the cells the running IPython kernel has run against `assignment`, and print the report.

    `options` are passed to `gradekit check` as they are (`"--max-examples", "20"`); `functions`, where
    given, narrow the check to those functions (`--function`); `shell` is the IPython shell whose
    history is graded, the running one when not given.
    """
    shell = shell if shell is not None else _running_shell()
    if shell is None:
        print(NO_KERNEL.format(name=assignment), file=sys.stderr)
        return
    cells = ran_cells(shell.history_manager.input_hist_raw)
    ran = sum(1 for code in cells if code)
    if not ran:
        print(NOTHING_RAN, file=sys.stderr)
        return
    print(
        f"Grading the {counted(ran, 'cell')} this kernel has run, in the order they ran: "
        "cell N below is the cell run as [N]."
    )
    with tempfile.TemporaryDirectory(prefix="gradekit-") as folder:  # readable by this user alone
        path = write_notebook(cells, Path(folder) / GRADED_NAME)
        done = subprocess.run(
            [
                *(sys.executable, "-m", "gradekit", "check", path.name, "--assignment", assignment),
                *(option for name in functions for option in ("--function", name)),
                *_here(options),
            ],
            cwd=folder,
            capture_output=True,
            text=True,
        )
    print(done.stdout, end="")
    print(done.stderr, end="", file=sys.stderr)
    if done.returncode in (0, 1):  # graded; 2 is a usage error, already explained on stderr
        print(REMINDER)


def _here(options: tuple[str, ...]) -> list[str]:
    """The options with each --assignments folder made absolute: the check runs in a temporary folder,
    and the folder was named from the notebook's."""
    resolved = list(options)
    for i, option in enumerate(options):
        if option == "--assignments" and i + 1 < len(options):
            resolved[i + 1] = str(Path(options[i + 1]).resolve())
        elif option.startswith("--assignments="):
            resolved[i] = f"--assignments={Path(option.partition('=')[2]).resolve()}"
    return resolved


def ran_cells(history: list[str]) -> list[str]:
    """The code to grade, one entry per execution count from 1: IPython's history[0] is an empty
    placeholder and its last entry the cell running the check, both left out. An earlier check (a
    cell that imports gradekit or runs it with %run -m) is "": the numbering stays the kernel's."""
    return ["" if A_CHECK.search(code) else code for code in history[1:-1]]


def write_notebook(cells: list[str], path: Path) -> Path:
    """A notebook whose Nth cell is the Nth in `cells`, with N as its execution count; an empty cell
    keeps the numbering and is not run."""
    import nbformat
    from nbformat import v4

    notebook = v4.new_notebook(
        cells=[v4.new_code_cell(code, execution_count=number) for number, code in enumerate(cells, start=1)],
        metadata={"language_info": {"name": "python"}},
    )
    nbformat.write(notebook, str(path))
    return path


def _running_shell() -> Any:
    """The running IPython shell, or None outside one (or where IPython is not installed)."""
    try:
        from IPython import get_ipython
    except ImportError:
        return None
    return get_ipython()


def main(argv: list[str]) -> int:
    """`%run -m gradekit.jupyter NAME [FUNCTION ...] [gradekit check options]`: 0 once checked, 2 (a
    usage error) without NAME or outside a kernel, where there is nothing to grade (`python -m
    gradekit.jupyter`). The words after NAME up to the first option are the functions to check."""
    if not argv:
        print(USAGE, file=sys.stderr)
        return Exit.USAGE
    functions = list(itertools.takewhile(lambda word: not word.startswith("-"), argv[1:]))
    shell = _running_shell()
    check(argv[0], *argv[1 + len(functions) :], shell=shell, functions=functions)
    return Exit.PASSED if shell is not None else Exit.USAGE


if __name__ == "__main__":  # `%run` shows a nonzero SystemExit as a traceback: exit with it in a terminal only
    if (code := main(sys.argv[1:])) and _running_shell() is None:
        sys.exit(code)
