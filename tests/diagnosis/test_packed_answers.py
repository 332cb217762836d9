"""A kept bank's answers are read when a diagnosis asks for them (gradekit.diagnosis.mistakes.Packed):
read back, a bank equals the one stored; a mistake's answers are not unmarshalled until used; and
answers that are not laid out as its function's probes read as none, a mistake its answers cannot
tell, never as a wrong answer."""

from __future__ import annotations

import marshal

from gradekit.diagnosis import mistakes
from gradekit.diagnosis.mistakes import Bank, KnownWrong, Packed

PROBES = {"softmax": (("softmax", "[[1.0, 2.0]]"), ("softmax", "[[0.0]]"))}
REFERENCE = {"softmax": (("returned", [0.2689414213699951, 0.7310585786300049]), ("returned", [1.0]))}
WRONG = (("returned", [0.5, 0.5]), ("raised", "OverflowError"))


def _bank() -> Bank:
    told = KnownWrong("softmax", "answers halves", "", "known_wrong/halves.py", WRONG)
    untold = KnownWrong("softmax", "right on the probes", "", "known_wrong/same.py", (), mistakes.RIGHT_ON_PROBES)
    return Bank(PROBES, REFERENCE, (told, untold))


def test_a_stored_bank_reads_back_as_it_was():
    read = mistakes._read(marshal.loads(marshal.dumps(mistakes._stored(_bank()))))
    assert read is not None
    assert read == _bank()
    assert [tuple(m.answers) for m in read.mistakes] == [WRONG, ()]


def test_answers_are_read_only_when_used():
    read = mistakes._read(mistakes._stored(_bank()))
    assert read is not None
    packed = read.mistakes[0].answers
    assert isinstance(packed, Packed) and "_unpacked" not in vars(packed)
    assert list(packed) == list(WRONG)
    assert "_unpacked" in vars(packed)


def test_answers_not_laid_out_as_the_probes_read_as_none():
    for data in (marshal.dumps(WRONG[:1]), marshal.dumps([list(a) for a in WRONG]), b"\xff not marshal"):
        assert tuple(Packed(data, len(WRONG))) == ()
    assert not Packed(marshal.dumps(WRONG[:1]), len(WRONG))


def test_a_file_whose_answers_are_not_marshalled_is_a_miss():
    stored = mistakes._stored(_bank())
    stored["mistakes"][0] = (*stored["mistakes"][0][:4], WRONG, stored["mistakes"][0][5])
    assert mistakes._read(stored) is None
