"""Students' git repositories as the collect tests make them: local, with commits at fixed dates by one
made-up author, so a collection at a deadline can be told exactly what it should take."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

BEFORE = "2026-05-01T20:00:00+02:00"  # a commit made before the tests' deadline


def git(repo: Path, *args: str, when: str = BEFORE, given: bytes | None = None) -> str:
    """git's output for `args` run in `repo`, any commit dated `when`; `given` is its input."""
    environment = {
        **os.environ,
        "GIT_AUTHOR_NAME": "A Student",
        "GIT_AUTHOR_EMAIL": "student@example.org",
        "GIT_COMMITTER_NAME": "A Student",
        "GIT_COMMITTER_EMAIL": "student@example.org",
        "GIT_AUTHOR_DATE": when,
        "GIT_COMMITTER_DATE": when,
    }
    done = subprocess.run(
        ["git", "-c", "commit.gpgsign=false", "-C", str(repo), *args],
        env=environment,
        input=given,
        capture_output=True,
        check=True,
    )
    return done.stdout.decode().strip()


def repository(folder: Path) -> Path:
    """A new repository in `folder`, on branch main."""
    folder.mkdir(parents=True)
    git(folder, "init", "-q", "-b", "main")
    return folder
