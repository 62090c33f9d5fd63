"""Seed the sandbox from a sandbox stack file: what a user clicks together before `pulumi up`.

From `stacks/Pulumi.local.yaml` (which must say `segment-pendula:sandbox: true` and hold its
throwaway credentials in plaintext) it creates, idempotently:

- a Segment workspace whose Public API token is `segment:token`;
- each destination's source `sourceId`, with a write key for the tracking API;
- a Pendula tenant (the flows' Basic `tenantId`, default `sandbox-tenant`) whose admin token is
  `pendulaApiToken`;
- one active flow per flow URL, with the URL's exact UUID;
- the provided tokens of `pendulaTokens` as active API tokens of the tenant.

Rows are written straight into the stand-ins' tables with their own helpers (hashing, ids,
timestamps): their HTTP controls mint random ids and credentials, and the stack fixes them.
"""

from __future__ import annotations

import sqlite3
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from components.config.stack_config import StackConfigError, resolve_stack_file
from sandbox import pendula, segment_api, tracking
from sandbox.app import REQUEST_LOG_SCHEMA
from sandbox.pendula.auth import hash_secret
from sandbox.pendula.timestamps import utc_now_iso
from sandbox.segment_api.conventions import new_id
from sandbox.store import Store

PROJECT = "segment-pendula"
DEFAULT_TENANT = "sandbox-tenant"
SOURCE_METADATA_ID = "XRksQPCr7X"
"""Catalog id of the "Python" source: the demo tracks with analytics-python."""
WORKSPACE_NAME = "Sandbox workspace"
_IDS = uuid.UUID("6f1d2c3b-5a4e-4f70-9b8a-7c6d5e4f3a2b")
"""Namespace for the deterministic ids of seeded rows, so re-seeding finds them again."""


class SeedError(ValueError):
    """The stack file cannot seed a sandbox; the message names the key (never a secret)."""


@dataclass(frozen=True)
class SeededSource:
    """A seeded Segment source and the write key to track events with."""

    id: str
    write_key: str


@dataclass(frozen=True)
class SeededFlow:
    """A seeded Pendula flow."""

    name: str
    id: str
    state: str


@dataclass(frozen=True)
class SeedResult:
    """What the sandbox holds after seeding (no credentials)."""

    workspace_id: str
    sources: tuple[SeededSource, ...]
    tenant_id: str
    flows: tuple[SeededFlow, ...]
    tokens: tuple[str, ...]
    """Names of the flows whose provided token is registered."""

    def summary(self) -> str:
        """Human-readable lines for the console."""
        lines = [f"seeded Segment workspace {self.workspace_id}"]
        lines += [f"  source {s.id}: write key {s.write_key}" for s in self.sources]
        lines.append(f"seeded Pendula tenant {self.tenant_id}")
        lines += [f"  flow {f.name}: {f.id} ({f.state})" for f in self.flows]
        lines += [f"  API token registered for flow {name}" for name in self.tokens]
        return "\n".join(lines)


def _plain(config: dict[str, Any], key: str) -> Any:
    value = config.get(key)
    if isinstance(value, dict) and set(value) == {"secure"}:
        raise SeedError(
            f"{key}: is a secure value; a sandbox stack keeps its throwaway credentials in "
            "plaintext so the sandbox can be seeded with them"
        )
    return value


def _required_text(config: dict[str, Any], key: str) -> str:
    value = _plain(config, key)
    if not isinstance(value, str) or not value:
        raise SeedError(f"{key}: required (a non-empty string) to seed the sandbox")
    return value


def read_seed_config(stack_file: Path) -> dict[str, Any]:
    """The stack's config as the engine resolves it (full keys), checked to be a sandbox stack."""
    try:
        config = resolve_stack_file(stack_file).values()
    except StackConfigError as exc:
        raise SeedError(str(exc)) from None
    if config.get(f"{PROJECT}:sandbox") is not True:
        raise SeedError(
            f"{stack_file}: {PROJECT}:sandbox must be true; only the sandbox stack may seed "
            "the sandbox with its credentials"
        )
    return config


def seed_store(store: Store, stack_file: Path) -> SeedResult:
    """Create (or find) everything the stack file refers to; safe to run again."""
    config = read_seed_config(stack_file)
    segment_token = _required_text(config, "segment:token")
    admin_token = _required_text(config, f"{PROJECT}:pendulaApiToken")
    destinations = _plain(config, f"{PROJECT}:destinations")
    if not isinstance(destinations, list) or not destinations:
        raise SeedError(f"{PROJECT}:destinations: required (a list of destinations)")
    tokens = _plain(config, f"{PROJECT}:pendulaTokens") or {}
    if not isinstance(tokens, dict):
        raise SeedError(f"{PROJECT}:pendulaTokens: must be a mapping of flow name to token")
    flows = [flow for d in destinations for flow in d.get("flows") or []]
    tenant_id = _tenant_of(flows)
    region = "eu" if "eu1." in str(config.get("segment:url", "")) else "us"

    with store.connect() as conn:
        workspace_id = _workspace(conn, segment_token, region)
        sources = tuple(
            _source(conn, workspace_id, d, f"{PROJECT}:destinations[{i}]")
            for i, d in enumerate(destinations)
        )
        _tenant(conn, tenant_id, admin_token)
        seeded_flows = tuple(
            _flow(conn, tenant_id, flow, f"{PROJECT}:destinations[].flows[{i}]")
            for i, flow in enumerate(flows)
        )
        registered = tuple(
            _token(conn, tenant_id, name, value, f"{PROJECT}:pendulaTokens.{name}")
            for name, value in sorted(tokens.items())
        )
    return SeedResult(workspace_id, sources, tenant_id, seeded_flows, registered)


def seed_database(db_path: Path, stack_file: Path) -> SeedResult:
    """Seed the sandbox database at `db_path` (its tables are created if missing)."""
    schemas = [REQUEST_LOG_SCHEMA, pendula.SCHEMA, segment_api.SCHEMA, tracking.SCHEMA]
    return seed_store(Store(db_path, schemas), stack_file)


def _tenant_of(flows: list[dict[str, Any]]) -> str:
    tenants = {
        str((flow.get("token") or {}).get("tenantId"))
        for flow in flows
        if (flow.get("token") or {}).get("tenantId")
    }
    if len(tenants) > 1:
        listed = ", ".join(sorted(tenants))
        raise SeedError(
            f"{PROJECT}:destinations: flows name several Basic tenantIds ({listed});"
            " the sandbox seeds one tenant"
        )
    return tenants.pop() if tenants else DEFAULT_TENANT


def _workspace(conn: sqlite3.Connection, token: str, region: str) -> str:
    row = conn.execute("SELECT id FROM segment_workspaces WHERE token = ?", (token,)).fetchone()
    if row is not None:
        workspace_id: str = row["id"]
        return workspace_id
    workspace_id = new_id()
    conn.execute(
        "INSERT INTO segment_workspaces (id, name, slug, region, token) VALUES (?, ?, ?, ?, ?)",
        (workspace_id, WORKSPACE_NAME, "sandbox-workspace", region, token),
    )
    return workspace_id


def _source(
    conn: sqlite3.Connection, workspace_id: str, destination: dict[str, Any], key: str
) -> SeededSource:
    source_id = destination.get("sourceId")
    if not isinstance(source_id, str) or not source_id:
        raise SeedError(f"{key}.sourceId: required (the Segment source id)")
    row = conn.execute(
        "SELECT workspace_id, write_key FROM segment_sources WHERE id = ?", (source_id,)
    ).fetchone()
    if row is not None:
        if row["workspace_id"] != workspace_id:
            raise SeedError(f"{key}.sourceId: '{source_id}' belongs to another workspace")
        return SeededSource(source_id, row["write_key"])
    # A fixed write key per source, so demos and docs can name it; it opens nothing real.
    write_key = f"sandbox-write-key-{source_id}"
    slug = str(destination.get("name") or source_id).lower()
    conn.execute(
        "INSERT INTO segment_sources (id, workspace_id, slug, name, enabled, metadata_id,"
        " settings, labels, write_key, created_at) VALUES (?, ?, ?, ?, 1, ?, '{}', '[]', ?, ?)",
        (source_id, workspace_id, slug, slug, SOURCE_METADATA_ID, write_key, time.time()),
    )
    return SeededSource(source_id, write_key)


def _tenant(conn: sqlite3.Connection, tenant_id: str, admin_token: str) -> None:
    conn.execute(
        "INSERT INTO pendula_tenants (id, admin_token_hash, created_at) VALUES (?, ?, ?)"
        " ON CONFLICT(id) DO UPDATE SET admin_token_hash = excluded.admin_token_hash",
        (tenant_id, hash_secret(admin_token), utc_now_iso()),
    )


def _flow(conn: sqlite3.Connection, tenant_id: str, flow: dict[str, Any], key: str) -> SeededFlow:
    name = str(flow.get("name"))
    url = flow.get("url")
    path = urlsplit(url).path if isinstance(url, str) else ""
    try:
        flow_id = str(uuid.UUID(path.rsplit("/", 1)[-1]))
    except ValueError:
        raise SeedError(f"{key}.url: '{url}' does not end in a flow UUID") from None
    row = conn.execute(
        "SELECT tenant_id, state FROM pendula_flows WHERE id = ?", (flow_id,)
    ).fetchone()
    if row is None:
        conn.execute(
            "INSERT INTO pendula_flows (id, tenant_id, name, state, created_at)"
            " VALUES (?, ?, ?, 'active', ?)",
            (flow_id, tenant_id, name, utc_now_iso()),
        )
        return SeededFlow(name, flow_id, "active")
    if row["tenant_id"] != tenant_id:
        raise SeedError(f"{key}.url: flow {flow_id} belongs to another tenant")
    # An existing flow keeps its state: a tester may have moved it on purpose.
    return SeededFlow(name, flow_id, row["state"])


def _token(conn: sqlite3.Connection, tenant_id: str, flow: str, value: Any, key: str) -> str:
    if isinstance(value, dict) and set(value) == {"secure"}:
        raise SeedError(f"{key}: is a secure value; the sandbox stack keeps tokens in plaintext")
    if not isinstance(value, str) or not value:
        raise SeedError(f"{key}: must be a non-empty string")
    token_id = str(uuid.uuid5(_IDS, f"{tenant_id}/{flow}"))
    conn.execute(
        "INSERT INTO pendula_tokens"
        " (id, tenant_id, name, description, token_hash, status, created_at)"
        " VALUES (?, ?, ?, ?, ?, 'active', ?)"
        " ON CONFLICT(id) DO UPDATE SET token_hash = excluded.token_hash,"
        " status = 'active', deactivated_at = NULL",
        (
            token_id,
            tenant_id,
            f"segment-{flow}",
            "seeded from the sandbox stack file",
            hash_secret(value),
            utc_now_iso(),
        ),
    )
    return flow
