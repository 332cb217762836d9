"""A grader that remembers gives a verdict again only to answers exactly like the ones it came from.

Each grade made with the memory on is compared with the grade the same file gets from a grader that
remembers nothing: status, points, message, counterexample and example count must all be equal.
"""

from __future__ import annotations

from pathlib import Path

import nbformat
import pytest

from gradekit import assignment
from gradekit.batch import pool, roster
from gradekit.config import GradeConfig
from gradekit.engine import runner
from gradekit.engine.speed.read_ahead import ReadAhead
from gradekit.engine.speed.verdicts import Memory
from gradekit.grader import Grading, grade

ROOT = Path(__file__).resolve().parents[2]
CORRECT = ROOT / "examples" / "submission.py"
BUGGY = ROOT / "examples" / "buggy_submission.py"
FAST = GradeConfig(max_examples=10)

# The buggy example's clamp, but exact on two-token vocabularies: it fails on the same replayed
# examples as the buggy example, while shrinking (which heads for two tokens) meets other answers.
PARTLY_BUGGY = BUGGY.read_text().replace(
    "    return -math.log(max(softmax(logits)[true_id], 1e-12))",
    "    if len(logits) == 2:\n"
    "        return math.log1p(math.exp(-abs(logits[0] - logits[1]))) + max(logits) - logits[true_id]\n"
    "    return -math.log(max(softmax(logits)[true_id], 1e-12))",
)


def _verdicts(result):
    return [(t.name, t.status, t.score, t.message, t.counterexample, t.examples) for t in result.tests]


@pytest.fixture
def remembering():
    return Memory()


def _file(tmp_path, source):
    path = tmp_path / "submission.py"
    path.write_text(source)
    return path


@pytest.fixture
def hypothesis_runs(monkeypatch):
    """How many times a property ran under Hypothesis's engine."""
    runs = [0]
    configure = runner._configure

    def counted(*args):
        runs[0] += 1
        return configure(*args)

    monkeypatch.setattr(runner, "_configure", counted)
    return runs


def test_the_same_answers_get_the_same_verdicts_without_the_engine(cross_entropy, remembering, hypothesis_runs):
    fresh = _verdicts(grade(BUGGY, cross_entropy, FAST, Grading(memory=remembering)))
    assert hypothesis_runs[0] > 0 and remembering.kept > 0 and remembering.passes
    hypothesis_runs[0] = 0
    again = _verdicts(grade(BUGGY, cross_entropy, FAST, Grading(memory=remembering)))
    assert again == fresh
    assert hypothesis_runs[0] == 0, "every failing property should have been answered from memory"


def test_answers_that_part_from_the_remembered_ones_are_graded_in_full(
    cross_entropy, tmp_path, remembering, monkeypatch
):
    partly = _file(tmp_path, PARTLY_BUGGY)
    alone = grade(partly, cross_entropy, FAST)
    assert _verdicts(grade(partly, cross_entropy, FAST, Grading(memory=remembering))) == _verdicts(alone)

    followed = []
    follow = ReadAhead.follow

    def spied(self, traces, timed_out):
        followed.append(follow(self, traces, timed_out))
        return followed[-1]

    monkeypatch.setattr(ReadAhead, "follow", spied)
    remembering.passes.clear()
    remembering.traces.clear()
    grade(BUGGY, cross_entropy, FAST, Grading(memory=remembering))
    followed.clear()
    after_the_buggy_one = grade(partly, cross_entropy, FAST, Grading(memory=remembering))
    assert _verdicts(after_the_buggy_one) == _verdicts(alone)
    assert followed, "the remembered runs of the buggy example were consulted"
    assert _verdicts(grade(CORRECT, cross_entropy, FAST, Grading(memory=remembering))) == _verdicts(
        grade(CORRECT, cross_entropy, FAST)
    )


def test_a_single_check_remembers_nothing(cross_entropy, monkeypatch):
    made = []
    monkeypatch.setattr(Memory, "__post_init__", lambda self: made.append(self), raising=False)
    grade(BUGGY, cross_entropy, FAST)
    assert made == [], "a grade of one file made a verdict memory"


def test_the_graders_of_a_class_share_what_they_learn_and_grade_as_a_fresh_grader(cross_entropy, tmp_path, monkeypatch):
    absorbed = tmp_path / "absorbed"
    absorb = Memory.absorb

    def noted(self, entries):  # runs in the forked graders: leaves a mark when it is given anything
        if entries:
            absorbed.touch()
        return absorb(self, entries)

    monkeypatch.setattr(Memory, "absorb", noted)
    students = []
    # Both graders start on a quick correct file. The second to finish it takes the last student and is
    # sent what the other learnt, unless the other graded a whole buggy file in the meantime.
    for index, source in enumerate([CORRECT, CORRECT, BUGGY, BUGGY]):
        path = tmp_path / f"student{index}.py"
        path.write_text(f'"""Student {index}."""\n' + source.read_text())
        students.append(roster.Student(path.stem, path))
    results = {}
    pool.run_pool(students, cross_entropy, FAST, None, 2, lambda s, r: results.setdefault(s.name, r))
    for student in students:
        assert _verdicts(results[student.name]) == _verdicts(grade(student.path, cross_entropy, FAST))
    assert absorbed.exists(), "no grader was ever given what another one learnt"


def test_a_remembered_error_is_named_in_each_students_own_file(cross_entropy, tmp_path, remembering, hypothesis_runs):
    """Alice's file and Bob's notebook raise on the same line of the same code: Bob's verdicts come from
    what Alice's grade remembered, and his error is named where his notebook has it."""
    raising = CORRECT.read_text().replace("    return math.exp(loss)", "    return 1 / (loss - loss)")
    assert raising != CORRECT.read_text()
    alice, bob = tmp_path / "alice.py", tmp_path / "bob.ipynb"
    alice.write_text(raising)
    cells = [nbformat.v4.new_markdown_cell("Bob's work"), nbformat.v4.new_code_cell(raising)]
    nbformat.write(nbformat.v4.new_notebook(cells=cells), bob)
    graded = {alice: grade(alice, cross_entropy, FAST, Grading(memory=remembering))}
    hypothesis_runs[0] = 0
    graded[bob] = grade(bob, cross_entropy, FAST, Grading(memory=remembering))
    assert hypothesis_runs[0] == 0, "bob answers as alice did: every verdict should come from memory"
    line = raising.splitlines().index("    return 1 / (loss - loss)") + 1
    for path, place in ((alice, f"(line {line})"), (bob, f"(cell 2, line {line})")):
        result = graded[path]
        assert _verdicts(result) == _verdicts(grade(path, cross_entropy, FAST))
        failed = next(t for t in result.tests if t.name == "perplexity_matches_reference")
        assert failed.message.endswith(place), failed.message


def test_facts_a_remembered_property_would_have_kept_are_kept(remembering, hypothesis_runs):
    """training_step's properties keep, per submission, whether each update function returns its new
    values (gradekit.authoring.per_submission), and ask for the arguments back until they know: a
    property settled from memory must leave those facts as running it would, or every property after
    it makes other calls than the grade remembered, and runs under Hypothesis again."""
    training_step = assignment.load("training_step")
    rows_swapped = training_step.folder / "known_wrong" / "bigram_loss_rows_swapped.py"
    fresh = _verdicts(grade(rows_swapped, training_step, FAST, Grading(memory=remembering)))
    assert hypothesis_runs[0] > 0
    hypothesis_runs[0] = 0
    again = _verdicts(grade(rows_swapped, training_step, FAST, Grading(memory=remembering)))
    assert hypothesis_runs[0] == 0, "every failing property should have been answered from memory"
    assert again == fresh == _verdicts(grade(rows_swapped, training_step, FAST))


def test_what_a_grader_remembers_is_bounded_in_runs_and_in_bytes(monkeypatch):
    from gradekit.engine.speed import verdicts

    monkeypatch.setattr(verdicts, "MOST_BYTES", 10_000)
    monkeypatch.setattr(verdicts, "MOST_SHARED_BYTES", 3_000)
    memory = Memory()
    for index in range(8):
        transcript = [("softmax", "[" + "1.0, " * 400 * (index % 2 + 1) + "]", False, b"x" * 16)]
        memory.keep_run(("property", index), transcript, "failed", {}, {})
    kept = [run for runs in memory.traces.values() for run in runs]
    assert memory.kept == len(kept) and 0 < len(kept) < 8
    assert memory.kept_bytes == sum(len(e[1]) + len(e[3]) for run in kept for e in run[0]) <= 10_000
    shared = [entry for entry in memory.take_learnt() if entry[0] == "run"]
    assert shared and all(len(entry[2][0][1]) <= 3_000 for entry in shared) and len(shared) < len(kept)
