"""A property sees the student's functions and nothing else: no name a student may choose is taken."""

from __future__ import annotations

from gradekit.config import Limits
from gradekit.engine.calls import Calls, Direct, FirstAnswers
from gradekit.engine.proxy import StudentFunctions
from gradekit.engine.session import Session, Trusted
from gradekit.sandbox import Worker

# Names the engine once answered to itself: each a student's function here.
TAKEN_BEFORE = ["load", "call", "output", "notes", "where", "restart", "examples", "defined", "returns"]
SOURCE = "\n".join(f"def {name}(x):\n    return x + {i}.0" for i, name in enumerate(TAKEN_BEFORE))


def test_the_proxy_has_no_public_member_of_its_own():
    public = [name for name in dir(StudentFunctions) if not name.startswith("_")]
    assert public == []


def test_a_student_function_named_like_an_engine_method_is_the_students():
    with Worker(Limits(isolation="off")) as worker:
        session = Session(worker, SOURCE, "names.py")
        assert session.load() is None
        answers = FirstAnswers()
        calls = Calls(session, Direct(session), answers, {name: float for name in TAKEN_BEFORE})
        sub = StudentFunctions(calls, [])
        assert [getattr(sub, name)(1.0) for name in TAKEN_BEFORE] == [1.0 + i for i in range(len(TAKEN_BEFORE))]


def test_names_the_assignment_does_not_declare_are_not_reachable():
    calls = Calls(None, None, FirstAnswers(), {"softmax": list[float]})  # type: ignore[arg-type]
    sub = StudentFunctions(calls, [])
    for name in ("cross_entropy_loss", "_helper", "__dict__"):
        try:
            getattr(sub, name)
        except AttributeError:
            continue
        raise AssertionError(f"{name} should not be reachable")


def test_the_solution_in_this_process_stands_in_for_a_worker(tmp_path):
    """Trusted satisfies the Channel a session talks to: loading defines the solution's functions, with
    the lines they start on, and a call answers with plain data as a worker's does."""
    solution = tmp_path / "solution.py"
    solution.write_text(SOURCE)
    trusted = Trusted(solution)
    session = Session(trusted, SOURCE, "solution.py")
    assert session.load() is None
    assert session.defined == {name: 1 + 2 * i for i, name in enumerate(TAKEN_BEFORE)}
    answers = FirstAnswers()
    calls = Calls(session, Direct(session), answers, {name: float for name in TAKEN_BEFORE})
    sub = StudentFunctions(calls, [])
    assert [getattr(sub, name)(1.0) for name in TAKEN_BEFORE] == [1.0 + i for i in range(len(TAKEN_BEFORE))]
    assert session.output() == "" and trusted.spent() is None and not trusted.interrupted()
