"""One rule for tests that need something outside Python: skip where it is missing, fail in CI.

CI (`CI` set, as `.ci/run` and GitHub set it) must never pass without having run them.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterable
from pathlib import Path

import pytest


def require(what: str, problem: str | None) -> None:
    """Skip the calling test because `problem` keeps `what` from running here (fail in CI)."""
    if problem is None:
        return
    if os.environ.get("CI"):
        pytest.fail(f"{what} unavailable in CI: {problem}")
    pytest.skip(f"{what} unavailable: {problem}")


def node_packages_problem(node_dir: Path, packages: Iterable[str]) -> str | None:
    """Why `node` cannot run the pinned npm `packages` of `node_dir`, or None."""
    if shutil.which("node") is None:
        return "node is not on PATH"
    missing = [name for name in packages if not (node_dir / "node_modules" / name).is_dir()]
    if missing:
        return f"{', '.join(missing)} not installed; run: npm ci --prefix tests/node"
    return None
