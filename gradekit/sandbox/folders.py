"""A worker's private folder: measured while it runs, and removed whatever is in it.

In every wall the private folder is a folder on the grader's disk (bubblewrap shows it at /tmp),
which the worker may fill with files of at most the file-size limit each: the grader measures it
while the worker runs (`usage`), with the files the worker removed but holds open (`unlinked`),
stops a worker past its caps, and removes the folder afterwards (`remove`), whatever the worker left
there: a tree thousands of levels deep, folders of mode 000, links, pipes, sockets. Neither follows a
link nor opens anything but a folder, and neither recurses in Python, so no depth is too deep for them.
"""

from __future__ import annotations

import itertools
import os
import stat
from contextlib import suppress
from dataclasses import dataclass, field

OPEN_FOLDER = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC
BLOCK = 512  # the unit of st_blocks
DEEPEST = 64  # folders `usage` looks into below the top; `remove` holds this many open at once


@dataclass(frozen=True)
class Usage:
    """What a folder holds: its entries (files, folders, links, anything) and the bytes all but its
    folders take on disk (allocated blocks, which show what a sparse or preallocated file holds where
    its size does not). A folder's own blocks grow only with its entries, which are capped apart, and
    are left out so that the empty mount points bubblewrap makes for a runtime under /tmp cost nothing."""

    entries: int
    bytes: int


def usage(folder: str, most: int) -> Usage:
    """What `folder` holds, counted until more than `most` entries are seen. A folder nested more
    than DEEPEST levels down, or one the grader cannot list, counts as more than `most`: a worker
    cannot hide what it wrote behind a depth or a mode. The worker is running, so nothing here is
    changed, and a folder it swaps for a link while it is counted only costs it its own count."""
    entries, taken = 0, 0
    pending = [(folder, 0)]
    while pending and entries <= most:
        path, depth = pending.pop()
        try:
            with os.scandir(path) as listing:
                found = list(listing)
        except OSError:
            return Usage(most + 1, taken)
        for entry in found:
            entries += 1
            with suppress(OSError):
                status = entry.stat(follow_symlinks=False)
                if not stat.S_ISDIR(status.st_mode):
                    taken += status.st_blocks * BLOCK
                elif depth >= DEEPEST:
                    return Usage(most + 1, taken)
                else:
                    pending.append((entry.path, depth + 1))
    return Usage(entries, taken)


def unlinked(pid: int, skipped: set[tuple[int, int]]) -> int:
    """The bytes on disk (allocated blocks) of the regular files with no name left that process `pid`
    holds open, each counted once, those of `skipped` (device, inode) left out.

    A file written, held open and removed keeps its blocks until its last descriptor closes, and no
    folder lists it: the folder's cap alone would let a worker hold RLIMIT_NOFILE files of the
    file-size limit each (a GiB) beside an empty folder. Limits whose product is the folder's cap
    would leave honest code 256 KiB files, or a handful of descriptors: so the files are counted
    instead, wherever the worker made them. Every
    thread's descriptors are looked at, since a thread cloned without CLONE_FILES has a table of its
    own. Where /proc cannot show them (a grader that is not root, facing a worker that is not
    dumpable) nothing is counted, and the file-size limit bounds each."""
    seen = set(skipped)
    taken = 0
    try:
        tasks = os.listdir(f"/proc/{pid}/task")
    except OSError:
        return 0
    for task in tasks:
        table = f"/proc/{pid}/task/{task}/fd"
        try:
            descriptors = os.listdir(table)
        except OSError:
            continue
        for fd in descriptors:
            try:
                status = os.stat(f"{table}/{fd}")
            except OSError:
                continue
            file = (status.st_dev, status.st_ino)
            if stat.S_ISREG(status.st_mode) and status.st_nlink == 0 and file not in seen:
                seen.add(file)
                taken += status.st_blocks * BLOCK
    return taken


@dataclass
class _Frame:
    """One open folder of `remove`'s walk: its descriptor, its name in the folder above, and the
    folders in it still to be emptied."""

    fd: int
    name: str
    folders: list[str] = field(default_factory=list)


def remove(folder: str) -> None:
    """Remove `folder` and everything in it, at any depth and whatever the modes and kinds of what is
    inside. Only once its worker is gone: nothing may change the tree while it is taken apart.

    The walk goes by descriptors, each name looked up in the folder above it, so no path grows past
    the system's limit; a folder deeper than DEEPEST is moved up to the top and emptied from there,
    so the walk never holds more than DEEPEST folders open."""
    top = _opened(None, folder)
    if top is None:
        return
    names = (f".gradekit-deep-{n}" for n in itertools.count())
    frames = [_frame(top, folder)]
    try:
        while frames:
            frame = frames[-1]
            if not frame.folders:
                frames.pop()
                os.close(frame.fd)
                if frames:
                    with suppress(OSError):
                        os.rmdir(frame.name, dir_fd=frames[-1].fd)
                continue
            name = frame.folders.pop()
            if len(frames) >= DEEPEST:
                moved = next(names)
                with suppress(OSError):
                    os.rename(name, moved, src_dir_fd=frame.fd, dst_dir_fd=top)
                    frames[0].folders.append(moved)
                continue
            inner = _opened(frame.fd, name)
            if inner is not None:
                frames.append(_frame(inner, name))
    finally:
        for frame in frames:
            os.close(frame.fd)
    with suppress(OSError):
        os.rmdir(folder)


def _frame(fd: int, name: str) -> _Frame:
    """The folder open at `fd`, its files (and links, pipes, sockets) unlinked, its folders listed."""
    frame = _Frame(fd, name)
    with suppress(OSError):
        for entry in os.listdir(fd):
            try:
                is_folder = stat.S_ISDIR(os.lstat(entry, dir_fd=fd).st_mode)
            except OSError:
                continue
            if is_folder:
                frame.folders.append(entry)
            else:
                with suppress(OSError):
                    os.unlink(entry, dir_fd=fd)
    return frame


def _opened(parent: int | None, name: str) -> int | None:
    """A descriptor of the folder `name` (in `parent`, or a path), made readable, writable and
    searchable for its owner first, so what is in it can be listed and removed; None if it is not a
    folder or cannot be opened."""
    with suppress(OSError):
        mode = os.lstat(name, dir_fd=parent).st_mode
        if stat.S_ISDIR(mode) and mode & 0o700 != 0o700:
            os.chmod(name, stat.S_IMODE(mode) | 0o700, dir_fd=parent)
    try:
        return os.open(name, OPEN_FOLDER, dir_fd=parent)
    except OSError:
        return None
