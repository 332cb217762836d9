"""One verdict per bug, whatever the seed: every bank file of every assignment scores the same under the
public seed and three others, and every known-wrong file loses points under each.

Each known mistake of the banks, and each boundary the contracts name, is met by an input given on
purpose (the properties' `@example`s, listed in docs/contracts.md), which every grade runs before it
draws; and autograd's whole graphs are judged without the operations that did not pass, whether or
not the draws use them. So the seed, which only chooses the draws, cannot change what a file scores.
A student's check (the public seed) and the course's grade (the course's seed) then agree on every
known mistake.

The grades draw few examples (`FEW`, tests/conftest.py: three per property): the on-purpose inputs run
whatever the count, and with so few draws beside them a mistake that only a lucky draw catches shows
as a score that differs by seed. Each seed's grade of one assignment is one test, made once per
session and shared (`once_per_session`), which pytest-xdist spreads over every core; the comparison
reads them all. The public seed's grade is the one tests/engine/test_speed_off.py makes with every
shortcut on (`graded_on`), which that test proves is the grade with every shortcut off.
"""

from __future__ import annotations

import json
from dataclasses import replace

import pytest
from conftest import FEW

from gradekit import assignment
from gradekit.batch import pool, roster

NAMES = ("cross_entropy", "training_step", "autograd")
# The banks of files graded for their score (the known-slow files, graded for their time, are not).
BANKS = ("known_right", "known_wrong")
# The public seed (None: each assignment's own) and three others.
SEEDS = (None, 1, 2, 3)
# Files whose answers depend on the calls made before (a memo, a buffer, a counter, random numbers):
# which calls came first follows the draws, so their scores may differ by seed, and are not compared.
# Each is caught under every seed all the same (the purity properties call again with one input).
HISTORY_DEPENDENT = {
    "known_wrong/grad_corrupts_memoised_softmax.py": "a memo the gradient writes into",
    "known_wrong/grad_random_noise.py": "random noise",
    "known_wrong/grad_returns_shared_buffer.py": "a list it keeps and fills again at every call",
    "known_wrong/loss_memo_keyed_by_sum.py": "a memo that answers one input with another's loss",
    "known_wrong/perplexity_memo_rounded_key.py": "a memo keyed by a rounded loss",
    "known_wrong/sequence_running_history.py": "every loss it has seen, in a global list",
    "known_wrong/sequence_shuffled_summation.py": "a random summation order",
    "known_wrong/softmax_returns_shared_buffer.py": "a list it keeps and fills again at every call",
    "known_wrong/train_step_counts_steps_itself.py": "a step counter of its own",
    "known_wrong/train_step_gradient_buffer_never_reset.py": "a gradient buffer kept between calls",
}


@pytest.fixture(scope="session")
def scores_under(once_per_session, graded_on):
    """scores_under(name, seed) -> {"known_wrong/FILE.py": score, ...} for every bank file of the
    assignment, graded under `seed`; made once per session for every test process, the public seed's
    read from `graded_on`."""

    def make(name: str, seed: int) -> dict[str, float]:
        chosen = assignment.load(name)
        students = [roster.Student(f"{kind}/{path.name}", path) for kind in BANKS for path in chosen.known(kind)]
        scores: dict[str, float] = {}
        record = lambda s, r: scores.update({s.name: r.score})
        pool.run_pool(students, chosen, replace(FEW, seed=seed), None, 2, record, remember=False)
        return scores

    def public(name: str) -> dict[str, float]:
        graded = {student: json.loads(grade)["score"] for student, grade in graded_on(name).items()}
        return {student: score for student, score in graded.items() if student.split("/")[0] in BANKS}

    return lambda name, seed: (
        public(name) if seed is None else once_per_session(f"seed-{name}-{seed}", lambda: make(name, seed))
    )


@pytest.mark.longest
@pytest.mark.parametrize("seed", SEEDS, ids=lambda seed: "public" if seed is None else f"seed-{seed}")
@pytest.mark.parametrize("name", NAMES)
def test_every_known_wrong_file_loses_points_and_every_right_one_none(name, seed, scores_under):
    scores = scores_under(name, seed)
    assert len(scores) == sum(len(assignment.load(name).known(kind)) for kind in BANKS)
    kept = sorted(file for file, score in scores.items() if file.startswith("known_wrong/") and score >= 100)
    lost = sorted(file for file, score in scores.items() if file.startswith("known_right/") and score < 100)
    assert kept == [], f"known-wrong files with full marks under seed {seed}"
    assert lost == [], f"known-right files short of full marks under seed {seed}"


@pytest.mark.parametrize("name", NAMES)
def test_every_bank_file_scores_alike_under_every_seed(name, scores_under):
    graded = {seed: scores_under(name, seed) for seed in SEEDS}
    files = sorted(file for file in graded[None] if file not in HISTORY_DEPENDENT)
    differ = {file: [graded[seed].get(file) for seed in SEEDS] for file in files}
    differ = {file: scores for file, scores in differ.items() if len(set(scores)) > 1}
    assert differ == {}, f"scores under the seeds {SEEDS} (None: the public seed)"
