"""Every writer, fed a result and a roster whose every student-controlled text holds a hostile payload,
writes none of them live: no formula in a CSV cell, no escape sequence for a terminal, no image, link
or HTML in Markdown, no workflow command of a student's in what a CI job prints, XML and JSON that a
strict parser reads.

The payloads stand where a student puts them: the file's name, what the code printed, its exception
messages and what its calls raised, the values it returned (a string, a NaN), the known mistake's
text (which may quote the student), the staff's comments, the roster's name, login, section and
e-mail, and the student's own name in a class.
"""

from __future__ import annotations

import csv
import io
import json
import math
import re
import xml.etree.ElementTree as ET
from dataclasses import replace

import pytest

from gradekit.batch import class_summary, gradebook, lms, regrade_report
from gradekit.batch.gradebook import Listing
from gradekit.batch.progress import Progress
from gradekit.batch.regrade import compare
from gradekit.cli import main
from gradekit.reports import WRITERS, adjustments
from gradekit.reports.inert import FORMULA
from gradekit.result import Adjustment, Call, Counterexample, Diagnosis, GradeResult, PropertyResult, Status

PAYLOADS = {
    "formula": '=HYPERLINK("http://evil/","click")',
    "dde": "+cmd|' /C calc'!A0",
    "minus": "-2+3+cmd|' /C calc'!A0",
    "at": "@SUM(1+1)*cmd|' /C calc'!A0",
    "tab": "\t=1+1",
    "cr": "\r=1+1",
    "osc52": "\x1b]52;c;aGVsbG8=\x07",
    "osc8": "\x1b]8;;http://evil/\x1b\\click\x1b]8;;\x1b\\",
    "csi": "\x1b[2J\x1b[H",
    "c1": "\x9b2J",
    "bidi": "safe\u202etxt.exe",
    "image": "![x](http://evil/)",
    "html": "<img src=x onerror=alert(1)>",
    "link": "[link](http://x)",
    "mask": "::add-mask::x",
    "stop": "::stop-commands::t",
    "forged": "ok\n::error::forged",
    "forged_cr": "ok\r::error::forged",
    "old_form": "ok ##[add-mask]x",
    "cdata": "]]>",
    "nul": "\x00",
}
# What a terminal acts on, or what makes text read otherwise than it is: C0 but tab and newline, DEL,
# C1, the bidi controls, line and paragraph separators, lone surrogates.
LIVE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069\u2028\u2029\ud800-\udfff]")
# A live link, image, HTML tag or entity, or what GFM links bare, outside code.
LIVE_MARKDOWN = re.compile(r"(?<!\\)(\]\(|\]\[|<[A-Za-z/!?]|&#?\w+;|://)|www\.|\w@\w")
CODE_SPAN = re.compile(r"(?<!`)(`+)(?!`).+?(?<!`)\1(?!`)")


def hostile(payload: str) -> GradeResult:
    """A result whose every field a student controls holds `payload`: failed, timed out and waiting."""
    example = Counterexample(
        inputs={"case": [payload, math.nan]},
        calls=(
            Call("cross_entropy_loss", (payload, math.inf), returned=payload),
            Call("cross_entropy_loss", ([0.0, -math.inf], 1), returned=math.nan, raised=payload),
        ),
        returned=payload,
        expected=math.nan,
    )
    failed = PropertyResult(
        "loss_matches_reference",
        ("cross_entropy_loss",),
        Status.FAILED,
        0,
        10,
        hint="loss = logsumexp(z) - z[t]",
        message=payload,
        counterexample=example,
    )
    timeout = PropertyResult(
        "perplexity_matches_reference", ("perplexity",), Status.TIMEOUT, 0, 5, message=f"{payload} then {payload}"
    )
    waiting = PropertyResult("softmax_shift_invariant", ("softmax",), Status.UNCHECKED, 0, 3, message=payload)
    tables = PropertyResult(
        "bigram_grad_matches_identity",
        ("bigram_grad",),
        Status.FAILED,
        0,
        6,
        message=payload,
        counterexample=bigram_answer(payload),
    )
    passed = PropertyResult("softmax_matches_reference", ("softmax",), Status.PASSED, 8, 8, message=payload)
    return GradeResult(
        "cross_entropy",
        f"{payload}.py",
        7,
        tests=(passed, waiting, failed, timeout, tables),
        output=f"{payload}\n{payload}\n",
        notes=(payload, f"cell 2 raised {payload}"),
        diagnosis=(Diagnosis("cross_entropy_loss", payload, f"you wrote {payload}", (3, 3), "known_wrong/x.py"),),
        isolation="guard",
        regraded=payload,
        adjustments=(Adjustment("loss_matches_reference", add=1.0, comment=payload), Adjustment(comment=payload)),
    )


def bigram_answer(payload: str) -> Counterexample:
    """Calls given the bigram table `W`, answered with a table holding `payload` in a row, then with one
    of non-finite and extreme numbers: the answer a report names entry by entry, by token."""
    W = [[0.0] * 27 for _ in range(27)]
    worded = [*W[:3], [payload] * 27, *W[4:]]
    extreme = [row[:] for row in W]
    extreme[0][26], extreme[1][1], extreme[2][2], extreme[3][3] = math.nan, math.inf, -1e308, -0.0
    calls = tuple(
        Call("bigram_grad", (W, [26, 0, 26]), returned=answer, names=("W", "tokens")) for answer in (worded, extreme)
    )
    return Counterexample({"W": W}, calls, returned=extreme, expected=W)


def unloadable(payload: str) -> GradeResult:
    """A result of a file that did not load, its error message the payload."""
    result = hostile(payload)
    return replace(result, error=payload, tests=tuple(replace(t, status=Status.ERROR) for t in result.tests))


def roster(payload: str) -> dict[str, Listing]:
    columns = {"login": payload, "section": payload, "email": payload}
    return {payload: Listing(payload, gradebook.GRADED, columns), "ann": Listing(payload, gradebook.MISSING, columns)}


def graded(payload: str) -> list[tuple[str, GradeResult]]:
    return [(payload, hostile(payload)), ("ann", unloadable(payload)), (f"{payload}2", hostile(payload))]


# Each output kind's check, asserting that no live form is in `out`.


def no_workflow_command(out: str, ours: int = 0) -> None:
    """No line of `out` opens a workflow command but `ours`, the first lines gradekit's own commands."""
    for number, line in enumerate(re.split(r"\r\n|\r|\n", out)):
        if number >= ours:
            assert not line.lstrip().startswith("::"), line
    assert "##[" not in out


def as_terminal(out: str) -> None:
    assert not LIVE.search(out), LIVE.search(out)
    no_workflow_command(out)


def as_csv(out: str) -> None:
    as_terminal(out)
    for row in csv.reader(io.StringIO(out)):
        for cell in row:
            if cell.lstrip(" ")[:1] in FORMULA:
                float(cell)  # a number alone may start with a sign


def outside_code(out: str) -> str:
    """The Markdown `out` less its fenced blocks and code spans, where nothing is live."""
    kept, fence = [], None
    for line in out.split("\n"):
        if fence is None and re.fullmatch(r"`{3,}text", line):
            fence = line[: -len("text")]
        elif fence is not None:
            fence = None if line == fence else fence
        elif not line.startswith("![Histogram of the scores"):  # the class summary's own image
            kept.append(CODE_SPAN.sub("", line))
    assert fence is None, "a fenced block was closed early or never"
    return "\n".join(kept)


def as_markdown(out: str) -> None:
    as_terminal(out)
    prose = outside_code(out)
    assert not LIVE_MARKDOWN.search(prose), LIVE_MARKDOWN.search(prose)


def as_github(out: str) -> None:
    assert not LIVE.search(out)
    lines = out.rstrip("\n").split("\n")
    assert all(re.match(r"::(error|warning|notice) [^:]*::", line) for line in lines), lines
    assert not any(re.match(r"::(add-mask|stop-commands)", line) for line in lines)


def as_junit(out: str) -> None:
    as_terminal(out)
    ET.fromstring(out.encode())
    assert "]]>" not in out


def as_json(out: str) -> object:
    """Strict JSON, its text holding no control character (the data is kept as it was, escaped)."""

    def refuse(name: str) -> None:
        pytest.fail(f"{name} written as a JSON literal")

    assert not LIVE.search(out)
    return json.loads(out, parse_constant=refuse)


def as_gradescope(out: str) -> None:
    """Strict JSON whose every text, which Gradescope shows, is terminal text."""
    for text in _strings(as_json(out)):
        assert not LIVE.search(text), text


def _strings(value: object) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [s for v in [*value.keys(), *value.values()] for s in _strings(v)]
    if isinstance(value, list):
        return [s for v in value for s in _strings(v)]
    return []


KIND = {"text": as_terminal, "json": as_json, "gradescope": as_gradescope, "junit": as_junit, "github": as_github}
KIND["markdown"] = as_markdown


def test_every_writer_has_a_check():
    assert set(WRITERS) == set(KIND)


@pytest.mark.parametrize("payload", PAYLOADS.values(), ids=PAYLOADS.keys())
@pytest.mark.parametrize("name", list(WRITERS))
def test_no_report_writes_a_payload_live(name, payload):
    for result in (hostile(payload), unloadable(payload)):
        KIND[name](WRITERS[name](result))


@pytest.mark.parametrize("payload", PAYLOADS.values(), ids=PAYLOADS.keys())
@pytest.mark.parametrize("form, check", [("text", as_terminal), ("markdown", as_markdown)])
def test_no_feedback_file_writes_a_payload_live(form, check, payload):
    check(adjustments.feedback(hostile(payload), form))


@pytest.mark.parametrize("payload", PAYLOADS.values(), ids=PAYLOADS.keys())
def test_no_class_writer_writes_a_payload_live(cross_entropy, payload):
    class_ = graded(payload)
    as_csv(gradebook.render(cross_entropy, class_, roster(payload), adjusted=True))
    as_csv(gradebook.render(cross_entropy, class_))
    for export in lms.EXPORTS.values():
        as_csv(export(cross_entropy, class_, roster(payload)))
    as_markdown(class_summary.render(cross_entropy, class_, "h.svg", roster(payload)))
    regrades = [compare(student, replace(result, tests=result.tests[:1]), result) for student, result in class_]
    as_markdown(regrade_report.markdown(payload, regrades))
    as_csv(regrade_report.csv_text(regrades))
    as_json(regrade_report.json_text(regrades))


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


@pytest.mark.parametrize("payload", PAYLOADS.values(), ids=PAYLOADS.keys())
@pytest.mark.parametrize("stream", [Terminal, io.StringIO])
def test_the_progress_line_writes_no_payload_live(stream, payload):
    out = stream()
    progress = Progress(3, 0, out, clock=iter(range(0, 1000, 40)).__next__)
    progress.grading([payload, f"{payload}2"])
    progress.advance()
    progress.grading([payload])
    progress.finish()
    written = out.getvalue()
    assert not LIVE.search(written.replace("\r", "").replace("\n", "")), written
    assert all(line.startswith("grading [") for line in re.split(r"[\r\n]", written) if line), written


def test_the_honest_reports_are_unchanged_by_the_escapes():
    """What gradekit writes of itself and of honest text reads as it always did: a hint's brackets, a
    snake_case name, a sign and an ampersand stay as they are, and backticks stay code."""
    result = replace(hostile("the loss differs from the reference"), regraded=None, adjustments=())
    report = WRITERS["markdown"](result)
    assert "**Hint:** loss = logsumexp(z) - z[t]" in report
    assert (
        "- **`cross_entropy_loss`: the loss differs from the reference.** Your `cross_entropy_loss` behaves" in report
    )
    assert "\\" not in report and "\\" not in WRITERS["text"](result)  # nothing honest needed an escape


def test_non_finite_values_are_written_as_their_names():
    out = json.loads(WRITERS["json"](hostile("x")))
    example = out["tests"][2]["counterexample"]
    assert example["inputs"] == {"case": ["x", "NaN"]} and example["expected"] == "NaN"
    assert example["calls"][0]["args"] == ["x", "Infinity"] and example["calls"][1]["args"] == [[0.0, "-Infinity"], 1]


def test_a_table_answered_to_the_bigram_table_is_named_by_the_graders_indices():
    """Where an answer differs is named by the grader's own indices, as tokens: nothing the answer holds
    (a NaN, an infinity, text in a row) chooses the words."""
    lines = [line.strip() for line in WRITERS["text"](hostile("x")).splitlines()]
    assert "you returned vs expected, most different at [a][BOS]: nan vs 0.0 (and 2 more)" in lines


def test_an_error_naming_a_students_path_prints_it_inert(tmp_path, capsys):
    folder = tmp_path / f"{PAYLOADS['osc52']}{PAYLOADS['bidi']}\n::error::forged"
    code = main(["grade", str(folder), "--assignment", "cross_entropy", "--out", str(tmp_path / "out")])
    said = capsys.readouterr().err
    assert code == 2 and "\\x1b]52;c;" in said and "\\u202e" in said
    as_terminal(said)
