"""Runs tests/node/oracle.js (Segment's own JavaScript libraries) on a batch of cases."""

from __future__ import annotations

import json
import math
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from tests.node.batch import run_batch
from tests.prerequisites import node_packages_problem, require

NODE_DIR = Path(__file__).resolve().parent
ORACLE = NODE_DIR / "oracle.js"
PACKAGES = ("@segment/destination-subscriptions", "@segment/actions-core")


def require_oracle() -> None:
    """Skip (or, when CI is set, fail) unless node and the pinned npm packages are installed."""
    require("Segment oracle", node_packages_problem(NODE_DIR, PACKAGES))


def run_oracle(cases: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """One node process for the whole batch; results are in case order."""
    require_oracle()
    batch = json.dumps(cases, allow_nan=False, default=_undefined)
    return run_batch(ORACLE, batch, len(cases), timeout=300)


def _undefined(value: Any) -> Any:
    raise TypeError(f"not JSON: {value!r}")


def as_json(value: Any) -> Any:
    """What JSON.stringify would make of a Python value (NaN/Infinity -> null, 5.0 -> 5)."""
    if isinstance(value, float):
        if not math.isfinite(value):
            return None
        return int(value) if value.is_integer() and abs(value) < 1e21 else value
    if isinstance(value, dict):
        return {key: as_json(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [as_json(item) for item in value]
    return value
