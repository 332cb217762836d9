"""The result model survives a round trip through JSON: `GradeResult.from_dict` gives back the very
result `to_dict` was made from, tuples, statuses and calls included.

A class grade stores each student's result as JSON and builds the gradebook and the summary from it
read back, so anything lost on the way would be lost from them. Seconds are stored to the
millisecond, so the results here are timed to the millisecond; floats are never NaN (NaN is not
equal to itself, so no result holding one equals any other).
"""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gradekit.result import Call, Counterexample, GradeResult, PropertyResult, Status


def through_json(result: GradeResult) -> GradeResult:
    return GradeResult.from_dict(json.loads(json.dumps(result.to_dict())))


FAILED = PropertyResult(
    "loss_matches_reference",
    ("cross_entropy_loss",),
    Status.FAILED,
    0,
    10,
    hint="logsumexp(z) - z[t]",
    message="the loss differs from the reference",
    counterexample=Counterexample(
        inputs={"case": [[0.0, -27.0], 1]},
        calls=(
            Call("softmax", ([0.0, -27.0],), returned=[1.0, 1.8795288165390832e-12]),
            Call("cross_entropy_loss", ([0.0, -27.0], 1), raised="ZeroDivisionError: division by zero"),
        ),
        returned=27.63,
        expected=27.0,
    ),
    examples=3,
    seconds=0.25,
)
PASSED = PropertyResult(
    "softmax_matches_reference", ("softmax",), Status.PASSED, 8, 8, hint="shift by the max", examples=100, seconds=0.512
)
EXAMPLES = {
    "passed": GradeResult(
        "cross_entropy", "submission.py", 7, tests=(PASSED,), seconds=1.234, function_lines={"softmax": 3}
    ),
    "failed with calls": GradeResult(
        "cross_entropy",
        "buggy.py",
        7,
        tests=(
            PASSED,
            FAILED,
            PropertyResult(
                "perplexity_matches_reference",
                ("perplexity",),
                Status.TIMEOUT,
                0,
                6,
                message="`perplexity` did not answer within 2 s",
                counterexample=Counterexample({"loss": 1.0}, (Call("perplexity", (1.0,), raised="no answer"),)),
            ),
            PropertyResult(
                "grad_matches_identity",
                ("softmax_cross_entropy_grad", "softmax"),
                Status.ERROR,
                0,
                8,
                message="`softmax_cross_entropy_grad` is not defined",
            ),
        ),
        output="hello\n\x00\x1b[31mred\n",
        seconds=2.5,
    ),
    "load error": GradeResult(
        "cross_entropy",
        "broken.py",
        7,
        tests=(
            PropertyResult(
                "softmax_matches_reference",
                ("softmax",),
                Status.ERROR,
                0,
                8,
                message="broken.py has a SyntaxError on line 2",
            ),
        ),
        error="broken.py has a SyntaxError on line 2: '(' was never closed",
    ),
    "notebook with notes": GradeResult(
        "cross_entropy",
        "work.ipynb",
        7,
        tests=(PASSED, FAILED),
        function_lines={"softmax": 2, "cross_entropy_loss": 1},
        function_cells={"softmax": 3, "cross_entropy_loss": 5},
        notes=(
            "cell 2 raised NameError: name 'x' is not defined (line 1)",
            "cell 4 is not Python (%%bash), so it was left out",
        ),
    ),
    "nothing": GradeResult("training_step", "", 0),
    "course seed": GradeResult("cross_entropy", "buggy.py", None, tests=(FAILED,), seed_digest="3f2a9c1b7d4e"),
}


@pytest.mark.parametrize("name", EXAMPLES)
def test_a_result_comes_back_from_json_as_it_was(name):
    result = EXAMPLES[name]
    back = through_json(result)
    assert back == result
    assert GradeResult.from_dict(result.to_dict()) == result
    assert isinstance(back.tests, tuple) and isinstance(back.notes, tuple)
    for test in back.tests:
        assert isinstance(test.functions, tuple) and isinstance(test.status, Status)
        if test.counterexample is not None:
            assert isinstance(test.counterexample.calls, tuple)
            assert all(isinstance(c, Call) and isinstance(c.args, tuple) for c in test.counterexample.calls)


def test_the_json_report_carries_function_lines_and_cells_and_a_stored_result_reads_without_them():
    data = EXAMPLES["notebook with notes"].to_dict()
    assert data["function_lines"] == {"softmax": 2, "cross_entropy_loss": 1}
    assert data["function_cells"] == {"softmax": 3, "cross_entropy_loss": 5}
    older = {k: v for k, v in data.items() if k not in ("notes", "function_lines", "function_cells")}
    back = GradeResult.from_dict({**older, "batch": {"student": "ann"}})
    assert back.notes == () and back.function_lines == {} and back.function_cells == {}
    assert back.tests == EXAMPLES["notebook with notes"].tests
    assert back.seed_digest is None and back.seed == 7


def test_a_course_seed_result_keeps_its_digest_and_never_a_seed():
    data = EXAMPLES["course seed"].to_dict()
    assert data["seed"] is None and data["seed_digest"] == "3f2a9c1b7d4e"
    assert EXAMPLES["passed"].to_dict()["seed_digest"] is None


# Strategies: any result whose data a grade could hold. Counterexamples hold plain JSON data (lists,
# never tuples, as the grader stores them); a call's arguments are a tuple of it.
names = st.text(max_size=12)
millis = st.integers(0, 10**7).map(lambda ms: ms / 1000)
plain = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=5), inner, max_size=3),
    max_leaves=8,
)
calls = st.builds(Call, names, st.lists(plain, max_size=3).map(tuple), plain, st.none() | names)
counterexamples = st.builds(
    Counterexample, st.dictionaries(names, plain, max_size=3), st.lists(calls, max_size=3).map(tuple), plain, plain
)
scores = st.floats(0, 100, allow_nan=False) | st.integers(0, 100)
property_results = st.builds(
    PropertyResult,
    names,
    st.lists(names, max_size=3).map(tuple),
    st.sampled_from(Status),
    scores,
    scores,
    hint=names,
    message=names,
    counterexample=st.none() | counterexamples,
    examples=st.integers(0, 1000),
    seconds=millis,
)
line_numbers = st.dictionaries(names, st.integers(1, 10**4), max_size=4)
grade_results = st.builds(
    GradeResult,
    names,
    names,
    st.none() | st.integers(0, 2**32 - 1),  # None: the course's own seed, named by `seed_digest` alone
    tests=st.lists(property_results, max_size=4).map(tuple),
    error=st.none() | names,
    output=st.text(max_size=40),
    seconds=millis,
    function_lines=line_numbers,
    notes=st.lists(names, max_size=3).map(tuple),
    function_cells=line_numbers,
    seed_digest=st.none() | st.text("0123456789abcdef", min_size=12, max_size=12),
)


@settings(max_examples=50, deadline=None)
@given(grade_results)
def test_any_result_comes_back_from_json_as_it_was(result):
    back = through_json(result)
    assert back == result
    assert json.loads(json.dumps(back.to_dict())) == json.loads(json.dumps(result.to_dict()))


def _containers(value: object, found: set[int]) -> set[int]:
    """The ids of every list and dict within `value`."""
    if isinstance(value, (list, dict)):
        found.add(id(value))
    if isinstance(value, dict):
        value = list(value.values())
    if isinstance(value, (list, tuple)):
        for item in value:
            _containers(item, found)
    return found


@settings(max_examples=50, deadline=None)
@given(grade_results)
def test_the_dict_of_a_result_shares_no_list_or_dict_with_it(result):
    """A writer may change what `to_dict` gives (a class grade adds its stamp): the result stays as it was."""
    held: set[int] = set()
    for test in result.tests:
        example = test.counterexample
        if example is not None:
            for part in (example.inputs, example.returned, example.expected, *example.calls):
                _containers((part.args, part.returned) if isinstance(part, Call) else part, held)
    assert held.isdisjoint(_containers(result.to_dict(), set()))
