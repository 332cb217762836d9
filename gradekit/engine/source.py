"""Reading a submission file into source the worker can run, or one sentence saying why not.

A .py file is its own source. A notebook (.ipynb) is read with nbformat, upgraded to version 4,
normalised and validated, and becomes its code cells in order: `Source.cells`, with IPython's own
syntax neutralised (see `cell_code`). `Source.text` is then the notebook as one script, every cell
starting on its own `Cell.line`, so a line number reported by the worker names one cell and one line.

A folder holding one student's work is read as the file `pick` chooses in it, with a note naming
that file when the folder held others.

A symbolic link is never followed, nor a named pipe, socket or device opened: whether it is the
submission, a student's folder or an entry inside one, it is refused in one sentence (`refused`).
Followed, a link would have a classmate's file graded as one's own, or on Gradescope the installed
solution, which the grader can read and the student cannot.

The file is opened once, without following a link and without waiting on a pipe, checked to be a
regular file, and read as bytes: `Source.sha256` is their digest, so a caller that grades a `Source`
(a class grade sends it to its grader processes) can say exactly which bytes were graded.

Reading is bounded before any budget of the student's starts: a file past LARGEST bytes is one
sentence, and a notebook is parsed in a child process the kernel holds to READING_MEMORY and
READING_SECONDS, its outputs and attachments dropped as its JSON is read, so nbformat never parses
them. A class grade `located`s each file first (found, read and hashed once, its bytes kept unparsed)
and each grader parses its own (`parsed`), so a file that is costly to parse costs that student's
grade alone, and the bytes graded are the bytes hashed, never a second read of the file.
"""

from __future__ import annotations

import errno
import hashlib
import json
import os
import pickle
import re
import select
import signal
import stat
import time
from collections.abc import Callable
from contextlib import suppress
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from gradekit.engine.kept_files import OPEN_FLAGS
from gradekit.sandbox.process import preloads

SUFFIXES = (".py", ".ipynb")
# Cell magics whose body is Python that Jupyter runs (once or in a loop): the body runs once here.
PYTHON_CELL_MAGICS = {"time", "timeit", "capture", "prun"}
LINE_ESCAPE = re.compile(r"^(\s*)[%!]")  # %matplotlib inline, !pip install ...
# files = !ls, t = %timeit -o f(). The target starts with a character that is not a space, so no two
# parts of the pattern can take the same spaces: where they could, a line of thousands of spaces in a
# student's cell would keep the grader trying them for hours.
ASSIGNED_ESCAPE = re.compile(r"^(\s*[\w.\[\],][\w.\[\],\s]*?=\s*)[%!](?!=)")
HELP = re.compile(r"^(\s*)(\?\??[\w.]+|[\w.]+\?\??)\s*$")  # np.exp?  ??softmax
IGNORED_FOLDERS = {"__pycache__", ".ipynb_checkpoints", "__MACOSX"}
# A notebook with its plots saved stays well under this.
LARGEST = 64 * 2**20
# What a class grade keeps in memory of its students' files at once (see `held`): a class of large
# notebooks would otherwise hold LARGEST bytes for every student until each is graded.
LARGEST_HELD = 256 * 2**20
CHUNK = 2**20  # bytes read at a time
# What reading a notebook may take (`_bounded`): an honest one of LARGEST bytes, its outputs dropped as
# it is read, takes a few hundred MiB and a second or two; nbformat then sees its cells alone.
READING_MEMORY = 512 * 2**20
READING_SECONDS = 20
READING_WALL = 3 * READING_SECONDS  # a child that waits on nothing it can finish is ended too
# What an entry that is not a regular file is, as a message names it.
KINDS = (
    (stat.S_ISLNK, "a symbolic link"),
    (stat.S_ISFIFO, "a named pipe"),
    (stat.S_ISSOCK, "a socket"),
    (stat.S_ISCHR, "a device"),
    (stat.S_ISBLK, "a device"),
    (stat.S_ISDIR, "a folder"),
)


@dataclass(frozen=True)
class Cell:
    """One code cell: its number in the notebook (every cell counts, from 1) and its code."""

    number: int
    code: str
    line: int  # the line of Source.text this cell's code starts on
    lines: int
    note: str | None = None  # why some of it will not run, e.g. a %%bash cell


@dataclass(frozen=True)
class Source:
    """A submission as read: its source text, or the one-sentence problem that kept it from being read."""

    text: str
    filename: str
    problem: str | None = None
    cells: tuple[Cell, ...] | None = None  # a notebook's code cells; None for a .py file
    path: Path | None = None  # the file read, when there was one (a folder's pick)
    sha256: str | None = None  # the hex digest of the bytes read, when they could be read
    notes: tuple[str, ...] = ()  # what the student should know about the reading, e.g. which file was picked
    # Found and hashed but not parsed yet (see `located`): `parsed` reads it where it is graded.
    unread: bool = False
    data: bytes | None = field(default=None, repr=False)  # an unread file's bytes, where they travel with it

    @property
    def preload(self) -> tuple[str, ...]:
        """What its worker imports before it loads (`gradekit.sandbox.process.preloads`)."""
        return preloads(self.text)

    def where(self, line: int | None) -> str:
        """A line of `text` as the student finds it: "line 3", "cell 4, line 2". A report is of one
        file, named at its head, so the line does not name it again."""
        if not line:
            return self.filename
        if self.cells is None:
            return f"line {line}"
        cell = self.cell_at(line)
        if cell is None:
            return self.filename
        return f"cell {cell.number}, line {line - cell.line + 1}"

    def cell_at(self, line: int) -> Cell | None:
        for cell in self.cells or ():
            if cell.line <= line < cell.line + cell.lines:
                return cell
        return None


def read(path: Path, assignment: str | None = None) -> Source:
    """The submission at `path`: a .py file, a notebook, or a folder holding one of them (`pick`'s
    note, saying which file of several was graded, is among the `notes`); a link, named pipe, socket
    or device is one sentence, unread (see `refused`)."""
    return parsed(located(path, assignment))


def located(path: Path, assignment: str | None = None) -> Source:
    """The submission at `path` found (the file `pick` chooses, or why there is none), read once and
    hashed, not parsed: `unread`, with its bytes (`data`), what a class grade knows of each student
    before any is graded. The process that grades it parses those bytes (`parsed`), a grader here or a
    Dask worker on another machine alike, so a file that is costly to parse costs that student's grade
    alone; bytes let go (`let_go`) are read again there and must hash alike (`held`). Time and memory
    are bounded: at most LARGEST bytes."""
    return _found(Path(path), assignment)


def parsed(source: Source) -> Source:
    """`source` read: its text, and a notebook's cells, or why it cannot be graded. An `unread` one
    is parsed from the bytes it carries (`held`), which are the bytes hashed when it was found. A
    notebook is parsed in a child process whose memory and CPU time the kernel bounds (`_bounded`)."""
    if not source.unread:
        return source
    found = held(source)
    if found.problem is not None:
        return found
    return replace(
        _from_bytes(found.data or b"", source.filename), path=source.path, sha256=source.sha256, notes=source.notes
    )


def held(source: Source) -> Source:
    """An `unread` source with its bytes: those it carries, else (one whose bytes were let go, as a
    class grade lets go of all but LARGEST_HELD bytes of its students' files at once) its file read
    again, whose bytes must be those hashed when it was found: a file changed since gets one sentence
    saying so, never another's grade."""
    if not source.unread or source.data is not None:
        return source
    found = _file(source.path) if source.path is not None else replace(source, sha256=hashlib.sha256(b"").hexdigest())
    if found.problem is not None:
        return replace(source, problem=found.problem, unread=False)
    if found.sha256 != source.sha256:
        why = f"{source.filename} changed after it was found for this grade (its bytes are not those hashed then)"
        return replace(source, problem=f"{why}; grade it again", unread=False)
    return replace(source, data=found.data or b"")


def let_go(source: Source) -> Source:
    """`source` without the bytes it carries: `held` reads them again where they are needed."""
    return replace(source, data=None)


def _found(path: Path, assignment: str | None) -> Source:
    """The file at `path`, or the one `pick` chooses in the folder there, found, read and hashed,
    still `unread`; or why there is nothing to read."""
    why = refused(path)
    if why is not None:
        return Source("", path.name, why)
    if not path.is_dir():
        return _file(path)
    found, why = pick(path, assignment)
    if found is None:
        return Source("", path.name, why)
    return replace(_file(found), notes=(why,) if why else ())


def refused(path: Path) -> str | None:
    """Why the entry at `path` is not read, in one sentence: it is a symbolic link, a named pipe, a
    socket or a device. None for a file, a folder, or nothing there (said when it is read)."""
    try:
        mode = os.lstat(path).st_mode
    except OSError:
        return None
    if stat.S_ISREG(mode) or stat.S_ISDIR(mode):
        return None
    return _refusal(path, mode)


def _refusal(path: Path, mode: int) -> str:
    itself = "file" if path.suffix in SUFFIXES else "folder"
    return f"{_named(path)} is {_kind(mode)}; submit the {itself} itself"


def _kind(mode: int) -> str:
    return next((kind for test, kind in KINDS if test(mode)), "not a file")


def _file(path: Path) -> Source:
    """The file at `path` hashed, `unread`, with its bytes; or why it is not read."""
    if not path.is_file():
        return Source("", path.name, f"{path} does not exist or is not a file")
    if path.suffix not in SUFFIXES:
        return Source("", path.name, f"{path.name} is not a Python file (.py) or a Jupyter notebook (.ipynb)")
    found = _contents(path)
    if isinstance(found, str):
        return Source("", path.name, found, path=path)
    data, size, digest = found
    if size > LARGEST:
        return Source("", path.name, f"{path.name} is too large to be a submission (over {LARGEST:,} bytes)", path=path)
    return Source("", path.name, path=path, sha256=digest, unread=True, data=data)


def _contents(path: Path) -> tuple[bytes, int, str] | str:
    """The file's first LARGEST + 1 bytes, how many there are, and their SHA-256; or why they could
    not be read, in one sentence.

    The file is opened once, without following a link and without waiting on a pipe, and read only
    if what was opened is a regular file: a link or pipe put in its place since `refused` looked is
    refused all the same, and the bytes read are those of the file checked.
    """
    digest, chunks, size = hashlib.sha256(), [], 0
    try:
        with open(os.open(path, OPEN_FLAGS), "rb") as handle:
            mode = os.fstat(handle.fileno()).st_mode
            if not stat.S_ISREG(mode):
                return _refusal(path, mode)
            while size <= LARGEST and (chunk := handle.read(min(CHUNK, LARGEST + 1 - size))):
                digest.update(chunk)
                size += len(chunk)
                chunks.append(chunk)
    except OSError as error:  # e.g. no permission, or the file vanished since it was found
        if error.errno == errno.ELOOP:
            return _refusal(path, stat.S_IFLNK)
        return f"{path.name} could not be read ({error.strerror or error})"
    return b"".join(chunks), size, digest.hexdigest()


def _from_bytes(data: bytes, filename: str) -> Source:
    """A submission's text (and a notebook's cells) from its bytes, or why it has none."""
    if filename.endswith(".ipynb"):
        return _bounded(lambda: _notebook(data, filename), filename)
    try:
        return Source(_universal_newlines(data.decode("utf-8")), filename)
    except UnicodeDecodeError:
        return Source("", filename, f"{filename} is not UTF-8 text")


def _notebook(data: bytes, filename: str) -> Source:
    try:
        text = _universal_newlines(data.decode("utf-8"))
    except UnicodeDecodeError:
        return Source("", filename, f"{filename} is not UTF-8 text")
    return _read_notebook(text, filename)


def _universal_newlines(text: str) -> str:
    """CRLF and CR line ends as LF, as a text-mode read gives them: the bytes are read raw to be hashed."""
    return text.replace("\r\n", "\n").replace("\r", "\n")


def pick(folder: Path, assignment: str | None = None) -> tuple[Path | None, str]:
    """The submission file in a student's folder and a note naming the others; or None and why not.

    Every .py and .ipynb file in the folder and its subfolders is a candidate (hidden files and folders,
    __pycache__, .ipynb_checkpoints and __MACOSX excepted). A symbolic link is not (nor is a folder
    reached through one), nor a named pipe, socket or device: where one named like a candidate is all
    there is, the sentence returned says what it is. Each step keeps some of the candidates, and the
    first to leave exactly one picks it:
    1. all of them: a lone file is graded whatever its name;
    2. those named like the assignment's starter, NAME.ipynb or NAME.py (as `gradekit release` writes
       them), if there are any; else those named submission.ipynb or submission.py, if any; else all;
    3. of those, the ones nearest the top of the folder (a copy in a subfolder is a backup or a starter);
    4. of those, a notebook rather than the .py of the same name beside it (its "Save as Python" export).
    Files still tied after step 4 (two unrelated .py files, say) leave nothing graded, and the
    sentence returned names them. When a file is picked from several, the note says which and lists
    the others: "graded cross_entropy.ipynb; also found cross_entropy.py"; alone, the note is "".
    """
    candidates, unread = _walk(folder)
    if not candidates:
        return None, _nothing_to_pick(folder, unread)
    stem, named = _named_like(candidates, assignment)
    nearest = [p for p in named if len(p.parts) == min(len(q.parts) for q in named)]
    tied = [p for p in nearest if p.suffix == ".ipynb" or p.with_suffix(".ipynb") not in nearest]
    if len(tied) == 1:
        others = [p for p in candidates if p != tied[0]]
        if not others:
            return tied[0], ""
        return tied[0], f"graded {tied[0].relative_to(folder)}; also found {_listed(folder, others)}"
    if stem is not None:
        shown = _listed(folder, tied)
        return None, f"{_named(folder)} holds {len(tied)} files named {stem} ({shown}); keep only the one to grade"
    wanted = f"{assignment}.ipynb or {assignment}.py" if assignment else "submission.ipynb or submission.py"
    shown = _listed(folder, candidates)
    return None, f"{_named(folder)} holds {len(candidates)} files ({shown}); name the one to grade {wanted}"


def _walk(folder: Path) -> tuple[list[Path], list[tuple[Path, int]]]:
    """The candidates in `folder`, sorted, and the entries named like one that are not files (each
    with its mode, as lstat gives it). Links are not followed and hidden or ignored folders not
    entered; a folder that cannot be listed holds nothing. A stack, not recursion: a folder nested
    thousands deep is walked like any other."""
    candidates, unread = [], []
    stack = [folder]
    while stack:
        here = stack.pop()
        try:
            entries = list(os.scandir(here))
        except OSError:
            continue
        for entry in entries:
            path = here / entry.name
            if entry.name.startswith(".") or entry.name in IGNORED_FOLDERS:
                continue
            if entry.is_dir(follow_symlinks=False):
                stack.append(path)
            elif path.suffix not in SUFFIXES:
                continue
            elif entry.is_file(follow_symlinks=False):
                candidates.append(path)
            else:
                try:
                    unread.append((path, entry.stat(follow_symlinks=False).st_mode))
                except OSError:  # gone since the folder was listed
                    continue
    return sorted(candidates), sorted(unread)


def _nothing_to_pick(folder: Path, unread: list[tuple[Path, int]]) -> str:
    """Why a folder without a candidate has nothing to grade, naming what is there instead."""
    if not unread:
        return f"{_named(folder)} holds no .py or .ipynb file"
    if len(unread) == 1:
        path, mode = unread[0]
        what = f"{path.relative_to(folder)}, {_kind(mode)}; submit the file itself"
    else:
        shown = _listed(folder, [path for path, _ in unread])
        what = f"symbolic links or special files ({shown}); submit the files themselves"
    return f"{_named(folder)} holds no .py or .ipynb file but {what}"


def _named_like(candidates: list[Path], assignment: str | None) -> tuple[str | None, list[Path]]:
    """Step 2 of `pick`: (the name, the candidates named like the assignment), else like submission,
    else (None, all of them)."""
    for stem in ([assignment] if assignment else []) + ["submission"]:
        named = [p for p in candidates if p.stem == stem]
        if named:
            return stem, named
    return None, candidates


def _listed(folder: Path, paths: list[Path]) -> str:
    shown = ", ".join(str(p.relative_to(folder)) for p in paths[:5])
    return shown + (f" and {len(paths) - 5} more" if len(paths) > 5 else "")


def read_notebook(text: str, filename: str) -> Source:
    """A notebook's code cells, or one sentence saying why it is not a notebook gradekit can run.

    Whatever the file holds, this returns: JSON nested past the recursion limit, numbers of thousands
    of digits, any error nbformat raises, and a notebook that would take more memory or CPU time to
    read than any honest one (`_bounded`) are each one sentence. Outputs and attachments are dropped
    as the JSON is read (`_kept`): nbformat never sees them, and a notebook of saved outputs is read
    as cheaply as the same notebook cleared.
    """
    return _bounded(lambda: _read_notebook(text, filename), filename)


def _read_notebook(text: str, filename: str) -> Source:
    try:
        data = json.loads(text, object_pairs_hook=_kept)
    except json.JSONDecodeError as error:
        return Source("", filename, f"{filename} is not a notebook: it is not valid JSON ({error})")
    except ValueError:  # an integer of more digits than Python converts (sys.get_int_max_str_digits)
        return Source("", filename, f"{filename} is not a notebook gradekit can read: it holds a number too long")
    except (RecursionError, MemoryError) as error:
        return Source("", filename, f"{filename} is not a notebook gradekit can read: {_unreadable(error)}")
    if not isinstance(data, dict) or "nbformat" not in data:
        return Source("", filename, f"{filename} is not a Jupyter notebook: it has no nbformat version")
    language = _language(data)
    if language is not None and not language.startswith(("python", "ipython")):
        written_in = language or "another language"
        return Source("", filename, f"{filename} is a notebook in {written_in}; gradekit runs Python")
    try:
        notebook = _normalised(json.dumps(data))  # the notebook less its outputs and attachments
    except Exception as error:  # nbformat raises many kinds (ValidationError, KeyError, RecursionError, ...)
        return Source("", filename, f"{filename} is not a valid Jupyter notebook: {_unreadable(error)}")
    cells, script, line = [], [], 1
    for number, cell in enumerate(notebook.cells, start=1):
        if cell.cell_type != "code" or not cell.source.strip():
            continue
        code, note = cell_code(cell.source)
        code = code.rstrip("\n") + "\n"
        lines = code.count("\n")
        cells.append(Cell(number, code, line, lines, f"cell {number}: {note}" if note else None))
        script.append(code)
        line += lines
    return Source("".join(script), filename, cells=tuple(cells))


def _kept(pairs: list[tuple[str, Any]]) -> dict[str, Any] | None:
    """A JSON object of a notebook as it is kept: an output (it has an "output_type") is dropped the
    moment it is read, so saved outputs never pile up in memory; a cell keeps no outputs and no
    attachments (what a code cell printed or showed, and a Markdown cell's images), which grading
    never runs and nbformat then never parses."""
    found = dict(pairs)
    if "output_type" in found:
        return None
    if "cell_type" in found:
        if "outputs" in found:
            found["outputs"] = []
        found.pop("attachments", None)
    return found


def _bounded(read: Callable[[], Source], filename: str) -> Source:
    """What `read` makes, made in a child process the kernel holds to READING_MEMORY more memory than
    this one has and READING_SECONDS of CPU time: reading a notebook is the grader's own work, done
    before any budget of the student's starts, and a notebook shaped to cost more (millions of tiny
    cells or nested lists, which no honest notebook holds) costs one sentence. Where there is no fork
    (not POSIX), it is made here."""
    if not hasattr(os, "fork"):
        return read()
    import nbformat  # noqa: F401  (imported here once, not by every child)

    reading, writing = os.pipe()
    child = os.fork()
    if child == 0:  # pragma: no cover (the child ends in os._exit, before coverage is written)
        os.close(reading)
        _in_child(read, writing, filename)
    os.close(writing)
    return _answer(child, reading, filename)


def _in_child(read: Callable[[], Source], writing: int, filename: str) -> None:
    """The child of `_bounded`: limit itself, read, send the Source back pickled, and end."""
    code = 1
    try:
        _limit_reading()
        try:
            found = read()
        except MemoryError:
            found = Source("", filename, f"{filename} is not a notebook gradekit can read: it is too large to read")
        sent = pickle.dumps(found)
        with open(writing, "wb") as pipe:
            pipe.write(len(sent).to_bytes(8, "big") + sent)
        code = 0
    finally:
        os._exit(code)


def _limit_reading() -> None:
    import resource

    def lower(kind: int, value: int) -> None:
        _, hard = resource.getrlimit(kind)
        value = value if hard == resource.RLIM_INFINITY else min(value, hard)
        resource.setrlimit(kind, (value, value if kind != resource.RLIMIT_CPU else min(value + 1, hard)))

    lower(resource.RLIMIT_CORE, 0)
    lower(resource.RLIMIT_CPU, READING_SECONDS)  # past it, SIGXCPU ends the child
    try:
        with open("/proc/self/statm") as statm:
            size = int(statm.read().split()[0]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError):  # no /proc: the CPU limit bounds it
        return
    lower(resource.RLIMIT_AS, size + READING_MEMORY)


def _answer(child: int, reading: int, filename: str) -> Source:
    """The Source the child of `_bounded` sends (its length, then its pickle), or why it sent none. A
    child that has not sent it all by READING_WALL is ended, and it is reaped whatever happens, an
    interruption of this process included."""
    received = bytearray()
    deadline = time.monotonic() + READING_WALL
    try:
        while not _whole(received) and (left := deadline - time.monotonic()) > 0:
            if select.select([reading], [], [], left)[0]:
                chunk = os.read(reading, CHUNK)
                if not chunk:
                    break
                received += chunk
    finally:
        os.close(reading)
        if not _whole(received):
            with suppress(ProcessLookupError):
                os.kill(child, signal.SIGKILL)
        _, status = os.waitpid(child, 0)
    if _whole(received):
        found: Source = pickle.loads(received[8:])  # made by the child, gradekit's own code
        return found
    if (os.WIFSIGNALED(status) and os.WTERMSIG(status) == signal.SIGXCPU) or time.monotonic() >= deadline:
        why = f"reading it takes more than {READING_SECONDS} CPU-seconds"
    else:
        why = f"reading it takes more than {READING_MEMORY // 2**20:,} MiB of memory"
    return Source("", filename, f"{filename} is not a notebook gradekit can read: {why}")


def _whole(received: bytearray) -> bool:
    """Whether `received` holds a whole answer of the child of `_bounded`: its length, then that many bytes."""
    return len(received) >= 8 and len(received) == 8 + int.from_bytes(received[:8], "big")


def _unreadable(error: Exception) -> str:
    """Why a notebook could not be read, in a few words: what the limit it ran into means for the
    file, or the first line of the error's message. Making a message can fail too, as it may show the
    notebook's contents, which can be as deep or as large: then the error's type names it."""
    if isinstance(error, RecursionError):
        return "it is nested too deeply"
    if isinstance(error, MemoryError):
        return "it is too large to read"
    try:
        message = str(error).strip()
    except Exception:
        message = ""
    return message.splitlines()[0][:200] if message else type(error).__name__


def _language(data: dict) -> str | None:
    metadata = data.get("metadata")
    if not isinstance(metadata, dict):
        metadata = {}
    for key, entry in (("language_info", "name"), ("kernelspec", "language")):
        section = metadata.get(key)
        if isinstance(section, dict) and isinstance(section.get(entry), str):
            return section[entry].lower()
    return None


def _normalised(text: str):  # -> nbformat.NotebookNode
    """Read as nbformat 4 (older versions upgraded), give missing cell ids, and validate."""
    import warnings

    import nbformat
    from nbformat.validator import normalize

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # MissingIDFieldWarning: the ids are added just below
        notebook = nbformat.reads(text, as_version=4, capture_validation_error={})
        _, notebook = normalize(notebook)
        notebook = nbformat.from_dict(notebook)
        nbformat.validate(notebook)
    return notebook


def cell_code(source: str) -> tuple[str, str | None]:
    """A cell's source as plain Python, and a note when part of it will not run.

    IPython's own syntax is neither run nor an error, and keeps every line where it was:
    - a cell magic: %%time, %%timeit, %%capture and %%prun run their body once; any other
      (%%bash, %%html, %%writefile, ...) is not Python, so the cell is left out, with a note;
    - a line magic or shell escape (%matplotlib inline, !pip install x) becomes `pass`, and in an
      assignment (files = !ls) the value None;
    - a help request (np.exp?) becomes `pass`.
    A cell that is valid Python as it stands is never changed.
    """
    lines = source.split("\n")
    first = next((i for i, text in enumerate(lines) if text.strip()), 0)
    head = lines[first].strip()
    if head.startswith("%%"):
        magic = head[2:].split(maxsplit=1)[0] if head[2:].strip() else ""
        if magic not in PYTHON_CELL_MAGICS:
            return "\n" * len(lines), f"a %%{magic} cell is not Python, so it was not run"
        lines[first] = ""
        source = "\n".join(lines)
    plain = "\n".join(_plain(text) for text in source.split("\n"))
    # Compiled only where a line would change: the worker compiles every cell anyway, and the grader
    # reads a whole class before grading any of it.
    if plain == source or _compiles(source):
        return source, None
    return plain, None


def _plain(line: str) -> str:
    """One line with its IPython syntax made Python that does nothing."""
    if LINE_ESCAPE.match(line):
        return LINE_ESCAPE.sub(r"\1pass  # ", line)
    if HELP.match(line):
        return HELP.sub(r"\1pass", line)
    return ASSIGNED_ESCAPE.sub(r"\1None  # ", line)


def _compiles(source: str) -> bool:
    try:
        compile(source, "<cell>", "exec", dont_inherit=True)
    except Exception:  # SyntaxError, and for some sources ValueError, RecursionError, MemoryError, ...
        return False
    return True


def _named(folder: Path) -> str:
    """A folder's name as a message shows it: `.` and `..` have none of their own, so their real one."""
    return folder.name or folder.resolve().name or str(folder)
