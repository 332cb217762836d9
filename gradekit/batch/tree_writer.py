"""A commit's tree, written from a bare clone into a student's folder, within caps: `gradekit collect`.

The tree is what a student pushed, shaped as they like: git shares trees, so a few KiB can name a
folder chain a thousand times over, or a folder a thousand levels deep. Nothing here recurses over
it: git lists the tree (`ls-tree -r -t`, each folder before what it holds) and the listing is read
as it comes, every entry counted as it would be written (folders, how deep, files, bytes, the
length of each path), and git stopped at the first cap passed: that is the reason the student is
missing, and nothing of theirs is written. Within the caps, folders are made in the listing's
order, then each file is written below them (never through a link: none is written).

No symbolic link is written, and each is named in a note, with its target. Where a link points
depends on the folder as laid out (a link to `.` followed by `../` leaves it, and so can a chain of
links each of which looks inside), a class grade never follows one anyway, and a TA's `zip -r` or a
plagiarism upload would: writing none is the one rule with nothing to get wrong. A submodule is
left out with a note too. A path part that is empty, `.`, `..` or `.git` makes the student missing.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from gradekit.batch.git_command import Uncollectable, git_bytes, streamed
from gradekit.reports.inert import terminal

__all__ = ["MAX_BYTES", "MAX_DEPTH", "MAX_FILES", "MAX_FOLDERS", "MAX_PATH", "remove", "shown", "write_tree"]

MAX_BYTES = 64 * 2**20  # the most a student's files may hold, as written (a file named twice counts twice)
MAX_FILES = 10_000  # files, links and submodules
MAX_FOLDERS = 1_000
MAX_DEPTH = 32  # folders within folders
MAX_PATH = 1024  # bytes of one path within the student's folder
LINK_SHOWN = 200  # characters of a link's target a note shows
MAX_NOTES = 20  # notes on what was left out, before the rest are counted
CHUNK = 2**16
FOLDER, LINK, SUBMODULE = "040000", "120000", "160000"


@dataclass(frozen=True)
class _Entry:
    mode: str
    path: str  # as git names it, bytes that are not UTF-8 kept as their escapes
    sha: str
    size: int


def write_tree(clone: Path, commit: str, target: Path) -> list[str]:
    """Write the tree of `commit` into `target` (which must not exist), below it alone; the notes on
    what was left out. Uncollectable, with nothing written, for a tree over a cap or one that
    cannot be written."""
    entries = _listing(clone, commit)
    partial = target.with_name(f".{target.name}.partial")
    remove(partial)
    partial.mkdir()
    try:
        notes = _write(clone, entries, partial)
    except OSError as error:  # a malformed tree: one path both a file and a folder, say
        remove(partial)
        raise Uncollectable(f"its tree at {commit[:12]} could not be written ({error.strerror or error})") from None
    partial.rename(target)
    if len(notes) > MAX_NOTES:
        return [*notes[:MAX_NOTES], f"and {len(notes) - MAX_NOTES} more left out"]
    return notes


def _listing(clone: Path, commit: str) -> list[_Entry]:
    """Every entry of the tree of `commit`, each folder before what it holds; Uncollectable at the
    first cap passed, or for a path that could leave the student's folder."""
    with streamed(clone, ["ls-tree", "-r", "-t", "-z", "-l", "--full-tree", commit]) as output:
        return _counted(commit, _records(output))


def _counted(commit: str, records: Iterable[bytes]) -> list[_Entry]:
    entries: list[_Entry] = []
    folders = files = size = 0
    for record in records:
        meta, raw = record.split(b"\t", 1)
        mode, _kind, sha, length = meta.decode("ascii").split()
        path = raw.decode("utf-8", "surrogateescape")
        parts = path.split("/")
        if any(part in ("", ".", "..") or part.lower() == ".git" for part in parts):
            raise Uncollectable(f"its tree holds the path {shown(path)!r}, which could leave the student's folder")
        entry = _Entry(mode, path, sha, int(length) if length.isdigit() else 0)
        folders += mode == FOLDER
        files += mode != FOLDER  # a link or a submodule is no file written, but a note
        size += entry.size if _is_file(mode) or (mode == LINK and entry.size <= MAX_PATH) else 0
        depth = len(parts) - (mode != FOLDER)
        over = (
            (len(raw) > MAX_PATH, f"a path longer than {MAX_PATH} bytes"),
            (folders > MAX_FOLDERS, f"more than {MAX_FOLDERS} folders"),
            (depth > MAX_DEPTH, f"folders more than {MAX_DEPTH} deep"),
            (files > MAX_FILES, f"more than {MAX_FILES} files and links"),
            (size > MAX_BYTES, f"more than {MAX_BYTES // 2**20} MiB of files"),
        )
        for passed, what in over:
            if passed:
                raise Uncollectable(f"its tree at {commit[:12]} holds {what}, over the cap collected")
        entries.append(entry)
    return entries


def _records(output: IO[bytes]) -> Iterator[bytes]:
    """The NUL-terminated records of `output`, as they come; Uncollectable for one too long to be a
    path within the caps (a record is its mode, type, sha and size, then the path)."""
    pending = b""
    while chunk := os.read(output.fileno(), CHUNK):
        pending += chunk
        *records, pending = pending.split(b"\0")
        for record in records:
            _within(record)
            yield record
        _within(pending)
    if pending:
        raise Uncollectable("git listed its tree cut short")


def _within(record: bytes) -> None:
    if len(record) > MAX_PATH + 128:
        raise Uncollectable(f"its tree holds a path longer than {MAX_PATH} bytes, over the cap collected")


def _is_file(mode: str) -> bool:
    return mode.startswith("100")


def _write(clone: Path, entries: list[_Entry], partial: Path) -> list[str]:
    """Folders, then files, into `partial`; the notes on the links, submodules and others left out."""
    notes: list[str] = []
    files = [e for e in entries if _is_file(e.mode)]
    links = [e for e in entries if e.mode == LINK]
    for entry in entries:
        if entry.mode == FOLDER:
            os.mkdir(_at(partial, entry.path))
        elif entry.mode == SUBMODULE:
            notes.append(f"{shown(entry.path)} is a submodule, left out")
        elif entry.mode != LINK and not _is_file(entry.mode):
            notes.append(f"{shown(entry.path)} is a git entry of mode {entry.mode}, left out")
    readable = [link for link in links if link.size <= MAX_PATH]
    contents = _blobs(clone, [e.sha for e in files + readable])
    for entry, data in zip(files, contents):
        handle = os.open(_at(partial, entry.path), os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o644)
        with os.fdopen(handle, "wb") as written:
            written.write(data)
    targets = dict(zip([e.path for e in readable], contents[len(files) :]))
    for link in links:
        pointed = targets.get(link.path)
        to = f" to {shown(os.fsdecode(pointed))[:LINK_SHOWN]}" if pointed is not None else ""
        notes.append(f"{shown(link.path)} is a symbolic link{to}, left out (no link is written)")
    return notes


def _at(root: Path, path: str) -> str:
    return os.path.join(root, *path.split("/"))


def _blobs(clone: Path, shas: list[str]) -> list[bytes]:
    """The contents of the blobs `shas`, in order, read by one `git cat-file --batch` (their sizes,
    counted already, are within MAX_BYTES)."""
    if not shas:
        return []
    output = git_bytes(clone, ["cat-file", "--batch"], ("\n".join(shas) + "\n").encode())
    blobs, at = [], 0
    for _ in shas:
        end = output.index(b"\n", at)
        header = output[at:end].split()
        if len(header) != 3 or header[1] != b"blob":
            raise Uncollectable("git could not read a file of its tree")
        size = int(header[2])
        blobs.append(output[end + 1 : end + 1 + size])
        at = end + 1 + size + 1
    return blobs


def shown(text: str) -> str:
    """Text as a note or a reason shows it, on one line: every character a terminal would act on (a
    control, an escape, a newline) and every byte that is not UTF-8 written as its escape."""
    return terminal(text, one_line=True)


def remove(path: Path) -> None:
    """Remove `path`, a file or a folder of this module's writing, however deep, without recursing:
    each folder's folders are emptied into it, a level at a time; a link is removed, never followed."""
    if not os.path.lexists(path):
        return
    if path.is_symlink() or not path.is_dir():
        path.unlink()
        return
    moved = 0
    while entries := list(os.scandir(path)):
        for entry in entries:
            if not entry.is_dir(follow_symlinks=False):
                os.unlink(entry.path)
                continue
            for inner in os.scandir(entry.path):
                while os.path.lexists(up := os.path.join(path, f".removed-{moved}")):
                    moved += 1
                os.rename(inner.path, up)
            os.rmdir(entry.path)
    os.rmdir(path)
