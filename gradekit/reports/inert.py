"""Text a student controls, made inert for each kind of output staff and students read: one routine per kind.

A student writes much of what a report shows: the file's name (and, in a class, the student's name),
what the code printed, its exceptions, the values it returned, a roster's cells. Each output kind has
its own live forms, and each routine here leaves none of them:

- CSV (`csv_cell`, `csv_text`): console text (below); a spreadsheet reads a cell starting = + - @, a
  tab, CR or LF (or their full-width forms, which some spreadsheets fold) as a formula, so such a cell
  is written with a leading quote, as a spreadsheet writes text. A plain number ("-2", "1.5e3") is no
  formula and stays as it is.
- Terminal text (`terminal`, `console`): control characters (C0 but tab and newline, DEL, C1), the
  bidirectional overrides and isolates, line and paragraph separators and lone surrogates are shown as
  their visible escape (`\\x1b`, `\\u202e`), so no escape sequence reaches a terminal (no clipboard write,
  link, cleared screen, or text that reads backwards). `console` is text a CI job prints too: no line
  of it opens a GitHub workflow command (`::add-mask::`, `::stop-commands::`, `##[...]`).
- GitHub workflow commands (`github_data`, `github_property`): escaped as GitHub's toolkit escapes them.
- Markdown (`markdown_text`, `markdown_code`, `markdown_block`): inline text has what would start markup
  escaped (a ']' that would end a link's text, an '&' that would start an entity), so no image,
  link, HTML, entity or heading survives; text between a pair of backticks is
  shown as a code span (as its writer meant it) that nothing inside it can close; a block is console
  text, fenced longer than any run of backticks in it.
- XML (`xml_text`): console text, then no character XML 1.0 cannot hold; ElementTree escapes the
  markup characters in text and attributes.
- JSON (`json_text`, `finite`, `restored`): strict JSON, which every reader parses: a float that is not
  finite is written as the string "NaN", "Infinity" or "-Infinity" (`NON_FINITE`), and `restored` reads
  those strings back as floats where a value was written.
"""

from __future__ import annotations

import csv
import io
import json
import math
import re
from collections.abc import Iterable
from typing import Any

__all__ = [
    "FORMULA",
    "NON_FINITE",
    "console",
    "csv_cell",
    "csv_text",
    "finite",
    "github_data",
    "github_property",
    "json_text",
    "markdown_block",
    "markdown_code",
    "markdown_text",
    "restored",
    "terminal",
    "xml_text",
]

# CSV ---------------------------------------------------------------------------------------------------

FORMULA = frozenset("=+-@\t\r\n\uff1d\uff0b\uff0d\uff20")  # what starts a formula (full-width = + - @ too)
_NUMBER = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?")


def csv_cell(text: str) -> str:
    """One CSV cell a spreadsheet shows as the text it is: `console` text (a CSV file is printed too), and
    a leading quote where the cell (after any spaces) would start a formula, but for a plain number."""
    text = console(text)
    first = text.lstrip(" ")[:1]
    if first in FORMULA and not _NUMBER.fullmatch(text.strip()):
        return "'" + text
    return text


def csv_text(rows: Iterable[Iterable[object]]) -> str:
    """Rows as CSV, every cell through `csv_cell` (numbers and None as their text, None as empty)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerows([csv_cell("" if cell is None else str(cell)) for cell in row] for row in rows)
    return buffer.getvalue()


# Terminal text -----------------------------------------------------------------------------------------

_BIDI = "\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069"  # marks, embeddings, overrides and isolates
_UNSHOWN = re.compile(f"[\x00-\x08\x0b-\x1f\x7f-\x9f{_BIDI}\u2028\u2029\ud800-\udfff]")
_UNSHOWN_LINE = re.compile(f"[\x00-\x1f\x7f-\x9f{_BIDI}\u2028\u2029\ud800-\udfff]")


def terminal(text: str, one_line: bool = False) -> str:
    """`text` with every character a terminal would act on, or that would make it read otherwise than
    it is, shown as its escape: "\\x1b]52;c;...", "\\u202e". Tab and newline stay, but in `one_line`."""
    unshown = _UNSHOWN_LINE if one_line else _UNSHOWN
    return unshown.sub(_escaped, text)


def _escaped(match: re.Match[str]) -> str:
    code = ord(match.group())
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


# A line GitHub's runner reads as a workflow command: "::" after any leading white space (the runner
# trims it), or "##[" anywhere (the older form). The white space is the line's own: a run that could
# span lines would be read again from every line of a run of blank lines.
_COMMAND_START = re.compile(r"^([^\S\n]*):(?=:)", re.MULTILINE)
_OLD_COMMAND = re.compile(r"##\[")


def console(text: str) -> str:
    """`text` as a terminal or a CI job's log may show it: `terminal`'s escapes, and no line that GitHub
    would run as a workflow command (the first ':' of a leading '::' and the '[' of '##[' escaped)."""
    return _commandless(terminal(text))


def _commandless(text: str) -> str:
    return _OLD_COMMAND.sub(r"##\\[", _COMMAND_START.sub(r"\1\\:", text))


# GitHub workflow commands ------------------------------------------------------------------------------


def github_data(text: str) -> str:
    """A workflow command's message, as GitHub's toolkit escapes it: % CR LF as %25 %0D %0A."""
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def github_property(text: str) -> str:
    """A workflow command's property value (file, title): the message's escapes, and : , as %3A %2C."""
    return github_data(text).replace(":", "%3A").replace(",", "%2C")


# Markdown ----------------------------------------------------------------------------------------------

_MARKUP = re.compile(r"([\\`*<>|~$]|\](?=[(\[:])|&(?=#?\w+;))")  # markup, HTML, a link's end, an entity
_LONE_UNDERSCORE = re.compile(r"(?<!\w)_|_(?!\w)")  # emphasis; snake_case stays as written
_BLOCK_START = re.compile(r"^(\s*)(#|[+-](?=\s)|\d+(?=[.)]))")  # a heading or list where a line starts
_LINKISH = re.compile(r"(?<=\w):(?=//)|(?<=\bwww)\.|(?<=\w)@(?=\w)")  # what GFM links bare
_CODE_SPAN = re.compile(r"(?<!`)(`+)(?!`)(.+?)(?<!`)\1(?!`)", re.DOTALL)


def markdown_text(text: str, table: bool = False) -> str:
    """Plain text inside Markdown, on one line (line breaks as spaces), kept readable: what would start
    markup is escaped, and text its writer put between backticks is a code span (`markdown_code`); no
    workflow command starts (`console`), as a report may be printed in a CI job. In a `table` cell, a
    '|' in a code span is escaped too, as GFM tables ask."""
    flat = _one_line(text)
    out, at = [], 0
    for span in _CODE_SPAN.finditer(flat):
        out += [_escaped_markup(flat[at : span.start()]), markdown_code(span.group(2), table)]
        at = span.end()
    out.append(_escaped_markup(flat[at:]))
    return _commandless(_BLOCK_START.sub(_block_escaped, "".join(out), count=1))


def _block_escaped(match: re.Match[str]) -> str:
    """A line's start that would open a block, escaped: "\\#", "\\-", "1\\."."""
    space, start = match.group(1), match.group(2)
    return f"{space}{start}\\" if start[0].isdigit() else f"{space}\\{start}"


def _escaped_markup(text: str) -> str:
    escaped = _LONE_UNDERSCORE.sub(r"\\_", _MARKUP.sub(r"\\\1", text))
    return _LINKISH.sub(lambda m: "\\" + m.group(), escaped)


def markdown_code(text: str, table: bool = False) -> str:
    """`text` as an inline code span no backtick inside can close (its fence is longer than any run in
    it), on one line; in a `table` cell, '|' escaped as GFM tables ask."""
    flat = _one_line(text) or " "
    if table:
        flat = flat.replace("|", "\\|")
    fence = "`" * (max((len(run) for run in re.findall(r"`+", flat)), default=0) + 1)
    padded = f" {flat} " if flat[0] == "`" or flat[-1] == "`" else flat
    return f"{fence}{padded}{fence}"


def _one_line(text: str) -> str:
    """`text` on one line, as Markdown would run its lines together: line breaks and tabs as spaces."""
    return terminal(re.sub(r"\r?\n|\t", " ", text), one_line=True)


def markdown_block(text: str) -> list[str]:
    """A fenced code block of `text` as `console` text (a report may be printed in a CI job) that no
    run of backticks can close early."""
    shown = console(text)
    longest = max((len(run) for run in re.findall(r"`+", shown)), default=0)
    fence = "`" * max(3, longest + 1)
    return [fence + "text", shown, fence]


# XML ---------------------------------------------------------------------------------------------------

# The characters XML 1.0 cannot hold: every one outside its Char production (tab, line feed, carriage
# return, U+0020-U+D7FF, U+E000-U+FFFD, U+10000-U+10FFFF), listed as the few they are: the complement
# of those ranges is a set of a million characters that the regular expression compiler would build
# at every start of every command, most of which never write XML.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def xml_text(text: str) -> str:
    """Text or an attribute's value for XML 1.0: `console` text, then any character XML 1.0 cannot hold
    removed. The markup characters (< & > and quotes) are ElementTree's to escape."""
    return _NOT_XML.sub("", console(text))


# JSON --------------------------------------------------------------------------------------------------

NON_FINITE = {"NaN": math.nan, "Infinity": math.inf, "-Infinity": -math.inf}


def json_text(data: Any, indent: int | None = 2) -> str:
    """`data` as strict JSON text, ending in a newline: every float that is not finite as its name in
    NON_FINITE, so no NaN or Infinity literal reaches a reader that refuses them."""
    try:
        text = json.dumps(data, indent=indent, allow_nan=False)
    except ValueError:
        text = json.dumps(finite(data), indent=indent, allow_nan=False)
    return text + "\n"


def finite(value: Any) -> Any:
    """`value` with every float that is not finite, however deep in lists, tuples and dicts, as its
    name in NON_FINITE."""
    if isinstance(value, float):
        if math.isfinite(value):
            return value
        return "NaN" if math.isnan(value) else ("Infinity" if value > 0 else "-Infinity")
    if isinstance(value, dict):
        return {key: finite(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [finite(item) for item in value]
    return value


def restored(value: Any) -> Any:
    """What `finite` made of a value, read back: the names in NON_FINITE, however deep, as floats."""
    if isinstance(value, str):
        return NON_FINITE.get(value, value)
    if isinstance(value, dict):
        return {key: restored(item) for key, item in value.items()}
    if isinstance(value, list):
        return [restored(item) for item in value]
    return value
