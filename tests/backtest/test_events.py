"""components.backtest.events: files, directories, globs, gzip, and lines in constant memory."""

from __future__ import annotations

import gzip
from pathlib import Path

import pytest

from components.backtest import events as ev
from components.backtest.events import EventFileError, EventsError, find_event_files, read_lines
from tests.backtest.support import write_events


def numbered(path: Path) -> list[tuple[int, bytes | None]]:
    return list(read_lines(path))


def test_plain_and_gzip_files_read_the_same_lines_with_numbers(tmp_path: Path) -> None:
    lines = [{"n": 1}, "", {"n": 3}, "   ", {"n": 5}]
    plain = write_events(tmp_path / "a.jsonl", lines)
    packed = write_events(tmp_path / "a.jsonl.gz", lines)
    expected = [(1, b'{"n": 1}'), (3, b'{"n": 3}'), (5, b'{"n": 5}')]
    assert numbered(plain) == expected
    assert numbered(packed) == expected


def test_gzip_is_recognised_by_content_and_members_are_concatenated(tmp_path: Path) -> None:
    path = tmp_path / "archive"  # no suffix: Segment's S3 objects are named by id
    path.write_bytes(gzip.compress(b'{"a":1}\n{"a"') + gzip.compress(b':2}\n{"a":3}'))
    assert numbered(path) == [(1, b'{"a":1}'), (2, b'{"a":2}'), (3, b'{"a":3}')]


def test_a_truncated_gzip_file_raises_after_the_lines_it_had(tmp_path: Path) -> None:
    data = gzip.compress(b"".join(b'{"n":%d}\n' % i for i in range(5000)))
    path = tmp_path / "cut.gz"
    path.write_bytes(data[: len(data) // 2])
    seen: list[int] = []
    with pytest.raises(EventFileError, match="truncated"):
        for number, _ in read_lines(path):
            seen.append(number)
    assert seen and seen == list(range(1, len(seen) + 1))


def test_chunk_boundaries_do_not_split_or_lose_lines(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(ev, "CHUNK_BYTES", 7)
    lines = [{"value": "x" * i} for i in range(40)]
    for name in ("small.jsonl", "small.jsonl.gz"):
        path = write_events(tmp_path / name, lines)
        got = numbered(path)
        assert [number for number, _ in got] == list(range(1, 41))
        assert got[-1][1] == b'{"value": "' + b"x" * 39 + b'"}'


def test_an_overlong_line_is_skipped_and_reported_by_number(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(ev, "CHUNK_BYTES", 16)
    monkeypatch.setattr(ev, "MAX_LINE_BYTES", 64)
    path = write_events(tmp_path / "long.jsonl", [{"a": 1}, {"b": "y" * 500}, {"c": 3}])
    assert numbered(path) == [(1, b'{"a": 1}'), (2, None), (3, b'{"c": 3}')]


def test_directories_globs_and_files_each_once_in_order(tmp_path: Path) -> None:
    day2 = write_events(tmp_path / "archive" / "2026-12-01" / "b.jsonl.gz", [{}])
    day1 = write_events(tmp_path / "archive" / "2026-11-30" / "a.jsonl", [{}])
    (tmp_path / "archive" / "2026-11-30" / "notes.txt").write_text("not events")
    found = find_event_files([str(tmp_path / "archive"), str(day1)])
    assert [f.path for f in found] == [day1, day2]
    globbed = find_event_files([str(tmp_path / "archive" / "**" / "*.gz")])
    assert [f.path for f in globbed] == [day2]
    assert globbed[0].size == day2.stat().st_size


@pytest.mark.parametrize(
    ("pattern", "message"),
    [
        ("missing.jsonl", "--events 'missing.jsonl': no such file or directory"),
        ("nothing-*.gz", "--events 'nothing-*.gz': the pattern matches no file"),
    ],
)
def test_paths_that_name_nothing_are_clear_errors(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, pattern: str, message: str
) -> None:
    monkeypatch.chdir(tmp_path)
    with pytest.raises(EventsError) as raised:
        find_event_files([pattern])
    assert str(raised.value) == message


def test_an_empty_directory_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(EventsError, match="no event files"):
        find_event_files([str(tmp_path)])


def test_corrupt_gzip_data_is_a_file_error(tmp_path: Path) -> None:
    path = tmp_path / "bad.gz"
    path.write_bytes(gzip.compress(b'{"a":1}\n')[:10] + b"\xff" * 64)
    with pytest.raises(EventFileError, match="not valid gzip data"):
        numbered(path)
