"""Where a backtest's events come from: JSON-lines files, gzip-compressed or not, found by path,
directory or glob, and read line by line in constant memory.

This is the shape Segment's S3 and event-archive destinations write: one event per line, ``.gz``
files in dated folders. A file is gzip when it starts with gzip's magic bytes (whatever its
name); concatenated gzip members (what appending archives produce) are read one after another.
"""

from __future__ import annotations

import glob
import os
import zlib
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from isal import isal_zlib  # ISA-L's inflate: about twice as fast as zlib's, same API

CHUNK_BYTES: Final = 1 << 20
"""Read and decompress 1 MiB at a time: memory stays flat however large the files are."""
MAX_LINE_BYTES: Final = 8 << 20
"""A line longer than this is reported as bad and skipped (Segment's events are < 32 KiB)."""
EVENT_SUFFIXES: Final = (".jsonl", ".ndjson", ".json", ".gz")
"""Files picked up inside a directory; files named explicitly are read whatever their name."""
_GZIP_MAGIC: Final = b"\x1f\x8b"
# isal's stubs declare ``error`` as an Exception instance; at run time it is the class.
_ISAL_ERROR: type[Exception] = isal_zlib.error  # type: ignore[assignment]
_GLOB_CHARS: Final = frozenset("*?[")


class EventsError(ValueError):
    """An events path that names nothing readable (the run cannot start)."""


class EventFileError(OSError):
    """A file that cannot be read to its end (corrupt or truncated gzip); the lines before the
    damage were read."""


@dataclass(frozen=True)
class EventFile:
    """One file of events and its size on disk (for the progress bar)."""

    path: Path
    size: int


def find_event_files(patterns: Sequence[str]) -> list[EventFile]:
    """Every file the given paths, directories and globs name, each once, in a stable order.

    Directories are searched recursively for :data:`EVENT_SUFFIXES` files (dated folders sort
    by date). A path that matches nothing is an error naming it.
    """
    found: list[Path] = []
    for pattern in patterns:
        path = Path(pattern)
        if path.is_dir():
            found += _directory_files(path)
        elif path.is_file():
            found.append(path)
        elif _GLOB_CHARS & set(pattern):
            matches = sorted(glob.glob(pattern, recursive=True))
            if not matches:
                raise EventsError(f"--events {pattern!r}: the pattern matches no file")
            for match in matches:
                matched = Path(match)
                found += _directory_files(matched) if matched.is_dir() else [matched]
        else:
            raise EventsError(f"--events {pattern!r}: no such file or directory")
    unique: list[EventFile] = []
    seen: set[Path] = set()
    for path in found:
        resolved = path.resolve()
        if resolved not in seen:
            seen.add(resolved)
            unique.append(EventFile(path, path.stat().st_size))
    if not unique:
        raise EventsError(
            f"--events {' '.join(patterns)}: no event files (looked for "
            f"{', '.join(EVENT_SUFFIXES)} files)"
        )
    return unique


def _directory_files(directory: Path) -> list[Path]:
    files: list[Path] = []
    for root, dirs, names in os.walk(directory):
        dirs.sort()
        files += [Path(root) / name for name in sorted(names) if name.endswith(EVENT_SUFFIXES)]
    return files


def _data_chunks(path: Path) -> Iterator[bytes]:
    try:
        yield from _chunks(path)
    except (zlib.error, _ISAL_ERROR) as exc:
        raise EventFileError(f"not valid gzip data ({exc})") from None


def _chunks(path: Path) -> Iterator[bytes]:
    """The file's bytes in chunks, gunzipped when it is gzip (every member, in order).

    Decompressed output is bounded per step too, so a small file that inflates to gigabytes
    (a "zip bomb") streams like any other instead of filling memory.
    """
    with path.open("rb") as handle:
        raw = handle.read(CHUNK_BYTES)
        if not raw.startswith(_GZIP_MAGIC):
            while raw:
                yield raw
                raw = handle.read(CHUNK_BYTES)
            return
        decompressor = isal_zlib.decompressobj(wbits=31)
        pending = False  # the current member has had input but has not ended
        while raw:
            data = raw
            while data:
                pending = True
                out = decompressor.decompress(data, CHUNK_BYTES * 4)
                if out:
                    yield out
                if decompressor.eof:
                    pending = False
                    data = decompressor.unused_data
                    decompressor = isal_zlib.decompressobj(wbits=31)
                else:
                    data = decompressor.unconsumed_tail
            raw = handle.read(CHUNK_BYTES)
        tail = decompressor.flush()  # output held back at the size bound
        if tail:
            yield tail
        if pending and not decompressor.eof:
            raise EventFileError("the gzip stream is truncated")


def read_lines(path: Path) -> Iterator[tuple[int, bytes | None]]:
    """``(line number, bytes)`` for every non-blank line; bytes is None for a line longer than
    :data:`MAX_LINE_BYTES`, which is skipped (and reported by the caller)."""
    rest = b""
    number = 0
    skipping = False
    for chunk in _data_chunks(path):
        lines = (rest + chunk).split(b"\n") if rest else chunk.split(b"\n")
        rest = lines.pop()
        for line in lines:
            number += 1
            if skipping:
                skipping = False
                yield number, None
                continue
            if line and not line.isspace():  # isspace() stops at the first other byte
                yield number, line
        if len(rest) > MAX_LINE_BYTES:
            rest = b""
            skipping = True
    if skipping:
        yield number + 1, None
    elif rest and not rest.isspace():
        yield number + 1, rest
