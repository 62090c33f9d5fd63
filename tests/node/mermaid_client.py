"""Runs tests/node/mermaid_check.mjs: Mermaid's own parser (the pinned npm package) on diagrams."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from tests.node.batch import run_batch
from tests.prerequisites import node_packages_problem, require

NODE_DIR = Path(__file__).resolve().parent
CHECKER = NODE_DIR / "mermaid_check.mjs"
PACKAGES = ("mermaid", "jsdom")


def require_mermaid() -> None:
    """Skip (or, when CI is set, fail) unless node and the pinned npm packages are installed."""
    require("Mermaid parser", node_packages_problem(NODE_DIR, PACKAGES))


def parse_diagrams(sources: list[str]) -> list[dict[str, Any]]:
    """What Mermaid's parser reads from each diagram: ``{"ok": {...}}`` or ``{"error": ...}``.

    One node process for the whole batch (importing mermaid takes about a second).
    """
    require_mermaid()
    return run_batch(CHECKER, json.dumps(sources), len(sources), timeout=120)
