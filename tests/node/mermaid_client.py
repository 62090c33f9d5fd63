"""Runs tests/node/mermaid_check.mjs: Mermaid's own parser (the pinned npm package) on diagrams."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

NODE_DIR = Path(__file__).resolve().parent
CHECKER = NODE_DIR / "mermaid_check.mjs"
PACKAGES = ("mermaid", "jsdom")


def require_mermaid() -> None:
    """Skip (or, when CI is set, fail) unless node and the pinned npm packages are installed."""
    missing = [name for name in PACKAGES if not (NODE_DIR / "node_modules" / name).is_dir()]
    reason = ""
    if shutil.which("node") is None:
        reason = "node is not on PATH"
    elif missing:
        reason = f"{', '.join(missing)} not installed; run: npm ci --prefix tests/node"
    if reason:
        if os.environ.get("CI"):
            pytest.fail(f"Mermaid parser unavailable in CI: {reason}")
        pytest.skip(f"Mermaid parser unavailable: {reason}")


def parse_diagrams(sources: list[str]) -> list[dict[str, Any]]:
    """What Mermaid's parser reads from each diagram: ``{"ok": {...}}`` or ``{"error": ...}``.

    One node process for the whole batch (importing mermaid takes about a second).
    """
    require_mermaid()
    completed = subprocess.run(
        ["node", str(CHECKER)],
        input=json.dumps(sources),
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    results: list[dict[str, Any]] = json.loads(completed.stdout)
    assert len(results) == len(sources)
    return results
