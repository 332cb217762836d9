"""gradekit: property-based grading of the maths behind a tiny GPT's loss, training step and autograd.

The public API is what an assignment's author writes properties with:

    from gradekit import prop, expect_close
    from gradekit.strategies import logits

Strategies stay in their own namespace, `gradekit.strategies`. Everything else is the grader's. The
names are loaded on first use, so the grader's lower layers (the sandbox, the worker's protocol) can
be imported without NumPy.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

if TYPE_CHECKING:
    from gradekit.authoring import (
        Property,
        at_scale,
        call,
        call_at_scale,
        close,
        each,
        expect,
        expect_built_on,
        expect_close,
        fail,
        has_nan,
        left_out,
        magnitude,
        per_submission,
        prop,
        unjudged,
    )
    from gradekit.declared_types import coerce
    from gradekit.errors import PropertyFailure, SubmissionRaised
    from gradekit.known_mistakes import known_behaviour, known_mistake
    from gradekit.worked import worked_examples

_HOMES = {
    "Property": "gradekit.authoring",
    "PropertyFailure": "gradekit.errors",
    "SubmissionRaised": "gradekit.errors",
    "at_scale": "gradekit.authoring",
    "call": "gradekit.authoring",
    "call_at_scale": "gradekit.authoring",
    "close": "gradekit.authoring",
    "each": "gradekit.authoring",
    "coerce": "gradekit.declared_types",
    "expect": "gradekit.authoring",
    "expect_built_on": "gradekit.authoring",
    "expect_close": "gradekit.authoring",
    "fail": "gradekit.authoring",
    "has_nan": "gradekit.authoring",
    "known_behaviour": "gradekit.known_mistakes",
    "known_mistake": "gradekit.known_mistakes",
    "left_out": "gradekit.authoring",
    "magnitude": "gradekit.authoring",
    "per_submission": "gradekit.authoring",
    "prop": "gradekit.authoring",
    "unjudged": "gradekit.authoring",
    "worked_examples": "gradekit.worked",
}

__all__ = [
    "Property",
    "PropertyFailure",
    "SubmissionRaised",
    "__version__",
    "at_scale",
    "call",
    "call_at_scale",
    "close",
    "coerce",
    "each",
    "expect",
    "expect_built_on",
    "expect_close",
    "fail",
    "has_nan",
    "known_behaviour",
    "known_mistake",
    "left_out",
    "magnitude",
    "per_submission",
    "prop",
    "unjudged",
    "worked_examples",
]


def __getattr__(name: str) -> Any:
    if name not in _HOMES:
        raise AttributeError(f"module 'gradekit' has no attribute {name!r}")
    return getattr(importlib.import_module(_HOMES[name]), name)


def __dir__() -> list[str]:
    return sorted({*globals(), *_HOMES})
