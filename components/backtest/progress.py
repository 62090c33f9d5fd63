"""The progress bar of a long backtest: on a terminal only, with throughput; silent otherwise
(CI logs and redirected output stay clean)."""

from __future__ import annotations

import sys
import time
from typing import Final, TextIO

_WIDTH: Final = 24
_EVERY_SECONDS: Final = 0.25


class Progress:
    """Files and events done, throughput, and a bar by bytes of the files finished."""

    def __init__(self, files: int, total_bytes: int, stream: TextIO | None) -> None:
        self.files = files
        self.total_bytes = max(total_bytes, 1)
        self.stream = stream
        self.done_files = 0
        self.done_bytes = 0
        self.count = 0
        self.start = time.monotonic()
        self.last = 0.0

    @classmethod
    def for_stderr(cls, files: int, total_bytes: int) -> Progress:
        """Shown only when stderr is a terminal."""
        return cls(files, total_bytes, sys.stderr if sys.stderr.isatty() else None)

    def events(self, count: int) -> None:
        self.count = count
        self._draw(force=False)

    def file_done(self, size: int, count: int) -> None:
        self.done_files += 1
        self.done_bytes += size
        self.count = count
        self._draw(force=True)

    def line(self) -> str:
        elapsed = max(time.monotonic() - self.start, 1e-9)
        share = min(self.done_bytes / self.total_bytes, 1.0)
        filled = round(share * _WIDTH)
        bar = "#" * filled + "-" * (_WIDTH - filled)
        return (
            f"[{bar}] {share:4.0%}  {self.done_files}/{self.files} files  "
            f"{self.count:,} events  {self.count / elapsed:,.0f} events/s"
        )

    def _draw(self, *, force: bool) -> None:
        if self.stream is None:
            return
        now = time.monotonic()
        if not force and now - self.last < _EVERY_SECONDS:
            return
        self.last = now
        self.stream.write("\r" + self.line() + "\x1b[K")
        self.stream.flush()

    def close(self) -> None:
        """Clear the bar, so the report starts on a clean line."""
        if self.stream is not None:
            self.stream.write("\r\x1b[K")
            self.stream.flush()
