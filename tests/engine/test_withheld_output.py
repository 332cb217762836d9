"""Under the course's own seed no report hands back what a submission printed once it was called.

A correct file that prints every call's arguments would otherwise return the grade's inputs in its
report (Gradescope's output, the feedback, the text report, the JSON), and a later file could answer
them from a table with no implementation. What it printed while it loaded, before any call, is shown as
a short excerpt; the rest is withheld and the report says how much and why. Under the public seed,
which a student's own check uses, everything printed is shown as before.
"""

from __future__ import annotations

import re
from dataclasses import replace
from pathlib import Path

import pytest

from gradekit.config import GradeConfig
from gradekit.grader import SHOWN_LOADED, SHOWN_MESSAGE, grade, printed
from gradekit.reports import WRITERS, github

HOSTILE = Path(__file__).resolve().parents[1] / "hostile"
SEED = 0x5EED_C0FF_EE00_0000_0000_0000_0000_0002  # 128 bits, as a course seed has
EXAMPLES = 10


@pytest.fixture(scope="module")
def narrowed(cross_entropy):
    return replace(cross_entropy, properties=cross_entropy.properties[:6])


def every_report(result) -> dict[str, str]:
    return {name: render(result) for name, render in WRITERS.items()} | {"summary": github.summary(result)}


def test_under_the_course_seed_no_report_shows_what_the_file_printed_once_called(narrowed, tmp_path):
    path = tmp_path / "submission.py"
    path.write_text((HOSTILE / "print_the_inputs.py").read_text())
    config = GradeConfig(seed=SEED, course_seed=True, max_examples=EXAMPLES)
    result = grade(path, narrowed, config)
    assert result.score == result.max_score, [t.message for t in result.tests if t.score < t.max_score]
    assert result.output == "LOADED: the top level ran\n"
    reports = every_report(result)
    assert set(reports) == {"text", "json", "gradescope", "junit", "github", "markdown", "summary"}
    assert all("CALLED-WITH" not in report for report in reports.values())
    withheld = [note for note in result.notes if "are not shown" in note]
    assert len(withheld) == 1 and "course's own seed" in withheld[0], result.notes
    assert all(withheld[0].split(" characters")[0] in reports[name] for name in ("text", "json", "markdown"))

    public = grade(path, narrowed, GradeConfig(max_examples=EXAMPLES))
    assert public.output.startswith("LOADED: the top level ran\nCALLED-WITH ")
    assert not any("are not shown" in note for note in public.notes)
    assert "CALLED-WITH" in every_report(public)["text"]


def test_what_was_printed_while_loading_is_shown_only_in_part_under_the_course_seed():
    course, public = GradeConfig(seed=SEED, course_seed=True), GradeConfig()
    loaded = "x" * (3 * SHOWN_LOADED)
    shown, notes = printed(course, loaded, loaded + "called")
    assert shown == loaded[:SHOWN_LOADED] and f"{2 * SHOWN_LOADED + 6:,} characters" in notes[0]
    assert printed(course, "hello\n", "hello\n") == ("hello\n", ())
    assert printed(public, loaded, loaded + "called") == (loaded + "called", ())
    everything = "y" * course.limits.output_bytes
    assert " or more of what" in printed(course, "", everything)[1][0]


def test_under_the_course_seed_an_answer_or_a_message_cannot_carry_the_grade_s_inputs(cross_entropy, tmp_path):
    """A function that fails on purpose, answering with every input it saw, or raising with them in its
    message: a result keeps a long answer as the summary a report shows, and a message's first
    SHOWN_MESSAGE characters."""
    path = tmp_path / "submission.py"
    path.write_text((HOSTILE / "answer_with_the_inputs.py").read_text())
    course = grade(path, cross_entropy, GradeConfig(seed=SEED, course_seed=True, max_examples=EXAMPLES))
    examples = [t.counterexample for t in course.tests if t.counterexample is not None]
    answers = [e.returned for e in examples] + [c.returned for e in examples for c in e.calls]
    raised = [c.raised for e in examples for c in e.calls if c.raised]
    assert raised and all(len(text) <= SHOWN_MESSAGE for text in raised)
    assert all(len(t.message) <= SHOWN_MESSAGE for t in course.tests)
    assert all(not isinstance(a, list) or len(a) <= 8 for a in answers)
    handed_back = re.compile(rf"CALLED-WITH [-+0-9.e ]{{{SHOWN_MESSAGE},}}")  # the inputs, past a message's cut
    assert not any(handed_back.search(report) for report in every_report(course).values())

    public = grade(path, cross_entropy, GradeConfig(max_examples=EXAMPLES))
    kept = [t.counterexample for t in public.tests if t.counterexample is not None]
    assert any(isinstance(e.returned, list) and len(e.returned) > 200 for e in kept)  # a student's own check
