"""The authoring kit: how an assignment's property is written.

A property is a plain Hypothesis test under `@prop`, taking the submission as `sub` first:

    @prop(points=2, functions=["cross_entropy_loss"], requires=["loss_matches_reference"],
          hint="Adding one constant to every logit must not change the loss.")
    @given(case=logits_and_target(), c=shifts())
    def loss_shift_invariant(sub, case, c):
        z, t = case
        expect_close(sub.cross_entropy_loss([x + c for x in z], t), sub.cross_entropy_loss(z, t))

`sub` holds the student's functions and nothing else: `sub.cross_entropy_loss(...)` runs in the
isolated worker and returns plain numbers. A property that needs a call's reply as it came (say, the
arguments as the call left them) uses `call(sub, name, *args, want_args=True)`. Mistakes in a
definition are caught when it is defined.

The kit only describes a property; running it is gradekit.engine.runner's, which is handed each example
Hypothesis draws and keeps what the example did.
"""

from __future__ import annotations

import functools
import inspect
import math
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from gradekit.course_terms import counted, seconds
from gradekit.errors import (
    CallTimedOut,
    InvalidProperty,
    PropertyFailure,
    SubmissionRaised,
    TimedOutEarlier,
    TooSlow,
)
from gradekit.precision import FLOAT32_CAUSE, close, is_float32, magnitude, tolerances

__all__ = [
    "Property",
    "at_scale",
    "call",
    "call_at_scale",
    "close",
    "each",
    "expect",
    "expect_built_on",
    "expect_close",
    "fail",
    "has_nan",
    "left_out",
    "magnitude",
    "per_submission",
    "prop",
    "unjudged",
]


@dataclass(frozen=True)
class Property:
    """One graded property: a Hypothesis test plus what it is worth and what it exercises.

    `test(run_example)` runs it under Hypothesis, handing each drawn example's inputs (a dict) to
    `run_example`; `body(sub, **inputs)` is the property as written, run once on given inputs.
    """

    name: str
    points: float
    functions: tuple[str, ...]
    hint: str
    requires: tuple[str, ...]
    test: Callable[..., None]
    body: Callable[..., None]
    description: str
    max_examples: int | None = None
    scale: bool = False
    public: bool = False  # defined in public.py: students may read it and run it themselves
    after: tuple[str, ...] = ()
    without: tuple[str, ...] = ()


def prop(
    *,
    points: float,
    functions: Sequence[str],
    hint: str,
    requires: Sequence[str] = (),
    name: str | None = None,
    max_examples: int | None = None,
    scale: bool = False,
    after: Sequence[str] = (),
    without: Sequence[str] = (),
) -> Callable[[Callable[..., None]], Property]:
    """Turn a `@given` test into a graded Property.

    `requires` names properties that must pass before this one pays: a metamorphic property (shift
    invariance, non-negativity...) is also satisfied by a function that returns a constant, so it
    only pays once the function's values are known to be right. Until they pass, it is not run: it
    is "not checked yet", and its functions are not blamed for what the required property found.

    `after` names properties whose functions this one's are often built from (autograd's `a - b` as
    `a + (-b)`, a gradient through every operation): it runs and pays as any property, but where it
    fails while one of them did not pass, the fault may be theirs, so it is "not checked yet" rather
    than blamed on its own functions, until they pass.

    `without` names properties whose functions this one can leave out of its inputs (autograd's graph
    properties make a node of a failed operation a leaf of its exact value): where any did not pass,
    `left_out(sub)` names their functions, the property judges its inputs without them, and so a fault
    it finds is its own functions'. It pays as any property; a pass says what it was judged without.
    Unlike `after`, the verdict then does not hang on whether the drawn inputs happen to use them.

    `max_examples` caps a property's examples where its assignment's bank shows fewer are enough
    (benchmarks/example_counts.py), or every example is costly (a whole training step on three 27 x 27
    tables): it runs min(this, the grade's --max-examples) examples.

    `scale=True` marks a property about size or speed (see `call_at_scale`): slow is not wrong, so every
    correctness property runs first, on inputs any reasonable implementation answers fast, and no
    correctness property may require a scale one.
    """
    if not isinstance(points, (int, float)) or isinstance(points, bool) or not points > 0:
        raise InvalidProperty(f"points={points!r} must be a positive number")
    if isinstance(functions, str) or not functions:
        raise InvalidProperty(f"functions={functions!r} must be a non-empty list of function names")
    if not isinstance(hint, str) or not hint.strip() or "\n" in hint.strip():
        raise InvalidProperty(f"hint={hint!r} must be one non-empty line")
    for named, given_names in (("requires", requires), ("after", after), ("without", without)):
        if isinstance(given_names, str):
            raise InvalidProperty(f"{named}={given_names!r} must be a list of property names, not a string")
    if max_examples is not None and (type(max_examples) is not int or max_examples < 1):
        raise InvalidProperty(f"max_examples={max_examples!r} must be a positive whole number")

    def decorate(test: Callable[..., None]) -> Property:
        hypothesis = getattr(test, "hypothesis", None)
        if hypothesis is None:
            raise InvalidProperty(
                f"{getattr(test, '__name__', test)!r} must be a Hypothesis test: put @given(...) under @prop"
            )
        body = hypothesis.inner_test
        first = next(iter(inspect.signature(body).parameters), None)
        if first is None:
            raise InvalidProperty(f"{test.__name__!r} must take the submission first: def {test.__name__}(sub, ...)")

        @functools.wraps(body)
        def each_example(*args: Any, **inputs: Any) -> None:
            # Hypothesis passes what the test was called with by the parameter's name where it can.
            run_example = args[0] if args else inputs.pop(first)
            run_example(inputs)

        hypothesis.inner_test = each_example
        return Property(
            name=name or test.__name__,
            points=float(points),
            functions=tuple(functions),
            hint=hint.strip(),
            requires=tuple(requires),
            test=test,
            body=body,
            description=(body.__doc__ or "").strip(),
            max_examples=max_examples,
            scale=scale,
            after=tuple(after),
            without=tuple(without),
        )

    return decorate


class Reply:
    """What one call returned (as plain data), its arguments as the call left them when asked for,
    and the type the assignment declares the function returns: made by the grade's calls
    (gradekit.engine.calls), read by the properties through `call`."""

    __slots__ = ("args_after", "declared", "returned")

    def __init__(self, returned: Any, args_after: list[Any] | None, declared: Any) -> None:
        self.returned = returned
        self.args_after = args_after
        self.declared = declared


def call(sub: Any, function: str, *args: Any, want_args: bool = False) -> Reply:
    """Call one of the student's functions and get its reply as it came: `returned` (plain data, not yet
    read as the declared type), `declared` (that type) and, with `want_args`, `args_after` (the
    arguments as the call left them, to catch a function that changes its input)."""
    reply: Reply = sub._call(function, args, want_args)
    return reply


def each(sub: Any, function: str, argument_lists: Iterable[Sequence[Any]]) -> Iterator[Any]:
    """`function` called on each argument list in turn, its values as the loop asks for them: the
    calls a property makes one after another (the loss at every position of a document, to take
    their mean). The worker is told of them all at once, so it answers them without a round trip
    each; the property still makes every call itself, in order, and stops where it stops (a call
    that raises ends the loop, as it would end `sub.function(...)` written in one). Each call is made
    with its arguments as they were when the worker was told of it, encoded once."""
    lists = [tuple(arguments) for arguments in argument_lists]
    encodings = sub._announce(function, lists)
    return (sub._announced(function, arguments, encoded) for arguments, encoded in zip(lists, encodings))


@contextmanager
def at_scale(size: str, question: str) -> Iterator[None]:
    """Within the block, a call that runs out of time fails a scale property with what was too slow on
    what size: "`softmax` took more than 2 s of CPU time on a vocabulary of 10,000: is it quadratic?".

    The failure is not shrunk: a smaller input is faster, so shrinking would only hide the size. A
    function that timed out earlier in the grade is not called again, and says so as it is.
    """
    try:
        yield
    except TimedOutEarlier:
        raise
    except CallTimedOut as timeout:
        raise TooSlow(f"{timeout.message} on {size}: {question}") from None


GROWTH_ROOM = 10**0.5  # how much faster than the input a scale call's time may grow: half an order of ten
LONGEST_SCALE_CALL = 10.0  # seconds: the most any scale call may take, whatever its smaller call took
TOLD = {
    "RecursionError": "its recursion goes one call deeper for every step of the input, past Python's limit: "
    "walk it with a loop and a list instead",
    "MemoryError": "it needs more memory at this size than a submission is given: look for copies made at every step",
}


def call_at_scale(
    sub: Any,
    function: str,
    small: tuple[Any, ...],
    large: tuple[Any, ...],
    *,
    sizes: tuple[int, int],
    size: str,
    question: str,
    want_args: bool = False,
) -> Reply:
    """`function`'s reply to the arguments `large` (as `call` gives it), judged by how its time grows: a
    scale property's call.

    `function` is called on `large` as any call is, within the call limit: a function that answers in
    time passes whatever its growth, since below the limit it is fast enough. One that does not is
    called on `small` (`sizes` are the two sizes, say 1,000 and 10,000 logits; `size` names one, as
    "a vocabulary of {:,}"), and on `large` again, which may now take as long as the small call took,
    times the growth in size, times GROWTH_ROOM: a linear function keeps its points whatever its
    constant, one whose time grows with the square of the input loses them, told how its time grew and
    `question` ("is it quadratic in the vocabulary?"). Times are what the kernel counts (computing or
    blocked, never waiting for a CPU), so a busy machine gives an idle one's verdict.

    A function that raises at that size for another reason is told the reason (a recursion one call
    deeper per step, memory), and one that timed out earlier in the grade is not called again.
    """
    limit = float(sub._call_timeout())
    named = (size.format(sizes[0]), size.format(sizes[1]))
    try:
        return _timed(sub, function, large, want_args, None, named[1])[0]
    except TimedOutEarlier:
        raise
    except CallTimedOut:
        pass  # slower than any call may be: judged by how its time grows
    try:
        _, took = _timed(sub, function, small, False, limit, named[0])
    except CallTimedOut:
        raise TooSlow(f"`{function}` took more than {seconds(limit)} s of CPU time on {named[0]}: {question}") from None
    growth = sizes[1] / sizes[0]
    allowed = min(took * growth * GROWTH_ROOM, LONGEST_SCALE_CALL)
    grew = (
        f"`{function}` took more than {growth * GROWTH_ROOM:.0f} times as long on {named[1]} as on {named[0]}: "
        f"its time grows faster than the input, where linear work takes about {growth:g} times as long: {question}"
    )
    if allowed <= limit:
        raise TooSlow(grew)
    try:
        return _timed(sub, function, large, want_args, allowed, named[1])[0]
    except CallTimedOut:
        if allowed >= LONGEST_SCALE_CALL:
            raise TooSlow(
                f"`{function}` took more than {LONGEST_SCALE_CALL:g} s of CPU time on {named[1]}, the most a call "
                "may take at any size"
            ) from None
        raise TooSlow(grew) from None


def _timed(
    sub: Any, function: str, args: tuple[Any, ...], want_args: bool, timeout: float | None, named: str
) -> tuple[Reply, float]:
    """A call's reply and the seconds it took: a call like any other where `timeout` is None (its
    seconds not counted), else a timed call, asked for alone within `timeout`; with the reason told
    where it raised for one (see TOLD)."""
    try:
        if timeout is None:
            return call(sub, function, *args, want_args=want_args), 0.0
        timed: tuple[Reply, float] = sub._timed(function, args, want_args, timeout)
    except SubmissionRaised as error:
        if error.raised not in TOLD:
            raise
        raise SubmissionRaised(f"{error.message}, on {named}: {TOLD[error.raised]}", raised=error.raised) from None
    return timed


LEFT_OUT = "left out"  # per_submission's key for the functions `left_out` names to the property running now


def per_submission(sub: Any) -> dict[str, Any]:
    """A dict a property may keep facts about the submission in, for its whole grade (say, whether an
    update function returns its new values or updates in place). Facts kept must follow from the
    submission's answers alone, so they are the same on every run."""
    kept: dict[str, Any] = sub._per_submission()
    return kept


def left_out(sub: Any) -> tuple[str, ...]:
    """The functions the property running now leaves out of its inputs: those of the properties named
    in its `without` that did not pass in this grade (none where all passed). They follow from the
    submission's answers alone, as per_submission's facts must."""
    return tuple(per_submission(sub).get(LEFT_OUT, ()))


def fail(message: str, returned: Any = None, expected: Any = None) -> None:
    raise PropertyFailure(message, returned=returned, expected=expected)


def expect(condition: bool, message: str, returned: Any = None, expected: Any = None) -> None:
    if not condition:
        raise PropertyFailure(message, returned=returned, expected=expected)


def expect_close(
    actual: Any,
    expected: Any,
    message: str = "",
    *,
    rtol: float = 1e-9,
    atol: float = 1e-12,
    scale: float = 1.0,
    computed_from: Sequence[Any] = (),
) -> None:
    """Numbers or (nested) lists equal within a tolerance that grows with their magnitude, as
    gradekit.precision's `close` judges them (a NaN is no right answer: it is close to nothing).

    `scale` is the size of the inputs (say max |logit|): rounding in a correct implementation grows
    with it, so the absolute tolerance does too. An answer computed in float32 is judged at float32's
    precision (see gradekit.precision), as is one worked out from the values in `computed_from` when
    any of those is float32 (a sum of your own float32 probabilities, say).
    """
    if close(actual, expected, *tolerances(rtol, atol, scale, float32=False)):
        return
    float32 = is_float32(actual) or any(is_float32(value) for value in computed_from)
    if float32 and close(actual, expected, *tolerances(rtol, atol, scale, float32=True)):
        return
    detail = message or "the values differ"
    if has_nan(actual):
        detail += ": the answer is NaN"
    elif isinstance(actual, list) and isinstance(expected, list) and len(actual) != len(expected):
        wanted = "1 was" if len(expected) == 1 else f"{len(expected)} were"
        detail += f": {counted(len(actual), 'value')} where {wanted} expected"
    elif float32 and _overflowed(actual, expected):
        detail += f": {FLOAT32_CAUSE}"
    raise PropertyFailure(detail, returned=actual, expected=expected)


_UNANSWERED = object()  # what `expect_built_on` holds of a call that failed before it answered
JUDGED = "judged"  # per_submission's key for what `expect_built_on` found in the property running now


def expect_built_on(
    sub: Any,
    answer: Callable[[], Any],
    expected: Any,
    own: Callable[[], Any],
    on: str,
    message: str,
    **closeness: Any,
) -> None:
    """A function specified in terms of another of the submission's (a sequence loss as the mean of
    the loss, a gradient from softmax) is blamed only for its own mistakes: `answer()` must be close
    to the reference's `expected`, or else to `own()`, what the contract specifies it as, computed
    from the submission's own `on`.

    An answer right against a wrong `on` passes: the property notes it (the grade's report says the
    function is right in itself and keeps its points). Where `on` cannot answer either (it raised the
    same way on the same line, or gives inf or NaN here), or gives one answer to every input tried (a
    constant: a function built on it answers as a constant would), whether the function is right
    cannot be told: the property is "not judged", with the reason, and pays nothing; never FAILED.
    A call that failed before answering (it changed its arguments, or answered a repeat otherwise) is
    the function's own mistake, unless `own()` fails so too: then `on` may be why, and it is not
    judged. `closeness` is expect_close's.
    """
    actual: Any = _UNANSWERED
    try:
        actual = answer()
        expect_close(actual, expected, message, **closeness)
        _answered(sub, actual)
        return
    except SubmissionRaised as raised:
        wrong: PropertyFailure = raised
        said = _said(raised)
        if said is None:
            raise
    except PropertyFailure as failure:
        wrong, said = failure, None
    logged = sub._logged()
    try:
        mine = own()
    except PropertyFailure as raised_too:  # its answer raised, or was no number: what it builds on says nothing
        if said is not None and isinstance(raised_too, SubmissionRaised) and said == _said(raised_too):
            _judged(sub, "unjudged", f"it stops where your `{on}` does: `{on}` {said[2]}")
            return
        if actual is _UNANSWERED and said is None and not isinstance(raised_too, SubmissionRaised):
            _judged(sub, "unjudged", f"your `{on}` fails on the same input too: {raised_too.message}")
            return
        _own_mistake(sub, logged, wrong)
    if actual is _UNANSWERED:
        _own_mistake(sub, logged, wrong)
    if said is not None:
        _own_mistake(sub, logged, wrong)
    if not _all_finite(mine):
        if close(actual, mine, 0.0, 0.0) or has_nan(actual):
            why = f"your `{on}` gives inf or NaN on the same input, so whether it is right cannot be told"
            _judged(sub, "unjudged", why)
            return
        _own_mistake(sub, logged, wrong)
    try:
        expect_close(actual, mine, message, **closeness)
    except PropertyFailure:
        _own_mistake(sub, logged, wrong)
    _judged(sub, "own", on)
    _answered(sub, actual)


def _own_mistake(sub: Any, logged: int, wrong: PropertyFailure) -> None:
    """Raise `wrong`, the function's own mistake, its example showing the calls that found it and not
    those of the function it builds on, which explain nothing here."""
    sub._unlog(logged)
    raise wrong


def _said(raised: SubmissionRaised) -> tuple[str, int, str] | None:
    """What a call that raised said, after its function's name, with the exception's type and line:
    the same from two functions is one exception, raised on one line of the file. None where no line
    of the file raised it, which tells nothing of where it came from."""
    if raised.line is None:
        return None
    return raised.raised, raised.line, raised.message.split("` ", 1)[-1]


def _all_finite(value: Any) -> bool:
    if isinstance(value, (list, tuple)):
        return all(_all_finite(v) for v in value)
    return isinstance(value, (int, float)) and math.isfinite(value)


def _answered(sub: Any, actual: Any) -> None:
    """Keep that the function gave `actual` on one more example: one answer to every example, where
    some were judged against `on`, is a constant's, which matches a constant `on` whatever it is."""
    _judged(sub, "answers", repr(actual))
    _judged(sub, "examples", str(len(per_submission(sub)[JUDGED].get("examples", ()))))


def unjudged(sub: Any, why: str) -> None:
    """Say that the example running now cannot tell whether the property's functions are right (what
    they are built on fails alike, say): the property is then "not judged", with `why`, and pays
    nothing, unless another example fails it. Never FAILED on this example's account."""
    _judged(sub, "unjudged", why)


def _judged(sub: Any, kind: str, text: str) -> None:
    """Keep what `expect_built_on` found for the property running now, with the grade's facts, so a
    verdict remembered for answers alike carries it too (gradekit.engine.speed): each text once, and
    of the function's answers only the first two that differ, and of its examples only the first two
    (one answer to two examples or more is a constant's)."""
    kept = per_submission(sub).setdefault(JUDGED, {}).setdefault(kind, [])
    if text not in kept and len(kept) < 2:
        kept.append(text)


def _overflowed(actual: Any, expected: Any) -> bool:
    """Whether `actual` is infinite where `expected` is finite. That float32 is why is `expect_close`'s
    to know, from numbers that are float32 values: an expected value past float32's range says nothing
    of what the submission computed in."""
    if isinstance(actual, (list, tuple)) and isinstance(expected, (list, tuple)):
        return any(_overflowed(a, e) for a, e in zip(actual, expected))
    numbers = (int, float)
    if not (isinstance(actual, numbers) and isinstance(expected, numbers)):
        return False
    return math.isinf(actual) and math.isfinite(expected)


def has_nan(value: Any) -> bool:
    """Whether a number or (nested) list holds a NaN: it compares unequal even to itself."""
    if isinstance(value, (list, tuple)):
        return any(has_nan(v) for v in value)
    return isinstance(value, float) and math.isnan(value)
