"""How an assignment describes its known mistakes: as models, so a mistake is named however it is written.

A known-wrong file (`known_wrong/NAME.py`) is one student's way of making a mistake; its docstring
names the function at fault and the mistake, and explains it. The assignment's `mistakes.py` says
what the mistake *does*, as a function of the inputs, one per mistake:

    @known_mistake("cross_entropy_loss", "loss_epsilon_inside_log.py", fit=epsilon_from)
    def epsilon_inside_log(logits, true_id, eps):
        return -math.log(ref.softmax(logits)[true_id] + eps)

It takes the graded function's arguments and returns what the mistake answers (or raises what it
raises: an OverflowError where the mistake overflows). A diagnosis tells the student the file's
docstring, or the model's own where it has one: its first line names the mistake, with `{}` standing
for the parameter found ("cuts the document at {} positions"), and the rest explains it.

Where the properties call a harness (harness.py) that builds on a class students write, as autograd's
build graphs from the student's `Value`, a model is a class: the class with the mistake, standing in
for the student's, named by the method at fault:

    @known_mistake("Value.__mul__", "mul_grad_swapped_self.py")
    class MulGradSwapped(Exact):
        def __mul__(self, other): ...

It answers a harness call as the harness answers it with this class as the submission's `Value`.
How the rest of a student's class is written changes what one mistake answers (`a - b` written as
`a + (-b)` carries a wrong `-a` into it): `among` lists the styles worth trying, each a class whose
methods the model takes where it does not define its own.

A mistake with a free parameter (the epsilon, the base of a log, the offset of a target, the size a
document is cut at) takes it last, and says how to find it from a student's own answers:
`fit(*arguments, answer)` works it out from one answer (None where that answer does not tell it), or
`among` lists the values worth trying. A parameter found must lie `within` the bounds given, so a
model cannot be bent to explain anything.

The diagnosis (gradekit.diagnosis) runs these models in the grader's process, never the student's
code, on the inputs the function was probed and found wrong on; the self-test checks each model
against its file, which stays the proof that the model describes a mistake students make.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from gradekit.errors import InvalidProperty

__all__ = ["KnownBehaviour", "KnownMistake", "known_behaviour", "known_mistake"]


@dataclass(frozen=True)
class KnownMistake:
    """One known mistake as a model: the function it is made in, the known-wrong file that makes it
    (named as in known_wrong/), what it answers (a function, or a class standing in for the student's:
    see the module's docstring), and how its free parameter is found, if it has one."""

    function: str
    file: str
    answers: Callable[..., Any]
    fit: Callable[..., Any] | None = None
    among: tuple[Any, ...] = ()
    within: tuple[float, float] | None = None
    also: tuple[str, ...] = ()

    @property
    def files(self) -> tuple[str, ...]:
        """Every known-wrong file the model describes: `file`, then the files `also` names (the same
        mistake with another parameter: a document cut at 16 positions, and at 256)."""
        return (self.file, *self.also)

    @property
    def name(self) -> str:
        return self.answers.__name__

    @property
    def stands_in(self) -> bool:
        """Whether the model is a class, answering through the assignment's harness in place of the
        student's class."""
        return isinstance(self.answers, type)

    @property
    def fitted(self) -> bool:
        """Whether the model has a free parameter, found from the answers it is to explain."""
        return self.fit is not None or bool(self.among)

    def told(self, parameter: Any) -> tuple[str, str]:
        """The mistake's name and explanation in the model's docstring, `{}` in its first line standing
        for the parameter found, formatted as `str.format` does ("{:+}" for an offset's sign); ("", "")
        without a docstring, where the file's words are told."""
        own = self.answers.__doc__  # a class's own, not one it inherits
        doc = inspect.cleandoc(own) if own else ""
        first, _, rest = doc.partition("\n")
        try:
            first = first.format(parameter)
        except (IndexError, KeyError, ValueError):  # braces that are no placeholder, or a format the value refuses
            pass
        return first.strip().rstrip("."), " ".join(rest.split())


def known_mistake(
    function: str,
    file: str,
    *,
    fit: Callable[..., Any] | None = None,
    among: Sequence[Any] = (),
    within: tuple[float, float] | None = None,
    also: Sequence[str] = (),
) -> Callable[[Callable[..., Any]], KnownMistake]:
    """Describe the known mistake `file` (a file in the assignment's known_wrong/ folder) makes in
    `function` by what it answers; `also` names more files that make it, with another parameter. See
    the module's docstring."""
    if not isinstance(function, str) or not all(part.isidentifier() for part in function.split(".")):
        raise InvalidProperty(f"function={function!r} must name one of the assignment's functions or methods")
    for named in (file, *also):
        if not isinstance(named, str) or not named.endswith(".py") or "/" in named:
            raise InvalidProperty(f"{named!r} must name a file of known_wrong/, like 'loss_log10.py'")
    if fit is not None and among:
        raise InvalidProperty("give `fit` or `among`, not both: the parameter is found one way")
    if within is not None and not (len(within) == 2 and within[0] <= within[1]):
        raise InvalidProperty(f"within={within!r} must be (low, high) with low <= high")

    def decorate(answers: Callable[..., Any]) -> KnownMistake:
        if isinstance(answers, type) and (fit is not None or not all(isinstance(a, type) for a in among)):
            raise InvalidProperty(
                f"{answers.__name__} is a class: `among` may list the styles it is tried in, as classes"
            )
        return KnownMistake(function, file, answers, fit, tuple(among), within, tuple(also))

    return decorate


@dataclass(frozen=True)
class KnownBehaviour:
    """A known mistake seen in what a call does, not in what it answers, which are right: the arguments
    it changes (`changes`, by the names functions.py gives them), or that it changes the answer it gave
    the call before (`keeps`: it returns one list it keeps and fills again). Told from the property
    that caught it, where the grade's watch of every call found exactly that."""

    function: str
    file: str
    changes: tuple[str, ...] = ()
    keeps: bool = False


def known_behaviour(function: str, file: str, *, changes: Sequence[str] = (), keeps: bool = False) -> KnownBehaviour:
    """Describe the known mistake `file` makes in `function` by what its calls do: see KnownBehaviour."""
    if not file.endswith(".py") or "/" in file:
        raise InvalidProperty(f"{file!r} must name a file of known_wrong/, like 'softmax_mutates_input.py'")
    if bool(changes) == keeps or isinstance(changes, str):
        raise InvalidProperty("give `changes` (a list of argument names) or `keeps=True`, one of them")
    return KnownBehaviour(function, file, tuple(changes), keeps)
