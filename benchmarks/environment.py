"""The environment a benchmark runs gradekit in: a student's, not a build sandbox's.

A student's Python caches the bytecode of what it imports (pip compiles it at install time too);
with PYTHONDONTWRITEBYTECODE set, as some CI and container images do, every run would compile
gradekit and the assignments from source again, and the figures would count that instead.
"""

from __future__ import annotations

import os


def student_python() -> dict[str, str]:
    """This process's environment, less the settings a student's machine does not have."""
    return {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
