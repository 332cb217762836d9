"""The public API an assignment's author writes with is declared, pinned, and importable by name."""

from __future__ import annotations

import subprocess
import sys

import gradekit
import gradekit.strategies

# Changing this list is changing the public API: say so in CHANGELOG.md.
PUBLIC = [
    "Property",
    "PropertyFailure",
    "SubmissionRaised",
    "__version__",
    "at_scale",
    "call",
    "call_at_scale",
    "close",
    "each",
    "coerce",
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


def test_all_is_pinned():
    assert sorted(gradekit.__all__) == sorted(PUBLIC)


def test_every_public_name_is_importable_and_is_the_authoring_kits_own():
    from gradekit import authoring, declared_types, errors, known_mistakes, worked

    for name in PUBLIC:
        value = getattr(gradekit, name)
        assert (
            value is getattr(authoring, name, None)
            or value is getattr(declared_types, name, None)
            or value is getattr(errors, name, None)
            or value is getattr(worked, name, None)
            or value is getattr(known_mistakes, name, None)
            or name == "__version__"
        )


def test_a_name_outside_the_api_is_an_attribute_error():
    try:
        gradekit.Submission  # noqa: B018
    except AttributeError as error:
        assert "Submission" in str(error)
    else:
        raise AssertionError("gradekit.Submission should not exist")


def test_strategies_stay_their_own_namespace():
    assert not set(gradekit.__all__) & {n for n in dir(gradekit.strategies) if not n.startswith("_")} - {"__version__"}


def test_the_sandbox_layer_imports_without_the_authoring_kit():
    """`import gradekit.sandbox` must not pull in NumPy: a worker's interpreter may not have it."""
    code = "import sys, gradekit.config, gradekit.sandbox; print('numpy' in sys.modules)"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "False"
