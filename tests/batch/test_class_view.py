"""The class view in summary.md: each known mistake counted over the class, and the failures no known
mistake explains grouped by how the students answered, with one counterexample each; what no known
mistake could explain (stubs, hangs, functions not defined, knock-on failures) left out and counted.
"""

from __future__ import annotations

import io
import json
from pathlib import Path

from gradekit import assignment
from gradekit.batch import class_grade, class_summary
from gradekit.config import GradeConfig, Limits
from gradekit.result import Call, Counterexample, GradeResult, PropertyResult, Status

ROOT = Path(__file__).resolve().parents[2]
SUBMISSION = (ROOT / "examples" / "submission.py").read_text()
FAST = GradeConfig(max_examples=10, limits=Limits(call_timeout=1.0, load_timeout=1.5, cell_timeout=1.0))

# Two students' loss, twice the right one, each written in a style of its own: a mistake the bank lacks.
DOUBLED = """
def cross_entropy_loss(logits, true_id):
    top = max(logits)
    log_sum_exp = top + math.log(sum(math.exp(z - top) for z in logits))
    return 2 * (log_sum_exp - logits[true_id])
"""
DOUBLED_IN_A_LOOP = """
def cross_entropy_loss(logits, true_id):
    m = max(logits)
    s = 0.0
    for z in logits:
        s += math.exp(z - m)
    return (m + math.log(s) - logits[true_id]) * 2.0
"""
OFF_BY_ONE = """
def perplexity(loss):
    return math.exp(loss) + 1.0
"""
IN_BITS = """
def perplexity(loss):
    return math.pow(2.0, loss)
"""
STUB = """
def softmax_cross_entropy_grad(logits, true_id):
    raise NotImplementedError
"""
STUB_SAID = """
def softmax_cross_entropy_grad(logits, true_id):
    raise NotImplementedError("my gradient goes here")
"""
HANG = """
def perplexity(loss):
    while True:
        pass
"""


def _with(function: str, replacement: str) -> str:
    """The example submission with `function`'s definition replaced (removed, for an empty one)."""
    start = SUBMISSION.index(f"def {function}(")
    end = SUBMISSION.find("\ndef ", start + 1)
    rest = SUBMISSION[end + 1 :] if end != -1 else ""
    return SUBMISSION[:start] + (replacement.strip() + "\n\n" if replacement else "") + rest


def test_the_summary_counts_known_mistakes_and_groups_the_students_who_answered_alike(tmp_path):
    submissions = tmp_path / "class"
    submissions.mkdir()
    students = {
        "ann": _with("cross_entropy_loss", DOUBLED),
        "ben": _with("cross_entropy_loss", DOUBLED_IN_A_LOOP),
        "cy": _with("perplexity", OFF_BY_ONE),
        "dee": _with("perplexity", IN_BITS),  # the bank's 2 ** loss, written with math.pow
        "eve": _with("softmax_cross_entropy_grad", STUB),
        "fay": _with("softmax_cross_entropy_grad", STUB_SAID),
        "gus": _with("perplexity", HANG),
        "hal": _with("perplexity", ""),
        "ida": SUBMISSION,
    }
    for name, source in students.items():
        (submissions / f"{name}.py").write_text(source)
    out = tmp_path / "results"
    class_grade.grade_all(
        submissions,
        assignment.load("cross_entropy"),
        out,
        FAST,
        class_grade.ClassConfig(jobs=2, progress=io.StringIO()),
    )
    results = {n: GradeResult.from_dict(json.loads((out / "results" / f"{n}.json").read_text())) for n in students}
    # The stubs answer their probes alike: only the summary's own judgement keeps them out of a group.
    stubbed = {n: results[n].unexplained.get("softmax_cross_entropy_grad") for n in ("eve", "fay")}
    assert stubbed["eve"] is not None and stubbed["eve"] == stubbed["fay"]
    assert results["ann"].unexplained["cross_entropy_loss"] == results["ben"].unexplained["cross_entropy_loss"]
    summary = (out / "summary.md").read_text()

    known = summary.split("## Known mistakes")[1].split("\n## ")[0]
    rows = [line.split(" | ") for line in known.splitlines() if line.startswith("| `")]
    assert [(row[0], row[2], row[3]) for row in rows] == [("| `perplexity`", "1", "dee |")]

    view = summary.split("## Failures no known mistake explains")[1].split("\n## ")[0]
    assert [line for line in view.splitlines() if line.startswith("### ")] == ["### 2 students: `cross_entropy_loss`"]
    group = view.split("### 2 students: `cross_entropy_loss`")[1]
    assert "ann, ben. They answer every probe alike. `loss_matches_reference`, as ann's grade found it:" in group
    example = group.split("```text\n")[1].split("```")[0].splitlines()
    assert example[0] == "the loss differs from the reference"
    assert example[1].startswith("call: cross_entropy_loss(")
    returned = float(example[-2].removeprefix("you returned: "))
    expected = float(example[-1].removeprefix("expected:     "))
    assert abs(returned - 2 * expected) < 0.02
    assert "And 1 student alone, failing like no one else: cy (`perplexity`)." in view
    assert view.rstrip().splitlines()[-1] == (
        "Left out, as no known mistake could explain them: 2 functions not implemented yet, 1 function that ran "
        "out of time, 1 function not defined."
    )  # ann's and ben's sequence_loss, the mean of their own doubled loss, is right in itself: no knock-on
    for name in ("dee", "eve", "fay", "gus", "hal", "ida"):  # diagnosed, left out, or right
        assert f"{name} (" not in view and f"{name}." not in view and f"as {name}'s" not in view


# Results written by hand: the grouping alone, with no worker.


def _failed(name: str, function: str, logits: list[float]) -> PropertyResult:
    example = Counterexample({"case": [logits, 0]}, (Call(function, (logits, 0), returned=[1.0]),), [1.0], [0.5])
    return PropertyResult(name, (function,), Status.FAILED, 0, 6, message="differs", counterexample=example)


def _result(*tests: PropertyResult, unexplained: dict[str, str] | None = None) -> GradeResult:
    return GradeResult("cross_entropy", "s.py", 1, tests=tests, unexplained=unexplained or {})


def test_failures_with_no_answers_to_compare_are_grouped_by_the_properties_they_fail(cross_entropy):
    """Where no digest was made (diagnosis off, out of time, or answers right on every probe), the
    students who fail the same properties of a function make a group; the smallest counterexample is shown."""
    pure = PropertyResult("softmax_is_pure", ("softmax",), Status.FAILED, 0, 1, message="changed its argument")
    graded = [
        ("zed", _result(_failed("softmax_matches_reference", "softmax", [0.0, 1.0, 2.0]))),
        ("amy", _result(_failed("softmax_matches_reference", "softmax", [0.0, 1.0]))),
        ("bo", _result(pure)),
        ("cal", _result(_failed("softmax_matches_reference", "softmax", [3.0]), unexplained={"softmax": "a1"})),
        ("dot", _result(_failed("softmax_matches_reference", "softmax", [4.0]), unexplained={"softmax": "a1"})),
        ("eli", _result(_failed("softmax_matches_reference", "softmax", [4.0]), unexplained={"softmax": "a1"})),
    ]
    view = class_summary.render(cross_entropy, graded, "h.svg").split("## Failures no known mistake explains")[1]
    headings = [line for line in view.splitlines() if line.startswith("### ")]
    assert headings == ["### 3 students: `softmax`", "### 2 students: `softmax`"]
    assert "cal, dot, eli. They answer every probe alike. `softmax_matches_reference`, as cal's grade" in view
    assert (
        "zed, amy. They fail `softmax_matches_reference` (no answers to the probes to compare). "
        "`softmax_matches_reference`, as amy's grade found it:"
    ) in view
    assert "And 1 student alone, failing like no one else: bo (`softmax`)." in view
    assert "Left out" not in view
