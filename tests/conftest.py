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


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """One line saying which real-engine tests did not run and how to run them.

    Without the toolchain (`make toolchain`) every test of tests/engine, and the few elsewhere
    that need the CLI it builds, skip; a summary that only says "N skipped" hides that the
    engine never judged the run."""
    skipped = terminalreporter.stats.get("skipped", [])
    engine = [
        report.nodeid
        for report in skipped
        if "make toolchain" in _skip_reason(report) or "/engine/" in report.nodeid
    ]
    if not engine:
        return
    files = sorted({nodeid.split("::", 1)[0] for nodeid in engine})
    terminalreporter.write_line(
        f"real engine: {len(engine)} test(s) did not run ({', '.join(files)}): the Pulumi CLI "
        "is not built here; run `make toolchain`, then `make test` (docs/toolchain.md)",
        yellow=True,
    )


def _skip_reason(report: pytest.TestReport) -> str:
    longrepr = report.longrepr
    if isinstance(longrepr, tuple) and len(longrepr) == 3:
        return str(longrepr[2])
    return str(longrepr)
