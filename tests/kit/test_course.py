"""The course's facts (gradekit.reference.course): the vocabulary, BOS, encode and decode.

They are held to what the course teaches (27 tokens, a-z as 0-25, BOS = 26 on both ends of a name),
to each other (decode undoes encode), and to the model answer, which keeps its own copy because it is
graded as a submission. A last test keeps them defined once on the grader's side.
"""

from __future__ import annotations

import re
import string
from pathlib import Path

import pytest
from gradekit.reference import course
from gradekit.reference import training_step as step_ref
from hypothesis import given, settings
from hypothesis import strategies as st

from gradekit import strategies

ROOT = Path(__file__).resolve().parents[2]
lowercase_names = st.text(alphabet=string.ascii_lowercase, max_size=20)


def test_the_vocabulary_is_the_letters_then_bos():
    assert string.ascii_lowercase == course.LETTERS
    assert course.VOCAB_SIZE == 27
    assert course.BOS == 26 == course.VOCAB_SIZE - 1  # the last token


def test_encode_puts_bos_on_both_ends_of_the_letter_ids():
    assert course.encode("a") == [26, 0, 26]
    assert course.encode("ava") == [26, 0, 21, 0, 26]  # 4 positions: BOS->a, a->v, v->a, a->BOS
    assert course.encode("z") == [26, 25, 26]
    assert course.encode("") == [26, 26]


@pytest.mark.parametrize("position, letter", list(enumerate(string.ascii_lowercase)))
def test_every_letter_maps_to_its_position(position, letter):
    assert course.encode(letter) == [course.BOS, position, course.BOS]
    assert course.token_name(position) == letter
    assert course.decode([course.BOS, position, course.BOS]) == letter


def test_token_name_calls_the_last_token_bos():
    assert course.token_name(26) == "BOS"
    assert [course.token_name(t) for t in course.encode("ab")] == ["BOS", "a", "b", "BOS"]


def test_decode_shows_a_token_list_as_the_name_it_encodes():
    assert course.decode([26, 0, 26]) == "a"
    assert course.decode([26, 0, 21, 0, 26]) == "ava"
    assert course.decode([26, 26]) == ""


@given(name=lowercase_names)
def test_decode_undoes_encode(name):
    tokens = course.encode(name)
    assert len(tokens) == len(name) + 2
    assert all(0 <= t < course.VOCAB_SIZE for t in tokens)
    assert course.decode(tokens) == name


@given(ids=st.lists(st.integers(0, 25), max_size=20))
def test_encode_undoes_decode_of_an_encoded_name(ids):
    tokens = [course.BOS, *ids, course.BOS]
    assert course.encode(course.decode(tokens)) == tokens


@pytest.mark.parametrize("name", ["A", "a b", "é", "ab1", "-"])
def test_encode_refuses_what_no_token_stands_for(name):
    with pytest.raises(ValueError, match="no token stands for it"):
        course.encode(name)


@pytest.mark.parametrize("token", [-1, 27, 100])
def test_decode_refuses_ids_outside_the_vocabulary(token):
    with pytest.raises(ValueError, match="not in the course's vocabulary"):
        course.decode([26, token, 26])


@settings(max_examples=200)
@given(name=lowercase_names)
def test_the_model_answer_encodes_as_the_course_does(name):
    assert step_ref.BOS == course.BOS
    assert step_ref.encode(name) == course.encode(name)
    assert course.decode(step_ref.encode(name)) == name


@given(name=strategies.names())
def test_the_drawn_names_are_names_the_course_can_encode(name):
    assert course.decode(course.encode(name)) == name


@given(data=st.data())
def test_drawn_token_sequences_stay_in_the_vocabulary(data):
    tokens = data.draw(strategies.token_sequences())
    assert len(tokens) >= 2
    assert all(0 <= t < course.VOCAB_SIZE for t in tokens)


def test_the_training_step_properties_use_the_course_constants():
    from gradekit.assignments.training_step import properties

    assert properties.BOS is course.BOS
    assert properties.VOCAB == course.VOCAB_SIZE


GRADER_SIDE = [
    *sorted((ROOT / "gradekit").rglob("*.py")),
    *sorted((ROOT / "reference").glob("*.py")),
    *sorted((ROOT / "assignments").glob("*/properties.py")),
]
# The model answer spells out BOS as a student does: it is graded in a worker that cannot import gradekit.
MODEL_ANSWERS = {ROOT / "reference" / "training_step.py"}
DEFINITION = re.compile(r"^\s*(BOS|VOCAB|VOCAB_SIZE|COURSE_VOCABULARY|LETTERS)\s*=", re.MULTILINE)


def test_the_course_constants_are_defined_once_on_the_grader_side():
    defined = {
        f"{path.relative_to(ROOT)}: {match.group(0).strip()}"
        for path in GRADER_SIDE
        if path not in MODEL_ANSWERS and path != ROOT / "reference" / "course.py"
        for match in DEFINITION.finditer(path.read_text())
    }
    assert not defined, f"the course's constants are defined again outside reference/course.py: {sorted(defined)}"
