"""Reading files named by a stack file or a user, within limits.

A stack file is reviewed text, but what it names is not always: ``sampleEvent:
../../home/me/.ssh/id_rsa`` or ``/dev/zero`` must not be read, printed or hang the plan. So
every file we read goes through here:

- ``read_project_file``: a path from a stack file resolves (symlinks included) *inside* the
  project root, is a regular file, and is read up to a size limit;
- ``read_text_limited``: any file, regular, size-limited, UTF-8 (errors name the file);
- ``LimitedLoader``/``load_yaml_text``: YAML with limits on aliases, nesting and expanded
  size, so an alias bomb ("billion laughs") fails in milliseconds instead of eating memory.
  Stack files and Pulumi.yaml are read by ``components.config.engine_yaml``, which keeps these
  limits and resolves values as the engine does; ``load_yaml_text`` resolves them as PyYAML does.
"""

from __future__ import annotations

import stat
from pathlib import Path
from typing import Any

import yaml

MAX_EVENT_FILE_BYTES = 1024 * 1024
"""A sample event is a few KiB; Segment itself refuses events over 32 KiB."""
MAX_PATH_CHARACTERS = 1024
"""A path a stack file names is a short relative path; a longer one is refused by name."""
MAX_NAME_BYTES = 255
"""Longest file or directory name most file systems allow (NAME_MAX)."""
MAX_YAML_ALIASES = 64
"""Stack files need no aliases; a few are tolerated, a bomb's hundreds are not."""
MAX_YAML_NODES = 100_000
"""Values in the document with every alias expanded (a stack file has a few hundred)."""
MAX_YAML_DEPTH = 100
"""Deepest nesting a stack file may have (ours need fewer than 10 levels)."""


class FileError(ValueError):
    """A file cannot be used; the message names the file (and the key that named it)."""


def read_text_limited(path: Path, limit: int, label: str | None = None) -> str:
    """The UTF-8 text of a regular file of at most ``limit`` bytes, or ``FileError``."""
    shown = label or f"'{path}'"
    try:
        info = path.stat()
    except FileNotFoundError:
        raise FileError(f"{shown}: no such file") from None
    except OSError as exc:
        raise FileError(f"{shown}: cannot be read ({exc.strerror})") from None
    if not stat.S_ISREG(info.st_mode):
        raise FileError(f"{shown}: is not a regular file")
    if info.st_size > limit:
        raise FileError(f"{shown}: is {info.st_size} bytes; at most {limit} are read")
    try:
        with path.open("rb") as handle:
            # Read one byte more than allowed: a file that grew since stat() is still refused.
            data = handle.read(limit + 1)
    except OSError as exc:
        raise FileError(f"{shown}: cannot be read ({exc.strerror})") from None
    if len(data) > limit:
        raise FileError(f"{shown}: is larger than {limit} bytes")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise FileError(
            f"{shown}: is not UTF-8 text (invalid byte at offset {exc.start})"
        ) from None


def project_path(root: Path, relative: str, key: str) -> Path:
    """``relative`` resolved inside ``root``, or ``FileError`` naming ``key``.

    Absolute paths, ``..`` and symlinks that lead out of the project are refused: a stack
    file may only name files that are reviewed with it.
    """
    if len(relative) > MAX_PATH_CHARACTERS:
        raise FileError(
            f"{key}: '{relative[:40]}…' ({len(relative)} characters) is longer than "
            f"{MAX_PATH_CHARACTERS} characters; name a file inside the project"
        )
    shown = f"{key}: '{relative}'"
    if not relative or "\x00" in relative:
        raise FileError(f"{shown} is not a file path")
    if any(len(part.encode()) > MAX_NAME_BYTES for part in Path(relative).parts):
        raise FileError(f"{shown} has a name longer than {MAX_NAME_BYTES} bytes")
    candidate = Path(relative)
    if candidate.is_absolute():
        raise FileError(f"{shown} must be relative to the project root ({root})")
    resolved_root = root.resolve()
    try:
        resolved = (resolved_root / candidate).resolve()
    except (OSError, RuntimeError) as exc:  # RuntimeError: a symlink loop
        raise FileError(f"{shown} cannot be resolved ({exc})") from None
    if not resolved.is_relative_to(resolved_root):
        raise FileError(f"{shown} leads outside the project root ({root}); keep it inside")
    return resolved


def read_project_file(root: Path, relative: str, key: str, limit: int) -> str:
    """The text of a file a stack file names: inside ``root``, regular, at most ``limit``."""
    path = project_path(root, relative, key)
    try:
        exists = path.exists()
    except OSError as exc:  # e.g. a path longer than the system allows
        raise FileError(f"{key}: '{relative}' cannot be used ({exc.strerror})") from None
    if not exists:
        raise FileError(f"{key}: '{relative}' not found (paths start at the project root, {root})")
    return read_text_limited(path, limit, label=f"{key}: '{relative}'")


class LimitedLoader(yaml.SafeLoader):
    """PyYAML's safe loader with a cap on alias references."""

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self.aliases = 0
        self.depth = 0

    def fetch_flow_collection_start(self, token_class: Any) -> None:
        # `[[[[…`: PyYAML's scanner revisits every open level per token (quadratic), so flow
        # nesting is refused where it starts, long before the composer would see it.
        if self.flow_level >= MAX_YAML_DEPTH:
            raise FileError(f"YAML nested too deeply (more than {MAX_YAML_DEPTH} levels)")
        super().fetch_flow_collection_start(token_class)

    def compose_node(self, parent: Any, index: Any) -> Any:
        if self.check_event(yaml.AliasEvent):
            self.aliases += 1
            if self.aliases > MAX_YAML_ALIASES:
                raise FileError(f"more than {MAX_YAML_ALIASES} YAML aliases (*name)")
        # Stop at a sane depth instead of recursing until Python's limit (a RecursionError is
        # no message for a user).
        self.depth += 1
        try:
            if self.depth > MAX_YAML_DEPTH:
                raise FileError(f"YAML nested too deeply (more than {MAX_YAML_DEPTH} levels)")
            return super().compose_node(parent, index)
        finally:
            self.depth -= 1


def load_yaml_text(text: str, label: str, loader_class: type[LimitedLoader] = LimitedLoader) -> Any:
    """The YAML document in ``text``, or ``FileError`` naming ``label`` and the problem.

    ``loader_class`` decides how scalars resolve: configuration is read with
    ``components.config.engine_yaml.EngineYamlLoader`` (the engine's rules), never PyYAML's own.
    """
    loader = loader_class(text)
    try:
        document = loader.get_single_data()
    except FileError as exc:
        raise FileError(f"{label}: {exc}") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}" if mark is not None else ""
        problem = getattr(exc, "problem", None) or type(exc).__name__
        raise FileError(f"{label}: not valid YAML ({problem}{where})") from None
    except RecursionError:
        raise FileError(f"{label}: YAML nested too deeply") from None
    finally:
        loader.dispose()
    check_expanded_size(document, label)
    return document


def check_expanded_size(document: Any, label: str) -> None:
    """Refuse a document whose aliases expand it beyond ``MAX_YAML_NODES`` values.

    Walked iteratively with a budget, so a bomb (or a recursive alias) stops at the budget.
    """
    budget = MAX_YAML_NODES
    stack = [document]
    while stack:
        value = stack.pop()
        budget -= 1
        if budget < 0:
            raise FileError(
                f"{label}: the YAML expands to more than {MAX_YAML_NODES} values "
                "(aliases referencing aliases?)"
            )
        if isinstance(value, dict):
            stack.extend(value.keys())
            stack.extend(value.values())
        elif isinstance(value, list):
            stack.extend(value)
