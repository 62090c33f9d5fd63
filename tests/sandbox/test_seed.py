"""sandbox.seed: the local stack file seeds workspace, source, tenant, flows and tokens, idempotently."""

from __future__ import annotations

import base64
from pathlib import Path

import pytest
import requests
import yaml

from sandbox.seed import SeedError, seed_database
from sandbox.server import SandboxServer
from tests.fixture_stacks import fixture_stack

ROOT = Path(__file__).resolve().parents[2]
LOCAL = fixture_stack("local")
FLOWS = {
    "welcome": "00000000-0000-4000-8000-000000000001",
    "upgrade-nudge": "00000000-0000-4000-8000-000000000002",
    "vip": "00000000-0000-4000-8000-000000000003",
}


def test_seeding_twice_gives_the_stack_files_credentials_and_ids(sandbox: SandboxServer) -> None:
    first = seed_database(sandbox.settings.db_path, LOCAL)
    second = seed_database(sandbox.settings.db_path, LOCAL)
    assert first == second
    assert [(f.name, f.id, f.state) for f in first.flows] == [
        (name, flow_id, "active") for name, flow_id in FLOWS.items()
    ]

    segment = {"Authorization": "Bearer sandbox-segment-public-api-token"}
    source = requests.get(f"{sandbox.url}/sources/sandboxSourceWeb01", headers=segment, timeout=10)
    assert source.status_code == 200, source.text
    assert source.json()["data"]["source"]["writeKeys"] == [first.sources[0].write_key]

    admin = {"Authorization": "Bearer sandbox-pendula-admin-token"}
    tokens = requests.get(f"{sandbox.url}/api/v1/tokens", headers=admin, timeout=10).json()
    assert [(t["name"], t["status"], t["tenant_id"]) for t in tokens["items"]] == [
        ("segment-upgrade-nudge", "active", "sandbox-tenant"),
        ("segment-vip", "active", "sandbox-tenant"),
    ]
    for flow_id in FLOWS.values():
        flow = requests.get(f"{sandbox.url}/api/v1/flows/{flow_id}", headers=admin, timeout=10)
        assert flow.json()["state"] == "active"

    # The provided tokens work on their flows, Bearer and Basic, as the stack declares them.
    nudge = requests.post(
        f"{sandbox.url}/webhook/inbound/{FLOWS['upgrade-nudge']}",
        json={"type": "identify"},
        headers={"Authorization": "Bearer sandbox-provided-token-upgrade-nudge"},
        timeout=10,
    )
    basic = base64.b64encode(b"sandbox-tenant:sandbox-provided-token-vip").decode()
    vip = requests.post(
        f"{sandbox.url}/webhook/inbound/{FLOWS['vip']}",
        json={"type": "track"},
        headers={"Authorization": f"Basic {basic}"},
        timeout=10,
    )
    assert (nudge.status_code, vip.status_code) == (202, 202)


def _stack(tmp_path: Path, **changes: object) -> Path:
    document = yaml.safe_load(LOCAL.read_text())
    document["config"].update(changes)
    path = tmp_path / "Pulumi.x.yaml"
    path.write_text(yaml.safe_dump(document))
    return path


def test_only_a_sandbox_stack_seeds(sandbox: SandboxServer, tmp_path: Path) -> None:
    path = _stack(tmp_path, **{"segment-pendula:sandbox": False})
    with pytest.raises(SeedError) as error:
        seed_database(sandbox.settings.db_path, path)
    assert str(error.value) == (
        f"{path}: segment-pendula:sandbox must be true; only the sandbox stack may seed "
        "the sandbox with its credentials"
    )


def test_secure_values_cannot_seed(sandbox: SandboxServer, tmp_path: Path) -> None:
    path = _stack(tmp_path, **{"segment:token": {"secure": "v1:abc"}})
    with pytest.raises(SeedError) as error:
        seed_database(sandbox.settings.db_path, path)
    assert str(error.value).startswith("segment:token: is a secure value;")
    assert "v1:abc" not in str(error.value)
