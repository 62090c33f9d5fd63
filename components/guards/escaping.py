"""One escaping function per output medium, for every string we did not write ourselves.

Stack files, events and server answers are untrusted text: a display name, an event property
or an error message can carry terminal escape sequences (``ESC[2J``, OSC 8 links), Unicode
direction overrides that reorder what a reviewer reads ("Trojan Source"), line breaks that
forge extra output lines, or raw HTML and Markdown that restyle a pull-request comment. Each
medium gets exactly one function, and the renderers use nothing else:

- terminals: ``escape_terminal`` (plain text on stdout/stderr);
- Markdown (PR comments): ``escape_markdown`` for text, table cells and HTML elements, plus
  ``markdown_code`` / ``markdown_fence`` when the text is shown as code;
- JSON: ``escape_json`` (ASCII only, so no control or direction character survives even when
  the JSON is printed on a terminal; no ``NaN``/``Infinity``, which JSON cannot carry).

Invisible characters are shown as ``\\xNN``/``\\uNNNN``/``\\UNNNNNNNN``, so the reader sees that
they are there. What counts as invisible is decided by Unicode properties (``is_invisible``), not
by a hand list: controls (Cc), format characters (Cf: bidi controls, zero-width characters,
tags), private use (Co), lone surrogates (Cs), line/paragraph separators, and every
Default_Ignorable_Code_Point (fillers, variation selectors, ...).
"""

from __future__ import annotations

import functools
import json
import re
import unicodedata
from typing import Any

# Default_Ignorable_Code_Point, from Unicode's DerivedCoreProperties.txt (Unicode 15.1; the
# ranges include the reserved code points the standard already marks default-ignorable, so new
# characters assigned there are covered). Python's ``unicodedata`` does not expose this
# property, so its ranges are data here: soft hyphen, combining grapheme joiner,
# Arabic letter mark, Hangul fillers, Khmer inherent vowels, Mongolian variation selectors,
# zero-width characters and joiners, bidi embeddings/overrides/isolates, invisible operators,
# variation selectors, the BOM, the halfwidth Hangul filler, shorthand format controls, musical
# beam controls, and the tag characters with the rest of plane 14's default-ignorable block.
DEFAULT_IGNORABLE: tuple[tuple[int, int], ...] = (
    (0x00AD, 0x00AD),
    (0x034F, 0x034F),
    (0x061C, 0x061C),
    (0x115F, 0x1160),
    (0x17B4, 0x17B5),
    (0x180B, 0x180F),
    (0x200B, 0x200F),
    (0x202A, 0x202E),
    (0x2060, 0x206F),
    (0x3164, 0x3164),
    (0xFE00, 0xFE0F),
    (0xFEFF, 0xFEFF),
    (0xFFA0, 0xFFA0),
    (0xFFF0, 0xFFF8),
    (0x1BCA0, 0x1BCA3),
    (0x1D173, 0x1D17A),
    (0xE0000, 0xE0FFF),
)

_INVISIBLE_CATEGORIES = frozenset({"Cc", "Cf", "Co", "Cs", "Zl", "Zp"})
"""Controls, format characters (bidi controls among them), private use, lone surrogates and
the line/paragraph separators: none of them shows as what it is."""

_EXTRA_INVISIBLE = frozenset({0x2800, 0xFFFC})
"""Blank-looking characters outside those classes: the braille blank (a common "filler" in
look-alike names) and the object replacement character."""


@functools.lru_cache(maxsize=4096)
def is_invisible(char: str) -> bool:
    """Whether ``char`` is shown escaped: decided by Unicode properties, not by a hand list."""
    code = ord(char)
    return (
        unicodedata.category(char) in _INVISIBLE_CATEGORIES
        or code in _EXTRA_INVISIBLE
        or any(start <= code <= end for start, end in DEFAULT_IGNORABLE)
    )


# Visible ASCII is never invisible; only the other characters are looked up, so a long report
# costs one regex scan plus one property lookup per non-ASCII or control character.
_CANDIDATE = re.compile("[^\x20-\x7e]")
_CANDIDATE_KEEP_LINES = re.compile("[^\x20-\x7e\n]")


def _shown(match: re.Match[str]) -> str:
    char = match.group()
    if not is_invisible(char):
        return char
    code = ord(char)
    if char == "\n":
        return "\\n"
    if char == "\r":
        return "\\r"
    if char == "\t":
        return "\\t"
    if code <= 0xFF:
        return f"\\x{code:02x}"
    return f"\\u{code:04x}" if code <= 0xFFFF else f"\\U{code:08x}"


def escape_terminal(text: str, *, keep_newlines: bool = False) -> str:
    """``text`` safe to print on a terminal: every control or layout character made visible.

    A value (a name, a URL, a server message) is escaped whole, so an embedded line break
    cannot forge an output line; ``keep_newlines`` is for text we laid out in lines ourselves
    (a rendered report), where only the other characters are escaped.
    """
    pattern = _CANDIDATE_KEEP_LINES if keep_newlines else _CANDIDATE
    return pattern.sub(_shown, str(text))


# Characters with a meaning in CommonMark/GFM inline text or in tables, anywhere in a line;
# and those that start a block (list, heading, quote, numbered list) only at its start.
_MARKDOWN_SPECIAL = re.compile(r"([\\`*_{}\[\]()!|~])")
_MARKDOWN_BLOCK_START = re.compile(r"^(\s*)(?:([-+#=])|(\d+)([.)]))")
_HTML = {"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;"}


def escape_markdown(text: str) -> str:
    """``text`` shown literally in Markdown prose, a table cell or an HTML element.

    HTML is entity-escaped (no raw tag, comment or autolink survives), Markdown punctuation is
    backslash-escaped (no emphasis, link, heading, list or table pipe), and line breaks and
    other invisible characters are shown escaped, so one value stays on one line.
    """
    visible = escape_terminal(str(text))
    marked = _MARKDOWN_SPECIAL.sub(r"\\\1", visible)
    marked = _MARKDOWN_BLOCK_START.sub(_escape_block_start, marked)
    # Entities last, for <, >, &, quotes (a backslash before an entity would show it raw).
    return "".join(_HTML.get(char, char) for char in marked)


def _escape_block_start(match: re.Match[str]) -> str:
    indent, marker, number, dot = match.groups()
    if marker is not None:  # "- x", "+ x", "# x", "=" (setext underline)
        return f"{indent}\\{marker}"
    return f"{indent}{number}\\{dot}"  # "1." / "1)" would start an ordered list


def markdown_code(text: str) -> str:
    """``text`` as one inline code span, safe in a table cell.

    Inside a code span Markdown and HTML are inert, so only the span itself must hold: the
    fence is one backtick longer than any run inside, a pipe is escaped for GFM tables (the
    table parser splits cells before code spans), and invisible characters are shown escaped.
    """
    visible = escape_terminal(str(text)).replace("|", "\\|")
    longest = max((len(run) for run in re.findall(r"`+", visible)), default=0)
    fence = "`" * (longest + 1)
    pad = " " if visible.startswith("`") or visible.endswith("`") or not visible else ""
    return f"{fence}{pad}{visible}{pad}{fence}"


def markdown_fence(text: str, info: str = "") -> str:
    """``text`` as a fenced code block whose fence no line of ``text`` can close."""
    visible = escape_terminal(str(text), keep_newlines=True)
    longest = max((len(run) for run in re.findall(r"`{3,}", visible)), default=2)
    fence = "`" * (longest + 1)
    return f"{fence}{info}\n{visible}\n{fence}"


def escape_json(value: Any, *, indent: int | None = None, sort_keys: bool = True) -> str:
    """``value`` as JSON text that is ASCII only (non-ASCII as ``\\u`` escapes).

    Raises ``ValueError`` for ``NaN``/``Infinity``: JSON cannot carry them, and Segment's
    JSON parser refuses them.
    """
    return json.dumps(value, indent=indent, sort_keys=sort_keys, ensure_ascii=True, allow_nan=False)
