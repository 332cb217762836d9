"""Scale properties judge how a function's time grows, on a real worker: a linear function slower than
the call limit keeps its points, a quadratic one loses them with how its time grew."""

from __future__ import annotations

from pathlib import Path

from gradekit import assignment
from gradekit.config import GradeConfig, Limits
from gradekit.grader import grade
from gradekit.result import PropertyResult

ASSIGNMENT = Path(__file__).resolve().parents[2] / "assignments" / "cross_entropy"
RIGHT = (ASSIGNMENT / "known_right" / "pure_python_math.py").read_text()

# Every value of a large vocabulary costs `work`; below 1,000 values nothing is added, so the
# correctness properties answer as fast as the file they extend.
SLOWED = """
_softmax = softmax


def softmax(logits):
    if len(logits) >= 1000:
        WORK
    return _softmax(logits)
"""
LINEAR = "for _ in logits:\n            sum(range(10_000))"
QUADRATIC = "for a in logits:\n            for b in logits:\n                a - b"
LIMIT = 0.5  # seconds a call may take: the linear softmax takes about twice that at 10,000 values


def graded_twice(tmp_path: Path, work: str) -> list[dict[str, PropertyResult]]:
    """The right file slowed by `work` on large vocabularies, graded twice: its scale properties'
    results by name, run by run."""
    path = tmp_path / "submission.py"
    path.write_text(RIGHT + SLOWED.replace("WORK", work))
    config = GradeConfig(limits=Limits(call_timeout=LIMIT))
    results = [grade(path, assignment.load("cross_entropy"), config) for _ in range(2)]
    return [{t.name: t for t in r.tests if t.name.endswith("large_vocabularies")} for r in results]


def outcomes(tests: dict[str, PropertyResult]) -> dict[str, tuple[str, str]]:
    return {name: (t.status.value, t.message) for name, t in tests.items()}


def calls(test: PropertyResult) -> list[tuple[str, int, str | None]]:
    """The calls a failure shows: each function, the length of its first argument, and what it raised."""
    assert test.counterexample is not None
    return [(call.function, len(call.args[0]), call.raised) for call in test.counterexample.calls]


def test_a_linear_softmax_slower_than_the_call_limit_keeps_its_scale_points_on_every_run(tmp_path):
    runs = graded_twice(tmp_path, LINEAR)
    tests = runs[0]
    for name in ("softmax_scales_to_large_vocabularies", "grad_scales_to_large_vocabularies"):
        assert (tests[name].status.value, tests[name].message) == ("passed", "")
        assert tests[name].seconds > LIMIT  # its call on 10,000 values took longer than any other call may
    assert_the_same_verdicts(*runs)


def test_a_quadratic_softmax_loses_them_with_how_its_time_grew_on_every_run(tmp_path):
    runs = graded_twice(tmp_path, QUADRATIC)
    found = outcomes(runs[0])
    status, message = found["softmax_scales_to_large_vocabularies"]
    assert status == "failed"
    assert message == (
        "`softmax` took more than 32 times as long on a vocabulary of 10,000 as on a vocabulary of 1,000: its "
        "time grows faster than the input, where linear work takes about 10 times as long: is it quadratic in "
        "the vocabulary?"
    )
    assert found["loss_scales_to_large_vocabularies"] == ("passed", "")
    # Whether the large input is called again depends on the small call's time, which varies from run to
    # run: the failure shows the calls every run makes, the large one past the call limit and the small one.
    assert calls(runs[0]["softmax_scales_to_large_vocabularies"]) == [
        ("softmax", 10_000, f"no answer (took more than {LIMIT:g} s of CPU time)"),
        ("softmax", 1_000, None),
    ]
    assert_the_same_verdicts(*runs)


def assert_the_same_verdicts(first: dict[str, PropertyResult], second: dict[str, PropertyResult]) -> None:
    """The same file gets the same verdicts, and shows the same counterexamples, again."""
    assert outcomes(first) == outcomes(second)
    assert [t.counterexample for t in first.values()] == [t.counterexample for t in second.values()]
