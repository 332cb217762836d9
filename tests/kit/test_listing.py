"""`gradekit list` and `gradekit list --details NAME`: the signatures, and the contract students write to."""

from __future__ import annotations

import math

import pytest
from gradekit.reference import course
from gradekit.reference import cross_entropy as ce_ref
from gradekit.reference import training_step as ts_ref

from gradekit import assignment
from gradekit.cli import Exit, main
from gradekit.commands.listing import DETAILS_HINT
from gradekit.instructor import scaffold
from gradekit.instructor.contracts import points


def details(capsys: pytest.CaptureFixture[str], *argv: str) -> str:
    """What `gradekit ... list --details` printed, every run of whitespace read as one space: the
    terminal wraps a long check line, which must not hide the words in it."""
    assert main(list(argv)) == Exit.PASSED
    return flat(capsys.readouterr().out)


def flat(text: str) -> str:
    return " ".join(text.split())


@pytest.fixture(scope="module")
def training_step() -> assignment.Assignment:
    return assignment.load("training_step")


def test_plain_list_keeps_the_signatures_and_says_how_to_see_the_contracts(capsys, cross_entropy, training_step):
    assert main(["list"]) == Exit.PASSED
    out = capsys.readouterr().out
    for loaded in (cross_entropy, training_step):
        assert f"{loaded.name}: {loaded.title}" in out
        for spec in loaded.functions.values():
            assert f"  {spec.signature}\n" in out
    assert out.rstrip().splitlines()[-1] == DETAILS_HINT
    assert "Checks" not in out


@pytest.mark.parametrize("name", ["cross_entropy", "training_step", "autograd"])
def test_details_show_every_function_its_whole_docstring_and_every_check_with_its_points(capsys, name):
    loaded = assignment.load(name)
    out = details(capsys, "list", "--details", name)
    for spec in loaded.functions.values():
        assert spec.signature in out and spec.doc and flat(spec.doc) in out
    for prop in loaded.properties:
        assert f"{prop.name} ({points(prop.points)}" in out and flat(prop.hint) in out
    assert f"{points(loaded.max_score)} in {len(loaded.properties)} checks" in out
    assert " 1 points" not in out
    assert ("(1 point" in out) == any(p.points == 1 for p in loaded.properties)


def test_cross_entropy_details_name_the_log_the_mean_and_the_bos_target(capsys):
    out = details(capsys, "list", "--details", "cross_entropy")
    assert "natural log" in out and "in nats" in out
    assert "the mean, not the sum" in out and "divide by n = `len(true_ids)`" in out
    assert "Do not skip BOS targets" in out
    assert "do not change `logits`" in out


def test_training_step_details_state_the_bos_rule_and_adams_bias_correction(capsys):
    out = details(capsys, "list", "--details", "training_step")
    assert "`[BOS] + [ord(c) - ord('a') for c in name] + [BOS]`" in out
    assert "one BOS (26) opens the name and one closes it" in out
    assert "BOS is a token like any other: every position counts" in out
    assert "n = `len(tokens) - 1` positions" in out
    assert "m_hat = m / (1 - beta1 ** (step + 1))" in out and "step counts from 0" in out
    assert "the loss of the `W` you were given, taken before the update" in out


def test_the_numbers_a_contract_quotes_are_the_references(cross_entropy, training_step):
    ce = {name: flat(spec.doc) for name, spec in cross_entropy.functions.items()}
    ts = {name: flat(spec.doc) for name, spec in training_step.functions.items()}
    ava = course.encode("ava")
    assert f'`encode("ava")` is `{ava}`' in ts["encode"] and f'"ava" is `{ava}`' in ce["sequence_loss"]
    assert f"`{ava[:-1]}` and `true_ids` is `{ava[1:]}`" in ce["sequence_loss"]
    assert f"ln 27 = {math.log(27):.4f}" in ce["cross_entropy_loss"] and f"{math.log(27):.4f}" in ts["bigram_loss"]
    clamped, true_loss = -math.log(1e-12), ce_ref.cross_entropy_loss([-28.0, 0.0], 0)
    assert f"costs its true, large loss ({true_loss:.1f} for" in ce["cross_entropy_loss"]
    assert f"not {clamped:.1f})" in ce["cross_entropy_loss"]
    assert f"`exp(700)` is about {ce_ref.perplexity(700):.0e}".replace("e+", "e") in ce["perplexity"]
    defaults = (ts_ref.BETA1, ts_ref.BETA2, ts_ref.EPS)
    assert "beta1: float = {}, beta2: float = {}, eps: float = {}".format(*defaults) in (
        training_step.functions["adam_update"].signature
    )
    assert defaults == (0.85, 0.99, 1e-8) and "beta1 = 0.85, beta2 = 0.99 and eps = 1e-8" in ts["train_step"]
    assert f"num_steps: int = {ts_ref.NUM_STEPS}, base_lr: float = {ts_ref.BASE_LR}" in (
        training_step.functions["train_step"].signature
    )


def test_details_follow_an_assignments_folder(tmp_path, capsys):
    scaffold.create("label_smoothing", tmp_path)
    loaded = assignment.load("label_smoothing", [str(tmp_path)])
    out = details(capsys, "--assignments", str(tmp_path), "list", "--details", "label_smoothing")
    for spec in loaded.functions.values():
        assert spec.signature in out and flat(spec.doc) in out
    assert all(prop.name in out for prop in loaded.properties)


def test_details_of_an_unknown_assignment_are_one_sentence_and_exit_2(capsys):
    assert main(["list", "--details", "nope"]) == Exit.USAGE
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.startswith("gradekit: ") and len(captured.err.strip().splitlines()) == 1
    assert "'nope'" in captured.err and "cross_entropy" in captured.err


@pytest.mark.parametrize(("value", "text"), [(1, "1 point"), (1.0, "1 point"), (6, "6 points"), (0.5, "0.5 points")])
def test_points_read_as_english(value, text):
    assert points(value) == text
