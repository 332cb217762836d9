"""`gradekit selftest`: a scaffold grades well, and each way an assignment can grade badly is named.

Every broken assignment is the scaffold of `gradekit new`, made in tmp_path and edited one way.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from gradekit import assignment
from gradekit.config import GradeConfig, Limits
from gradekit.errors import AssignmentError
from gradekit.instructor import scaffold
from gradekit.instructor.selftest import FileVerdict, PropertyStats, SelfTest, blames, render, selftest
from gradekit.result import Call, Counterexample, PropertyResult, Status

NAME = "demo"
WORKED, SHIFT = "log_softmax_on_worked_examples", "log_softmax_shift_invariant"  # public.py
MATCHES = "log_softmax_matches_reference"  # properties.py
NOT_NORMALISED = '''"""log_softmax: returns z - max(z) and forgets the log of the sum."""


def log_softmax(logits):
    top = max(logits)
    return [z - top for z in logits]
'''


@pytest.fixture(autouse=True)
def own_cache(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    """An example cache for each test: each test's scaffold is an assignment of its own (its sources
    name its folder), and the cache keeps one recording per assignment name, in place of any other
    version of it. Tests side by side in the suite's shared cache would each replace the others'
    recording, which their graders then make again."""
    monkeypatch.setenv("GRADEKIT_CACHE", str(tmp_path_factory.mktemp("cache")))


def _course(tmp_path: Path) -> Path:
    scaffold.create(NAME, tmp_path)
    return tmp_path / NAME


def _selftest(course: Path, repeat: bool = False) -> SelfTest:
    """The self-test of `course`, each file graded once unless `repeat`: a second grade finds only a
    file whose grade changes from one grade to the next, which few of these tests are about."""
    folders = [str(course.parent)]
    return selftest(assignment.load(NAME, folders), jobs=2, assignment_dirs=folders, repeat=repeat)


def test_a_new_assignment_grades_well_and_shows_its_table(tmp_path):
    report = _selftest(_course(tmp_path), repeat=True)
    assert report.ok, report.problems
    assert [(f.label, f.score, f.caught_by) for f in report.files] == [
        ("reference", 10, ()),
        ("known_right/numpy_style.py", 10, ()),
        ("known_wrong/no_max_shift.py", 6, (SHIFT,)),  # right on typical logits, overflows when shifted
        ("known_wrong/not_normalised.py", 0, (WORKED, MATCHES)),  # shift invariant, but not normalised
        ("known_wrong/sorts_logits.py", 6, (MATCHES,)),  # right on the worked examples, which are in order
    ]
    stats = {p.name: p for p in report.properties}
    assert (stats[WORKED].points, stats[WORKED].caught, stats[WORKED].unique) == (2, 1, 0)
    assert (stats[SHIFT].points, stats[SHIFT].caught, stats[SHIFT].unique) == (4, 1, 1)
    assert (stats[MATCHES].points, stats[MATCHES].caught, stats[MATCHES].unique) == (4, 2, 1)
    assert report.candidates_to_drop == []  # the worked examples catch nothing alone, but gate shift invariance
    assert stats[WORKED].gates and not stats[SHIFT].gates and not stats[MATCHES].gates
    assert all(0 < p.mean_seconds <= p.max_seconds for p in report.properties)
    text = render(report)
    assert "property                        points  caught  unique  mean s   max s" in text
    assert f"{WORKED}       2       1       0" in text and f"{MATCHES}        4       2       1" in text
    assert "Could all be dropped" not in text
    assert text.rstrip().splitlines()[-1].startswith("Grades well")


def test_a_mistake_only_one_property_catches_makes_that_property_needed(tmp_path):
    course = _course(tmp_path)
    (course / "known_wrong" / "returns_its_input.py").write_text(
        '"""log_softmax: returns the logits as they are."""\n\n\ndef log_softmax(logits):\n    return list(logits)\n'
    )
    report = _selftest(course)
    assert report.ok, report.problems
    caught_by = {f.label: f.caught_by for f in report.files}
    assert caught_by["known_wrong/no_max_shift.py"] == (SHIFT,)
    assert caught_by["known_wrong/not_normalised.py"] == (WORKED, MATCHES)
    # shift invariance waits for the worked examples, which the file fails: it is not checked, nor blamed
    assert caught_by["known_wrong/returns_its_input.py"] == (WORKED, MATCHES)
    assert [(p.caught, p.unique) for p in report.properties] == [(2, 0), (1, 1), (3, 1)]
    assert report.candidates_to_drop == []
    assert "Could all be dropped" not in render(report)


SCALE = "log_softmax_scales_to_large_vocabularies"
SCALE_PROPERTY = f'''

from gradekit import at_scale
from gradekit.strategies import large_vocab_sizes


@prop(points=1, functions=["log_softmax"], requires=["log_softmax_matches_reference"], scale=True,
      max_examples=2, hint="One pass for the max, one for the sum: linear in the vocabulary.")
@given(z=logits(large_vocab_sizes()))
def {SCALE}(sub, z):
    """log_softmax answers a vocabulary of 10,000 within the time limit."""
    with at_scale(f"a vocabulary of {{len(z):,}}", "is it quadratic?"):
        out = sub.log_softmax(z)
    expect_close(out, reference(z), "log_softmax differs on a large vocabulary", scale=magnitude(z))
'''
QUADRATIC = '''"""log_softmax: right, but sums every exp again for each entry."""
import math


def log_softmax(logits):
    top = max(logits)
    return [z - top - math.log(sum(math.exp(y - top) for y in logits)) for z in logits]
'''


def _with_scale_property(course: Path, waited_on: bool = False) -> None:
    """The scale property, defined in properties.py after the reference match it requires; with
    `waited_on`, a correctness property after it that requires it."""
    properties = course / "properties.py"
    text = properties.read_text() + SCALE_PROPERTY
    if waited_on:
        text += WAITS_ON_SCALE
    properties.write_text(text)


WAITS_ON_SCALE = f"""

@prop(points=1, functions=["log_softmax"], requires=["{SCALE}"], hint="Waits on speed.")
@given(z=logits())
def log_softmax_waits_on_speed(sub, z):
    expect_close(sub.log_softmax(z), reference(z), scale=magnitude(z))
"""


def test_a_slow_but_right_file_keeps_every_correctness_point_and_a_scale_property_finds_it(tmp_path):
    course = _course(tmp_path)
    _with_scale_property(course)
    (course / "known_slow").mkdir()
    (course / "known_slow" / "quadratic.py").write_text(QUADRATIC)
    right = (course / "known_right" / "numpy_style.py").read_text()
    (course / "known_slow" / "not_slow.py").write_text('"""log_softmax: claims to be slow."""\n' + right)
    folders = [str(tmp_path)]
    quick = GradeConfig(limits=Limits(call_timeout=0.5))
    report = selftest(assignment.load(NAME, folders), quick, jobs=2, assignment_dirs=folders)
    verdicts = {f.label: f for f in report.files}
    assert verdicts["known_slow/quadratic.py"].problems == ()
    assert verdicts["known_slow/quadratic.py"].caught_by == (SCALE,)
    assert (verdicts["known_slow/quadratic.py"].score, verdicts["known_slow/quadratic.py"].max_score) == (10, 11)
    assert report.problems == [
        "known_slow/not_slow.py: keeps every scale point: no scale property finds `log_softmax` slow"
    ]
    assert "1 known-right file, 2 known-slow files and 3 known-wrong files" in render(report)


def test_no_correctness_property_may_wait_on_a_scale_one(tmp_path):
    course = _course(tmp_path)
    _with_scale_property(course, waited_on=True)
    with pytest.raises(AssignmentError, match=f"requires \\['{SCALE}'\\], which are about speed"):
        assignment.load(NAME, [str(tmp_path)])


def _known_right_that_is_wrong(course: Path) -> None:
    (course / "known_right" / "forgets_the_sum.py").write_text(NOT_NORMALISED)


def _known_wrong_that_is_right(course: Path) -> None:
    right = (course / "solution.py").read_text()
    (course / "known_wrong" / "actually_right.py").write_text('"""log_softmax: claims a bug it lacks."""\n' + right)


def _blames_a_function_nothing_names(course: Path) -> None:
    functions = course / "functions.py"
    functions.write_text(
        functions.read_text() + "\n\ndef softmax(logits: list[float]) -> list[float]:\n"
        '    """exp(z) / sum(exp(z))."""\n    raise NotImplementedError\n'
    )
    (course / "known_wrong" / "blames_softmax.py").write_text(NOT_NORMALISED.replace('"""log_softmax:', '"""softmax:'))


def _blames_no_function(course: Path) -> None:
    (course / "known_wrong" / "typo.py").write_text(NOT_NORMALISED.replace('"""log_softmax:', '"""logsoftmax:'))


def _submission_draws_random_numbers(course: Path) -> None:
    (course / "known_right" / "jittery.py").write_text(
        '"""Right, give or take a random number."""\nimport random\n\n\n'
        "def log_softmax(logits):\n    top = max(logits)\n    return [z - top + random.random() for z in logits]\n"
    )


def _property_draws_random_numbers(course: Path) -> None:
    properties = course / "public.py"
    # Hypothesis seeds the `random` module for each example, so `random.uniform` would still repeat;
    # an unseeded NumPy generator does not.
    text = properties.read_text().replace("from hypothesis import given", "import numpy\nfrom hypothesis import given")
    text = text.replace(
        "@given(z=logits(), c=shifts())\ndef log_softmax_shift_invariant(sub, z, c):",
        "@given(z=logits())\ndef log_softmax_shift_invariant(sub, z):\n"
        "    c = numpy.random.default_rng().uniform(-1000, 1000)",
    )
    assert "default_rng()" in text
    properties.write_text(text)


def _property_trips_over_an_answer(course: Path) -> None:
    properties = course / "properties.py"
    text = properties.read_text().replace(
        "    expect_close(sub.log_softmax(z), ",
        "    answer = sub.log_softmax(z)\n    if answer[0] == 0.0:\n        {}[answer[0]]\n    expect_close(answer, ",
    )
    assert "{}[answer[0]]" in text
    properties.write_text(text)


BROKEN = [
    (
        _known_right_that_is_wrong,
        "known_right/forgets_the_sum.py: scores 0/10, not full marks: log_softmax_on_worked_examples failed: ",
    ),
    (
        _known_wrong_that_is_right,
        "known_wrong/actually_right.py: scores full marks: no property catches the mistake in `log_softmax`",
    ),
    (
        _blames_a_function_nothing_names,
        (
            "known_wrong/blames_softmax.py: loses points, but no failing property names `softmax`, which its "
            "docstring blames (lost on log_softmax_on_worked_examples, log_softmax_shift_invariant, "
            "log_softmax_matches_reference)"
        ),
    ),
    (_blames_no_function, "known_wrong/typo.py: its docstring blames 'logsoftmax', not one of log_softmax: "),
    (
        _submission_draws_random_numbers,
        "known_right/jittery.py: not deterministic: log_softmax_on_worked_examples gave another ",
    ),
    (
        _property_trips_over_an_answer,
        "known_wrong/not_normalised.py: `log_softmax_matches_reference`'s own code raised KeyError: 0.0",
    ),
    (
        _property_draws_random_numbers,
        "known_wrong/no_max_shift.py: not deterministic: log_softmax_shift_invariant gave another ",
    ),
]


@pytest.mark.parametrize("edit, problem", BROKEN, ids=[edit.__name__.strip("_") for edit, _ in BROKEN])
def test_an_assignment_that_grades_badly_is_named_file_by_file(tmp_path, edit, problem):
    course = _course(tmp_path)
    edit(course)
    report = _selftest(course, repeat="not deterministic" in problem)  # what only a second grade finds
    assert not report.ok
    assert any(line.startswith(problem) for line in report.problems), report.problems
    text = render(report)
    assert f"  {problem}" in text and "Does not grade well" in text


def test_once_grades_each_file_once_and_does_not_claim_the_proof_a_second_grade_gives(tmp_path):
    """`--once` halves the work and gives up one promise: a file whose grade changes on a second grade
    is not found out, and the report says each file was graded once."""
    course = _course(tmp_path)
    _submission_draws_random_numbers(course)
    done = _cli("--assignments", str(tmp_path), "selftest", NAME, "--once", "--format", "json")
    assert done.returncode == 1, done.stderr  # the jitter costs full marks: caught on its one grade
    report = json.loads(done.stdout)
    assert report["repeated"] is False
    assert not [line for line in report["problems"] if "not deterministic" in line], report["problems"]
    folders = [str(tmp_path)]
    once = selftest(assignment.load(NAME, folders), jobs=2, assignment_dirs=folders, repeat=False)
    text = render(once)
    assert "each graded once" in text.splitlines()[0] and "second grade" not in text


def test_nothing_in_known_wrong_proves_nothing(tmp_path):
    course = _course(tmp_path)
    for wrong in (course / "known_wrong").glob("*.py"):
        wrong.unlink()
    report = _selftest(course)
    assert report.problems == ["known_wrong/ is empty: nothing shows that the properties catch a mistake"]


def _test(
    status: Status,
    score: float = 0,
    message: str = "",
    calls: tuple[Call, ...] = (),
    functions: tuple[str, ...] = ("softmax", "cross_entropy_loss"),
) -> PropertyResult:
    counterexample = Counterexample({}, calls) if calls else None
    return PropertyResult("p", functions, status, score, 3, message=message, counterexample=counterexample)


def test_a_property_blames_a_function_it_lost_points_on_and_names():
    named_in_calls = (Call("cross_entropy_loss", ([0.0], 0), 1.0), Call("softmax", ([0.0],), [1.0]))
    assert blames(_test(Status.FAILED, message="`softmax` is not normalised"), "softmax")
    assert blames(_test(Status.ERROR, calls=named_in_calls), "softmax")
    assert blames(_test(Status.TIMEOUT, calls=named_in_calls), "cross_entropy_loss")
    assert not blames(_test(Status.FAILED, message="softmax is off"), "softmax")  # named, but not as code
    assert not blames(_test(Status.FAILED, calls=named_in_calls[:1]), "softmax")
    assert not blames(_test(Status.PASSED, message="`softmax` ..."), "softmax")
    assert not blames(_test(Status.UNCHECKED, message="not checked yet: it counts once `softmax` ..."), "softmax")
    assert not blames(_test(Status.FAILED, score=3, message="`softmax`"), "softmax")
    assert not blames(_test(Status.FAILED, message="`perplexity`", functions=("softmax",)), "perplexity")


def test_properties_that_catch_the_same_files_are_not_all_offered_to_drop():
    """Five properties that each catch the one known-wrong file: any four could go, never all five."""
    stats = tuple(PropertyStats(name, 1, 1, 0, seconds, seconds) for name, seconds in zip("pqrst", (5, 4, 3, 2, 1)))
    files = (FileVerdict("known_wrong", Path("w/x.py"), 0, 5, caught_by=tuple("pqrst")),)
    assert SelfTest("demo", 1, files, stats, 2.0).candidates_to_drop == ["p", "q", "r", "s"]  # the fastest stays


def test_the_slowest_properties_come_by_mean_time_and_the_verdict_lists_every_problem():
    stats = tuple(
        PropertyStats(name, 1, 1, unique, mean, top, gates)
        for name, unique, mean, top, gates in [
            ("a", 1, 0.1, 0.2, False),
            ("b", 0, 0.5, 0.6, False),
            ("c", 1, 0.1, 0.9, False),
            ("d", 0, 0.01, 0.01, False),
            ("e", 0, 0.01, 0.01, True),
        ]
    )
    files = (
        FileVerdict("reference", Path("solution.py"), 4, 4),
        FileVerdict("known_wrong", Path("w/x.py"), 4, 4, problems=("scores full marks", "not deterministic")),
        FileVerdict("known_wrong", Path("w/y.py"), 0, 4, caught_by=("a", "b")),
        FileVerdict("known_wrong", Path("w/z.py"), 0, 4, caught_by=("c",)),
    )
    report = SelfTest("demo", 1, files, stats, 2.0)
    assert [p.name for p in report.slowest] == ["b", "c", "a"]
    assert report.candidates_to_drop == ["b", "d"]  # not "e": another property requires it
    assert "Could all be dropped with every known-wrong file still caught" in render(report)
    assert report.problems == ["known_wrong/x.py: scores full marks", "known_wrong/x.py: not deterministic"]
    assert render(report).splitlines()[-3:] == [
        "Does not grade well: 2 problems",
        "  known_wrong/x.py: scores full marks",
        "  known_wrong/x.py: not deterministic",
    ]
    assert json.loads(json.dumps(report.to_dict()))["slowest"] == ["b", "c", "a"]


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "gradekit", *args], capture_output=True, text=True)


def test_the_command_exits_0_when_it_grades_well_1_when_not_2_on_a_usage_error(tmp_path):
    course = _course(tmp_path)
    done = _cli("--assignments", str(tmp_path), "selftest", NAME)
    assert done.returncode == 0, done.stderr
    assert "property " in done.stdout and "Grades well" in done.stdout
    _known_right_that_is_wrong(course)
    done = _cli("--assignments", str(tmp_path), "selftest", NAME, "--format", "json", "--jobs", "1")
    assert done.returncode == 1, done.stderr
    report = json.loads(done.stdout)
    assert report["ok"] is False and report["problems"][0].startswith("known_right/forgets_the_sum.py: scores 0/10")
    done = _cli("--assignments", str(tmp_path), "selftest", "nowhere")
    assert done.returncode == 2
    assert done.stderr.startswith("gradekit: there is no assignment named 'nowhere'")
    assert len(done.stderr.strip().splitlines()) == 1


def test_two_known_wrong_files_that_answer_alike_cannot_be_named_and_are_a_problem(tmp_path):
    course = _course(tmp_path)
    wrong = course / "known_wrong"
    (wrong / "not_normalised_again.py").write_text(
        NOT_NORMALISED.replace("forgets the log of the sum", "leaves the log of the sum out")
    )
    report = _selftest(course)
    twins = [p for p in report.problems if "answers every probe exactly as" in p]
    named = [p.partition(":")[0] for p in twins]
    assert named == ["known_wrong/not_normalised.py", "known_wrong/not_normalised_again.py"]
    assert {f.label: f.diagnosed for f in report.files if f.kind == "known_wrong"} == {
        "known_wrong/no_max_shift.py": True,
        "known_wrong/not_normalised.py": False,
        "known_wrong/not_normalised_again.py": False,
        "known_wrong/sorts_logits.py": True,
    }
    assert "Diagnosis: 2 of 4 known-wrong files whose answers tell their mistake diagnosed as it" in render(report)
