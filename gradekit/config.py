"""The settings of one grading run, as one frozen object.

Defaults keep a correct submission's check near a second while leaving room for slow-but-right code;
every limit can be changed from the command line with `dataclasses.replace`.
"""
from __future__ import annotations

from dataclasses import dataclass

MIB = 1024 * 1024


@dataclass(frozen=True)
class Limits:
    """What the sandboxed worker may use."""

    call_timeout: float = 2.0
    load_timeout: float = 10.0
    memory_bytes: int = 1024 * MIB
    output_bytes: int = 64 * 1024
    file_bytes: int = 16 * MIB
    reply_bytes: int = 16 * MIB


@dataclass(frozen=True)
class GradeConfig:
    seed: int | None = None
    max_examples: int = 100
    property_budget: float = 20.0
    check_budget: float = 300.0
    limits: Limits = Limits()
