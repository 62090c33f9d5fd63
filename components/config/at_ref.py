"""A stack as it was at a git ref: the stack file and the Pulumi.yaml of that ref, resolved by
the one loader (``components.config.stack_config``).

``plan --against``, ``check --against`` and ``backtest --against`` compare a stack with its
state at a ref; all of them read that state here, so an old ``segment:url`` set only in the
ref's Pulumi.yaml is seen by every one of them, with the same limits as a file on disk.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

from components.config.stack_config import (
    MAX_STACK_FILE_BYTES,
    ResolvedStack,
    StackConfigError,
    find_project_file,
    resolve_stack_text,
)


def resolve_stack_at_ref(path: Path, ref: str) -> ResolvedStack | None:
    """The stack file at ``path`` as of git ``ref`` (with that ref's Pulumi.yaml), or None when
    the file did not exist there. Raises ``StackConfigError`` for a bad ref or file."""
    directory = path.parent
    if ref.startswith("-"):
        # git would read it as an option (``--output=…``), never as a revision.
        raise StackConfigError(f"--against {ref!r}: a git ref cannot start with '-'")
    verified = _git(directory, "rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}")
    if verified.returncode != 0:
        raise StackConfigError(
            f"--against {ref}: not a git commit, branch or tag here "
            f"({verified.stderr.decode('utf-8', 'replace').strip() or 'unknown revision'})"
        )
    label = f"{path} at {ref}"
    text = _file_at_ref(directory, ref, path.name, label)
    if text is None:
        return None
    project_text, project_label = None, None
    project = find_project_file(directory)
    if project is not None:
        levels = len(directory.resolve().relative_to(project.parent.resolve()).parts)
        relative = Path(*[".."] * levels, project.name)
        project_label = f"{project} at {ref}"
        project_text = _file_at_ref(directory, ref, relative.as_posix(), project_label)
    return resolve_stack_text(text, label, project_text, project_label)


def _git(directory: Path, *args: str) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(  # noqa: S603 (fixed argv, no shell)
        ["git", "-C", str(directory), *args],  # noqa: S607 (git from PATH, like a user)
        capture_output=True,
        check=False,
    )


def _file_at_ref(directory: Path, ref: str, relative: str, label: str) -> str | None:
    """A file's text at ``ref`` (``relative`` to ``directory``), None if it did not exist."""
    spec = f"{ref}:./{relative}"
    if _git(directory, "cat-file", "-e", spec).returncode != 0:
        return None
    size = _git(directory, "cat-file", "-s", spec)
    if size.returncode == 0 and int(size.stdout.strip() or 0) > MAX_STACK_FILE_BYTES:
        raise StackConfigError(f"{label}: larger than {MAX_STACK_FILE_BYTES} bytes")
    shown = _git(directory, "show", spec)
    if shown.returncode != 0:
        error = shown.stderr.decode("utf-8", "replace").strip()
        raise StackConfigError(f"--against {ref}: {error}")
    try:
        return shown.stdout.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise StackConfigError(
            f"{label}: is not UTF-8 text (invalid byte at offset {exc.start})"
        ) from None
