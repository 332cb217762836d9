"""Collecting a class's git repositories as they stood at a deadline: `gradekit collect`.

With GitHub Classroom gone, a course hands out a repository per student and grades each as it stood at
the deadline. The roster (a CSV file with a header: `id`, `name`, `repository` and an optional `tag`)
names each student's repository by URL (https, ssh, git; a local path or file:// URL only where the
course allows local repositories, below one folder it names: the course's own private repositories
are local too). Each is fetched into a bare clone of its own (`git clone --bare`, then `git fetch` on
a later run; gradekit.batch.git_command), never checked out: the commit graded is the one the row's
tag names, else the last commit of the default branch (HEAD) at or before the deadline by committer
date, and its tree is written file by file into SUBMISSIONS/ID, the folder a class grade reads
(gradekit.batch.tree_writer, within caps on folders, depth, files and bytes, and no link written).

A committer date is what the student's own git wrote, and a tag can be moved: the first collection
after the deadline pins each student's commit (gradekit.batch.pins), and a later run keeps it unless
told to recollect that student, naming every student whose commit would change. A repository or a
commit that two students share is flagged: a roster row can name a classmate's repository.

What cannot be collected is never a crash, and never another student's problem: anything that goes
wrong for one repository (git's error, a timeout, a cap, an exception) makes that student `missing`,
with the reason. Alongside, the roster a class grade reads (`gradekit grade --roster`,
gradekit.batch.roster): columns `id`, `name`, `submission` (the student's folder within SUBMISSIONS;
a missing student's is not there, and the grade lists them as missing), `shared` and `missing`
(why nothing was collected, which the gradebook and the feedback give); and
`collected.csv`, what each row came to. Once graded, each result's provenance names its commit
(`stamp_commits`).
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Collection, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from datetime import datetime, timezone
from pathlib import Path
from urllib.parse import unquote, urlsplit

from gradekit.batch.git_command import Uncollectable, fetched_over, git
from gradekit.batch.pins import Pin
from gradekit.batch.results_folder import read_result, write_atomic
from gradekit.batch.tree_writer import remove, shown, write_tree
from gradekit.errors import UsageError
from gradekit.reports.inert import csv_text, json_text

__all__ = [
    "Collected",
    "Repository",
    "collect",
    "parse_deadline",
    "read_repositories",
    "stamp_commits",
    "utc",
    "write_manifest",
    "write_roster",
]

ROSTER_COLUMNS = ("id", "name", "repository", "tag")  # tag may be left out, or empty in a row
# The roster `gradekit grade --roster` reads; `missing` says why nothing was collected, where nothing was.
GRADE_COLUMNS = ("id", "name", "submission", "shared", "missing")
MANIFEST_COLUMNS = (
    "id",
    "name",
    "repository",
    "status",
    "commit",
    "date",
    "fetched",
    "pinned",
    "changed",
    "shared",
    "reason",
    "notes",
)
STUDENT_ID = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.@+-]*")  # a folder name on every system, never hidden
FETCHING = 8  # repositories fetched at once: git waits on the network, not on a core
REFSPECS = ("+refs/heads/*:refs/heads/*", "+refs/tags/*:refs/tags/*")  # a bare clone's refs, as the remote has them
PINNED = "refs/gradekit/pinned"  # the pinned commit, kept in the clone whatever the student pushes
CARRIED = "+refs/gradekit/*:refs/gradekit/*"  # what a clone made afresh takes from the one it replaces
CLONE = ("clone", "--bare", "--no-local", "--quiet", "--template=")  # over git's transport, even for a path
SCHEME = re.compile(r"([A-Za-z][A-Za-z0-9+.-]*)://")


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
    fetched: str | None = None  # when the commit was fetched, UTC: a kept pin's time
    pin: Pin | None = None  # the pin this student has after this run
    changed: str | None = None  # how the commit the deadline takes now differs from the pinned one
    shared: str | None = None  # whom the repository or the commit is shared with

    @property
    def status(self) -> str:
        return "missing" if self.reason is not None else "collected"


@dataclass(frozen=True)
class _Terms:
    """What every student of one run is collected under."""

    deadline: datetime
    local: Path | None  # the folder local repositories may be collected from; None: no local one
    now: datetime | None  # the clock, where a test sets it


def read_repositories(path: Path) -> list[Repository]:
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


def collect(
    repositories: list[Repository],
    deadline: datetime,
    out: Path,
    clones: Path,
    pins: Mapping[str, Pin] | None = None,
    recollect: Collection[str] = (),
    local: Path | None = None,
    now: datetime | None = None,
) -> list[Collected]:
    """Collect every repository: its bare clone in `clones`/ID.git, its tree at the deadline in
    `out`/ID; in roster order, a missing one with its reason, each shared repository or commit
    flagged. A student pinned at this deadline (in `pins`, by id) keeps the pinned commit unless
    their id is in `recollect`; a local path or file:// URL is collected only from below the folder
    `local`; `now` stands for the clock."""
    out.mkdir(parents=True, exist_ok=True)
    clones.mkdir(parents=True, exist_ok=True)
    terms = _Terms(deadline, local.resolve() if local is not None else None, now)
    pinned = pins or {}

    def one(repository: Repository) -> Collected:
        pin = pinned.get(repository.id)
        at_deadline = pin if pin is not None and pin.deadline == utc(deadline) else None
        target, clone = out / repository.id, clones / f"{repository.id}.git"
        return _collect_one(repository, terms, target, clone, at_deadline, repository.id in recollect)

    with ThreadPoolExecutor(max_workers=FETCHING) as pool:
        return _flag_shared(list(pool.map(one, repositories)))


def _collect_one(
    repository: Repository, terms: _Terms, target: Path, clone: Path, pin: Pin | None, recollect: bool
) -> Collected:
    """One repository collected, or missing with the reason; what was collected before is replaced.
    Whatever goes wrong stays this student's: an exception no check foresaw too."""
    try:
        remove(target)
        return _collected(repository, terms, target, clone, pin, recollect)
    except Uncollectable as missing:
        reason = str(missing)
    except Exception as error:  # a repository shaped to break a step: this student's alone
        reason = f"it could not be collected ({type(error).__name__}: {error})"
    try:
        remove(target)
    except OSError as error:
        reason += f"; {target} could not be removed ({error.strerror or error})"
    return Collected(repository, target, reason=shown(reason))


def _collected(
    repository: Repository, terms: _Terms, target: Path, clone: Path, pin: Pin | None, recollect: bool
) -> Collected:
    """The commit the deadline takes, written to `target` and pinned where the deadline has passed;
    the pinned one instead where there is a pin and no `recollect`, the change named."""
    kept = pin if not recollect else None
    try:
        _fetch(_source(repository.url, terms.local), clone, terms.local is not None)
        sha, date = _chosen(repository, terms.deadline, clone)
    except Uncollectable as failed:
        if kept is None:
            raise
        return _kept(repository, target, clone, kept, None, f"it could not be fetched now ({failed}): the pin is kept")
    if kept is not None:
        return _kept(repository, target, clone, kept, (sha, date), None)
    if pin is not None and pin.commit == sha:  # recollected, and the same: pinned as first fetched
        return _kept(repository, target, clone, pin, None, None)
    fetched = (terms.now or datetime.now(timezone.utc)).replace(microsecond=0)
    notes = write_tree(clone, sha, target)
    made = None
    if fetched >= terms.deadline:
        git(clone, "update-ref", PINNED, sha)
        made = Pin(utc(terms.deadline), repository.url, sha, date, utc(fetched))
    changed = f"recollected: {sha[:12]} replaces the pinned {pin.commit[:12]}" if pin is not None else None
    return Collected(repository, target, sha, date, notes=tuple(notes), fetched=utc(fetched), pin=made, changed=changed)


def _kept(
    repository: Repository, target: Path, clone: Path, pin: Pin, fresh: tuple[str, str] | None, note: str | None
) -> Collected:
    """The pinned commit written again, kept in the clone; `fresh`, the commit and date the deadline
    takes now, named where it differs."""
    try:
        git(clone, "update-ref", PINNED, f"{pin.commit}^{{commit}}")
    except Uncollectable:
        raise Uncollectable(
            f"the pinned commit {pin.commit[:12]} is no longer in its clone: --recollect {repository.id} takes "
            "the deadline's commit now"
        ) from None
    notes = [shown(note)] if note else []
    notes += write_tree(clone, pin.commit, target)
    changed = None
    if fresh is not None and fresh[0] != pin.commit:
        changed = (
            f"the deadline takes {fresh[0][:12]} (of {fresh[1]}) now; the pinned {pin.commit[:12]}, fetched "
            f"{pin.fetched}, is kept"
        )
    kept = Collected(repository, target, pin.commit, pin.date, notes=tuple(notes), fetched=pin.fetched, pin=pin)
    return replace(kept, changed=changed)


def _source(url: str, local: Path | None) -> str:
    """What git is given to fetch `url`: the URL itself where git fetches it over the network, or the
    path a local path or file:// URL names, resolved, where it lies below `local`. Uncollectable for
    a local repository anywhere else (the course's own are local too), or a remote helper's URL."""
    helper = re.match(r"([A-Za-z0-9+.-]+)::", url)
    if helper:
        raise Uncollectable(f"it names git's remote helper {helper[1]}::, which is not collected")
    if _remote(url):
        return url
    if SCHEME.match(url):
        parts = urlsplit(url)
        if parts.netloc not in ("", "localhost"):
            raise Uncollectable(f"its file:// URL names the host {parts.netloc}, which is not collected")
        url = unquote(parts.path)
    if local is None:
        raise Uncollectable(
            "it names a repository on this machine, which is not collected (only https, ssh and git URLs are) "
            "unless --allow-local names a folder holding it"
        )
    path = Path(url).resolve()
    if not path.is_relative_to(local):
        raise Uncollectable(f"it names a repository on this machine outside {local}, the folder --allow-local names")
    return str(path)


def _remote(url: str) -> bool:
    """Whether git fetches `url` over the network, as git decides: a scheme other than file://, or
    ssh's user@host:path (no scheme, a colon before any slash)."""
    scheme = SCHEME.match(url)
    if scheme is not None:
        return scheme[1].lower() != "file"
    colon, slash = url.find(":"), url.find("/")
    return colon > 0 and (slash < 0 or colon < slash)


def _fetch(source: str, clone: Path, local: bool) -> None:
    """The repository at `source`, fetched into the bare clone `clone`: cloned the first time, fetched
    again on a later run. Where the roster names another repository now, it is cloned afresh, and
    the pin taken from the one before goes along (the clone is replaced only once that worked)."""
    over = fetched_over(local)
    if _origin(clone) == source:
        git(clone, *over, "fetch", "--quiet", "--prune", "--force", "origin", *REFSPECS, growing=clone)
        return
    fresh = clone.with_name(f"{clone.name}.new")
    remove(fresh)
    try:
        git(None, *over, *CLONE, "--", source, str(fresh), growing=fresh)
        if clone.is_dir():
            git(fresh, *fetched_over(True), "fetch", "--quiet", str(clone.resolve()), CARRIED)
    except Uncollectable:
        remove(fresh)
        raise
    remove(clone)
    fresh.rename(clone)


def _origin(clone: Path) -> str | None:
    """The URL `clone` was fetched from; None where there is no clone, or it cannot say."""
    if not clone.is_dir():
        return None
    try:
        return git(clone, "config", "--get", "remote.origin.url").strip()
    except Uncollectable:
        return None


def _chosen(repository: Repository, deadline: datetime, clone: Path) -> tuple[str, str]:
    """(sha, committer date) of the commit to grade: the row's tag, which must be at or before the
    deadline too, else the default branch's last commit at or before it."""
    if repository.tag is not None:
        reference = f"refs/tags/{repository.tag}"
        try:
            git(None, "check-ref-format", reference)
            sha = git(clone, "rev-parse", "--verify", "--quiet", "--end-of-options", f"{reference}^{{commit}}")
        except Uncollectable:
            raise Uncollectable(f"there is no tag {repository.tag} on a commit") from None
        date = _date(clone, sha.strip())
        if datetime.fromisoformat(date) > deadline:
            raise Uncollectable(f"the tag {repository.tag} is on a commit of {date}, after the deadline")
        return sha.strip(), date
    try:
        listed = git(clone, "rev-list", "--timestamp", "HEAD")
    except Uncollectable:
        raise Uncollectable("the repository has no commit on its default branch") from None
    limit = deadline.timestamp()
    dated = [(int(stamp), sha) for stamp, sha in (line.split() for line in listed.splitlines())]
    before = [(stamp, sha) for stamp, sha in dated if stamp <= limit]
    if not before:
        first = _date(clone, min(dated)[1]) if dated else "never"
        raise Uncollectable(f"no commit at or before the deadline (the first is of {first})")
    sha = max(before, key=lambda pair: pair[0])[1]  # max keeps the first of equal dates: the one git lists first
    return sha, _date(clone, sha)


def _date(clone: Path, sha: str) -> str:
    return git(clone, "show", "-s", "--no-show-signature", "--format=%cI", sha).strip()


def _flag_shared(collected: list[Collected]) -> list[Collected]:
    """Each student whose repository, or collected commit, is another student's too, flagged with
    whom: a roster row can name a classmate's repository, and a commit can be pushed to two."""
    places: dict[str, list[str]] = {}
    commits: dict[str, list[str]] = {}
    for student in collected:
        places.setdefault(_place(student.repository.url), []).append(student.repository.id)
        if student.commit is not None:
            commits.setdefault(student.commit, []).append(student.repository.id)
    flagged = []
    for student in collected:
        me = student.repository.id
        alike = [
            ("same repository as", places[_place(student.repository.url)]),
            ("same commit as", commits.get(student.commit or "", [])),
        ]
        said = [f"{what} {', '.join(s for s in ids if s != me)}" for what, ids in alike if len(ids) > 1]
        flagged.append(replace(student, shared="; ".join(said) or None))
    return flagged


def _place(url: str) -> str:
    """Where `url` leads, one key for each spelling of it: the host and path in lower case, without a
    user, a port, a trailing / or .git; a local path resolved."""
    text = url.strip()
    try:
        if SCHEME.match(text) and _remote(text):
            parts = urlsplit(text)
            host, path = parts.hostname or "", parts.path
        elif _remote(text):
            address, path = text.split(":", 1)
            host = address.rsplit("@", 1)[-1]
        else:
            return str(Path(unquote(urlsplit(text).path) if SCHEME.match(text) else text).resolve())
    except (OSError, ValueError):
        return text
    path = re.sub(r"(\.git)?/*$", "", path.strip("/"))
    return f"{host.lower()}/{path.lower()}"


def write_roster(path: Path, collected: list[Collected]) -> None:
    """The roster a class grade reads: `id`, `name`, `submission` (the student's folder within the
    submissions folder), `shared` (whom the repository or the commit is shared with, which the class
    summary names) and `missing` (why nothing was collected, which the gradebook and feedback give),
    every student in roster order."""
    rows = [[c.repository.id, c.repository.name, c.path.name, c.shared or "", c.reason or ""] for c in collected]
    write_atomic(path, csv_text([GRADE_COLUMNS, *rows]))


def write_manifest(path: Path, collected: list[Collected]) -> None:
    """What each row of the roster came to (MANIFEST_COLUMNS), for the course's records."""
    rows = [
        [c.repository.id, c.repository.name, c.repository.url, c.status, c.commit or "", c.date or ""]
        + [c.fetched or "", "yes" if c.pin is not None else "", c.changed or "", c.shared or ""]
        + [c.reason or "", "; ".join(c.notes)]
        for c in collected
    ]
    write_atomic(path, csv_text([MANIFEST_COLUMNS, *rows]))


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
        write_atomic(path, json_text(data))
        stamped += 1
    return stamped


def utc(deadline: datetime) -> str:
    """The deadline as the account prints it."""
    return deadline.astimezone(timezone.utc).isoformat().replace("+00:00", "Z")
