"""Writes into what staff read: every text a report takes from a submission holds a live form.

What it prints at import and in each call, the value it returns, the message of what it raises, all
carry terminal escapes (an OSC 52 clipboard write, an OSC 8 link, a cleared screen, a C1 CSI, a
right-to-left override), GitHub workflow commands at the start of a line (::add-mask::,
::stop-commands::, a forged ::error), Markdown images, links and HTML, the end of a CDATA section, a
NUL, a spreadsheet formula, and NaN and infinities where numbers are read. Contained: every report
and class file shows all of it as inert text, and strict JSON readers read the JSON ones.
"""

LIVE = (
    "\x1b]52;c;aGVsbG8=\x07 \x1b]8;;http://evil/\x1b\\click\x1b]8;;\x1b\\ \x1b[2J \x9b2J safe\u202etxt.exe "
    "![x](http://evil/) <img src=x onerror=alert(1)> [link](http://x) ]]> \x00"
)
LINES = '\n::add-mask::x\n::stop-commands::t\n::error::forged\n=HYPERLINK("http://evil/","click")\n'

print(LIVE + LINES)


def softmax(logits):
    print(LIVE + LINES)
    return [float("nan")] * len(logits)


def cross_entropy_loss(logits, true_id):
    return LIVE + LINES


def sequence_loss(logits_list, true_ids):
    raise ValueError(LIVE + LINES)


def perplexity(loss):
    return float("inf")


def softmax_cross_entropy_grad(logits, true_id):
    return [float("-inf")] * len(logits)
