"""Fixtures shared by every test module."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from sandbox.server import SandboxServer
from sandbox.settings import SandboxSettings

PROJECT_ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def sandbox(tmp_path: Path) -> Iterator[SandboxServer]:
    """A fresh sandbox (both stand-ins) on a free loopback port, stopped after the test."""
    with SandboxServer(SandboxSettings(db_path=tmp_path / "sandbox.sqlite3")) as server:
        yield server
