"""Diagnosis: a failing submission whose mistake the bank knows is told which it made, on the right
function; right code, a mistake the bank does not know and two mistakes in one function are told
nothing; and no diagnosis changes a score."""

from __future__ import annotations

import csv
import json
import math
import re
from dataclasses import replace
from pathlib import Path

import pytest

from gradekit import assignment
from gradekit.batch import class_grade
from gradekit.config import GradeConfig, Limits
from gradekit.diagnosis import mistakes
from gradekit.diagnosis.diagnose import SHRUNK, match
from gradekit.diagnosis.mistakes import PROBES, Bank, KnownWrong, agree, described
from gradekit.grader import grade
from gradekit.reports import WRITERS, inert
from gradekit.result import GradeResult
from gradekit.sandbox import Worker
from gradekit.sandbox.process import forked_workers
from gradekit.sandbox.worker import encode

ROOT = Path(__file__).resolve().parents[2]
SUBMISSION = (ROOT / "examples" / "submission.py").read_text()
STEP = (ROOT / "examples" / "training_step_submission.py").read_text()


def _with(source: str, function: str, replacement: str) -> str:
    """`source` with `function`'s definition replaced: each mistake below is written afresh, in a
    style of its own, not copied from the bank."""
    start = source.index(f"def {function}(")
    end = source.find("\ndef ", start + 1)
    return source[:start] + replacement.strip() + "\n\n" + (source[end + 1 :] if end != -1 else "")


# Right up to exp(88.7), where float32 overflows: caught by the property of large losses alone.
PERPLEXITY_IN_FLOAT32 = """
def perplexity(loss):
    import numpy
    return float(numpy.exp(numpy.float32(loss)))
"""
PERPLEXITY_IN_BITS = """
def perplexity(loss):
    return math.pow(2.0, loss)
"""
SEQUENCE_SUMMED = """
def sequence_loss(logits_list, true_ids):
    total = 0.0
    for z, t in zip(logits_list, true_ids):
        total += cross_entropy_loss(z, t)
    return total
"""
GRADIENT_FLIPPED = """
def softmax_cross_entropy_grad(logits, true_id):
    import numpy as np
    z = np.array(logits, dtype=float)
    p = np.exp(z - z.max())
    p /= p.sum()
    return (np.eye(len(z))[true_id] - p).tolist()
"""
LOG10_NUMPY = """
def cross_entropy_loss(logits, true_id):
    import numpy as np
    z = np.asarray(logits, dtype=float)
    p = np.exp(z - z.max()) / np.exp(z - z.max()).sum()
    return float(-np.log10(p[true_id]))
"""
UNSHIFTED_NUMPY = """
def cross_entropy_loss(logits, true_id):
    import numpy as np
    z = np.asarray(logits, dtype=float)
    return float(np.log(np.exp(z).sum()) - z[true_id])
"""
LOG10_UNSHIFTED = """
def cross_entropy_loss(logits, true_id):
    return math.log10(sum(math.exp(z) for z in logits)) - logits[true_id]
"""
TEMPERATURE_2 = """
def softmax(logits):
    top = max(logits)
    exps = [math.exp((z - top) / 2) for z in logits]
    return [e / sum(exps) for e in exps]
"""
ADAM_UNCORRECTED = """
def adam_update(params, grads, m, v, step, lr, beta1=0.85, beta2=0.99, eps=1e-8):
    import numpy as np
    g = np.asarray(grads, dtype=float)
    m = beta1 * np.asarray(m, dtype=float) + (1 - beta1) * g
    v = beta2 * np.asarray(v, dtype=float) + (1 - beta2) * g * g
    p = np.asarray(params, dtype=float) - lr * m / (np.sqrt(v) + eps)
    return p.tolist(), m.tolist(), v.tolist()
"""


def _grade(tmp_path: Path, source: str, name: str = "cross_entropy", **config: bool | int) -> GradeResult:
    path = tmp_path / "submission.py"
    path.write_text(source)
    return grade(path, assignment.load(name), replace(GradeConfig(), **config))


def _named(result: GradeResult) -> list[tuple[str, str]]:
    return [(d.function, d.source) for d in result.diagnosis]


@pytest.mark.parametrize(
    ("function", "mistake", "source"),
    [
        ("perplexity", PERPLEXITY_IN_BITS, "known_wrong/perplexity_base_2.py"),
        ("sequence_loss", SEQUENCE_SUMMED, "known_wrong/sequence_sums.py"),
        ("softmax_cross_entropy_grad", GRADIENT_FLIPPED, "known_wrong/grad_sign_flipped.py"),
        ("cross_entropy_loss", LOG10_NUMPY, "known_wrong/loss_log10_of_probability.py"),
        ("cross_entropy_loss", LOG10_NUMPY.replace("log10", "log2"), "known_wrong/loss_log2_of_probability.py"),
        # The bank's is written with math.exp, which raises where np.exp overflows to inf.
        ("cross_entropy_loss", UNSHIFTED_NUMPY, "known_wrong/loss_no_max_shift.py"),
    ],
)
def test_a_mistake_the_bank_knows_is_named_on_its_function(tmp_path, function, mistake, source):
    result = _grade(tmp_path, _with(SUBMISSION, function, mistake))
    assert result.score < result.max_score
    assert _named(result) == [(function, source)]
    (diagnosis,) = result.diagnosis
    matched, probes = diagnosis.agreement  # the probes, and the calls of the counterexamples
    assert matched == probes and 20 <= probes <= PROBES + SHRUNK
    said = described(assignment.load("cross_entropy").folder / source)
    assert (diagnosis.misconception, diagnosis.explanation) == said[1:] and said[0] == function


LOSS_CAPPED = """
def cross_entropy_loss(logits, true_id):
    m = max(logits)
    return min(m + math.log(sum(math.exp(z - m) for z in logits)) - logits[true_id], 100.0)
"""


def test_a_cap_is_told_as_the_cap_the_file_answers_with(tmp_path):
    """A loss capped at 100 answers as the bank's probability clamped at exp(-100): the diagnosis says
    what both do (cap the loss at 100), not that this file clamps a probability."""
    result = _grade(tmp_path, _with(SUBMISSION, "cross_entropy_loss", LOSS_CAPPED))
    (diagnosis,) = result.diagnosis
    assert diagnosis.source == "known_wrong/loss_clamped_probability.py"
    assert diagnosis.misconception.startswith("caps the loss at 100, "), diagnosis.misconception
    assert "clamps the target's probability" not in diagnosis.misconception


def test_two_mistakes_in_two_functions_are_each_named(tmp_path):
    source = _with(_with(SUBMISSION, "perplexity", PERPLEXITY_IN_BITS), "sequence_loss", SEQUENCE_SUMMED)
    assert _named(_grade(tmp_path, source)) == [
        ("sequence_loss", "known_wrong/sequence_sums.py"),
        ("perplexity", "known_wrong/perplexity_base_2.py"),
    ]


@pytest.mark.parametrize(
    ("function", "mistake"),
    [("cross_entropy_loss", LOG10_UNSHIFTED), ("softmax", TEMPERATURE_2)],
    ids=["two mistakes in one function", "a mistake the bank does not know"],
)
def test_nothing_is_said_rather_than_a_guess(tmp_path, function, mistake):
    result = _grade(tmp_path, _with(SUBMISSION, function, mistake))
    failed = {f for t in result.tests if t.status.value != "passed" for f in t.functions}
    assert function in failed
    assert result.diagnosis == ()


def test_right_code_is_never_diagnosed(tmp_path):
    assert _grade(tmp_path, SUBMISSION).diagnosis == ()
    for path in assignment.load("cross_entropy").known("known_right")[:3]:
        assert _grade(tmp_path, path.read_text()).diagnosis == ()


def test_a_training_step_mistake_is_named_on_its_function(tmp_path):
    result = _grade(tmp_path, _with(STEP, "adam_update", ADAM_UNCORRECTED), "training_step")
    named = _named(result)
    assert ("adam_update", "known_wrong/adam_no_bias_correction.py") in named
    assert {f for f, _ in named} <= {"adam_update", "train_step"}  # train_step calls the student's Adam


def test_a_diagnosis_never_changes_a_score_or_the_rest_of_the_report(tmp_path):
    """Nor what the report shows of the file: what it printed (its top level runs again for the
    probes), its notes, the lines of its functions."""
    source = _with(_with(SUBMISSION, "perplexity", PERPLEXITY_IN_BITS), "sequence_loss", SEQUENCE_SUMMED)
    source = 'print("loaded")\n' + source
    on, off = _grade(tmp_path, source), _grade(tmp_path, source, diagnose=False)
    assert on.diagnosis and not off.diagnosis and on.output == "loaded\n"
    assert _without_times(on) == _without_times(replace(off, diagnosis=on.diagnosis))


def test_a_function_slow_on_its_probes_is_not_diagnosed(tmp_path):
    slow = PERPLEXITY_IN_BITS.replace(
        "    return",
        "    busy = time.process_time() + 0.05\n    while time.process_time() < busy:\n        pass\n    return",
    )
    result = _grade(tmp_path, "import time\n" + _with(SUBMISSION, "perplexity", slow), max_examples=5)
    assert result.score < result.max_score and result.diagnosis == ()


def _without_times(result: GradeResult) -> dict:
    """The result less its timings, and less the digest of its options, which rightly says whether
    the known mistakes were looked for."""
    data = result.to_dict()
    data["provenance"]["options"] = None
    data["seconds"] = 0
    for test in data["tests"]:
        test["seconds"] = 0
    return data


# The comparison and the match, on answers written out by hand.


def test_answers_agree_to_rounding_and_not_beyond():
    one = ("returned", [0.1, 0.2, 0.7])
    assert agree(one, ("returned", [0.1, 0.2 + 1e-15, 0.7]))
    assert not agree(one, ("returned", [0.1, 0.2 + 1e-4, 0.7]))
    assert not agree(one, ("returned", [0.1, 0.2]))
    assert agree(("returned", math.nan), ("returned", math.nan))
    assert agree(("returned", math.inf), ("returned", math.inf))
    assert not agree(("returned", math.inf), ("returned", -math.inf))
    assert agree(("raised", "OverflowError"), ("raised", "OverflowError"))
    assert not agree(("raised", "OverflowError"), ("raised", "ValueError"))
    assert not agree(("stopped", "timeout"), ("stopped", "timeout"))  # no answer is never an answer
    assert not agree(("returned", 1), ("returned", True))


def test_an_overflow_agrees_with_an_overflow_in_another_style():
    raised, infinite = ("raised", "OverflowError"), ("returned", [0.0, math.nan, math.inf])
    assert agree(raised, infinite) and agree(infinite, ("raised", "ValueError"))
    assert not agree(raised, infinite, styles=False)
    assert not agree(raised, ("returned", [0.0, 1.0]))  # a finite answer did not overflow
    assert not agree(("raised", "TypeError"), infinite)


def test_a_float32_answer_agrees_at_float32_precision():
    rounded = float(__import__("numpy").float32(1 / 3))
    assert agree(("returned", 1 / 3), ("returned", rounded))
    assert not agree(("returned", 1 / 3), ("returned", 1 / 3 + 1e-5))


def _bank(*mistakes: tuple[str, tuple]) -> Bank:
    reference = (("returned", 1.0), ("returned", 2.0))
    return Bank(
        {"f": ("[1]", "[2]")},
        {"f": reference},
        tuple(KnownWrong("f", name, "why", f"known_wrong/{name}.py", answers) for name, answers in mistakes),
    )


def test_exactly_one_known_mistake_must_agree():
    doubled = (("returned", 2.0), ("returned", 4.0))
    halved = (("returned", 0.5), ("returned", 1.0))
    known = _bank(("doubled", doubled), ("halved", halved))
    found = match(known, "f", doubled)
    assert found is not None and found.source == "known_wrong/doubled.py"
    assert match(known, "f", (("returned", 1.0), ("returned", 2.0))) is None  # right on every probe
    assert match(known, "f", (("returned", 2.0), ("returned", 1.0))) is None  # like neither
    assert match(_bank(("doubled", doubled), ("twice", doubled)), "f", doubled) is None  # like two


def test_an_update_in_place_is_never_matched():
    nothing = (("returned", None), ("returned", None))
    assert match(_bank(("in_place", nothing)), "f", nothing) is None


# The bank: what its files say, and what it keeps.


def test_every_known_wrong_file_names_its_mistake_and_explains_it():
    for name in ("cross_entropy", "training_step"):
        built_in = assignment.load(name)
        for path in built_in.known("known_wrong"):
            function, mistake, explanation = described(path)
            assert function in built_in.functions, path.name
            assert mistake and 40 <= len(explanation) <= 320, path.name


def test_the_bank_is_worked_out_once_and_read_back(tmp_path, monkeypatch):
    monkeypatch.setenv("GRADEKIT_CACHE", str(tmp_path))
    built_in = assignment.load("cross_entropy")
    carried = mistakes.carried(built_in)
    monkeypatch.setattr(mistakes, "carried", lambda *_: tmp_path / "carries-nothing.zlib")
    made = mistakes.bank(built_in, Limits())
    assert made is not None
    assert carried.name.rpartition("-")[0] in [p.name.rpartition("-")[0] for p in tmp_path.iterdir()]
    monkeypatch.setattr(mistakes, "_worked_out", lambda *_: pytest.fail("worked out twice"))
    assert repr(mistakes.bank(built_in, Limits())) == repr(made)  # repr: a NaN answer equals itself
    told = [m for m in made.mistakes if m.answers]
    assert len(told) >= 50 and all(len(m.answers) == len(made.probes[m.function]) for m in told)
    assert {m.untold for m in made.mistakes if not m.answers} <= {
        "its answers agree with the reference's on every probe"
    }


def test_a_cache_file_laid_out_otherwise_is_not_read():
    assert mistakes._read({"probes": {"f": (("f", "[1]"),)}, "reference": {"f": ()}, "mistakes": []}) is None
    assert mistakes._read({"probes": {"f": ("[1]",)}, "reference": {"f": (("returned", 1),)}, "mistakes": []}) is None
    assert mistakes._read({"probes": [], "reference": {}, "mistakes": []}) is None
    assert mistakes._read({"probes": {}, "reference": {}, "mistakes": [("f",)]}) is None


# Every format carries it.


def test_every_report_format_carries_the_diagnosis(tmp_path):
    result = _grade(tmp_path, _with(SUBMISSION, "perplexity", PERPLEXITY_IN_BITS))
    (diagnosis,) = result.diagnosis
    for name, render in WRITERS.items():
        said = inert.markdown_text(diagnosis.misconception) if name == "markdown" else diagnosis.misconception
        assert said in render(result), name
    data = json.loads(WRITERS["json"](result))
    assert data["diagnosis"] == [
        {
            "function": "perplexity",
            "misconception": diagnosis.misconception,
            "explanation": diagnosis.explanation,
            "agreement": list(diagnosis.agreement),
            "source": "known_wrong/perplexity_base_2.py",
        }
    ]
    assert GradeResult.from_dict(data).diagnosis == result.diagnosis
    block = WRITERS["text"](result).split("KNOWN MISTAKE")[1].split("\n\n")[0]
    assert len(block) < 500  # a few hundred characters, read in a moment


def test_a_bank_worked_out_inside_a_class_grader_leaves_its_student_running():
    """A class grader's fork server ends its last worker before it forks the next: workers started in a
    block inside the grader's (the bank worked out mid-grade, where the cache missed) start alone."""
    limits = Limits()
    with forked_workers(limits), Worker.started(limits) as student:
        student.load("def f(x):\n    return x + 1\n", "student.py")
        with forked_workers(limits), Worker.started(limits) as other:
            other.load("def f(x):\n    return x - 1\n", "known.py")
            assert other.call("f", encode([1]))["returned"] == 0
        assert student.call("f", encode([1]))["returned"] == 2


# A class.


def test_a_class_summary_counts_each_known_mistake_as_the_students_reports_name_it(tmp_path):
    submissions = tmp_path / "class"
    submissions.mkdir()
    students = {
        "ada": _with(SUBMISSION, "perplexity", PERPLEXITY_IN_BITS),
        "ben": _with(SUBMISSION, "perplexity", "def perplexity(loss):\n    return 2.0 ** loss\n"),
        "cy": _with(SUBMISSION, "sequence_loss", SEQUENCE_SUMMED),
        "di": _with(SUBMISSION, "softmax", TEMPERATURE_2),
        "ed": _with(SUBMISSION, "softmax", TEMPERATURE_2.replace("/ 2", "/ 3")),
        "flo": SUBMISSION,
    }
    for name, source in students.items():
        (submissions / f"{name}.py").write_text(source)
    out = tmp_path / "results"
    class_grade.grade_all(
        submissions, assignment.load("cross_entropy"), out, GradeConfig(), class_grade.ClassConfig(jobs=2)
    )
    reports = {n: GradeResult.from_dict(json.loads((out / "results" / f"{n}.json").read_text())) for n in students}
    with open(out / "gradebook.csv", newline="") as handle:
        column = {row["student"]: row["misconceptions"] for row in csv.DictReader(handle)}
    assert column == {n: "; ".join(f"{d.function}: {d.misconception}" for d in r.diagnosis) for n, r in reports.items()}
    assert [n for n, r in reports.items() if r.diagnosis] == ["ada", "ben", "cy"]
    summary = (out / "summary.md").read_text()
    known = summary.split("## Known mistakes")[1].split("\n## ")[0]
    rows = [line.split(" | ") for line in known.splitlines() if line.startswith("| `")]
    assert [(row[0], row[2], row[3]) for row in rows] == [
        ("| `perplexity`", "2", "ada, ben |"),
        ("| `sequence_loss`", "1", "cy |"),
    ]
    unexplained = summary.split("## Failures no known mistake explains")[1]
    assert "###" not in unexplained  # di halves softmax, ed thirds it: they answer unlike each other
    alone = "failing like no one else: di (`softmax`), ed (`softmax`)"  # and their gradients, built on softmax
    assert alone in unexplained


def test_a_function_that_parts_from_the_mistake_where_it_was_caught_is_not_diagnosed(tmp_path):
    """Alike with the mistake but on the inputs the grade caught it on: a second mistake there, which
    the diagnosis sees whether or not those inputs are among its probes."""
    caught = _grade(tmp_path, _with(SUBMISSION, "perplexity", PERPLEXITY_IN_FLOAT32))
    shrunk = {
        c.args[0]
        for t in caught.tests
        if t.counterexample
        for c in t.counterexample.calls
        if c.function == "perplexity"
    }
    assert shrunk
    second = (
        "def perplexity(loss):\n    import numpy\n"
        f"    return 0.0 if loss in {sorted(shrunk)!r} else float(numpy.exp(numpy.float32(loss)))\n"
    )
    result = _grade(tmp_path, _with(SUBMISSION, "perplexity", second))
    assert result.score < result.max_score and result.diagnosis == ()


def _explanations():
    for name in ("cross_entropy", "training_step", "autograd"):
        graded = assignment.load(name)
        for path in graded.known("known_wrong"):
            function, _, explanation = described(path)
            yield graded, path.name, function, explanation


@pytest.mark.parametrize("graded, name, function, explanation", list(_explanations()), ids=lambda v: str(v)[:40])
def test_an_explanation_claims_nothing_about_the_students_other_code(graded, name, function, explanation):
    """A known mistake is told on its function's answers alone: its text may say what that function
    does, never what the student's other functions do, how the code is laid out or which library it
    uses, which no probe checked."""
    others = [f for f in graded.functions if f != function]
    said = " ".join(explanation.split())
    for other in others:
        assert f"your {other}" not in said and f"your `{other}`" not in said, f"{name} says what {other} does"
    assert "as your" not in said and "inline" not in said, f"{name} describes code no probe saw"
    assert not re.search(r"\bUse np\.\w+\.", said), f"{name} tells every student to use NumPy"
    # What a failing exp or log does differs by library; the bank's answers do not tell them apart
    # (gradekit.diagnosis.mistakes.agree), so a text says both, but for a mistake the bank holds in both.
    paired = name.endswith("_numpy.py") or (graded.folder / "known_wrong" / name.replace(".py", "_numpy.py")).exists()
    if re.search(r"raises (OverflowError|ValueError)", said) and not paired:
        assert "NumPy" in said, f"{name} tells a student whose NumPy gave inf that their code raised"
