"""Collecting a class's git repositories as they stood at a deadline: `gradekit collect`.

With GitHub Classroom gone, a course hands out a repository per student and grades each as it stood at
the deadline. The roster (a CSV file with a header: `id`, `name`, `repository` and an optional `tag`)
names each student's repository, by URL or local path. Each is fetched into a bare clone of its own
(`git clone --bare`, then `git fetch` on a later run), never checked out: the commit graded is the
one the row's tag names, else the last commit of the default branch (HEAD) at or before the
deadline by committer date, and its tree is written file by file into SUBMISSIONS/ID, the folder a
class grade reads. A committer date is what the student's own git wrote: a course that must not
take it on trust has students push a tag, and collects by tag.

Repository content is hostile: git runs no hook (none is installed, core.hooksPath is /dev/null),
checks every object it receives (transfer.fsckObjects, over git's transport even for a local path),
never runs an `ext::` transport and never asks for a password; no checkout runs a filter or a
checkout hook, since there is none. Each path of the tree is written below SUBMISSIONS/ID, and only
there: a part that is empty, `.`, `..` or `.git` makes the student missing; a symbolic link whose
target leaves the student's tree, and a submodule, are left out with a note; links are written last,
so no file is written through one. A tree larger than MAX_BYTES or MAX_FILES is not written.

What cannot be collected is never a crash: a repository that cannot be fetched, has no commit at or
before the deadline, or no such tag, is a student `missing`, with the reason. Alongside, the roster
a class grade reads (`gradekit grade --roster`, gradekit.batch.roster): columns `id`, `name` and
`submission`, the student's folder within SUBMISSIONS, one row per student (a missing student's folder
does not exist, and the grade lists them as missing); and `collected.csv`, what each row
came to: status, commit, committer date, reason and notes. Once graded, each result's provenance
names its commit (`stamp_commits`).
"""

from __future__ import annotations

import csv
import io
import json
import os
import posixpath
import re
import shutil
import signal
import subprocess
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

from gradekit.batch.results import read_result, write_atomic
from gradekit.errors import UsageError

__all__ = [
    "Collected",
    "Repository",
    "collect",
    "parse_deadline",
    "read_roster",
    "stamp_commits",
    "write_manifest",
    "write_roster",
]

ROSTER_COLUMNS = ("id", "name", "repository", "tag")  # tag may be left out, or empty in a row
GRADE_COLUMNS = ("id", "name", "submission")  # the roster `gradekit grade --roster` reads
MANIFEST_COLUMNS = ("id", "name", "repository", "status", "commit", "date", "reason", "notes")
STUDENT_ID = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.@+-]*")  # a folder name on every system, never hidden
MAX_BYTES = 64 * 2**20  # the most a student's tree may hold, as written
MAX_FILES = 10_000
GIT_TIMEOUT = 300  # seconds one git command may run: a clone over a slow network
FETCHING = 8  # repositories fetched at once: git waits on the network, not on a core
# Every git command: no hook, no ext:: transport, every object received checked, no prompt.
GIT = (
    "git",
    "-c",
    "core.hooksPath=/dev/null",
    "-c",
    "protocol.ext.allow=never",
    "-c",
    "transfer.fsckObjects=true",
    "-c",
    "core.fsmonitor=false",
)
GIT_ENVIRONMENT = {"GIT_TERMINAL_PROMPT": "0", "GCM_INTERACTIVE": "never", "GIT_SSH_VARIANT": "ssh"}
REFSPECS = ("+refs/heads/*:refs/heads/*", "+refs/tags/*:refs/tags/*")  # a bare clone's refs, as the remote has them
SSH = "ssh -o BatchMode=yes"  # a key that needs a passphrase fails, rather than waiting on a terminal


@dataclass(frozen=True)
class Repository:
    """One row of the collecting roster."""

    id: str
    name: str
    url: str  # a URL git can fetch, or a local path
    tag: str | None = None


@dataclass(frozen=True)
class Collected:
    """What one student's repository came to: a tree in `path` at `commit`, or a `reason` it is missing."""

    repository: Repository
    path: Path  # SUBMISSIONS/ID, written only when collected
    commit: str | None = None
    date: str | None = None  # the commit's committer date, ISO 8601
    reason: str | None = None  # why nothing was collected
    notes: tuple[str, ...] = field(default=())  # what of the tree was left out, and why

    @property
    def status(self) -> str:
        return "missing" if self.reason is not None else "collected"


class _Missing(Exception):
    """One student's repository cannot be collected; the message says why, in one sentence."""


def read_roster(path: Path) -> list[Repository]:
    """The rows of the roster at `path` (see the module docstring); a UsageError naming the line of
    the first problem: a missing column, an empty or unusable id or repository, an id given twice."""
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as error:
        raise UsageError(f"the roster {path} cannot be read: {getattr(error, 'strerror', None) or error}") from None
    reader = csv.DictReader(io.StringIO(text))
    header = [(column or "").strip().lower() for column in reader.fieldnames or []]
    absent = [column for column in ROSTER_COLUMNS[:3] if column not in header]
    if absent:
        raise UsageError(
            f"the roster {path} has no {absent[0]!r} column: its first line names the columns "
            f"{', '.join(ROSTER_COLUMNS[:3])} (and optionally tag)"
        )
    reader.fieldnames = header
    rows: list[Repository] = []
    seen: set[str] = set()
    for row in reader:
        line = reader.line_num
        values = {key: (value or "").strip() for key, value in row.items() if isinstance(value, str)}
        student, url = values.get("id", ""), values.get("repository", "")
        if not STUDENT_ID.fullmatch(student) or student in (".", ".."):
            raise UsageError(
                f"line {line} of {path}: the id {student!r} is not a folder name (letters, digits, _ . @ + -)"
            )
        if student in seen:
            raise UsageError(f"line {line} of {path}: the id {student} is given twice")
        if not url or url.startswith("-"):
            raise UsageError(f"line {line} of {path}: {student} has no repository")
        seen.add(student)
        rows.append(Repository(student, values.get("name", ""), url, values.get("tag") or None))
    return rows


def parse_deadline(text: str) -> datetime:
    """The deadline `text` as an ISO 8601 date and time with its offset (2026-05-01T23:59:00+02:00, or
    Z for UTC); a UsageError for anything else, a time without its zone included."""
    try:
        deadline = datetime.fromisoformat(text.strip().replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        raise UsageError(
            f"--deadline {text!r} is not an ISO 8601 date and time, such as 2026-05-01T23:59:00+02:00"
        ) from None
    if deadline.tzinfo is None or deadline.utcoffset() is None:
        raise UsageError(f"--deadline {text}: give its time zone too, such as {text}+02:00 or {text}Z")
    return deadline


def collect(repositories: list[Repository], deadline: datetime, out: Path, clones: Path) -> list[Collected]:
    """Collect every repository: its bare clone in `clones`/ID.git, its tree at the deadline in `out`/ID;
    in roster order, a missing one with its reason."""
    out.mkdir(parents=True, exist_ok=True)
    clones.mkdir(parents=True, exist_ok=True)
    with ThreadPoolExecutor(max_workers=FETCHING) as pool:
        return list(pool.map(lambda r: _collect_one(r, deadline, out / r.id, clones / f"{r.id}.git"), repositories))


def _collect_one(repository: Repository, deadline: datetime, target: Path, clone: Path) -> Collected:
    """One repository collected, or missing with the reason; what was collected before is replaced."""
    _remove(target)
    try:
        _fetch(repository.url, clone)
        commit, date = _chosen(repository, deadline, clone)
        notes = _write_tree(clone, commit, target)
    except _Missing as missing:
        _remove(target)
        return Collected(repository, target, reason=str(missing))
    return Collected(repository, target, commit, date, notes=tuple(notes))


def _fetch(url: str, clone: Path) -> None:
    """The repository at `url`, fetched into the bare clone `clone`: cloned the first time, fetched
    again on a later run (cloned afresh where the roster names another repository now)."""
    source = str(Path(url).resolve()) if Path(url).is_dir() else url
    if clone.is_dir():
        try:
            if _git(clone, "config", "--get", "remote.origin.url").strip() == source:
                _git(clone, "fetch", "--quiet", "--prune", "--force", "origin", *REFSPECS)
                return
        except _Missing:
            pass
        _remove(clone)
    _git(None, "clone", "--bare", "--no-local", "--quiet", "--template=", "--", source, str(clone))


def _chosen(repository: Repository, deadline: datetime, clone: Path) -> tuple[str, str]:
    """(sha, committer date) of the commit to grade: the row's tag, which must be at or before the
    deadline too, else the default branch's last commit at or before it."""
    if repository.tag is not None:
        reference = f"refs/tags/{repository.tag}"
        try:
            _git(None, "check-ref-format", reference)
            sha = _git(clone, "rev-parse", "--verify", "--quiet", "--end-of-options", f"{reference}^{{commit}}")
        except _Missing:
            raise _Missing(f"there is no tag {repository.tag} on a commit") from None
        date = _date(clone, sha.strip())
        if datetime.fromisoformat(date) > deadline:
            raise _Missing(f"the tag {repository.tag} is on a commit of {date}, after the deadline")
        return sha.strip(), date
    try:
        listed = _git(clone, "rev-list", "--timestamp", "HEAD")
    except _Missing:
        raise _Missing("the repository has no commit on its default branch") from None
    limit = deadline.timestamp()
    dated = [(int(stamp), sha) for stamp, sha in (line.split() for line in listed.splitlines())]
    before = [(stamp, sha) for stamp, sha in dated if stamp <= limit]
    if not before:
        first = _date(clone, min(dated)[1]) if dated else "never"
        raise _Missing(f"no commit at or before the deadline (the first is of {first})")
    sha = max(before, key=lambda pair: pair[0])[1]  # max keeps the first of equal dates: the one git lists first
    return sha, _date(clone, sha)


def _date(clone: Path, sha: str) -> str:
    return _git(clone, "show", "-s", "--no-show-signature", "--format=%cI", sha).strip()


def _write_tree(clone: Path, commit: str, target: Path) -> list[str]:
    """Write the tree of `commit` into `target`, file by file, below it alone; the notes on what was left out."""
    entries = _entries(clone, commit)
    notes: list[str] = []
    files = [(path, sha) for mode, path, sha in entries if mode in ("100644", "100755")]
    links = [(path, sha) for mode, path, sha in entries if mode == "120000"]
    notes += [f"{_shown(path)} is a submodule, left out" for mode, path, _ in entries if mode == "160000"]
    partial = target.with_name(f".{target.name}.partial")
    _remove(partial)
    partial.mkdir()
    try:
        notes += _write_files(clone, files, links, partial)
    except OSError as error:  # a malformed tree: one path both a file and a folder, say
        _remove(partial)
        raise _Missing(f"its tree at {commit[:12]} could not be written ({error.strerror or error})") from None
    partial.rename(target)
    return notes


def _write_files(clone: Path, files: list[tuple[str, str]], links: list[tuple[str, str]], partial: Path) -> list[str]:
    """Write the files, then the links that stay inside the tree, into `partial`; notes on the links left out."""
    notes = []
    for path, data in zip([p for p, _ in files], _blobs(clone, [s for _, s in files])):
        destination = _inside(partial, path)
        handle = os.open(destination, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o644)
        with os.fdopen(handle, "wb") as written:
            written.write(data)
    for (path, _), data in zip(links, _blobs(clone, [s for _, s in links])):
        pointed = os.fsdecode(data)
        inside = posixpath.normpath(posixpath.join(posixpath.dirname(path), pointed))
        if pointed.startswith("/") or inside == ".." or inside.startswith("../") or "\0" in pointed:
            notes.append(f"{_shown(path)} is a symbolic link to {_shown(pointed)}, outside the repository, left out")
            continue
        try:
            os.symlink(pointed, _inside(partial, path))
        except OSError:
            notes.append(f"{_shown(path)} is a symbolic link that could not be written, left out")
    return notes


def _inside(root: Path, path: str) -> Path:
    """Where `path` is written in `root`, its folders made: an OSError where one of them is a link."""
    destination = root.joinpath(*path.split("/"))
    destination.parent.mkdir(parents=True, exist_ok=True)
    if not Path(os.path.realpath(destination.parent)).is_relative_to(os.path.realpath(root)):
        raise OSError(f"{_shown(path)} lies through a symbolic link")
    return destination


def _shown(path: str) -> str:
    """A path as a note shows it: bytes that are not UTF-8 replaced."""
    return path.encode("utf-8", "surrogateescape").decode("utf-8", "replace")


def _entries(clone: Path, commit: str) -> list[tuple[str, str, str]]:
    """(mode, path, sha) of every entry of the tree of `commit`; _Missing for a tree too large to
    write, or holding a path that could leave the student's folder."""
    listed = _git(clone, "ls-tree", "-r", "-z", "-l", "--full-tree", commit)
    entries, total = [], 0
    for record in filter(None, listed.split("\0")):
        meta, path = record.split("\t", 1)
        mode, _kind, sha, size = meta.split()
        parts = path.split("/")
        if any(part in ("", ".", "..") or part.lower() == ".git" for part in parts):
            raise _Missing(f"its tree holds the path {_shown(path)!r}, which could leave the student's folder")
        total += int(size) if size.isdigit() else 0
        entries.append((mode, path, sha))
    if total > MAX_BYTES or len(entries) > MAX_FILES:
        raise _Missing(
            f"its tree at {commit[:12]} holds {len(entries)} files of {total} bytes, over the "
            f"{MAX_FILES} files and {MAX_BYTES // 2**20} MiB collected"
        )
    return entries


def _blobs(clone: Path, shas: list[str]) -> Iterable[bytes]:
    """The contents of the blobs `shas`, in order, read by one `git cat-file --batch`."""
    if not shas:
        return []
    output = _run_git(clone, ["cat-file", "--batch"], ("\n".join(shas) + "\n").encode())
    blobs, at = [], 0
    for _ in shas:
        end = output.index(b"\n", at)
        header = output[at:end].split()
        if len(header) != 3 or header[1] != b"blob":
            raise _Missing("git could not read a file of its tree")
        size = int(header[2])
        blobs.append(output[end + 1 : end + 1 + size])
        at = end + 1 + size + 1
    return blobs


def _git(repository: Path | None, *args: str) -> str:
    return _run_git(repository, list(args), None).decode("utf-8", "surrogateescape")


def _run_git(repository: Path | None, args: list[str], given: bytes | None) -> bytes:
    """git's standard output, run on `repository` (a bare clone), or _Missing with the first line git
    said on failure. A git past GIT_TIMEOUT is stopped, with whatever it started (ssh, a helper)."""
    command = [*GIT, *(["--git-dir", str(repository)] if repository is not None else []), *args]
    environment = {**os.environ, **GIT_ENVIRONMENT}
    environment.setdefault("GIT_SSH_COMMAND", SSH)
    try:
        process = subprocess.Popen(
            command,
            stdin=subprocess.PIPE if given is not None else subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=environment,
            start_new_session=True,
        )
    except OSError as error:
        raise _Missing(f"git could not be started ({error.strerror or error})") from None
    try:
        output, said = process.communicate(given, timeout=GIT_TIMEOUT)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.communicate()
        raise _Missing(f"git {args[0]} did not finish within {GIT_TIMEOUT} s") from None
    if process.returncode != 0:
        lines = [line for line in said.decode("utf-8", "replace").splitlines() if line.strip()]
        raise _Missing(f"git {args[0]} failed: {lines[0].strip() if lines else f'exit code {process.returncode}'}")
    return output


def _remove(path: Path) -> None:
    """Remove `path`, a folder of this module's writing; a link in it is removed, never followed."""
    if path.is_symlink() or path.is_file():
        path.unlink()
    elif path.is_dir():
        shutil.rmtree(path)


def write_roster(path: Path, collected: list[Collected]) -> None:
    """The roster a class grade reads: `id`, `name`, `submission` (the student's folder within the
    submissions folder), every student in roster order."""
    rows = [[c.repository.id, c.repository.name, c.path.name] for c in collected]
    write_atomic(path, _csv([GRADE_COLUMNS, *rows]))


def write_manifest(path: Path, collected: list[Collected]) -> None:
    """What each row of the roster came to (MANIFEST_COLUMNS), for the course's records."""
    rows = [
        [c.repository.id, c.repository.name, c.repository.url, c.status, c.commit or "", c.date or ""]
        + [c.reason or "", "; ".join(c.notes)]
        for c in collected
    ]
    write_atomic(path, _csv([MANIFEST_COLUMNS, *rows]))


def _csv(rows: list[Iterable[str]]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    for row in rows:
        writer.writerow(row)
    return buffer.getvalue()


def stamp_commits(results: Path, collected: list[Collected]) -> int:
    """Name each collected student's commit in the provenance of their result in `results` (the
    `results/` folder of a class grade); how many results were stamped. A student without a result
    (missing, or not graded yet) is left."""
    stamped = 0
    for student in collected:
        path = results / f"{student.repository.id}.json"
        if student.commit is None or student.date is None or not path.is_file():
            continue
        data = read_result(path)
        provenance = data.get("provenance")
        if not isinstance(provenance, dict):
            continue
        provenance["commit"] = {"sha": student.commit, "date": student.date}
        write_atomic(path, _json(data))
        stamped += 1
    return stamped


def _json(data: object) -> str:
    return json.dumps(data, indent=2) + "\n"


def utc(deadline: datetime) -> str:
    """The deadline as the account prints it."""
    return deadline.astimezone(timezone.utc).isoformat().replace("+00:00", "Z")
