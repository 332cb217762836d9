"""Every report format, rendered from one fixed result and read back with a real parser.

The result is built here by hand, so these tests pin the writers alone: a passed, a not-checked-yet, a
failed, a timed-out and an errored property, notes, and printed output full of characters that
break formats (a NUL, an escape sequence, a fence, a percent sign).
"""

from __future__ import annotations

import csv
import io
import json
import os
import re
import xml.etree.ElementTree as ET
from dataclasses import replace
from pathlib import Path

import nbformat
from nbformat import v4

from gradekit import grader
from gradekit.batch import class_summary, gradebook
from gradekit.batch.class_summary import bins, histogram
from gradekit.cli import main
from gradekit.config import Limits
from gradekit.engine.source import pick, read_notebook
from gradekit.reports import WRITERS, github, gradescope, junit, markdown, text
from gradekit.result import Call, Counterexample, GradeResult, PropertyResult, Status
from gradekit.sandbox.isolation import Isolation
from gradekit.sandbox.isolation import note as isolation_note

FAILED = PropertyResult(
    name="loss_matches_reference",
    functions=("cross_entropy_loss",),
    status=Status.FAILED,
    score=0,
    max_score=10,
    hint="loss = logsumexp(z) - z[t], natural log.",
    message="the loss differs from the reference",
    counterexample=Counterexample(
        inputs={"case": [[0.0, -27.0], 1]},
        calls=(Call("cross_entropy_loss", ([0.0, -27.0], 1), returned=27.63),),
        returned=27.63,
        expected=27.0,
    ),
    examples=3,
    seconds=0.25,
)
RESULT = GradeResult(
    assignment="cross_entropy",
    submission="./work/submission.py",
    seed=7,
    tests=(
        PropertyResult(
            "softmax_matches_reference",
            ("softmax",),
            Status.PASSED,
            8,
            8,
            hint="shift by the max",
            examples=100,
            seconds=0.5,
        ),
        PropertyResult(
            "softmax_shift_invariant",
            ("softmax",),
            Status.UNCHECKED,
            0,
            3,
            hint="add a constant",
            message="not checked yet: it counts once `loss_matches_reference` passes",
        ),
        FAILED,
        PropertyResult(
            "perplexity_matches_reference",
            ("perplexity",),
            Status.TIMEOUT,
            0,
            6,
            hint="exp(loss)",
            message="`perplexity` did not answer within 2 s",
            counterexample=Counterexample({"loss": 1.0}, (Call("perplexity", (1.0,), raised="no answer"),)),
        ),
        PropertyResult(
            "grad_matches_identity",
            ("softmax_cross_entropy_grad", "softmax"),
            Status.ERROR,
            0,
            8,
            hint="softmax - onehot",
            message="`softmax_cross_entropy_grad` is not defined",
        ),
    ),
    output="hello 100%\n\x00\x1b[31mred\x1b[0m\n```\nfenced\n",
    seconds=1.5,
    function_lines={"softmax": 3, "cross_entropy_loss": 12, "perplexity": 20},
    notes=("cell 2 raised NameError: name 'x' is not defined (line 1)",),
)
BROKEN = GradeResult(
    "cross_entropy",
    "broken.py",
    7,
    tests=tuple(
        replace(
            t,
            status=Status.ERROR,
            score=0,
            message="broken.py has a SyntaxError on line 2: '(' was never closed",
            counterexample=None,
        )
        for t in RESULT.tests
    ),
    error="broken.py has a SyntaxError on line 2: '(' was never closed",
)

# The result behind each wall, with the note the grader adds where it is weaker than bubblewrap.
LANDLOCK_NOTE = (
    "the submission ran in the Landlock sandbox, without namespaces (bubblewrap: bwrap: setting up uid map: "
    "Permission denied)"
)
GUARD_NOTE = (
    "the submission ran without OS isolation, behind the Python guard alone (bubblewrap: bwrap: setting up uid "
    "map: Permission denied; landlock: this kernel has no Landlock)"
)
BEHIND = {
    "bubblewrap": replace(RESULT, isolation="bubblewrap"),
    "landlock": replace(RESULT, isolation="landlock", notes=(*RESULT.notes, LANDLOCK_NOTE)),
    "guard": replace(RESULT, isolation="guard", notes=(*RESULT.notes, GUARD_NOTE)),
}
NAMED = {  # the isolation line every student report shows under each wall
    "bubblewrap": "Isolation: bubblewrap",
    "landlock": "Isolation: landlock (Landlock and seccomp, without namespaces)",
    "guard": (
        "Isolation: guard (the submission ran without OS isolation, behind the Python guard alone: "
        "no security boundary)"
    ),
}


def test_every_format_is_registered_and_renders_text_the_same_twice():
    assert list(WRITERS) == ["text", "json", "gradescope", "junit", "github", "markdown"]
    for name, render in WRITERS.items():
        for result in (RESULT, BROKEN):
            report = render(result)
            assert isinstance(report, str) and report.endswith("\n") and report == render(result), name


def test_json_keeps_the_documented_keys_and_the_notes():
    report = json.loads(WRITERS["json"](RESULT))
    assert list(report)[:6] == ["assignment", "submission", "score", "max_score", "seed", "error"]
    assert report["notes"] == list(RESULT.notes)
    assert report["score"] == 8 and report["max_score"] == 35
    assert report["tests"][2]["counterexample"]["calls"][0]["function"] == "cross_entropy_loss"


def test_a_course_seed_is_named_by_its_digest_and_a_public_seed_by_its_number():
    course = replace(RESULT, seed=None, seed_digest="3f2a9c1b7d4e")
    assert text.render(RESULT).splitlines()[2] == "1 of 5 properties passed (seed 7)"
    assert text.render(course).splitlines()[2] == "1 of 5 properties passed (course seed, digest 3f2a9c1b7d4e)"
    assert "passed · course seed, digest 3f2a9c1b7d4e" in markdown.render(course)
    assert gradescope.results(course)["output"].startswith("Score: 8 / 35 (cross_entropy, course seed, digest 3f2a")
    properties = {p.get("name"): p.get("value") for p in ET.fromstring(junit.render(course)).iter("property")}
    assert properties["seed_digest"] == "3f2a9c1b7d4e" and "seed" not in properties
    report = json.loads(WRITERS["json"](course))
    assert report["seed"] is None and report["seed_digest"] == "3f2a9c1b7d4e"
    assert all("seed None" not in render(course) for render in WRITERS.values())


def test_gradescope_results_follow_the_specification():
    report = json.loads(gradescope.render(RESULT))
    assert set(report) == {"score", "execution_time", "output", "visibility", "stdout_visibility", "tests"}
    assert report["score"] == 8 and isinstance(report["execution_time"], int)
    assert report["visibility"] in {"hidden", "after_due_date", "after_published", "visible"}
    assert report["stdout_visibility"] in {"hidden", "after_due_date", "after_published", "visible"}
    assert "Score: 8 / 35" in report["output"] and RESULT.notes[0] in report["output"]
    assert [t["name"] for t in report["tests"]] == [t.name for t in RESULT.tests]
    for test in report["tests"]:
        assert set(test) == {"name", "score", "max_score", "status", "output", "visibility"}
        assert test["status"] in {"passed", "failed"} and isinstance(test["output"], str)
    assert sum(t["score"] for t in report["tests"]) == report["score"]
    statuses = [t["status"] for t in report["tests"]]
    assert statuses == ["passed", "failed", "failed", "failed", "failed"]  # Gradescope knows no third status
    assert report["tests"][1]["output"].startswith("not checked yet: it counts once `loss_matches_reference`")
    failed = report["tests"][2]["output"]
    assert "call: cross_entropy_loss([0.0, -27.0], 1)\n" in failed
    assert "you returned: 27.6\n" in failed and "expected:     27.0" in failed and "hint: " in failed


def test_gradescope_results_for_a_file_that_did_not_load_score_zero_and_say_why():
    report = json.loads(gradescope.render(BROKEN))
    assert report["score"] == 0 and "Could not grade: broken.py has a SyntaxError" in report["output"]
    assert all(t["status"] == "failed" and t["score"] == 0 for t in report["tests"])


def test_junit_is_xml_with_one_testcase_per_property():
    root = ET.fromstring(junit.render(RESULT))
    assert root.tag == "testsuites"
    (suite,) = root.findall("testsuite")
    assert suite.get("name") == "gradekit.cross_entropy"
    counts = [suite.get(count) for count in ("tests", "failures", "errors", "skipped")]
    assert counts == ["5", "1", "2", "1"]
    properties = {p.get("name"): p.get("value") for p in suite.find("properties")}
    assert properties["score"] == "8" and properties["max_score"] == "35" and properties["note"] == RESULT.notes[0]
    cases = suite.findall("testcase")
    assert [(c.get("classname"), c.get("name")) for c in cases] == [("cross_entropy", t.name) for t in RESULT.tests]
    assert list(cases[0]) == [] and [e.tag for e in cases[1]] == ["skipped"]
    assert cases[1].find("skipped").get("message").startswith("not checked yet")
    failure = cases[2].find("failure")
    assert failure.get("message") == "the loss differs from the reference"
    assert "call: cross_entropy_loss([0.0, -27.0], 1)\n" in failure.text
    assert "expected:     27.0" in failure.text
    assert cases[3].find("error").get("type") == "timeout"
    assert cases[4].find("error").get("type") == "error"
    assert "red" in suite.find("system-out").text and "\x00" not in suite.find("system-out").text


def test_junit_for_a_file_that_did_not_load_errors_every_case():
    suite = ET.fromstring(junit.render(BROKEN)).find("testsuite")
    assert suite.get("errors") == "5"
    assert all("SyntaxError" in c.find("error").get("message") for c in suite.findall("testcase"))


COMMAND = re.compile(
    r"^::(error|warning|notice) ((?:file|line|title)=[^,:\n]*)(?:,((?:file|line|title)=[^,:\n]*))*"
    r"::[^\n]*$"
)


def test_github_commands_point_at_the_function_that_failed():
    lines = github.render(RESULT).splitlines()
    assert all(COMMAND.match(line) for line in lines), lines
    errors = [line for line in lines if line.startswith("::error")]
    assert len(errors) == 3  # the failed, the timed-out and the errored property
    assert errors[0].startswith(
        "::error file=work/submission.py,line=12,title=FAILED loss_matches_reference "
        "(cross_entropy_loss)%3A 0/10::the loss differs from the reference%0Acall: "
    )
    assert ",line=20," in errors[1]  # the timed-out call was to perplexity
    assert "line=" not in errors[2]  # the function is not defined: no line to point at
    assert lines[0].startswith("::warning file=work/submission.py,title=gradekit%3A a cell did not run::cell 2")
    assert lines[-1] == "::notice title=gradekit score%3A 8 / 35::cross_entropy: 8 / 35"


def test_github_annotations_of_a_notebook_name_the_cell_not_a_line():
    notebook = replace(RESULT, submission="work.ipynb", function_cells={"cross_entropy_loss": 4, "perplexity": 5})
    error = next(line for line in github.render(notebook).splitlines() if "loss_matches_reference" in line)
    assert error.startswith(
        "::error file=work.ipynb,title=FAILED loss_matches_reference (cross_entropy_loss)%3A 0/10%2C cell 4::"
    )


def test_github_for_a_file_that_did_not_load_is_one_error_and_the_score():
    lines = github.render(BROKEN).splitlines()
    assert lines[0] == (
        "::error file=broken.py,title=gradekit could not grade this file::broken.py has a "
        "SyntaxError on line 2: '(' was never closed"
    )
    assert len(lines) == 2 and lines[1].startswith("::notice")


def test_markdown_has_the_score_notes_failures_and_output_blocks():
    report = markdown.render(RESULT)
    assert report.startswith("# gradekit: ./work/submission.py (cross_entropy)\n")
    assert "**Score: 8 / 35** · 1 of 5 properties passed · seed 7" in report
    assert "## Notes\n" in report and "- cell 2 raised NameError: name 'x' is not defined (line 1)" in report
    assert "### FAILED `loss_matches_reference` (`cross_entropy_loss`): 0 / 10" in report
    assert (
        "```text\nthe loss differs from the reference\ncall: cross_entropy_loss([0.0, -27.0], 1)\n"
        "you returned: 27.6\nexpected:     27.0\n```"
    ) in report
    assert "**Hint:** loss = logsumexp(z) - z[t], natural log." in report
    assert "### TIMEOUT `perplexity_matches_reference`" in report and "### ERROR `grad_matches_identity`" in report
    assert "## Not checked yet" in report
    assert "- `softmax`: 1 property (3 points) counts once `loss_matches_reference` passes" in report
    assert "| `softmax_matches_reference` | `softmax` | 8 |" in report and "| `softmax_shift_invariant`" not in report
    # the printed output holds a ``` line, so its fence is longer and cannot be closed early
    assert "````text\nhello 100%" in report and "fenced\n````" in report
    assert "\x00" not in report and "\x1b" not in report


def test_text_report_and_every_other_format_share_the_counterexample_lines():
    lines = text.block(FAILED)
    assert lines[0] == "FAILED  loss_matches_reference [cross_entropy_loss]  0/10"
    body = "\n".join(line[2:] for line in lines[1:])
    assert body == json.loads(gradescope.render(RESULT))["tests"][2]["output"]
    assert body in ET.fromstring(junit.render(RESULT)).find("testsuite/testcase[3]/failure").text
    assert "Notes:\n  cell 2 raised NameError" in text.render(RESULT)


def test_a_heading_names_the_function_a_property_exercises_unless_its_name_starts_with_it():
    assert text.block(replace(FAILED, name="cross_entropy_loss_is_natural"))[0].startswith(
        "FAILED  cross_entropy_loss_is_natural  0/"
    )
    assert text.block(replace(FAILED, name="loss_is_natural"))[0].startswith(
        "FAILED  loss_is_natural [cross_entropy_loss]  0/"
    )
    # a name that only starts with the same letters names another function
    assert "[cross_entropy_loss]" in text.block(replace(FAILED, name="cross_entropy_lossy"))[0]
    two = replace(FAILED, name="cross_entropy_loss_and_grad", functions=("cross_entropy_loss", "softmax"))
    assert "[cross_entropy_loss, softmax]" in text.block(two)[0]


def test_text_report_counts_agree_with_their_nouns():
    assert "1 of 5 properties passed (seed 7)" in text.render(RESULT)
    assert "  `softmax`: 1 property (3 points) counts once" in text.render(RESULT)
    one = replace(RESULT, tests=(replace(RESULT.tests[1], max_score=1),))
    report = text.render(one)
    assert "0 of 1 property passed (seed 7)" in report and "  `softmax`: 1 property (1 point) counts once" in report
    broken = text.render(replace(BROKEN, tests=BROKEN.tests[:1]))
    assert "Every property scores 0 until the file loads (1 property)." in broken
    assert "Every property scores 0 until the file loads (5 properties)." in text.render(BROKEN)


def test_the_class_writers_lay_out_the_results_given(cross_entropy):
    graded = [("ann", RESULT), ("=bob", BROKEN)]
    names = [p.name for p in cross_entropy.properties]
    table = list(csv.reader(io.StringIO(gradebook.render(cross_entropy, graded))))
    assert table[0] == ["student", "score", "max_score", *names, "error", "misconceptions"]
    ann = dict(zip(table[0], table[1]))
    assert ann["student"] == "ann" and ann["score"] == "8" and ann["max_score"] == "35" and ann["error"] == ""
    assert ann["softmax_matches_reference"] == "8" and ann["loss_matches_reference"] == "0"
    assert ann["softmax_is_distribution"] == "0"  # a property the result has no test of
    assert table[2][:3] == ["'=bob", "0", "35"] and table[2][-2] == BROKEN.error
    summary = class_summary.render(cross_entropy, graded, "h.svg").splitlines()
    assert summary[:5] == [
        "# cross_entropy: class summary",
        "",
        "2 students · mean 4.0 / 100 · median 4 · 0 with full marks · 1 could not be graded",
        "",
        "![Histogram of the scores out of 100](h.svg)",
    ]
    assert "Properties by how many of the 1 gradable submissions did not pass them" in summary[8]
    missed = [line.split(" | ")[0] for line in summary if line.startswith("| `")]
    assert missed[:3] == ["| `loss_matches_reference`", "| `perplexity_matches_reference`", "| `grad_matches_identity`"]
    assert any(
        line.startswith("| `loss_matches_reference` | `cross_entropy_loss` | 8 | 1 (100%) |") for line in summary
    )
    assert any(line.startswith("| `softmax_matches_reference` | `softmax` | 6 | 0 (0%) |") for line in summary)
    assert summary[-3:] == ["## Could not be graded", "", f"- **=bob**: {BROKEN.error}"]
    assert (
        class_summary.render(cross_entropy, [], "h.svg")
        == "# cross_entropy: class summary\n\nNo submissions were found.\n"
    )


def test_histogram_is_svg_with_a_bar_per_tenth_and_full_marks_in_the_last():
    assert bins([0, 9.9, 10, 55, 100, 100], 100) == [2, 1, 0, 0, 0, 1, 0, 0, 0, 2]
    svg = ET.fromstring(histogram([0, 9.9, 10, 55, 100, 100], 100))
    bars = svg.findall("{http://www.w3.org/2000/svg}rect[@class='bar']")
    assert [int(b.get("data-count")) for b in bars] == [2, 1, 0, 0, 0, 1, 0, 0, 0, 2]
    heights = [float(b.get("height")) for b in bars]
    assert heights[0] == heights[-1] == max(heights) and heights[2] == 0


def test_check_appends_the_job_summary_and_min_score_sets_the_exit_code(tmp_path, monkeypatch):
    buggy = tmp_path / "buggy.py"
    buggy.write_text((Path(__file__).resolve().parents[2] / "examples" / "buggy_submission.py").read_text())
    summary = tmp_path / "summary.md"
    summary.write_text("earlier step\n")
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(summary))
    out = tmp_path / "annotations.txt"
    common = ["check", str(buggy), "--max-examples", "10"]
    assert main([*common, "--format", "github", "--output", str(out)]) == 1
    assert summary.read_text().startswith("earlier step\n# gradekit: ")
    assert "## Not passed" in summary.read_text()
    assert out.read_text().count("::error file=") >= 1
    report = tmp_path / "r.json"
    main([*common, "--format", "json", "--output", str(report), "--min-score", "0"])
    score = json.loads(report.read_text())["score"]
    assert 0 < score < 100
    assert main([*common, "--format", "junit", "--output", str(tmp_path / "j.xml"), "--min-score", f"{score:g}"]) == 0
    assert (
        main([*common, "--format", "markdown", "--output", str(tmp_path / "m.md"), "--min-score", f"{score + 1:g}"])
        == 1
    )
    assert summary.read_text().count("# gradekit: ") == 1  # only --format github writes the summary


def test_a_result_that_names_no_wall_renders_without_an_isolation_line():
    """As a result read back from a file written before results named their wall."""
    for name, render in WRITERS.items():
        if name != "json":
            assert "solation" not in render(RESULT) and "sandbox" not in render(RESULT), name
    assert json.loads(WRITERS["json"](RESULT))["isolation"] is None
    assert "extra_data" not in gradescope.results(RESULT)
    assert text.render(RESULT).splitlines()[2:4] == ["1 of 5 properties passed (seed 7)", ""]


def test_the_text_report_names_the_wall_under_the_score_and_the_guard_first():
    for wall in ("bubblewrap", "landlock"):
        lines = text.render(BEHIND[wall]).splitlines()
        assert lines[1:4] == ["Score: 8 / 35", "1 of 5 properties passed (seed 7)", NAMED[wall]], wall
    lines = text.render(BEHIND["guard"]).splitlines()
    assert lines[:3] == ["gradekit: ./work/submission.py (cross_entropy)", NAMED["guard"], "Score: 8 / 35"]
    assert sum(NAMED["guard"] in line for line in lines) == 1
    assert f"  {GUARD_NOTE}" in lines  # why, among the notes
    broken = text.render(replace(BROKEN, isolation="landlock")).splitlines()
    assert broken[3:5] == ["Every property scores 0 until the file loads (5 properties).", NAMED["landlock"]]


def test_markdown_names_the_wall_under_the_score_and_the_guard_first_in_bold():
    for wall in ("bubblewrap", "landlock"):
        lines = markdown.render(BEHIND[wall]).splitlines()
        assert lines[2].startswith("**Score: 8 / 35**") and lines[3:5] == ["", NAMED[wall]], wall
    lines = markdown.render(BEHIND["guard"]).splitlines()
    assert lines[:4] == ["# gradekit: ./work/submission.py (cross_entropy)", "", f"**{NAMED['guard']}**", ""]
    assert lines[4].startswith("**Score: 8 / 35**")
    assert f"- {GUARD_NOTE}" in lines


def test_gradescope_names_the_wall_in_the_output_and_the_extra_data():
    documented = {"score", "execution_time", "output", "output_format", "visibility", "stdout_visibility"}
    documented |= {"extra_data", "tests", "leaderboard"}
    for wall, result in BEHIND.items():
        report = json.loads(gradescope.render(result))
        assert set(report) <= documented and report["extra_data"] == {"isolation": wall}
        output = report["output"].splitlines()
        assert output.index(NAMED[wall]) == (0 if wall == "guard" else 1), output
    assert f"Note: {LANDLOCK_NOTE}" in gradescope.results(BEHIND["landlock"])["output"]


def test_junit_names_the_wall_as_a_suite_property():
    for wall, result in BEHIND.items():
        named = [
            p.get("value") for p in ET.fromstring(junit.render(result)).iter("property") if p.get("name") == "isolation"
        ]
        assert named == [wall]
    assert all(p.get("name") != "isolation" for p in ET.fromstring(junit.render(RESULT)).iter("property"))


def test_json_names_the_wall():
    assert [json.loads(WRITERS["json"](r))["isolation"] for r in BEHIND.values()] == list(BEHIND)


def test_github_names_the_wall_in_one_annotation_a_warning_for_the_guard_alone():
    lines = github.render(BEHIND["bubblewrap"]).splitlines()
    assert all(COMMAND.match(line) for line in lines), lines
    assert "::notice title=gradekit sandbox%3A bubblewrap::Isolation: bubblewrap" in lines
    lines = github.render(BEHIND["landlock"]).splitlines()
    walled = [line for line in lines if "Landlock" in line]
    assert walled == [f"::notice title=gradekit sandbox%3A landlock::{LANDLOCK_NOTE}"]  # the note is its message
    assert not any(line.startswith("::warning") and "sandbox" in line for line in lines)
    lines = github.render(BEHIND["guard"]).splitlines()
    assert [line for line in lines if "guard" in line] == [f"::warning title=gradekit sandbox%3A guard::{GUARD_NOTE}"]


def test_each_notes_annotation_is_titled_for_what_the_note_says(tmp_path, cross_entropy):
    """The notes as the grader writes them: each title must follow if one's wording changes."""
    (tmp_path / "submission.py").write_text("")
    (tmp_path / "submission.ipynb").write_text("{}")
    _, picked = pick(tmp_path)
    bash = read_notebook(nbformat.writes(v4.new_notebook(cells=[v4.new_code_cell("%%bash\nls")])), "work.ipynb")
    (public,) = grader._public_check(replace(cross_entropy, solution=None))
    assert github.about(RESULT.notes[0]) == ("warning", "a cell did not run")
    assert bash.cells is not None and github.about(bash.cells[0].note or "") == ("warning", "a cell did not run")
    assert github.about(isolation_note(Isolation.LANDLOCK, Limits(isolation="landlock"))) == ("notice", "sandbox")
    assert github.about(isolation_note(Isolation.GUARD, Limits(isolation="off")))[1] == "sandbox"
    assert github.about(picked) == ("warning", "submission"), picked
    assert github.about(public) == ("notice", "public check"), public
    assert github.about("something new") == ("warning", "note")
    lines = github.render(replace(RESULT, notes=(picked, public))).splitlines()
    assert lines[:2] == [
        f"::warning file=work/submission.py,title=gradekit%3A submission::{picked}",
        f"::notice file=work/submission.py,title=gradekit%3A public check::{public}",
    ]


def test_the_class_summary_says_once_which_walls_the_class_was_graded_behind(cross_entropy):
    def line(graded: list[tuple[str, GradeResult]]) -> list[str]:
        return [row for row in class_summary.render(cross_entropy, graded, "h.svg").splitlines() if "behind" in row]

    same = [(name, BEHIND["bubblewrap"]) for name in ("ann", "bob", "cy")]
    assert line(same) == ["Graded behind bubblewrap (all 3 students)."]
    assert class_summary.render(cross_entropy, same, "h.svg").splitlines()[2:6] == [
        "3 students · mean 8.0 / 100 · median 8 · 0 with full marks · 0 could not be graded",
        "",
        "Graded behind bubblewrap (all 3 students).",
        "",
    ]
    mixed = [("ann", BEHIND["guard"]), ("bob", BEHIND["bubblewrap"]), ("=cy", BEHIND["guard"])]
    mixed += [("dee", BEHIND["landlock"]), ("eve", BROKEN)]
    assert line(mixed) == [
        "Graded behind bubblewrap (1 student), landlock (1 student), guard (2 students: ann, =cy); "
        "no wall named for 1 student."
    ]
    assert line([("ann", RESULT), ("bob", BROKEN)]) == []
    names = [p.name for p in cross_entropy.properties]
    header = next(csv.reader(io.StringIO(gradebook.render(cross_entropy, mixed))))
    assert header == ["student", "score", "max_score", *names, "error", "misconceptions"]


# --- golden files: every report's words, as a diff ------------------------------------------------

GOLDEN = Path(__file__).parent / "golden"
EXTENSION = {"text": "txt", "json": "json", "gradescope": "json", "junit": "xml", "github": "log", "markdown": "md"}


def test_every_report_reads_as_its_golden_file(cross_entropy):
    """Each format's report of the fixed results, and the class's gradebook and summary, as checked in
    under tests/kit/golden/: a change of wording is a diff a reviewer reads there. After a change meant
    to show, `GRADEKIT_GOLDEN=write python3 -m pytest tests/kit/test_reports.py` writes them again."""
    graded = [("ada", RESULT), ("bob", BROKEN)]
    reports = {
        **{f"{name}.{EXTENSION[name]}": WRITERS[name](RESULT) for name in WRITERS},
        **{f"{name}-broken.{EXTENSION[name]}": WRITERS[name](BROKEN) for name in WRITERS},
        "gradebook.csv": gradebook.render(cross_entropy, graded),
        "summary.md": class_summary.render(cross_entropy, graded, "histogram.svg"),
    }
    if os.environ.get("GRADEKIT_GOLDEN") == "write":
        GOLDEN.mkdir(exist_ok=True)
        for name, report in reports.items():
            (GOLDEN / name).write_bytes(report.encode())
    assert sorted(path.name for path in GOLDEN.iterdir()) == sorted(reports), "a golden file is missing or left over"
    changed = [name for name, report in reports.items() if (GOLDEN / name).read_bytes() != report.encode()]
    assert changed == [], f"these reports no longer read as their golden files: {changed}"


def test_an_answer_that_changed_is_shown_beside_the_call_that_asked_the_same_first():
    zeros = [0.0] * 27
    asked = Call("cross_entropy_loss", (zeros, 0), returned=3.2958, names=("logits", "true_id"))
    alike = Call("cross_entropy_loss", (zeros, 21), returned=3.2958, names=("logits", "true_id"))
    again = Call("cross_entropy_loss", (zeros, 0), returned=1.51, names=("logits", "true_id"))
    shown = text.story(Counterexample({}, (asked, alike, again), returned=1.51, expected=3.2958))
    assert "true_id = 21" not in "\n".join(shown)  # another input, though answered alike
    assert shown[0] == "(earlier calls not shown)" and shown[-1] == "you returned: 1.51"
    assert shown[-2] == "call: cross_entropy_loss(logits, true_id) (the same arguments)"


def test_an_answer_the_message_states_is_not_repeated_under_it_and_one_it_does_not_state_is():
    call = Call("gradients", ([["leaf", 1.0], ["neg", 0], ["add", 1, 1]],), returned=[[1.0], [-4.0]], names=("graph",))
    example = Counterexample({}, (call,), returned=[-4.0], expected=[-2.0])
    said = text.story(example, "`Value.backward`: a.grad is -4.00 where -2.00 was expected")
    assert not any(line.startswith(("you returned", "expected")) for line in said), said
    unsaid = text.story(example, "`Value.backward`: a.grad is wrong")
    assert unsaid[-2:] == ["you returned: [-4.00]", "expected:     [-2.00]"]
    # a number whose digits hold the answer's is another number
    apart = text.story(example, "`Value.backward`: a.grad is 14.00 where 12.00 was expected")
    assert unsaid[-2:] == apart[-2:]


def test_a_list_whose_differing_entries_the_message_states_is_not_repeated_and_one_with_more_is():
    call = Call("gradients", ([["leaf", 1.0], ["leaf", 1.0], ["sub", 0, 1]],), names=("graph",))
    example = Counterexample({}, (call,), returned=[1.0, 1.0], expected=[1.0, -1.0])
    said = text.story(example, "`Value.__sub__`: b.grad is 1.00 where -1.00 was expected")
    assert not any(line.startswith(("you returned", "expected")) for line in said), said
    more = Counterexample({}, (call,), returned=[3.0, 1.0], expected=[1.0, -1.0])
    shown = text.story(more, "`Value.__sub__`: b.grad is 1.00 where -1.00 was expected")
    assert shown[-2:] == ["you returned: [3.00, 1.00]", "expected:     [1.00, -1.00]"], shown
