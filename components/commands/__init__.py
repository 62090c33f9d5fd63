"""Sub-commands of ``python -m components``, one module each."""

from __future__ import annotations

from typing import TextIO

from components.guards.escaping import escape_terminal
from components.guards.redaction import redact_text


class TerminalOutput:
    """A text stream that escapes and redacts everything written to it.

    Commands print what stack files, events and servers hold; through this stream it reaches
    the terminal via ``escape_terminal`` (no escape sequences or control characters) and
    ``redact_text`` (no credential typed into a URL or a value).
    """

    def __init__(self, stream: TextIO) -> None:
        self._stream = stream

    def write(self, text: str) -> int:
        return self._stream.write(escape_terminal(redact_text(text), keep_newlines=True))

    def flush(self) -> None:
        self._stream.flush()
