"""Which known mistake a failing submission made, function by function.

A failed property says where the code is wrong, not which mistake it is. After grading, each function
of a failed property (one that did not time out) answers its probes (gradekit.misconceptions) once
more, its file loaded afresh so that nothing grading left behind weighs on the answers. When the
answers disagree with the reference's and agree with exactly one known mistake's on every probe, the
function is diagnosed with that mistake. Two mistakes made together in one function agree with
neither, and one the bank does not know agrees with none: then nothing is said, rather than a guess.

Answers are compared as `misconceptions.agree` compares them. Nothing here changes a score: the grade
is made before a diagnosis is asked for.
"""

from __future__ import annotations

from gradekit.assignment import Assignment
from gradekit.misconceptions import Answer, Bank, agree, ask
from gradekit.outcome import Outcome
from gradekit.result import Diagnosis, Status
from gradekit.session import Session

__all__ = ["diagnose", "match"]


def diagnose(
    assignment: Assignment, session: Session, outcomes: dict[str, Outcome], bank: Bank
) -> tuple[Diagnosis, ...]:
    """The known mistakes the submission loaded in `session` makes, in the functions its failed
    properties exercise; the session's file is loaded afresh first."""
    failed = [p for p in assignment.properties if outcomes[p.name].status is not Status.PASSED]
    stopped = {f for p in failed if outcomes[p.name].status is Status.TIMEOUT for f in p.functions}
    suspects = [
        f
        for f in assignment.functions
        if any(f in p.functions for p in failed) and f not in stopped and f in bank.probes
    ]
    if not suspects or session.load() is not None:
        return ()
    found = []
    for function in suspects:
        if function not in session.defined:
            continue
        answers = ask(session.worker, function, bank.probes[function])
        if answers is None:
            break  # the worker timed out or died: what it answers next is not to be trusted
        diagnosis = match(bank, function, answers)
        if diagnosis is not None:
            found.append(diagnosis)
    return tuple(found)


def match(bank: Bank, function: str, answers: tuple[Answer, ...]) -> Diagnosis | None:
    """The one known mistake in `function` that `answers` (to its probes) agree with everywhere,
    where they do not agree with the reference's everywhere; None for none, or for more than one.
    A mistake the bank holds in two styles (the max shift left out with math.exp, and with np.exp) is
    told by the style the answers share with one of them, overflow for overflow."""
    reference = bank.reference[function]
    if all(map(agree, answers, reference)):
        return None
    if any(a == ("returned", None) != r for a, r in zip(answers, reference)):
        return None  # it updates its arguments in place, and answers None: that tells no mistake
    known = [m for m in bank.mistakes if m.function == function and m.answers]
    alike = [m for m in known if all(agree(a, b, styles=False) for a, b in zip(answers, m.answers))]
    if not alike:  # the same mistake written in another style: Python's math where the bank has NumPy
        alike = [m for m in known if all(map(agree, answers, m.answers))]
    if len(alike) != 1:
        return None
    mistake = alike[0]
    return Diagnosis(function, mistake.name, mistake.explanation, (len(answers), len(answers)), mistake.source)
