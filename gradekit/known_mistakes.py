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

__all__ = ["KnownMistake", "known_mistake"]


@dataclass(frozen=True)
class KnownMistake:
    """One known mistake as a model: the function it is made in, the known-wrong file that makes it
    (named as in known_wrong/), what it answers, and how its free parameter is found, if it has one."""

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
    def fitted(self) -> bool:
        """Whether the model has a free parameter, found from the answers it is to explain."""
        return self.fit is not None or bool(self.among)

    def told(self, parameter: Any) -> tuple[str, str]:
        """The mistake's name and explanation in the model's docstring, `{}` in its first line standing
        for the parameter found, formatted as `str.format` does ("{:+}" for an offset's sign); ("", "")
        without a docstring, where the file's words are told."""
        doc = inspect.getdoc(self.answers) or ""
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
    if not isinstance(function, str) or not function.isidentifier():
        raise InvalidProperty(f"function={function!r} must name one of the assignment's functions")
    for named in (file, *also):
        if not isinstance(named, str) or not named.endswith(".py") or "/" in named:
            raise InvalidProperty(f"{named!r} must name a file of known_wrong/, like 'loss_log10.py'")
    if fit is not None and among:
        raise InvalidProperty("give `fit` or `among`, not both: the parameter is found one way")
    if within is not None and not (len(within) == 2 and within[0] <= within[1]):
        raise InvalidProperty(f"within={within!r} must be (low, high) with low <= high")

    def decorate(answers: Callable[..., Any]) -> KnownMistake:
        return KnownMistake(function, file, answers, fit, tuple(among), within, tuple(also))

    return decorate
