"""Values as the course writes them, for a report a student reads in a minute.

A table reads as its shape and what is special about it ("5 x 27 zeros except [4][0] = 1e-05");
microgpt's bigram table and Adam's moments of it, whose shape is the course's, as what is special
about them, each entry named by its row's and column's tokens ("all zeros except [BOS][a] = 1e-05");
a token list as the name it encodes ('"a" [BOS, a, BOS]'), an expression graph as the expression it
builds ("f = a * a + log(b) at a = 3, b = 2"), a long vector as its size and the entries that
matter, and an answer against the expected one as the entry that differs most.
Numbers keep the digits that matter: a lone number four significant digits (the report is for
reading; the JSON report keeps every value exact), two numbers compared as many as tell them apart.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from gradekit.reference.course import BOS, VOCAB_SIZE, decode, token_name

__all__ = [
    "BIGRAM_TABLES",
    "bigram",
    "counted",
    "differences",
    "is_number",
    "number",
    "pair",
    "seconds",
    "tokens",
    "value",
    "whole",
]

SHORT_VECTOR = 6  # entries a vector or table may have and still be shown whole
EXCEPTIONS = 3  # entries that differ from the rest a vector or table may have and read as "all x except ..."
LONGEST = 120  # characters of a value the report shows before cutting it short
TOKENS = "tokens"  # microgpt's name for a list of token ids: shown as the name they encode
LONG_TOKENS = 24  # tokens a list may have and still be shown token by token
GRAPH = "graph"  # the autograd assignment's expression graphs: shown as the expression they build
# microgpt's names for the bigram table and Adam's moments of it: a table of the course's shape passed as
# one of them has a row per current token and a column per next token
BIGRAM_TABLES = ("W", "m", "v")


def value(x: Any, name: str = "") -> str:
    """`x` as a report shows it; `name` is the parameter it was passed as, when known."""
    if name == TOKENS and _token_ids(x):
        return tokens(x)
    if name in BIGRAM_TABLES and bigram(x):
        return _bigram_text(x)
    if name == GRAPH and _graph(x):
        from gradekit.reference.autograd import expression  # only a report of the autograd assignment pays for it

        return expression(x, limit=2 * LONGEST)
    if is_number(x):
        return number(x)
    if _vector(x):
        return _vector_text(x)
    if _table(x):
        return _table_text(x)
    if isinstance(x, (list, tuple)):
        inner = ", ".join(value(v) for v in x)
        return _short(f"[{inner}]" if isinstance(x, list) else f"({inner})")
    if isinstance(x, dict):
        return _short("{" + ", ".join(f"{k!r}: {value(v)}" for k, v in x.items()) + "}")
    return _short(repr(x))


def whole(x: Any) -> bool:
    """Whether `value` shows every number of `x`: a number, or a vector or table of a few."""
    if _vector(x):
        return len(x) <= SHORT_VECTOR
    if _table(x):
        return len(x) * len(x[0]) <= SHORT_VECTOR
    return not isinstance(x, (list, tuple))


def _short(text: str, limit: int = LONGEST) -> str:
    return text if len(text) <= limit else text[: limit - 3] + "..."


def counted(count: float, noun: str, plural: str = "") -> str:
    """A count and its noun, agreeing: '1 point', '0.5 points', '3 properties' (`plural` where
    neither an s nor a y made ies is enough)."""
    if count == 1:
        return f"{count:g} {noun}"
    if not plural:
        plural = noun[:-1] + "ies" if noun.endswith("y") and noun[-2:-1] not in "aeiou" else noun + "s"
    return f"{count:g} {plural}"


def seconds(x: float) -> str:
    """A time limit as a sentence gives it: three significant digits, never an exponent ("10" for a
    limit of 9.99965 s left of a budget, "1200" for 1,234.5)."""
    return f"{float(f'{x:.3g}'):g}"


def is_number(x: Any) -> bool:
    return isinstance(x, (int, float)) and not isinstance(x, bool)


def number(x: float) -> str:
    """A number as a person reads it: whole numbers and short floats as Python prints them, others
    to four significant digits."""
    if isinstance(x, int) or not math.isfinite(x):
        return repr(x)
    text = repr(x)
    return text if len(text) <= 7 else f"{x:.4g}"


def pair(a: Any, b: Any) -> tuple[str, str]:
    """Two numbers with the fewest digits (three at least) that tell them apart; both printed in full
    when they differ only in the last digits. Two short vectors of one length are shown entry by
    entry so: `[1.000001]` against `[1.00000]`, never `[1]` against `[1.0]`. Two long vectors of
    different lengths whose entries read alike past their sizes ("18 values, from 0 to 26" against 19
    such) are told apart by their sizes alone: "18 values" against "19 values"."""
    if _vector(a) and _vector(b) and len(a) == len(b) and whole(a):
        entries = [pair(x, y) if repr(x) != repr(y) else (number(x), number(y)) for x, y in zip(a, b)]
        return "[" + ", ".join(s for s, _ in entries) + "]", "[" + ", ".join(s for _, s in entries) + "]"
    if _vector(a) and _vector(b) and len(a) != len(b) and not (whole(a) and whole(b)):
        return _sizes(a, b)
    if not (is_number(a) and is_number(b)) or not (math.isfinite(a) and math.isfinite(b)):
        return value(a), value(b)
    if isinstance(a, int) and isinstance(b, int):
        return repr(a), repr(b)
    for digits in range(3, 16):
        shown = _digits(float(a), digits), _digits(float(b), digits)
        if shown[0] != shown[1]:
            return shown
    return repr(float(a)), repr(float(b))


def _sizes(a: Sequence[float], b: Sequence[float]) -> tuple[str, str]:
    """Two vectors of different lengths as `value` shows them, or by their sizes alone where that
    is all that tells them apart."""
    shown = _vector_text(a), _vector_text(b)
    sizes = f"{len(a):,}", f"{len(b):,}"
    rest = [text.removeprefix(size) for text, size in zip(shown, sizes)]
    if rest[0] == rest[1] and rest[0].startswith(" values, "):
        return f"{sizes[0]} values", f"{sizes[1]} values"
    return shown


def tokens(ids: Sequence[int]) -> str:
    """Token ids as the course writes them: '"ab" [BOS, a, b, BOS]' for an encoded name, else '[a, BOS, b]';
    a long document by its size and the names it holds: '10,000 tokens, 1,482 names: "emma", ...'."""
    framed = len(ids) >= 2 and ids[0] == BOS and ids[-1] == BOS
    if len(ids) > LONG_TOKENS:
        if framed:
            bos = _bos_at(ids)
            names = [decode(list(ids[i:j])) for i, j in zip(bos, bos[1:]) if j > i + 1]
            listed = ", ".join(f'"{name}"' for name in names)
            return _short(f"{len(ids):,} tokens, {len(names):,} names: {listed}")
        return _short(f"{len(ids):,} tokens: [" + ", ".join(map(token_name, ids[:LONG_TOKENS])) + ", ...]")
    shown = "[" + ", ".join(map(token_name, ids)) + "]"
    if framed and BOS not in ids[1:-1]:
        return f'"{decode(list(ids))}" {shown}'
    return shown


def _bos_at(ids: Sequence[int]) -> list[int]:
    return [i for i, token in enumerate(ids) if token == BOS]


def differences(returned: Any, expected: Any, by_tokens: bool = False, parts: Mapping[int, str] | None = None) -> str:
    """Where an answer differs from the expected one of the same shape: the entry that differs most,
    with its index, and how many more differ; '' when the shapes differ or nothing does. One entry
    reads in a breath; the count says whether the rest is right. With `by_tokens` (an answer of a call
    given a bigram table), an entry of a bigram table is indexed by its tokens: [a][BOS]. `parts` names
    entries of the answer by their place in it: W[a][BOS] for the W of a step's (loss, W, m, v)."""
    got = dict(_entries(returned, by_tokens=by_tokens, parts=parts))
    want = dict(_entries(expected, by_tokens=by_tokens, parts=parts))
    if not got or got.keys() != want.keys() or len(got) == 1:
        return ""
    differing = [index for index in got if _gap(got[index], want[index]) > 0.0]
    if not differing:
        return ""
    worst = max(differing, key=lambda index: _gap(got[index], want[index]))
    a, e = pair(got[worst], want[worst])
    more = f" (and {len(differing) - 1} more)" if len(differing) > 1 else ""
    return f"{worst}: {a} vs {e}{more}"


def _digits(x: float, digits: int) -> str:
    if x == 0.0:
        return repr(x)
    text = f"{x:#.{digits}g}"
    return text + "0" if text.endswith(".") else text  # 700.0, not "700." nor the integer 700


def _graph(x: Any) -> bool:
    """A graph as gradekit.reference.autograd describes it: nodes that are lists led by an operation."""
    return isinstance(x, list) and bool(x) and all(isinstance(n, list) and n and isinstance(n[0], str) for n in x)


def _token_ids(x: Any) -> bool:
    return isinstance(x, (list, tuple)) and all(type(i) is int and 0 <= i <= BOS for i in x)


def _vector(x: Any) -> bool:
    return isinstance(x, (list, tuple)) and len(x) > 0 and all(map(is_number, x))


def _table(x: Any) -> bool:
    return isinstance(x, (list, tuple)) and len(x) > 0 and all(map(_vector, x)) and len(set(map(len, x))) == 1


def _vector_text(x: Sequence[float]) -> str:
    if len(x) <= SHORT_VECTOR:
        return "[" + ", ".join(number(v) for v in x) + "]"
    return _sized(f"{len(x):,}", " values", [(f"[{i}]", v) for i, v in enumerate(x)])


def bigram(x: Any) -> bool:
    """Whether `x` is a table of the bigram table's shape: the course's vocabulary by itself."""
    return _table(x) and len(x) == len(x[0]) == VOCAB_SIZE


def _bigram_text(rows: Sequence[Sequence[float]]) -> str:
    """A bigram table as what is special about it ("all zeros except [BOS][a] = 1e-05", "values from
    -1.0 to 1.0"): its shape is the course's, and each entry is named by its row's and column's tokens."""
    summary = _summary(list(_bigram_entries(rows)))
    if summary == ZEROS or summary.startswith(f"{ZEROS} except "):
        return "all zeros" + summary.removeprefix(ZEROS)
    return f"values {summary}" if summary.startswith("from ") else summary


def _bigram_entries(rows: Sequence[Sequence[float]]) -> Iterator[tuple[str, float]]:
    """A bigram table's entries, each by its row's and column's tokens: ('[BOS][a]', 1e-05)."""
    for r, row in enumerate(rows):
        for c, v in enumerate(row):
            yield f"[{token_name(r)}][{token_name(c)}]", v


def _table_text(rows: Sequence[Sequence[float]]) -> str:
    if len(rows) * len(rows[0]) <= SHORT_VECTOR:
        return "[" + ", ".join(_vector_text(row) for row in rows) + "]"
    entries = [(f"[{r}][{c}]", v) for r, row in enumerate(rows) for c, v in enumerate(row)]
    return _sized(f"{len(rows)} x {len(rows[0])}", "", entries)


ZEROS = f"all {number(0.0)}"  # how `_summary` says every entry is 0.0


def _sized(size: str, noun: str, entries: list[tuple[str, float]]) -> str:
    """Many numbers as their size and what is special about them: "27 values, all 0.5", and zeros,
    the commonest start of a table or a moment, as such: "27 x 27 zeros except [26][0] = 1e-05"."""
    summary = _summary(entries)
    if summary == ZEROS or summary.startswith(f"{ZEROS} except "):
        return f"{size} zeros{summary.removeprefix(ZEROS)}"
    return f"{size}{noun}, {summary}"


def _summary(entries: list[tuple[str, float]]) -> str:
    """What is special about many numbers: all one value but a few, or the range they span."""
    by_repr = {repr(v): v for _, v in entries}  # repr tells 0.0 from -0.0 and NaN from NaN alike
    common = Counter(repr(v) for _, v in entries).most_common(1)[0][0]
    others = [(index, v) for index, v in entries if repr(v) != common]
    if len(others) <= EXCEPTIONS:
        exceptions = ", ".join(f"{index} = {number(v)}" for index, v in others)
        return f"all {number(by_repr[common])}" + (f" except {exceptions}" if exceptions else "")
    finite = [v for _, v in entries if math.isfinite(v)]
    if not finite:
        return "none finite"
    low, high = min(finite), max(finite)
    odd = len(entries) - len(finite)
    return f"from {number(low)} to {number(high)}" + (f", {odd} not finite" if odd else "")


def _entries(
    x: Any, index: str = "", by_tokens: bool = False, parts: Mapping[int, str] | None = None
) -> Iterator[tuple[str, float]]:
    """Every number in a (nested) list, by its index as Python writes it: ('[2][0]', 0.5); with
    `by_tokens`, an entry of a bigram table by its tokens: ('[1][BOS][a]', 0.5); an entry of the
    list itself that `parts` names, by that name: ('W[BOS][a]', 0.5). Whole numbers stay whole, so
    token ids read 13 against 12, not 13.0 against 12.0."""
    if is_number(x):
        yield index, x
    elif by_tokens and bigram(x):
        for entry, v in _bigram_entries(x):
            yield index + entry, float(v)
    elif isinstance(x, (list, tuple)):
        for i, v in enumerate(x):
            yield from _entries(v, (parts or {}).get(i, f"{index}[{i}]"), by_tokens)


def _gap(a: float, e: float) -> float:
    if a == e or (math.isnan(a) and math.isnan(e)):
        return 0.0
    gap = abs(a - e)
    return math.inf if math.isnan(gap) else gap
