"""Run one of tests/node's scripts on a batch: JSON array in on stdin, JSON array out."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any


def run_batch(script: Path, batch_json: str, count: int, timeout: float) -> list[dict[str, Any]]:
    """One node process for the whole batch (importing the npm packages takes about a second);
    results come back in input order, one per item."""
    completed = subprocess.run(
        ["node", str(script)],
        input=batch_json,
        capture_output=True,
        text=True,
        check=True,
        timeout=timeout,
    )
    results: list[dict[str, Any]] = json.loads(completed.stdout)
    assert len(results) == count
    return results
