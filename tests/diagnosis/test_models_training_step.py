"""training_step's known mistakes as models: a mistake is named however it is written.

The files in styles_training_step/ are whole submissions, right but for one mistake the bank holds,
made otherwise than the bank's file makes it: other defaults for Adam, another log base, the mean
over another count, and a loss taken after an update made in place.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from gradekit import assignment
from gradekit.config import GradeConfig
from gradekit.grader import grade

STYLES = Path(__file__).parent / "styles_training_step"
CONFIG = GradeConfig(max_examples=20)


@pytest.mark.parametrize(
    ("style", "told"),
    [
        pytest.param(  # records CONFIG's examples alone (`records_first`, tests/conftest.py); the rest read them
            "adam_pytorch_defaults.py",
            {
                (
                    "adam_update",
                    "defaults to beta1 = 0.9, beta2 = 0.999 and eps = 1e-08, not microgpt's 0.85, 0.99 and 1e-8",
                )
            },
            marks=pytest.mark.records_first,
        ),
        ("loss_log10_numpy.py", {("bigram_loss", "measures the loss with the log in base 10, not the natural log")}),
        (
            "mean_over_letters.py",
            {
                ("bigram_loss", "divides the summed loss by len(tokens) - 2, not by the len(tokens) - 1 positions"),
                (
                    "bigram_grad",
                    "divides the positions' gradients by len(tokens) - 2, not by the n = len(tokens) - 1 positions",
                ),
            },
        ),
        (
            "in_place_loss_after_update.py",
            {("train_step", "reports the loss of the updated table instead of the loss before the step")},
        ),
    ],
)
def test_a_mistake_written_in_another_style_is_named(style, told):
    result = grade(STYLES / style, assignment.load("training_step"), CONFIG)
    assert result.score < result.max_score
    assert {(d.function, d.misconception) for d in result.diagnosis} == told
