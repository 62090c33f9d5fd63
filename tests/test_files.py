"""Files named by a stack file stay in the project, are regular and small; YAML has limits."""

from __future__ import annotations

import os
import re
import time
from pathlib import Path

import pytest

from components.guards.files import (
    MAX_YAML_DEPTH,
    FileError,
    load_yaml_text,
    project_path,
    read_project_file,
    read_text_limited,
)

KEY = "segment-pendula:destinations[0].flows[0].sampleEvent"


@pytest.fixture
def root(tmp_path: Path) -> Path:
    project = tmp_path / "project"
    (project / "events").mkdir(parents=True)
    (project / "events" / "ok.json").write_text('{"type": "track"}')
    (tmp_path / "secret.txt").write_text("outside")
    return project


@pytest.mark.parametrize(
    ("relative", "why"),
    [
        ("../secret.txt", "leads outside the project root"),
        ("events/../../secret.txt", "leads outside the project root"),
        ("/etc/passwd", "must be relative to the project root"),
        ("", "is not a file path"),
        ("events/\x00x", "is not a file path"),
    ],
)
def test_paths_outside_the_project_are_refused(root: Path, relative: str, why: str) -> None:
    with pytest.raises(FileError, match=why) as raised:
        project_path(root, relative, KEY)
    assert str(raised.value).startswith(KEY)


def test_a_symlink_out_of_the_project_is_refused(root: Path) -> None:
    (root / "events" / "link.json").symlink_to(root.parent / "secret.txt")
    with pytest.raises(FileError, match="leads outside the project root"):
        read_project_file(root, "events/link.json", KEY, 1000)


def test_non_regular_files_are_refused(root: Path) -> None:
    os.mkfifo(root / "events" / "fifo.json")
    for relative in ("events", "events/fifo.json"):
        with pytest.raises(FileError, match="is not a regular file"):
            read_project_file(root, relative, KEY, 1000)
    with pytest.raises(FileError, match="is not a regular file"):
        read_text_limited(Path("/dev/zero"), 1000)


def test_size_limit_and_encoding(root: Path) -> None:
    big = root / "events" / "big.json"
    big.write_text("x" * 101)
    with pytest.raises(FileError, match="is 101 bytes; at most 100 are read"):
        read_text_limited(big, 100)
    latin = root / "events" / "latin.json"
    latin.write_bytes(b'{"name": "Jos\xe9"}')
    with pytest.raises(FileError, match="is not UTF-8 text"):
        read_project_file(root, "events/latin.json", KEY, 1000)
    assert read_project_file(root, "events/ok.json", KEY, 1000) == '{"type": "track"}'


def test_missing_file_names_the_key(root: Path) -> None:
    with pytest.raises(FileError, match=rf"^{re.escape(KEY)}: 'events/nope.json' not found"):
        read_project_file(root, "events/nope.json", KEY, 1000)


def bomb(levels: int) -> str:
    """The "billion laughs": each level lists the previous one nine times."""
    lines = ["a: &a [x, x, x, x, x, x, x, x, x]"]
    for i in range(levels):
        lines.append(f"{chr(98 + i)}: &{chr(98 + i)} [{', '.join(['*' + chr(97 + i)] * 9)}]")
    return "\n".join(lines)


@pytest.mark.parametrize(
    ("text", "why"),
    [
        (bomb(8), "more than 64 YAML aliases"),
        (bomb(7), "expands to more than"),
        ("a: &a [1]\n" + "\n".join(f"k{i}: *a" for i in range(100)), "more than 64 YAML aliases"),
        ("a: &a [*a]", "expands to more than|aliases"),
        ("[" * 5000 + "]" * 5000, "nested too deeply|not valid YAML"),
        ("a: [unclosed", "not valid YAML"),
        ("!!python/object:os.system {}", "not valid YAML"),
    ],
)
def test_yaml_limits_fail_fast(text: str, why: str) -> None:
    started = time.monotonic()
    with pytest.raises(FileError, match=why):
        load_yaml_text(text, "stacks/Pulumi.bomb.yaml")
    assert time.monotonic() - started < 1.0


def test_ordinary_yaml_loads() -> None:
    assert load_yaml_text("config:\n  a: &x 1\n  b: *x\n", "f") == {"config": {"a": 1, "b": 1}}


def test_nesting_is_limited_before_pythons_recursion_limit() -> None:
    deep = "[" * (MAX_YAML_DEPTH + 1) + "]" * (MAX_YAML_DEPTH + 1)
    with pytest.raises(FileError, match=f"nested too deeply \\(more than {MAX_YAML_DEPTH} levels"):
        load_yaml_text(deep, "f")
    shallow = "[" * MAX_YAML_DEPTH + "]" * MAX_YAML_DEPTH
    assert load_yaml_text(shallow, "f") is not None
