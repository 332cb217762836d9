"""gradekit.reports.inert: each output kind's routine leaves no live form of what a student wrote."""

from __future__ import annotations

import csv
import io
import json
import math
import re
import time

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gradekit.reports import inert

FORMULAS = ['=HYPERLINK("http://evil/","x")', "+cmd|' /C calc'!A0", "-1+2", "@SUM(A1)", "\t=1", "\r=1", " =1"]
FORMULAS += ["\uff1d1+1"]  # a full-width '=', which some spreadsheets fold to '='
ESCAPES = ["\x1b]52;c;aGVsbG8=\x07", "\x1b]8;;http://evil/\x1b\\link\x1b]8;;\x1b\\", "\x1b[2J", "\x9b2J", "\x00"]
BIDI = ["a\u202eb", "a\u2066b\u2069", "a\u200fb"]
# What a terminal acts on: ESC, CSI, BEL, NUL, CR, the bidi controls, a lone surrogate.
LIVE_IN_TERMINAL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069\ud800-\udfff]")


@pytest.mark.parametrize("payload", FORMULAS)
def test_a_csv_cell_never_starts_a_formula(payload):
    cell = inert.csv_cell(payload)
    assert cell[:1] in ("'", "\\")  # quoted as text, or a control character shown as its escape
    assert cell.removeprefix("'") == inert.terminal(payload)
    (row,) = csv.reader(io.StringIO(inert.csv_text([[payload, 3]])))
    assert row[0] == cell and row[1] == "3"


@pytest.mark.parametrize("honest", ["-2", "1.5", "+3", "-1e-06", "alice", "O'Brien", "a=b", "", "x-y"])
def test_a_csv_cell_of_honest_text_or_a_number_is_as_written(honest):
    assert inert.csv_cell(honest) == honest


@pytest.mark.parametrize("payload", ESCAPES + BIDI + ["\udcff", "\u2028", "\x85"])
def test_terminal_text_shows_control_characters_as_their_escapes(payload):
    shown = inert.terminal(payload)
    assert not LIVE_IN_TERMINAL.search(shown)
    assert "\\x" in shown or "\\u" in shown


def test_terminal_text_keeps_lines_and_tabs_but_on_one_line():
    assert inert.terminal("a\tb\nc") == "a\tb\nc"
    assert inert.terminal("a\tb\nc\rd", one_line=True) == "a\\x09b\\x0ac\\x0dd"


@pytest.mark.parametrize(
    "payload",
    ["::add-mask::x", "  ::stop-commands::t", "ok\n::error::forged", "ok\r::error::forged", "\u3000::warning::x"],
)
def test_console_text_opens_no_workflow_command(payload):
    for line in inert.console(payload).split("\n"):
        assert not line.lstrip().startswith("::"), line


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=" \t\r\n\u3000\u2028\x0b\x85:x#[", max_size=40))
def test_console_text_opens_no_workflow_command_whatever_white_space_leads_it(text):
    for line in inert.console(text).split("\n"):
        assert not line.lstrip().startswith("::"), line


# Student text as long as a worker's reply may carry, shaped for a pattern that could read it again from
# every line: blank lines, or spaces and line breaks, with no command after them (and one after them).
LONG_RUNS = {
    "blank lines": "\n" * 131072 + "x",
    "spaces and breaks": " \n" * 65536 + "x",
    "then a command": "\n" * 131072 + "::x",
}
SANITY_SECONDS = 60.0  # a bound on a runaway, not a speed target


@pytest.mark.parametrize("payload", LONG_RUNS.values(), ids=LONG_RUNS)
def test_every_writer_reads_a_long_run_of_blank_lines_once(payload):
    started = time.monotonic()
    written = [write(payload) for write in (inert.csv_cell, inert.console, inert.xml_text, inert.markdown_text)]
    assert time.monotonic() - started < SANITY_SECONDS
    assert all(not line.lstrip().startswith("::") for text in written for line in text.split("\n"))


def test_console_text_opens_no_workflow_command_of_the_older_form():
    assert "##[" not in inert.console("x ##[add-mask]secret")


def test_console_text_of_honest_text_is_as_written():
    honest = "call: f([0.0, -27.0], 1)\nyou returned: 27.6\n  a: b :: c"
    assert inert.console(honest) == honest


def test_github_escaping_follows_the_toolkit():
    assert inert.github_data("100%\r\nnext: a, b") == "100%25%0D%0Anext: a, b"
    assert inert.github_property("100%\r\nnext: a, b") == "100%25%0D%0Anext%3A a%2C b"


MARKDOWN = ["![x](http://evil/)", "<img src=x onerror=alert(1)>", "[link](http://x)", "<http://x>", "&#8238;"]
MARKDOWN += ["[a]: http://x", "# forged heading", "- forged item", "www.evil.org", "me@evil.org", "**bold**"]


# An opening of markup left unescaped: a link, an image, HTML, an entity, emphasis, a heading, a list
# item, or what GFM links bare (a URL, www., an e-mail address).
UNESCAPED = re.compile(r"(?<!\\)(\](?=[(\[:])|[<>*]|&(?=#?\w+;)|://)|^#|^- |www\.|\w@")


@pytest.mark.parametrize("payload", MARKDOWN + ESCAPES + BIDI)
def test_markdown_text_leaves_no_markup(payload):
    shown = inert.markdown_text(payload)
    assert not UNESCAPED.search(shown) and not LIVE_IN_TERMINAL.search(shown), shown


def test_markdown_text_keeps_a_code_span_its_writer_meant_and_escapes_a_lone_backtick():
    assert inert.markdown_text("use `logits[t]` here") == "use `logits[t]` here"
    assert inert.markdown_text("a ` b") == "a \\` b"
    assert inert.markdown_text("loss = logsumexp(z) - z[t], a & b") == "loss = logsumexp(z) - z[t], a & b"
    assert inert.markdown_text("snake_case stays, _this_ does not") == "snake_case stays, \\_this\\_ does not"


@pytest.mark.parametrize("payload", ["a`b", "`x", "x`", "``` <img src=x>", "a|b"])
def test_a_markdown_code_span_cannot_be_closed_from_inside(payload):
    span = inert.markdown_code(payload, table=True)
    fence = re.match(r"`+", span).group()
    inner = span[len(fence) : -len(fence)]
    assert span.endswith(fence) and all(len(run) < len(fence) for run in re.findall(r"`+", inner))
    assert "|" not in inner.replace("\\|", "")


def test_a_markdown_block_cannot_be_closed_early():
    fence, body, close = inert.markdown_block("````\n\x1b[2J")
    assert fence == "`````text" and close == "`````" and "\x1b" not in body


def test_xml_text_holds_only_what_xml_can_hold():
    assert inert.xml_text("a\x00b\x1b[2J\ufffe]]>") == "a\\x00b\\x1b[2J]]>"


def test_xml_text_removes_every_character_outside_xmls_char_production_and_no_other():
    """XML 1.0's Char: tab, line feed, carriage return, U+0020-U+D7FF, U+E000-U+FFFD, U+10000-U+10FFFF.
    Every code point is tried, so the short list the pattern names is that production's complement."""
    allowed = [(0x9, 0x9), (0xA, 0xA), (0xD, 0xD), (0x20, 0xD7FF), (0xE000, 0xFFFD), (0x10000, 0x10FFFF)]
    every = range(0x110000)
    removed = set(every) - set(map(ord, inert._NOT_XML.sub("", "".join(map(chr, every)))))
    outside = {c for c in every if not any(low <= c <= high for low, high in allowed)}
    assert removed == outside


def test_json_text_is_strict_and_reads_back():
    data = {"returned": [math.nan, math.inf, -math.inf, 1.5], "name": "x"}
    text = inert.json_text(data)
    assert "NaN" not in text.replace('"NaN"', "") and "Infinity" not in text.replace('"Infinity"', "").replace(
        '"-Infinity"', ""
    )
    read = json.loads(text, parse_constant=lambda name: pytest.fail(f"{name} written as a literal"))
    assert read["returned"][:3] == ["NaN", "Infinity", "-Infinity"]
    back = inert.restored(read)
    assert math.isnan(back["returned"][0]) and back["returned"][1:] == [math.inf, -math.inf, 1.5]


def test_json_text_of_finite_data_is_json_dumps():
    data = {"a": [1, 2.5, "NaN"], "b": None}
    assert inert.json_text(data) == json.dumps(data, indent=2) + "\n"
