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

Invisible characters are shown as ``\\xNN``/``\\uNNNN``, so the reader sees that they are there.
"""

from __future__ import annotations

import json
import re
from typing import Any

# C0 controls, DEL, C1 controls, and the Unicode format characters that change how text is
# laid out or read without being visible: bidi embeddings/overrides/isolates, zero-width
# characters, the line/paragraph separators and the BOM.
_INVISIBLE = re.compile(
    "[\x00-\x1f\x7f-\x9f\u061c\u200b-\u200f\u2028-\u202e\u2060-\u2069\ufeff\ufff9-\ufffb]"
)
_INVISIBLE_KEEP_LINES = re.compile(
    "[\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200b-\u200f\u2028-\u202e\u2060-\u2069\ufeff\ufff9-\ufffb]"
)


def _shown(match: re.Match[str]) -> str:
    char = match.group()
    code = ord(char)
    if char == "\n":
        return "\\n"
    if char == "\r":
        return "\\r"
    if char == "\t":
        return "\\t"
    return f"\\x{code:02x}" if code <= 0xFF else f"\\u{code:04x}"


def escape_terminal(text: str, *, keep_newlines: bool = False) -> str:
    """``text`` safe to print on a terminal: every control or layout character made visible.

    A value (a name, a URL, a server message) is escaped whole, so an embedded line break
    cannot forge an output line; ``keep_newlines`` is for text we laid out in lines ourselves
    (a rendered report), where only the other characters are escaped.
    """
    pattern = _INVISIBLE_KEEP_LINES if keep_newlines else _INVISIBLE
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
