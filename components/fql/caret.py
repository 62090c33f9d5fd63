"""Where a trigger goes wrong: the column, a caret under the offending token, and the
``conditions`` form that says the same.

The strict reader (:mod:`~components.fql.reader`) raises :class:`TriggerError` with the span of
the token it stopped at; the config check shows it as

    …trigger: trigger 'type = "track" and evnt = "x"', column 20: unsupported field 'evnt' …
          type = "track" and evnt = "x"
                             ^^^^

Columns count characters of the trigger as printed (control characters shown escaped), from 1.
The caret block travels inside the one problem text after :data:`CARET_BREAK` marks, so a
problem stays one item; :func:`lay_out` turns the marks into indented lines after every part has
been escaped on its own.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from typing import Any

from components.config.engine_yaml import dump_engine_yaml
from components.fql.js import from_utf16_units, utf16_units
from components.fql.lexer import Lexer, LexerError, Token
from components.fql.vocabulary import ConditionError
from components.guards.escaping import escape_terminal

CARET_BREAK = "\u2028"
"""Separates a problem from its caret block (a line separator: never printed as is)."""
CARET_INDENT = "      "
_CARET_LINE = re.compile(r"^ *\^+$")


class TriggerError(ConditionError):
    """A trigger the reader stopped at, with the offending token's span (code points)."""

    def __init__(self, message: str, fql: str, start: int, end: int) -> None:
        self.fql = fql
        self.start = start
        self.end = max(end, start)
        super().__init__(f"trigger {fql!r}, column {self.column}: {message}")

    @property
    def column(self) -> int:
        """1-based column of the token in the trigger as printed."""
        return len(escape_terminal(self.fql[: self.start])) + 1

    def caret_block(self) -> list[str]:
        """The trigger as printed and a caret line under the offending token."""
        shown = escape_terminal(self.fql)
        width = max(1, len(escape_terminal(self.fql[self.start : self.end])))
        return [shown, " " * (self.column - 1) + "^" * width]


def token_spans(fql: str, tokens: list[Token]) -> list[tuple[int, int]]:
    """(start, end) in code points of each fql-ts token of ``fql`` (the end of text for eos).

    The lexer keeps no positions; each token's text is its source text, found in order after
    the whitespace the lexer skips."""
    units = utf16_units(fql)
    spans: list[tuple[int, int]] = []
    offset = 0
    for kind, value in tokens:
        while offset < len(units) and units[offset] in (" ", "\t", "\n"):
            offset += 1
        length = 0 if kind == "eos" else len(utf16_units(value))
        start, end = _code_points(units, offset), _code_points(units, offset + length)
        spans.append((start, end))
        offset += length
    return spans


def lexer_error_at(fql: str) -> tuple[int, int] | None:
    """Where the fql-ts lexer stops on ``fql`` (the character it cannot read), if it does."""
    lexer = Lexer(fql)
    try:
        lexer.lex()
    except LexerError as exc:
        units = lexer.code
        # The lexer has consumed the character it names as invalid (or the second decimal
        # point); otherwise it stopped just before the one it expected something else at.
        consumed = str(exc).startswith(("invalid character", "multiple decimal points"))
        at = max(0, min(lexer.position - (1 if consumed else 0), len(units)))
        return _code_points(units, at), _code_points(units, min(at + 1, len(units)))
    return None


def _code_points(units: list[str], count: int) -> int:
    return len(from_utf16_units("".join(units[:count])))


def with_caret(problem: str, error: ConditionError) -> str:
    """``problem`` followed by the caret block of ``error`` when it has one."""
    if not isinstance(error, TriggerError):
        return problem
    return CARET_BREAK.join([problem, *error.caret_block()])


def escape_parts(problem: str) -> str:
    """``problem`` escaped for a terminal part by part, its caret marks kept (for lists of
    problems that are laid out later, by :func:`lay_out`)."""
    parts = problem.split(CARET_BREAK)
    if len(parts) != 3 or not _CARET_LINE.match(parts[2]):
        return escape_terminal(problem)
    return CARET_BREAK.join(escape_terminal(part) for part in parts)


def lay_out(problem: str, escape: Callable[[str], str] = escape_terminal) -> str:
    """``problem`` escaped for a terminal, its caret block (if any) on indented lines below.

    Only a block of exactly the trigger and a caret line counts: text that merely contains
    the mark is escaped like everything else."""
    parts = problem.split(CARET_BREAK)
    if len(parts) != 3 or not _CARET_LINE.match(parts[2]):
        return escape(problem)
    head, shown, carets = parts
    return f"{escape(head)}\n{CARET_INDENT}{escape(shown)}\n{CARET_INDENT}{carets}"


def without_caret(problem: str) -> str:
    """``problem`` without its caret block (for one-line media: Markdown cells, JSON)."""
    parts = problem.split(CARET_BREAK)
    return parts[0] if len(parts) == 3 and _CARET_LINE.match(parts[2]) else problem


def conditions_text(conditions: Any) -> str:
    """The ``conditions`` YAML form on one line, as it can be pasted into a stack file."""
    # The engine's quoting, so a pasted value reads back as the same string (not 0o17 -> 15).
    flow = dump_engine_yaml(conditions, default_flow_style=True, width=math.inf, sort_keys=False)
    return f"conditions: {flow.strip()}"
