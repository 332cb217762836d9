"""The autograd assignment: its oracle against SymPy, how graphs read in a report, and grades of
`Value` classes written here, in styles and with mistakes the banks do not hold."""

from __future__ import annotations

import ast
import json
import math
from dataclasses import replace

import mpmath
import pytest
import sympy as sp
from gradekit.assignments.autograd.graphs import graphs
from gradekit.reference import autograd, identities
from hypothesis import given, settings

from gradekit import assignment
from gradekit.config import GradeConfig
from gradekit.engine import recording, runner, speed
from gradekit.engine.calls import Direct
from gradekit.grader import grade
from gradekit.reports import text

AUTOGRAD = assignment.load("autograd")
QUICK = GradeConfig(max_examples=30)


def sympy_derivatives(graph):
    """The output's value and d output / d leaf, from SymPy's own diff, at 50 digits."""
    expression, symbols = identities.graph_expression(graph)
    at = {s: sp.Rational(graph[i][1]) for s, i in zip(symbols, autograd.leaves(graph))}
    value = sp.N(expression.subs(at), 50)
    return float(value), [float(sp.N(sp.diff(expression, s).subs(at), 50)) for s in symbols]


def close(a, b, scale=0.0):
    return abs(a - b) <= 1e-12 * abs(b) + 1e-15 * scale


# --- the oracle ----------------------------------------------------------------------------------


@settings(max_examples=200, deadline=None, database=None, derandomize=True)
@given(graph=graphs(max_operations=5))
def test_the_reference_equals_sympys_derivatives_on_random_graphs(graph):
    exact = autograd.evaluate(graph)
    value, grads = sympy_derivatives(graph)
    assert close(exact.values[-1], value, exact.value_scales[-1])
    for leaf, grad in zip(autograd.leaves(graph), grads):
        assert close(exact.grads[leaf], grad, exact.grad_scales[leaf]), (autograd.expression(graph), leaf)


@pytest.mark.parametrize(
    ("graph", "value", "grads"),
    [
        ([["leaf", 3.0], ["mul", 0, 0]], 9.0, [6.0]),  # d/dx x*x = 2x
        ([["leaf", 2.0], ["log", 0]], math.log(2.0), [0.5]),  # d/dx log x = 1/x
        ([["leaf", 1.5], ["exp", 0]], math.exp(1.5), [math.exp(1.5)]),  # d/dx e^x = e^x
        ([["leaf", 2.0], ["pow", 0, 3]], 8.0, [12.0]),  # d/dx x^3 = 3x^2
        ([["leaf", 4.0], ["div", 1.0, 0]], 0.25, [-1 / 16]),  # d/dx 1/x = -1/x^2
        ([["leaf", 0.0], ["relu", 0]], 0.0, [0.0]),  # relu at exactly 0: gradient 0
        ([["leaf", 3.0], ["mul", 0, 0], ["add", 1, 0]], 12.0, [7.0]),  # a*a + a: 2a + 1, a used twice
        ([["leaf", 3.0], ["leaf", 5.0], ["sub", 2.0, 0]], -1.0, [-1.0, 0.0]),  # b is off the path
    ],
)
def test_the_reference_equals_hand_derived_cases(graph, value, grads):
    exact = autograd.evaluate(graph)
    assert exact.values[-1] == pytest.approx(value, rel=1e-15)
    assert [exact.grads[i] for i in autograd.leaves(graph)] == pytest.approx(grads, rel=1e-15)


@pytest.mark.parametrize("op", [*autograd.BINARY, *autograd.UNARY, "pow"])
def test_each_local_derivative_is_the_one_sympy_derives(op):
    a, b = sp.symbols("a b", real=True)
    for x, y in [(1.7, 0.6), (-2.5, 3.0), (0.3, -1.25)]:
        k = 1.5 if op == "pow" else None
        if op in ("log",) or op == "pow":
            x = abs(x)
        node = [op, 0, 1] if op in autograd.BINARY else [op, 0, k] if op == "pow" else [op, 0]
        with mpmath.workdps(autograd.DIGITS):
            at = [mpmath.mpf(x), mpmath.mpf(y)]
            ours = [d for _, d, _ in autograd._node(node, at, [abs(v) for v in at])[2]]
        derived = [float(d.subs({a: x, b: y})) for d in identities.local_derivatives(op, k)]
        assert [float(d) for d in ours] == pytest.approx(derived, rel=1e-14)


def test_a_graph_outside_an_operations_domain_is_refused():
    with pytest.raises(ValueError):
        autograd.evaluate([["leaf", -1.0], ["log", 0]])
    with pytest.raises(ValueError):
        autograd.evaluate([["leaf", 0.0], ["div", 1.0, 0]])
    with pytest.raises(ValueError):  # asked again: a refusal is not kept as an answer
        autograd.evaluate([["leaf", -1.0], ["log", 0]])


def test_a_graph_worked_out_before_is_told_from_one_that_differs_only_in_a_numbers_type():
    """A graph is worked out once per process (`evaluate`'s cache): `["add", 0, 1]` adds node 1, and
    `["add", 0, 1.0]` adds the number 1; each caller gets lists of its own to change."""
    by_index = autograd.evaluate([["leaf", 2.0], ["leaf", 3.0], ["add", 0, 1]])
    by_number = autograd.evaluate([["leaf", 2.0], ["leaf", 3.0], ["add", 0, 1.0]])
    assert by_index.values[-1] == 5.0 and by_number.values[-1] == 3.0
    by_index.values.append(7.0)
    by_index.grads[0] = 0.0
    again = autograd.evaluate([["leaf", 2.0], ["leaf", 3.0], ["add", 0, 1]])
    assert again.values == [2.0, 3.0, 5.0] and again.grads == [1.0, 1.0, 1.0]


def test_answers_learned_are_given_as_worked_out_and_anything_else_offered_is_left_out(monkeypatch):
    """What `learn` takes (a kept file's answers, gradekit.engine.speed.exact) is read without trusting
    it: only a graph's JSON with four lists of floats of one length is taken, and a graph it was not
    given is worked out as ever. (The answer taught here is false, so the process's memo is this
    test's own.)"""
    monkeypatch.setattr(autograd, "_worked", {})
    graph = [["leaf", 1.5], ["leaf", 2.5], ["mul", 0, 1]]
    worked = autograd.evaluate(graph)
    assert json.dumps(graph) in autograd.worked_out()
    taught = [["leaf", 4.0], ["exp", 0]]
    offered = {
        json.dumps(taught): [[4.0, 1.0], [1.0, 2.0], [4.0, 1.0], [1.0, 2.0]],  # taken as given
        json.dumps([["leaf", 5.0], ["exp", 0]]): [[5.0], [1.0], [5.0]],  # three lists
        json.dumps([["leaf", 6.0], ["exp", 0]]): [[6.0, 1], [1.0, 1.0], [6.0, 1.0], [1.0, 1.0]],  # an int
        json.dumps([["leaf", 7.0], ["exp", 0]]): [[7.0], [1.0, 1.0], [7.0], [1.0]],  # lengths differ
        json.dumps([["leaf", 8.0], ["exp", 0]]): "four lists",
        3: [[1.0], [1.0], [1.0], [1.0]],  # not a graph's JSON
    }
    autograd.learn(offered)  # type: ignore[arg-type]
    assert autograd.evaluate(taught).values == [4.0, 1.0]
    for refused in (5.0, 6.0, 7.0, 8.0):
        assert autograd.evaluate([["leaf", refused], ["exp", 0]]).values == [refused, math.exp(refused)]
    assert 3 not in autograd.worked_out()
    autograd.learn({json.dumps(graph): [[0.0, 0.0, 0.0]] * 4})  # what this process worked out stays
    assert autograd.evaluate(graph) == worked


def test_the_graphs_kept_are_bounded_and_the_one_kept_longest_goes_first(monkeypatch):
    """A grader grading a class meets new graphs with every student: the memo keeps LARGEST_MEMO."""
    monkeypatch.setattr(autograd, "_worked", {})
    monkeypatch.setattr(autograd, "LARGEST_MEMO", 3)
    graphs = [[["leaf", float(x)], ["neg", 0]] for x in range(5)]
    for graph in graphs:
        autograd.evaluate(graph)
    assert list(autograd.worked_out()) == [json.dumps(graph) for graph in graphs[2:]]
    autograd.learn({json.dumps([["leaf", 9.0], ["neg", 0]]): [[9.0, -9.0], [-1.0, 1.0], [9.0, 9.0], [1.0, 1.0]]})
    assert len(autograd.worked_out()) == 3  # learning takes no room a graph worked out here holds


# --- how a graph reads ---------------------------------------------------------------------------


def test_a_graph_reads_as_the_expression_it_builds():
    assert autograd.expression([["leaf", 3.0], ["leaf", 2.0], ["mul", 0, 0], ["log", 1], ["add", 2, 3]]) == (
        "f = a * a + log(b) at a = 3, b = 2"
    )
    assert autograd.expression([["leaf", 1.0], ["leaf", 2.0], ["add", 0, 1], ["mul", 2, 3.0]]) == (
        "f = (a + b) * 3 at a = 1, b = 2"
    )
    assert autograd.expression([["leaf", 1.0], ["sub", 2.0, 0], ["div", -1.0, 1]]) == "f = (-1) / (2 - a) at a = 1"
    shared = autograd.expression([["leaf", 1.0], ["leaf", 2.0], ["mul", 0, 1], ["add", 2, 2]])
    assert shared == "t1 = a * b; f = t1 + t1 at a = 1, b = 2"


def test_a_long_graph_reads_as_its_size_and_leaves_first():
    chain = [["leaf", 1.5], *[["mul", i, 1.01] for i in range(300)]]
    shown = autograd.expression(chain, limit=240)
    assert len(shown) <= 240 and shown.startswith("301 nodes at a = 1.5: ")


# --- grades ----------------------------------------------------------------------------------------

DATACLASS_STYLE = """
import math
from dataclasses import dataclass, field


@dataclass(eq=False)
class Value:
    data: float
    grad: float = 0.0
    parents: tuple = field(default=(), repr=False)

    @staticmethod
    def lift(x):
        return x if isinstance(x, Value) else Value(float(x))

    def __add__(self, o):
        o = Value.lift(o)
        return Value(self.data + o.data, 0.0, ((self, 1.0), (o, 1.0)))

    __radd__ = __add__

    def __mul__(self, o):
        o = Value.lift(o)
        return Value(self.data * o.data, 0.0, ((self, o.data), (o, self.data)))

    __rmul__ = __mul__

    def __neg__(self):
        return self * -1.0

    def __sub__(self, o):
        return self + (-Value.lift(o))

    def __rsub__(self, o):
        return Value.lift(o) + (-self)

    def __pow__(self, k):
        return Value(self.data ** k, 0.0, ((self, k * self.data ** (k - 1) if k else 0.0),))

    def __truediv__(self, o):
        return self * Value.lift(o) ** -1

    def __rtruediv__(self, o):
        return Value.lift(o) * self ** -1

    def log(self):
        return Value(math.log(self.data), 0.0, ((self, 1.0 / self.data),))

    def exp(self):
        e = math.exp(self.data)
        return Value(e, 0.0, ((self, e),))

    def relu(self):
        return Value(self.data if self.data > 0 else 0.0, 0.0, ((self, 1.0 if self.data > 0 else 0.0),))

    def backward(self):
        order, seen, stack = [], set(), [(self, False)]
        while stack:
            node, done = stack.pop()
            if done:
                order.append(node)
            elif id(node) not in seen:
                seen.add(id(node))
                stack.append((node, True))
                stack.extend((p, False) for p, _ in node.parents)
        self.grad = 1.0
        for node in reversed(order):
            for parent, local in node.parents:
                parent.grad += local * node.grad
"""


@pytest.mark.records_first  # QUICK's examples, which most tests of this file read
def test_a_correct_value_in_a_style_of_its_own_gets_full_marks(tmp_path):
    path = tmp_path / "dataclass_value.py"
    path.write_text(DATACLASS_STYLE)
    result = grade(path, AUTOGRAD, QUICK)
    assert result.score == 100, [t.message for t in result.tests if t.status.value != "passed"]
    assert result.function_lines["Value.backward"] > result.function_lines["Value.__add__"] > 0


@pytest.mark.parametrize(
    ("old", "new", "blamed"),
    [
        ("(self, 1.0 / self.data),", "(self, -1.0 / self.data),", "Value.log"),
        ("(self, e),", "(self, self.data * e),", "Value.exp"),
        ("return Value.lift(o) + (-self)", "return self + (-Value.lift(o))", "Value.__rsub__"),
        ("parent.grad += local * node.grad", "parent.grad = parent.grad + local", "Value.backward"),
    ],
)
def test_a_mistake_is_caught_on_the_method_at_fault_with_a_small_graph(tmp_path, old, new, blamed):
    path = tmp_path / "mistaken.py"
    assert old in DATACLASS_STYLE
    path.write_text(DATACLASS_STYLE.replace(old, new))
    result = grade(path, AUTOGRAD, QUICK)
    named = [t for t in result.tests if t.score == 0 and f"`{blamed}`" in t.message and blamed in t.functions]
    assert named, [t.message for t in result.tests]
    shown = named[0].counterexample.calls[-1].args[0]
    assert len(shown) <= 5, shown  # shrunk to a handful of nodes
    report = text.render(result)
    assert "graph = f = " in report


def test_a_submission_cannot_stand_in_for_the_harness(tmp_path):
    """A function of the submission's own named like the harness's is not what the properties call."""
    path = tmp_path / "forger.py"
    forged = "\n\ndef gradients(graph):\n    return [0.0] * len(graph), [0.0]\n"
    path.write_text(DATACLASS_STYLE + forged)
    assert grade(path, AUTOGRAD, QUICK).score == 100
    path.write_text(DATACLASS_STYLE.replace("parent.grad += local * node.grad", "pass") + forged)
    assert grade(path, AUTOGRAD, QUICK).score < 50


def test_the_assignment_is_inferred_from_a_value_class_and_a_training_step_on_values_stays_one():
    assert assignment.infer({"Value", "Value.__add__", "Value.backward"}).name == "autograd"
    training_step = assignment.load("training_step")
    on_values = {"Value", "Value.__add__", "Value.__mul__", "Value.log", "Value.exp", "Value.backward"}
    assert assignment.infer(set(training_step.functions) | on_values).name == "training_step"


def test_release_writes_the_class_with_its_contract(tmp_path):
    from gradekit.instructor.starter import release

    script, _ = release(AUTOGRAD, tmp_path)
    [stub] = [node for node in ast.parse(script.read_text()).body if isinstance(node, ast.ClassDef)]
    assert stub.name == "Value" and ast.get_docstring(stub) == AUTOGRAD.functions["Value"].doc
    result = grade(script, AUTOGRAD, QUICK)
    assert result.error is None and result.score == 0


# --- blame inside an operation's closure -----------------------------------------------------------

MICROGRAD = (AUTOGRAD.folder / "known_right" / "micrograd_closures.py").read_text()
MUL_CLOSURE = "            self.grad += other.data * out.grad\n            other.grad += self.data * out.grad"
ADD_CLOSURE = "            self.grad += out.grad\n            other.grad += out.grad"
RADD = "    def __radd__(self, other):\n        return self + other"


def _changed(text, *edits):
    for old, new in edits:
        assert old in text, old
        text = text.replace(old, new)
    return text


def _failed(result):
    """The failed properties, each with the functions it blames."""
    return {t.name: t.functions for t in result.tests if t.status.value == "failed"}


@pytest.mark.parametrize(
    ("edits", "blamed"),
    [
        ([(MUL_CLOSURE, MUL_CLOSURE.replace(" * out.grad", ""))], ["Value.__mul__"]),
        ([(ADD_CLOSURE, ADD_CLOSURE.replace("+=", "="))], ["Value.__add__"]),
        ([(MUL_CLOSURE, MUL_CLOSURE.replace("+=", "="))], ["Value.__mul__"]),
        ([("self.grad += out.data * out.grad", "self.grad += out.data")], ["Value.exp"]),
        ([("self.grad += (1 / self.data) * out.grad", "self.grad = (1 / self.data) * out.grad")], ["Value.log"]),
        # two independent mistakes: each shown on its own method
        (
            [
                (MUL_CLOSURE, MUL_CLOSURE.replace(" * out.grad", "")),
                (RADD, RADD.replace("self + other", "self * other")),
            ],
            ["Value.__mul__", "Value.__radd__"],
        ),
    ],
    ids=["mul_drops_out_grad", "add_assigns", "mul_assigns", "exp_drops_out_grad", "log_assigns", "two_bugs"],
)
def test_a_closures_fault_is_blamed_on_its_operation_never_on_a_right_backward(tmp_path, edits, blamed):
    path = tmp_path / "closures.py"
    path.write_text(_changed(MICROGRAD, *edits))
    failed = _failed(grade(path, AUTOGRAD, QUICK))
    assert sorted(f for functions in failed.values() for f in functions) == sorted(blamed), failed


def test_the_same_closures_right_get_full_marks(tmp_path):
    path = tmp_path / "closures.py"
    path.write_text(MICROGRAD)
    assert grade(path, AUTOGRAD, QUICK).score == 100


def test_a_gradient_built_from_values_is_no_number_and_its_operations_fault(tmp_path):
    path = tmp_path / "values.py"
    path.write_text(DATACLASS_STYLE.replace("((self, o.data), (o, self.data))", "((self, o), (o, self))"))
    result = grade(path, AUTOGRAD, QUICK)
    failed = {t.name: t for t in result.tests if t.status.value == "failed"}
    assert list(failed) == ["mul_values_and_grads"], list(failed)
    assert "is not a plain number (a Value?)" in failed["mul_values_and_grads"].message


def test_a_backward_that_is_wrong_is_not_blamed_on_the_operations(tmp_path):
    """backward's own order and accumulation wrong: every operation's variant goes wrong alike, and no
    operation is blamed."""
    path = tmp_path / "backward.py"
    path.write_text(DATACLASS_STYLE.replace("parent.grad += local * node.grad", "parent.grad = local * node.grad"))
    failed = _failed(grade(path, AUTOGRAD, QUICK))
    assert failed and all(functions[0] == "Value.backward" for functions in failed.values()), failed


def test_a_reflected_operation_built_on_a_wrong_one_is_right_in_itself(tmp_path):
    """`2 - a` written as `2 + (-a)` answers as the class's own `-` and `+`: with `-a` wrong, only
    `__neg__` fails among the operations; a `__rsub__` of its own that is wrong fails beside it."""
    path = tmp_path / "neg.py"
    wrong_neg = (
        "    def __neg__(self):\n        return self * -1",
        "    def __neg__(self):\n        return Value(-self.data)",
    )
    path.write_text(_changed(MICROGRAD, wrong_neg))
    failed = _failed(grade(path, AUTOGRAD, QUICK))
    assert "neg_values_and_grads" in failed and "rsub_values_and_grads" not in failed, failed
    own = ("        return other + (-self)", "        return self + (-other)")
    path.write_text(_changed(MICROGRAD, wrong_neg, own))
    failed = _failed(grade(path, AUTOGRAD, QUICK))
    assert {"neg_values_and_grads", "rsub_values_and_grads"} <= set(failed), failed


@pytest.mark.parametrize(
    ("wrong", "reflected", "failed"),
    [
        pytest.param(  # records its two seeds' examples alone (`records_first`); the next reads them
            ("        return self * other ** -1", "        return self * other ** 1"),
            ("        return other * self ** -1", "        return Value(other) / self"),
            "div_values_and_grads",
            marks=pytest.mark.records_first,
        ),
        (
            ("        return self + (-other)", "        return self + other"),
            ("        return other + (-self)", "        return Value(other) - self"),
            "sub_values_and_grads",
        ),
    ],
    ids=["div", "sub"],
)
def test_a_reflected_operation_written_as_the_classs_own_is_right_in_itself(tmp_path, wrong, reflected, failed):
    """`2 / a` written as `Value(2) / a` answers as the class's own `/`: with `/` wrong, only `/`
    fails, under every seed; the same `__rtruediv__` beside a right `/` passes too."""
    path = tmp_path / "reflected.py"
    path.write_text(_changed(MICROGRAD, wrong, reflected))
    for seed in (None, 1):
        assert list(_failed(grade(path, AUTOGRAD, replace(QUICK, seed=seed, max_examples=10)))) == [failed], seed
    path.write_text(_changed(MICROGRAD, reflected))
    assert grade(path, AUTOGRAD, QUICK).score == 100


# --- whole graphs without an operation that failed ------------------------------------------------

EXP_DROPS_OUT_GRAD = ("self.grad += out.data * out.grad", "self.grad += out.data")
NO_VISITED_SET = ("            if v not in visited:\n                visited.add(v)\n", "            if True:\n")
WHOLE_GRAPHS = (
    "forward_values",
    "leaf_gradients",
    "shared_nodes_accumulate",
    "gradients_linear_in_output",
    "off_path_gradients_are_zero",
)


def test_whole_graphs_are_judged_without_an_operation_that_failed_alike_under_every_seed(tmp_path):
    """exp's closure drops `out.grad`: exp's own property fails, and the whole-graph properties, judged
    with every exp node made a leaf of its value, pass with a note, whether or not a seed's graphs use
    exp; so the file scores the same under every seed, as the student's check and the course's grade."""
    path = tmp_path / "exp.py"
    path.write_text(_changed(MICROGRAD, EXP_DROPS_OUT_GRAD))
    scores = set()
    # Seeds 1 and 2 at the default count: the examples the bank's test under course seeds records first.
    for config in (QUICK, GradeConfig(seed=1, course_seed=True), GradeConfig(seed=2)):
        result = grade(path, AUTOGRAD, config)
        tests = {t.name: t for t in result.tests}
        assert _failed(result) == {"exp_values_and_grads": ("Value.exp",)}
        for name in WHOLE_GRAPHS:
            assert tests[name].status.value == "passed", (name, tests[name].message)
            assert tests[name].note == "right without your own `Value.exp`"
        # backward's properties built on exp wait for it: the note counts only what backward was paid.
        paid = sum(t.score for t in result.tests if t.functions[0] == "Value.backward")
        kept = f"`Value` keeps its points and `Value.backward` keeps {paid:g} points: they are right without your own"
        assert any(note.startswith(kept) for note in result.notes), result.notes
        scores.add(result.score)
    assert len(scores) == 1, scores


def test_the_recording_keeps_each_whole_graph_judged_without_each_operation_alone():
    """Each property judged without others that did not pass is recorded judged without each of
    them alone, the same inputs passing: the calls a grade with one wrong operation makes."""
    recorded = recording.recorded(AUTOGRAD, AUTOGRAD.default_seed, GradeConfig().max_examples)
    named = {prop.name: prop for prop in AUTOGRAD.properties}
    judged_without = [prop for prop in AUTOGRAD.properties if prop.without]
    assert {prop.name for prop in judged_without} >= set(WHOLE_GRAPHS)
    for prop in judged_without:
        keys = {speed.without_key(tuple(dict.fromkeys(named[other].functions))) for other in prop.without}
        assert set(recorded[prop.name]["without"]) == keys, prop.name
        assert all(recorded[prop.name]["without"].values()), prop.name


def test_one_wrong_operation_leaves_the_whole_graphs_read_ahead_and_the_grade_as_it_was(monkeypatch):
    """A known-wrong `-` (its gradient towards b +1): the whole-graph properties, judged without it,
    replay the calls recorded so, read ahead, and ask the worker for none as they come; asked one at a
    time instead, as where they were not recorded, they make the same grade."""
    wrong = AUTOGRAD.folder / "known_wrong" / "sub_grad_positive.py"
    running: list[str] = []
    run_property = runner.run_property
    monkeypatch.setattr(
        runner,
        "run_property",
        lambda prop, *args, **kwargs: running.append(prop.name) or run_property(prop, *args, **kwargs),
    )
    asked: list[str] = []
    asking = Direct.reply
    monkeypatch.setattr(
        Direct, "reply", lambda self, *args, **kwargs: asked.append(running[-1]) or asking(self, *args, **kwargs)
    )
    graded = {}
    for recorded_so in (True, False):
        if not recorded_so:
            monkeypatch.setattr(speed, "without_key", lambda left_out: "not recorded")
        asked.clear()
        result = grade(wrong, AUTOGRAD, GradeConfig(diagnose=False)).to_dict()
        result.pop("seconds")
        for test in result["tests"]:
            test.pop("seconds")
        graded[recorded_so] = (result, {name: asked.count(name) for name in WHOLE_GRAPHS})
    (read_ahead, asked_read_ahead), (one_at_a_time, asked_one_at_a_time) = graded[True], graded[False]
    assert [t["name"] for t in read_ahead["tests"] if t["status"] == "failed"] == ["sub_values_and_grads"]
    assert read_ahead == one_at_a_time
    assert asked_read_ahead == dict.fromkeys(WHOLE_GRAPHS, 0)
    assert all(asked_one_at_a_time.values()), asked_one_at_a_time


def test_a_second_mistake_in_backward_is_shown_beside_an_operation_that_failed(tmp_path):
    """exp's closure wrong and backward without a visited set: both are FAILED, each on its own method,
    and backward's counterexample is a graph it gets wrong without exp."""
    path = tmp_path / "two.py"
    path.write_text(_changed(MICROGRAD, EXP_DROPS_OUT_GRAD, NO_VISITED_SET))
    result = grade(path, AUTOGRAD, QUICK)
    failed = _failed(result)
    assert failed["exp_values_and_grads"] == ("Value.exp",)
    backward = [t for t in result.tests if t.name in WHOLE_GRAPHS and t.status.value == "failed"]
    assert backward and all(t.functions == ("Value.backward",) for t in backward), failed
    for test in backward:
        graph = test.counterexample.calls[-1].args[0]
        assert all(node[0] != "exp" for node in graph), graph


def test_backwards_graph_properties_wait_on_plus_and_times_which_every_graph_is_built_on(tmp_path):
    """`*` whose closure drops `out.grad`: no graph could be judged without `*` (and `-a`, `a / b`, `2 * a`
    built on it), so backward's graph properties are not checked yet, never paid for graphs of leaves."""
    path = tmp_path / "times.py"
    path.write_text(_changed(MICROGRAD, (MUL_CLOSURE, MUL_CLOSURE.replace(" * out.grad", ""))))
    tests = {t.name: t for t in grade(path, AUTOGRAD, QUICK).tests}
    assert _failed_of(tests) == ["mul_values_and_grads"]
    for name in (*WHOLE_GRAPHS, "backward_applies_the_chain_rule"):
        assert tests[name].status.value == "unchecked", (name, tests[name].status, tests[name].message)
        assert tests[name].message.startswith("not checked yet"), tests[name].message


def test_closures_that_all_drop_out_grad_read_a_chain_rule_hint_that_fits_them(tmp_path):
    """Every closure without `* out.grad` answers every graph as a backward without `* v.grad` does: no
    answer tells the two apart, so the chain rule's failure is backward's, and its hint names both."""
    path = tmp_path / "closures.py"
    dropped = MICROGRAD.replace(" * out.grad", "").replace("grad += out.grad", "grad += 1")
    path.write_text(dropped)
    tests = {t.name: t for t in grade(path, AUTOGRAD, QUICK).tests}
    assert _failed_of(tests) == ["backward_applies_the_chain_rule"]
    assert "child.grad += local * v.grad, or * out.grad in closures" in tests["backward_applies_the_chain_rule"].hint


def _failed_of(tests):
    return [name for name, test in tests.items() if test.status.value == "failed"]


# --- the bank under other seeds ------------------------------------------------------------------

COURSE_SEEDS = (1, 2)


# The first records the course seeds' examples alone (`records_first`, tests/conftest.py); the rest read them.
@pytest.mark.longest
@pytest.mark.parametrize(
    "path",
    [
        pytest.param(path, marks=pytest.mark.records_first if index == 0 else ())
        for index, path in enumerate(AUTOGRAD.known("known_wrong"))
    ],
    ids=lambda path: path.stem,
)
def test_every_known_wrong_file_loses_points_on_its_method_and_is_named_under_course_seeds(path):
    blamed = assignment.blamed_function(path)
    for seed in COURSE_SEEDS:
        result = grade(path, AUTOGRAD, GradeConfig(seed=seed, course_seed=True))
        lost = [t.name for t in result.tests if t.score < t.max_score and blamed in t.functions]
        wrong = [t.name for t in result.tests if t.status.value in ("failed", "error") and blamed in t.functions]
        assert lost and wrong, (seed, [(t.name, t.status.value) for t in result.tests])
        assert {d.function for d in result.diagnosis} == {blamed}, (seed, result.diagnosis)


def test_a_fault_held_back_by_another_property_is_not_shrunk_and_the_verdicts_stay(monkeypatch):
    """exp's wrong derivative fails exp_values_and_grads; the gradient of the softmax loss, built from
    exp and checked after it, then finds a fault no report shows (it is "not checked yet", without a
    counterexample): it is not shrunk, and its verdict is the one a shrunk run gives."""
    from gradekit.engine import runner

    path = AUTOGRAD.folder / "known_wrong" / "exp_derivative_recomputed.py"
    shrunk: dict[str, bool] = {}
    configure = runner._configure
    monkeypatch.setattr(
        runner, "_configure", lambda prop, *args: shrunk.update({prop.name: args[-1]}) or configure(prop, *args)
    )
    result = grade(path, AUTOGRAD, QUICK)
    held = {t.name: (t.status.value, t.message) for t in result.tests if t.status.value == "unchecked"}
    assert shrunk["exp_values_and_grads"] is True and "exp_values_and_grads" not in held
    assert shrunk["softmax_loss_gradient"] is False
    assert held["softmax_loss_gradient"][1].startswith("not checked yet: ")
    monkeypatch.setattr(runner, "_held_back", lambda *args: False)
    again = grade(path, AUTOGRAD, QUICK)
    assert [(t.name, t.status, t.score, t.message, t.counterexample) for t in again.tests] == [
        (t.name, t.status, t.score, t.message, t.counterexample) for t in result.tests
    ]


# --- what cannot be told is not judged -------------------------------------------------------------

MUL_UNWRAPPED = (
    "    def __mul__(self, other):\n        other = other if isinstance(other, Value) else Value(other)\n",
    "    def __mul__(self, other):\n",
)
CLOSURES_OF_LEAVES_ONLY = (
    "        for v in reversed(topo):\n            v._backward()",
    "        for v in reversed(topo):\n            if not v._prev:\n                v._backward()",
)
SEEDED_WITH_0 = (
    "        self.grad = 1\n        for v in reversed(topo):",
    "        self.grad = 0\n        for v in reversed(topo):",
)
LEFT = ("radd_values_and_grads", "rsub_values_and_grads", "rmul_values_and_grads", "rtruediv_values_and_grads")


def _unchecked(result):
    return {t.name: t.message for t in result.tests if t.status.value == "unchecked"}


def test_a_reflected_operation_that_raises_as_its_mirrors_do_is_not_judged(tmp_path):
    """`*` that cannot take a plain number raises in `2 * a` (`a * 2` reflected), `2 - a` and `2 / a`
    too, as the class's own operations those are written with: only `*` is FAILED."""
    path = tmp_path / "mul.py"
    path.write_text(_changed(MICROGRAD, MUL_UNWRAPPED))
    result = grade(path, AUTOGRAD, QUICK)
    assert list(_failed(result)) == ["mul_values_and_grads"]
    unchecked = _unchecked(result)
    for name in ("rmul_values_and_grads", "rsub_values_and_grads", "rtruediv_values_and_grads"):
        assert unchecked[name].startswith("not judged: `0 ") and "raised, and so does it" in unchecked[name], name


def test_a_backward_that_runs_no_operations_gradient_blames_no_operation(tmp_path):
    """Backward that calls the closures of leaves only: every operation's gradient is 0 on a graph of
    its own, so none is FAILED for it; each is not judged, with backward named as the likely cause."""
    path = tmp_path / "leaves.py"
    path.write_text(_changed(MICROGRAD, CLOSURES_OF_LEAVES_ONLY))
    result = grade(path, AUTOGRAD, QUICK)
    assert _failed(result) == {}
    unchecked = _unchecked(result)
    for name in ("add_values_and_grads", "mul_values_and_grads", "exp_values_and_grads"):
        assert unchecked[name].endswith("backward may be why"), (name, unchecked.get(name))


def test_a_reflected_operation_pays_only_once_backward_seeds_the_output(tmp_path):
    """A backward that seeds 0 leaves every grad 0, which a reflected operation answers as its mirrors
    whatever it does: it pays nothing until backward_seeds_the_output passes."""
    path = tmp_path / "seed.py"
    path.write_text(_changed(MICROGRAD, SEEDED_WITH_0))
    result = grade(path, AUTOGRAD, QUICK)
    assert "backward_seeds_the_output" in _failed(result)
    paid = {t.name: t.score for t in result.tests if t.name in LEFT}
    assert paid == dict.fromkeys(LEFT, 0.0), paid
