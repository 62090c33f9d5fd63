"""Sandbox helpers shared by the Pendula tests: tenants, flows, faults, the request log."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import requests

from sandbox.server import SandboxServer


@dataclass(frozen=True)
class Tenant:
    """A sandbox tenant and the management API root its admin token opens."""

    tenant_id: str
    admin_token: str
    api_url: str


def new_tenant(sandbox: SandboxServer) -> Tenant:
    response = requests.post(f"{sandbox.url}/_sandbox/pendula/tenants", json={}, timeout=10)
    response.raise_for_status()
    body = response.json()
    return Tenant(body["tenant_id"], body["admin_token"], f"{sandbox.url}/api/v1")


def admin(tenant: Tenant) -> dict[str, str]:
    return {"Authorization": f"Bearer {tenant.admin_token}"}


def new_flow(tenant: Tenant, name: str = "orders") -> str:
    """An active flow's webhook trigger URL."""
    response = requests.post(
        f"{tenant.api_url}/flows", json={"name": name}, headers=admin(tenant), timeout=10
    )
    response.raise_for_status()
    url: str = response.json()["webhook_url"]
    return url


def new_token(tenant: Tenant, name: str = "from the UI") -> str:
    """A token as a user would generate it in Pendula's UI (for provided mode)."""
    response = requests.post(
        f"{tenant.api_url}/tokens", json={"name": name}, headers=admin(tenant), timeout=10
    )
    response.raise_for_status()
    token: str = response.json()["token"]
    return token


def tokens(tenant: Tenant) -> list[dict[str, Any]]:
    """All of the tenant's tokens (one page is plenty in tests)."""
    response = requests.get(
        f"{tenant.api_url}/tokens", params={"limit": 100}, headers=admin(tenant), timeout=10
    )
    response.raise_for_status()
    items: list[dict[str, Any]] = response.json()["items"]
    return items


def deactivate(tenant: Tenant, token_id: str) -> None:
    response = requests.post(
        f"{tenant.api_url}/tokens/{token_id}/deactivate", headers=admin(tenant), timeout=10
    )
    response.raise_for_status()


def deliver(webhook_url: str, authorization: str) -> int:
    """POST a test event the way Segment's mapping would; the status Pendula answers."""
    response = requests.post(
        webhook_url,
        json={"event": "Order Completed"},
        headers={"Authorization": authorization},
        timeout=10,
    )
    return response.status_code


def arm_fault(sandbox: SandboxServer, **spec: Any) -> None:
    response = requests.post(f"{sandbox.url}/_sandbox/faults", json=spec, timeout=10)
    response.raise_for_status()


def requests_since(sandbox: SandboxServer, since: int) -> list[dict[str, Any]]:
    """Logged requests after sequence number `since` (the log skips /_sandbox/ routes)."""
    response = requests.get(f"{sandbox.url}/_sandbox/requests", params={"since": since}, timeout=10)
    response.raise_for_status()
    rows: list[dict[str, Any]] = response.json()
    return rows


def last_seq(sandbox: SandboxServer) -> int:
    rows = requests_since(sandbox, 0)
    return int(rows[-1]["seq"]) if rows else 0


def calls(rows: list[dict[str, Any]]) -> list[tuple[str, str, int]]:
    """(method, path, status) per logged request, for exact assertions."""
    return [(row["method"], row["path"], row["status"]) for row in rows]
