"""Reading ahead (gradekit.engine.speed.read_ahead): the replay's calls go to the worker before the property
makes them, a chunk at a time, and an answer given before is not asked for again."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import pytest

from gradekit.config import GradeConfig
from gradekit.engine import recording
from gradekit.engine.calls import Calls, Direct, FirstAnswers
from gradekit.engine.proxy import StudentFunctions
from gradekit.engine.session import Session
from gradekit.engine.speed.read_ahead import AHEAD_BYTES, AHEAD_CHUNK, ReadAhead, opening, stream
from gradekit.engine.speed.recorded import arguments_digest
from gradekit.errors import Unrepeatable
from gradekit.grader import grade
from gradekit.result import Status
from gradekit.sandbox.worker import decode, encode


class _CountingWorker:
    """Stands in for the sandboxed worker: answers every call with its request id and counts what was sent."""

    def __init__(self) -> None:
        self.sent: list[int] = []
        self.held: list[bool] = []
        self.next_id = 0
        self.last_answer = self.last_line = b""
        self.limits = GradeConfig().limits

    def spent(self) -> float:
        return 0.0

    def send_calls(self, calls: list[tuple[str, str, bool]], hold: bool = False) -> list[int]:
        self.sent.append(len(calls))
        self.held.append(hold)
        first = self.next_id + 1
        self.next_id += len(calls)
        return list(range(first, first + len(calls)))

    def call(self, function: str, encoded: str, want_args: bool = False, timeout: float | None = None) -> dict:
        return self.receive(self.send_calls([(function, encoded, want_args)])[0])

    def receive(self, request_id: int, timeout: float | None = None) -> dict:
        return decode(self.receive_line(request_id, timeout).decode())

    def receive_line(self, request_id: int, timeout: float | None = None) -> bytes:
        reply = {"id": request_id, "cpu": 0.0, "ok": True, "returned": float(request_id)}
        self.last_line = json.dumps(reply).encode()
        self.last_answer = self.last_line.split(b", ", 2)[2]
        return self.last_line


def plumbing(worker: _CountingWorker) -> tuple[ReadAhead, Calls, Callable[[int], float]]:
    """A submission defining `f` behind `worker`, read ahead: the read-ahead, its calls, and `f` as a
    property calls it."""
    session = Session(worker, "", "s.py")  # type: ignore[arg-type]
    session.defined = {"f": 1}
    answers = FirstAnswers()
    read_ahead = ReadAhead(session, answers)
    calls = Calls(session, read_ahead, answers, {"f": float})
    return read_ahead, calls, StudentFunctions(calls, []).f


def test_replayed_calls_go_a_chunk_at_a_time_and_a_failure_leaves_the_rest_unsent():
    counting = _CountingWorker()
    read_ahead, _, f = plumbing(counting)
    calls = [("f", f"[{i}]", False) for i in range(5 * AHEAD_CHUNK)]
    read_ahead.prefetch(calls)
    assert counting.sent == [AHEAD_CHUNK]
    for i in range(AHEAD_CHUNK // 2):
        f(i)
    assert counting.sent == [AHEAD_CHUNK, AHEAD_CHUNK], "topped up once half the chunk is answered"
    read_ahead.drain()  # the property failed here: the calls not yet sent never reach the worker
    assert sum(counting.sent) == 2 * AHEAD_CHUNK and counting.next_id == 2 * AHEAD_CHUNK


def test_calls_carrying_large_arguments_go_as_many_as_their_bytes_allow():
    """A chunk carries at most AHEAD_BYTES of arguments (one call at least), topped up once half of
    them are taken: a replay of training steps that fails on its first example leaves the worker a
    few steps to run in vain before it answers the property's next call, not a chunk of them."""
    counting = _CountingWorker()
    read_ahead, _, _ = plumbing(counting)
    padding = "0" * (AHEAD_BYTES // 4)
    calls = [("f", f"[{i}, {padding}]", False) for i in range(12)]
    read_ahead.prefetch(calls, "steps")
    assert counting.sent == [3], "a fourth would carry more than AHEAD_BYTES"
    read_ahead.reply(*calls[0])
    assert counting.sent == [3], "more than half the bytes sent are still to be taken"
    read_ahead.reply(*calls[1])
    assert counting.sent == [3, 3]
    read_ahead.prefetch([("f", f"[{i}]", False) for i in range(100, 140)], "small")
    assert counting.sent == [3, 3, AHEAD_CHUNK], "small arguments go a whole chunk at a time"


def test_answers_that_open_like_no_remembered_pass_are_not_read_whole():
    """In a class, a replay whose first chunk of answers opens like no stream that passed cannot pass
    from memory: the rest of its calls go a chunk at a time, as the property takes them."""
    calls = [("f", f"[{i}]", False) for i in range(3 * AHEAD_CHUNK)]
    counting = _CountingWorker()
    read_ahead, made, f = plumbing(counting)
    read_ahead.prefetch(calls)
    for i in range(len(calls)):
        f(i)
    passed = (stream(made.transcript), opening(made.transcript))
    assert len({*passed}) == 2

    for openings, sent in ((set(), [AHEAD_CHUNK]), ({passed[1]}, [AHEAD_CHUNK, 2 * AHEAD_CHUNK])):
        counting = _CountingWorker()
        read_ahead, _, _ = plumbing(counting)
        read_ahead.prefetch(calls)
        digest = read_ahead.read_ahead(openings)
        assert counting.sent == sent
        assert counting.held == [False, True][: len(sent)], "the rest of a remembered pass comes held"
        assert digest == (passed[0] if openings else None)


def test_a_replayed_call_answered_before_is_not_sent_again_unless_it_wants_its_arguments():
    counting = _CountingWorker()
    read_ahead, made, f = plumbing(counting)
    first = [("f", "[1]", False), ("f", "[2]", False)]
    read_ahead.prefetch(first)
    assert [f(1), f(2)] == [1.0, 2.0]
    made.begin_property()
    read_ahead.prefetch([("f", "[2]", False), ("f", "[3]", False), ("f", "[3]", False), ("f", "[2]", True)])
    assert counting.sent == [2, 2], "only one [3] and the call that wants its arguments went"
    assert f(2) == 2.0, "the answer given the first time"
    assert [f(3), f(3)] == [3.0, 3.0], "the second [3] took the first one's answer"
    with pytest.raises(Unrepeatable, match="two different answers") as raised:  # the stand-in's new answer
        made.call("f", (2,), [], want_args=True)
    assert (raised.value.returned, raised.value.expected) == (4.0, 2.0)


def test_the_next_propertys_first_chunk_goes_once_every_call_of_this_one_has():
    """While a property's last calls are answered, the first chunk of the one expected next is already
    on its way; when that property comes, nothing is sent twice, and every call of one property goes
    before any of the next."""
    counting = _CountingWorker()
    read_ahead, made, f = plumbing(counting)
    first = [("f", f"[{i}]", False) for i in range(10)]
    second = [("f", f"[{100 + i}]", False) for i in range(AHEAD_CHUNK + 8)]
    read_ahead.prefetch(first, "first", ("second", second))
    assert counting.sent == [10]
    assert f(0) == 1.0
    assert counting.sent == [10, AHEAD_CHUNK], "every call of `first` was sent: `second` starts"
    assert [f(i) for i in range(1, 10)] == [float(i) for i in range(2, 11)]
    made.begin_property()
    read_ahead.prefetch(second, "second")
    assert counting.sent == [10, AHEAD_CHUNK], "what was sent for `second` is used, not sent again"
    assert [f(100 + i) for i in range(len(second))] == [float(11 + i) for i in range(len(second))]
    assert counting.sent == [10, AHEAD_CHUNK, 8] and counting.next_id == len(first) + len(second)


def test_a_property_other_than_the_one_expected_lets_the_calls_sent_for_that_one_go():
    counting = _CountingWorker()
    read_ahead, made, f = plumbing(counting)
    read_ahead.prefetch([("f", "[1]", False)], "first", ("second", [("f", "[2]", False)]))
    assert f(1) == 1.0 and counting.sent == [1, 1]
    made.begin_property()
    read_ahead.prefetch([("f", "[3]", False)], "third")
    assert counting.sent == [1, 1, 1]
    assert f(3) == 3.0, "the answer to the call sent for `third`, not to the one sent for `second`"
    made.begin_property()
    read_ahead.prefetch([("f", "[4]", False)], "fourth", ("fifth", [("f", "[5]", False)]))
    assert f(4) == 4.0 and counting.sent == [1, 1, 1, 1, 1]
    assert f(6) == 6.0, "a call nobody expected: asked for itself once the calls in flight are let go"
    assert counting.sent == [1, 1, 1, 1, 1, 1]


def test_a_call_nobody_expected_is_asked_for_and_the_calls_after_it_are_still_read_ahead():
    """A property whose arguments come from an answer (a loss differing from the solution's in its
    last digit) makes a call the replay did not: it is asked for alone, and the replay goes on."""
    counting = _CountingWorker()
    read_ahead, _, f = plumbing(counting)
    expected = [("f", "[1]", False), ("f", "[2]", False), ("f", "[3]", False), ("f", "[4]", False)]
    read_ahead.prefetch(expected, "p")
    assert counting.sent == [4]
    assert f(1) == 1.0
    assert f(2.5) == 5.0, "asked for after the four in flight"
    assert [f(3), f(4)] == [3.0, 4.0], "`f(2)` was never made: skipped, and the rest read ahead"
    assert counting.sent == [4, 1]


def test_a_call_nobody_expected_made_again_while_replaying_takes_the_answer_it_got_first():
    """A property that makes the same call outside the recording at every example asks the worker
    once while the replay runs, as a replayed call answered before is asked once; under Hypothesis,
    searching and shrinking, every call reaches the worker again."""
    counting = _CountingWorker()
    read_ahead, _, f = plumbing(counting)
    read_ahead.prefetch([("f", "[1]", False), ("f", "[2]", False)], "p")
    assert f(1) == 1.0
    assert f(9) == 3.0, "asked for after the two in flight"
    assert [f(2), f(9), f(9)] == [2.0, 3.0, 3.0]
    assert counting.sent == [2, 1], "the call nobody expected went once"
    read_ahead.drain(everything=True)  # the replay failed: Hypothesis runs the property
    with pytest.raises(Unrepeatable, match="two different answers"):  # the stand-in's new answer
        f(9)
    assert counting.sent == [2, 1, 1]


def test_a_function_read_from_its_arguments_has_its_calls_sent_asking_for_them():
    """An update function that works in place is read from its arguments, which the solution's never
    was: once a property asks for them, the function's calls in flight go again asking for them, as
    do those of the property after, so none is asked for alone."""
    counting = _CountingWorker()
    read_ahead, made, _ = plumbing(counting)
    first = [("f", f"[{i}]", False) for i in range(4)]
    read_ahead.prefetch(first, "first", ("second", [("f", "[9]", False)]))
    assert counting.sent == [4]
    assert [made.call("f", (i,), [], want_args=True).returned for i in range(4)] == [5.0, 6.0, 7.0, 8.0]
    assert counting.sent == [4, 4, 1], "sent again asking for their arguments, then `second`'s"
    made.begin_property()
    read_ahead.prefetch([("f", "[9]", False)], "second")
    assert made.call("f", (9,), [], want_args=True).returned == 9.0
    assert counting.sent == [4, 4, 1], "the call sent for `second` was the one it made"


def test_a_repeated_call_whose_first_was_skipped_is_asked_for():
    counting = _CountingWorker()
    read_ahead, _, f = plumbing(counting)
    read_ahead.prefetch([("f", "[1]", False), ("f", "[2]", False), ("f", "[1]", False)], "p")
    assert counting.sent == [2], "the second [1] waits for the first one's answer"
    assert f(2) == 2.0, "the first [1] is skipped, unread"
    assert f(1) == 3.0, "so the second is asked for itself"


def test_a_replayed_call_whose_arguments_were_recorded_takes_the_recorded_encoding():
    session = Session(_CountingWorker(), "", "s.py")  # type: ignore[arg-type]
    table = [[0.5 * i + j for j in range(27)] for i in range(27)]
    recorded = encode([table, [26, 0, 26]])
    read_ahead = ReadAhead(session, FirstAnswers(), {arguments_digest([table, [26, 0, 26]]): recorded})
    copy = [[*row] for row in table]
    assert read_ahead.encoded([copy, [26, 0, 26]]) is not recorded, "no replay runs: encoded afresh"
    read_ahead.prefetch([("f", recorded, False)], "a property")
    assert read_ahead.encoded([copy, [26, 0, 26]]) is recorded
    changed = [[*row] for row in table]
    changed[3][4] = -0.0 if changed[3][4] == 0.0 else changed[3][4] + 1e-12
    assert read_ahead.encoded([changed, [26, 0, 26]]) == encode([changed, [26, 0, 26]]) != recorded


def test_an_arguments_digest_tells_apart_what_encoding_tells_apart():
    shared = [0.25] * 9
    assert arguments_digest([shared, shared]) == arguments_digest([[0.25] * 9, [0.25] * 9]), "sharing is no value"
    for one, other in [(0.0, -0.0), (1, 1.0), (True, 1), ((1.0,), [1.0]), ("a", "b"), (float("inf"), 1e308)]:
        assert arguments_digest([one]) != arguments_digest([other]), (one, other)
    assert arguments_digest([type("Subclass", (float,), {})(1.0)]) is None


def test_every_recorded_digest_is_of_arguments_that_encode_back_to_the_recorded_text(cross_entropy):
    recorded = recording.recorded(cross_entropy, cross_entropy.default_seed, GradeConfig().max_examples)
    pairs = [(d, c[1]) for p in recorded.values() for d, c in zip(p["digests"], p["calls"])]
    assert sum(d is not None for d, _ in pairs) > 0.9 * len(pairs)
    for digest, encoded in pairs:
        if digest is not None:
            assert encode(decode(encoded)) == encoded and arguments_digest(decode(encoded)) == digest


def _line(returned: object, request_id: int = 1) -> tuple[bytes, bytes]:
    """A worker's reply line returning `returned`, and its answer digest, as Worker.receive_line gives them."""
    line = encode({"id": request_id, "cpu": 0.01, "ok": True, "returned": returned}).encode()
    return line, hashlib.sha256(line.split(b", ", 2)[-1]).digest()[:16]


def test_an_answer_read_ahead_that_repeats_the_first_is_never_read():
    """Comparing a reply read ahead with the call's first answer takes their digests: equal bytes are
    an equal answer, so a class's repeated answers cost no decoding. Only a different digest is read."""
    answers = FirstAnswers()
    table = [[i + j / 8 for j in range(9)] for i in range(9)]
    line, digest = _line(table)
    assert answers.agree("f", "[1]", line, digest)
    unreadable = line.replace(b"\t", b"\t!!")  # the same digest, bytes no decoder reads
    assert answers.agree("f", "[1]", unreadable, digest)
    answers.check("f", "[1]", table, digest)
    other_line, other_digest = _line([[*row] for row in table[:-1]] + [[-1.0] * 9], request_id=7)
    assert not answers.agree("f", "[1]", other_line, other_digest), "read, and found to differ"
    with pytest.raises(Unrepeatable, match="two different answers") as raised:
        answers.check("f", "[1]", [[0.0]], b"another digest")
    assert raised.value.expected == table, "the first answer, read from its line when first needed"


def test_answers_alike_in_value_agree_whatever_their_bytes():
    """Another digest is no verdict: 0.0 and -0.0, or 3 and 3.0, are one answer, as is a NaN and a NaN."""
    answers = FirstAnswers()
    for arguments, first, again in [("[2]", [0.0, 3], [-0.0, 3.0]), ("[2.5]", [float("nan")], [float("nan")])]:
        first_line, first_digest = _line(first)
        again_line, again_digest = _line(again, request_id=2)
        assert answers.agree("f", arguments, first_line, first_digest)
        assert answers.agree("f", arguments, again_line, again_digest)
        answers.check("f", arguments, again)  # the solution's: no digest, compared by value


def test_a_first_answer_is_kept_as_it_came_not_as_the_property_left_it():
    """A grade keeps each call's first answer as the line it came in, and reads it again only for an
    answer with another digest: what the property did with the lists it was given back (changed them
    in place, say) is not the submission's first answer."""
    answers = FirstAnswers()
    table = [[i + j / 8 for j in range(9)] for i in range(9)]
    line, digest = _line(table)
    returned = [list(row) for row in table]
    answers.check("f", "[4]", returned, digest, line)
    returned[0][0] = 99.0  # the property's own doing, after the call
    answers.check("f", "[4]", table, digest, line)  # the same answer again: its digest says so
    other_line, other_digest = _line([[-1.0] * 9] * 9, request_id=2)
    with pytest.raises(Unrepeatable, match="two different answers") as raised:
        answers.check("f", "[4]", [[-1.0] * 9] * 9, other_digest, other_line)
    assert raised.value.expected == table


def test_a_first_reply_read_ahead_that_returned_nothing_leaves_the_first_answer_to_come():
    answers = FirstAnswers()
    error = encode({"id": 1, "cpu": 0.01, "ok": False, "error": {"type": "E", "message": "", "line": None}}).encode()
    assert answers.agree("f", "[3]", error, b"error digest")
    answers.check("f", "[3]", [1.0], b"digest")
    with pytest.raises(Unrepeatable):
        answers.check("f", "[3]", [2.0], b"another digest")


def test_no_property_pays_for_the_calls_the_one_before_left_in_flight(grade_file):
    """A property that runs out of its budget leaves its read-ahead calls in the worker; the next
    property's budget starts once they are let go. Here perplexity sleeps 0.1 s a call and the gradient
    that follows it is right: with a budget of 0.5 s, the gradient kept its points only with every
    shortcut off, until the wait for perplexity's calls was kept off its budget."""
    hostile = Path(__file__).resolve().parents[1] / "hostile" / "dodge_by_sleeping.py"
    tight = GradeConfig(max_examples=10, property_budget=0.5)
    on, off = grade_file(hostile, tight), grade_file(hostile, replace(tight, shortcuts=False))
    assert [(t.name, t.status, t.score) for t in on.tests] == [(t.name, t.status, t.score) for t in off.tests]
    assert {t.name for t in on.tests if t.status is not Status.PASSED} == {
        t.name for t in on.tests if "perplexity" in t.functions
    }


SLOW_AND_WRONG = """
import math
import time


def softmax(logits):
    top = max(logits)
    exps = [math.exp(z - top) for z in logits]
    return [e / sum(exps) for e in exps]


def cross_entropy_loss(logits, true_id):
    top = max(logits)
    return top + math.log(sum(math.exp(z - top) for z in logits)) - logits[true_id]


def sequence_loss(logits_list, true_ids):
    time.sleep(0.3)
    pairs = list(zip(logits_list, true_ids))[:256]
    return sum(cross_entropy_loss(z, t) for z, t in pairs) / len(pairs)
"""


def test_a_slow_function_answering_the_calls_sent_ahead_does_not_starve_the_properties_after_it(
    tmp_path, cross_entropy
):
    """The calls read ahead for a replay that failed are made by no one: a call asked for then waits
    one call's timeout at most for them (the worker is replaced past that), not the sum of every one,
    so a slow, wrong sequence_loss leaves the grade's budget to the properties of softmax after it."""
    path = tmp_path / "submission.py"
    path.write_text(SLOW_AND_WRONG)
    wanted = ("sequence_loss_matches_reference", "softmax_matches_reference", "softmax_is_distribution")
    narrowed = replace(
        cross_entropy, properties=tuple(p for name in wanted for p in cross_entropy.properties if p.name == name)
    )
    limits = replace(GradeConfig().limits, call_timeout=0.5)
    result = grade(path, narrowed, GradeConfig(check_budget=8.0, limits=limits))
    outcomes = {t.name: t.status for t in result.tests}
    assert outcomes["sequence_loss_matches_reference"] is Status.FAILED
    assert outcomes["softmax_matches_reference"] is outcomes["softmax_is_distribution"] is Status.PASSED


# --- calls a property announces (gradekit.each) ------------------------------------------------------


def test_announced_calls_go_at_once_before_the_replay_and_a_call_made_instead_skips_them():
    """`each` tells the worker of a loop's calls at once: one send, read as each call is made, ahead
    of the replay's calls still to come; a call the property makes instead of the next announced one
    skips the rest, unread, and gets its own reply."""
    counting = _CountingWorker()
    read_ahead, made, f = plumbing(counting)
    read_ahead.prefetch([("f", "[1]", False), ("f", "[9]", False)], "p")
    assert f(1) == 1.0 and counting.sent == [2]
    made.announce("f", [(5,), (6,), (7,)])
    assert counting.sent == [2, 3], "the three go in one send, after the reply in flight is read"
    assert [f(5), f(6)] == [3.0, 4.0], "each read from that send"
    assert f(9) == 2.0, "the replayed call made instead of `f(7)` skips it, and its reply was read first"
    assert f(8) == 6.0, "and a call nobody announced is asked for itself"
    assert counting.sent == [2, 3, 1]


def test_each_encodes_a_loop_s_arguments_once_and_sends_them_as_the_worker_was_told(monkeypatch):
    """`each` encodes each call's arguments when it tells the worker of them, and the call sends that
    text: one encoding per call, not two, and the call matches the one announced."""
    from gradekit.authoring import each

    counting = _CountingWorker()
    read_ahead, made, _ = plumbing(counting)
    encoded: list[list] = []
    encoder = read_ahead.encoded
    monkeypatch.setattr(read_ahead, "encoded", lambda arguments: encoded.append(arguments) or encoder(arguments))
    sub = StudentFunctions(made, [])
    assert list(each(sub, "f", [(5.0,), (6.0,), (7.0,)])) == [1.0, 2.0, 3.0]
    assert encoded == [[5.0], [6.0], [7.0]] and counting.sent == [3]
    assert [t[1] for t in made.transcript] == ["[5.0]", "[6.0]", "[7.0]"]
    for name in ("g", "_calls"):  # no function of the submission's: refused as `sub.name(...)` refuses it
        with pytest.raises(AttributeError):
            list(each(sub, name, [(1.0,)]))


def test_nothing_is_announced_for_a_function_that_timed_out_or_is_not_defined():
    counting = _CountingWorker()
    _, made, _ = plumbing(counting)
    made.announce("g", [(1,)])
    made.timed_out["f"] = "f(1)"
    made.announce("f", [(1,), (2,)])
    assert counting.sent == [], "a function that timed out is not called again, announced or not"


RAISES_THEN_HANGS = """
import time

calls = []


def f(x):
    calls.append(x)
    if x == 3:
        raise ValueError("three")
    if x == 5:
        while True:
            pass
    return float(len(calls))


def g():
    return float(len(calls))
"""


@pytest.mark.parametrize("shortcuts", [True, False], ids=["announced", "one-by-one"])
def test_an_announced_loop_that_raises_or_hangs_stops_there_and_the_next_call_gets_its_own_reply(shortcuts):
    """Behind the real worker: a loop whose third call raises ends there (the calls after it ran in
    vain and are skipped), and one whose call hangs times out there and leaves a fresh worker; with the
    shortcuts off, the same loop is made one call at a time, with the same answers up to the stop."""
    from gradekit.authoring import each
    from gradekit.config import Limits
    from gradekit.errors import CallTimedOut, SubmissionRaised
    from gradekit.sandbox import Worker

    limits = replace(Limits(), call_timeout=0.5)
    with Worker(limits) as worker:
        session = Session(worker, RAISES_THEN_HANGS, "s.py")
        session.load()
        answers = FirstAnswers()
        replies = ReadAhead(session, answers) if shortcuts else Direct(session)
        sub = StudentFunctions(Calls(session, replies, answers, {"f": float, "g": float}), [])
        found = []
        with pytest.raises(SubmissionRaised, match="three"):
            for value in each(sub, "f", [(1,), (2,), (3,), (4,)]):
                found.append(value)
        assert found == [1.0, 2.0]
        assert sub.f(10) == (5.0 if shortcuts else 4.0), "announced, `f(4)` ran in vain before it"
        with pytest.raises(CallTimedOut):
            list(each(sub, "f", [(5,), (6,)]))
        assert sub.g() == 0.0, "a fresh worker, which ran nothing else: `f(6)` never ran"
