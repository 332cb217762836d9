"""A CSV file a spreadsheet wrote, read as the course staff's files are: the roster and the overrides."""

from __future__ import annotations

import csv
import io
from pathlib import Path

from gradekit.errors import UsageError

__all__ = ["table"]


def table(path: Path, named: str) -> tuple[list[str], list[list[str]]]:
    """The header (stripped, lowercased) and the rows below it of the CSV at `path`; a file that
    cannot be read is a usage error naming it as `named` says ("--roster roster.csv")."""
    try:
        text = path.read_text(encoding="utf-8-sig")  # a spreadsheet's UTF-8 starts with a byte-order mark
    except (OSError, UnicodeDecodeError) as error:
        raise UsageError(f"{named} cannot be read: {getattr(error, 'strerror', None) or error}") from None
    rows = list(csv.reader(io.StringIO(text)))
    return ([h.strip().lower() for h in rows[0]] if rows else []), rows[1:]
