"""Fixtures for tests that run the real Pulumi engine (the CLI built by `make toolchain`).

Without the toolchain these tests skip, saying why; with CI=true they fail instead, so a CI run
can never pass without the engine having run.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
import yaml

from sandbox.seed import seed_database
from sandbox.server import SandboxServer
from sandbox.settings import SandboxSettings
from tests.engine.project import EngineProject, toolchain_problem
from tests.fixture_stacks import fixture_stack
from tests.prerequisites import require

LOCAL_STACK = fixture_stack("local")
WRITE_METHODS = {"POST", "PUT", "PATCH", "DELETE"}


@pytest.fixture
def engine_ready() -> None:
    require("the real Pulumi engine", toolchain_problem())


class Sandbox:
    """A seeded sandbox plus helpers that read its own records."""

    def __init__(self, server: SandboxServer, stack_file: Path) -> None:
        self.server = server
        self.stack_file = stack_file
        self.config: dict[str, Any] = yaml.safe_load(stack_file.read_text())["config"]
        self.admin = {"Authorization": f"Bearer {self.config['segment-pendula:pendulaApiToken']}"}
        self.seeded_token_ids = {t["id"] for t in self.all_tokens()}

    @property
    def url(self) -> str:
        return self.server.url

    def requests_since(self, seq: int) -> list[dict[str, Any]]:
        response = requests.get(f"{self.url}/_sandbox/requests", params={"since": seq}, timeout=10)
        response.raise_for_status()
        rows: list[dict[str, Any]] = response.json()
        return [r for r in rows if not str(r["path"]).startswith("/_sandbox/")]

    def last_seq(self) -> int:
        response = requests.get(f"{self.url}/_sandbox/requests", params={"since": 0}, timeout=10)
        response.raise_for_status()
        rows = response.json()
        return int(rows[-1]["seq"]) if rows else 0

    def writes_since(self, seq: int) -> list[tuple[str, str]]:
        return [
            (r["method"], r["path"])
            for r in self.requests_since(seq)
            if r["method"] in WRITE_METHODS
        ]

    def tokens(self) -> list[dict[str, Any]]:
        """Tokens made after seeding (the seed holds the flows' provided tokens)."""
        return [t for t in self.all_tokens() if t["id"] not in self.seeded_token_ids]

    def all_tokens(self) -> list[dict[str, Any]]:
        response = requests.get(f"{self.url}/api/v1/tokens", headers=self.admin, timeout=10)
        response.raise_for_status()
        items: list[dict[str, Any]] = response.json()["items"]
        return items

    def deactivate(self, token_id: str) -> None:
        response = requests.post(
            f"{self.url}/api/v1/tokens/{token_id}/deactivate", headers=self.admin, timeout=10
        )
        assert response.status_code == 202, response.text


@pytest.fixture
def sandbox_stack(tmp_path: Path) -> Iterator[Sandbox]:
    """A sandbox seeded from the local stack file (rewritten to its free port)."""
    settings = SandboxSettings(db_path=tmp_path / "sandbox.sqlite3")
    with SandboxServer(settings) as server:
        stack_file = tmp_path / "Pulumi.local.yaml"
        stack_file.write_text(
            LOCAL_STACK.read_text().replace("127.0.0.1:8787", f"127.0.0.1:{server.port}")
        )
        seed_database(settings.db_path, stack_file)
        yield Sandbox(server, stack_file)


@pytest.fixture
def engine_project(
    engine_ready: None, tmp_path: Path
) -> Iterator[Callable[[Callable[[], None]], EngineProject]]:
    """Make an `EngineProject` for a program; every one is destroyed and removed afterwards."""
    made: list[EngineProject] = []

    def make(program: Callable[[], None]) -> EngineProject:
        project = EngineProject(tmp_path / f"engine-{len(made)}", program)
        made.append(project)
        return project

    yield make
    for project in made:
        project.remove()
