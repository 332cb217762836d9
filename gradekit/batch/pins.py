"""The commit each student was collected at after the deadline, kept for every later run: DIR/pinned.json.

A committer date is what the student's own git wrote, and a tag can be moved by a force push: a
commit made after the deadline can claim to be older, and would be taken by the next run (a regrade)
in place of the one taken before. So the first collection after the deadline pins each student's
commit, with the time it was fetched, and a later run at that deadline keeps it unless told to
recollect the student. A pin is made only by a run after the deadline (before it, the student may
still push), and only applies at its own deadline.

The file is the course's record, written beside collected.csv: one object per student id, each with
the deadline (UTC), the repository, the commit, its committer date and when it was fetched (UTC).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from pathlib import Path

from gradekit.batch.results_folder import write_atomic
from gradekit.errors import UsageError
from gradekit.reports.inert import json_text

__all__ = ["Pin", "read_pins", "write_pins"]

FIELDS = ("deadline", "repository", "commit", "date", "fetched")


@dataclass(frozen=True)
class Pin:
    """The commit a collection after the deadline took for one student."""

    deadline: str  # the deadline it was taken at, UTC, ISO 8601
    repository: str  # the roster's repository then
    commit: str
    date: str  # the commit's committer date, as its git wrote it
    fetched: str  # when it was fetched, UTC, ISO 8601


def read_pins(path: Path) -> dict[str, Pin]:
    """The pins recorded at `path`, by student id; none where there is no file yet. A file that
    cannot be read is a UsageError: the pins are what keeps a regrade honest, and are not dropped."""
    if not path.exists():
        return {}
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        return {student: Pin(**{name: str(pin[name]) for name in FIELDS}) for student, pin in data["students"].items()}
    except (OSError, ValueError, KeyError, TypeError, AttributeError) as error:
        raise UsageError(
            f"{path} cannot be read ({error}): it holds the commits pinned at the deadline; restore it, "
            "or remove it to pin each student afresh"
        ) from None


def write_pins(path: Path, pins: Mapping[str, Pin]) -> None:
    """Write `pins`, by student id, to `path`, whole or not at all."""
    write_atomic(path, json_text({"students": {student: asdict(pin) for student, pin in sorted(pins.items())}}))
