"""Reading a submission file into source the worker can run, or one sentence saying why not."""
from __future__ import annotations

from pathlib import Path


def read_submission(path: Path) -> tuple[str, str, str | None]:
    """(source, filename, problem): problem is None when the file could be read as Python source."""
    path = Path(path)
    if not path.is_file():
        return "", path.name, f"{path} does not exist or is not a file"
    if path.suffix != ".py":
        return "", path.name, f"{path.name} is not a Python file (.py)"
    try:
        return path.read_text(encoding="utf-8"), path.name, None
    except UnicodeDecodeError:
        return "", path.name, f"{path.name} is not UTF-8 text"
