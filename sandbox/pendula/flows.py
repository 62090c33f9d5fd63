"""Sandbox-only flow management: flows with a webhook trigger, their lifecycle and experiences.

Pendula manages flows in its studio UI only (pendula.md §3.1); these endpoints let tests and
demos create the flows that the real product would have been clicked together.
"""

from __future__ import annotations

import json
import sqlite3
import uuid
from typing import Any, Literal

from fastapi import APIRouter, Request
from pydantic import Field

from sandbox.pendula.auth import TenantId
from sandbox.pendula.errors import PendulaApiError, PendulaRoute, StrictBody
from sandbox.pendula.pagination import check_limit, decode_cursor, encode_cursor
from sandbox.pendula.timestamps import utc_now_iso
from sandbox.store import Store

router = APIRouter(route_class=PendulaRoute)

FlowState = Literal["draft", "active", "draining", "terminated"]

# Pendula's lifecycle (pendula.md §3.1): a draining or terminated flow "cannot be reactivated".
ALLOWED_TRANSITIONS: dict[str, tuple[str, ...]] = {
    "draft": ("active",),
    "active": ("draining", "terminated"),
    "draining": ("terminated",),
    "terminated": (),
}

EXPERIENCES_DEFAULT_LIMIT = 100
EXPERIENCES_MAX_LIMIT = 1000


class FlowCreate(StrictBody):
    """Body of `POST /api/v1/flows`.

    The state defaults to active (not Pendula's draft) so a demo flow is callable in one step.
    """

    name: str = Field(min_length=1, max_length=200)
    state: FlowState = "active"


class FlowUpdate(StrictBody):
    """Body of `PATCH /api/v1/flows/{id}`: a lifecycle move."""

    state: FlowState


def _store(request: Request) -> Store:
    store: Store = request.app.state.store
    return store


def webhook_url(request: Request, flow_id: str) -> str:
    """The trigger's POST URL on this server, shaped like `https://pendula.app/webhook/inbound/<uuid>`."""
    return f"{str(request.base_url).rstrip('/')}/webhook/inbound/{flow_id}"


def _flow(
    request: Request, conn: sqlite3.Connection, tenant_id: str, flow_id: str
) -> dict[str, Any]:
    row = conn.execute(
        "SELECT id, name, state FROM pendula_flows WHERE id = ? AND tenant_id = ?",
        (flow_id, tenant_id),
    ).fetchone()
    if row is None:
        raise PendulaApiError(404, "not_found", f"flow {flow_id!r} does not exist")
    return {**dict(row), "webhook_url": webhook_url(request, flow_id)}


@router.post("/api/v1/flows", status_code=201)
def create_flow(request: Request, tenant_id: TenantId, body: FlowCreate) -> dict[str, Any]:
    """A new flow of the tenant, with a webhook trigger URL."""
    flow_id = str(uuid.uuid4())
    with _store(request).connect() as conn:
        conn.execute(
            "INSERT INTO pendula_flows (id, tenant_id, name, state, created_at)"
            " VALUES (?, ?, ?, ?, ?)",
            (flow_id, tenant_id, body.name, body.state, utc_now_iso()),
        )
        return _flow(request, conn, tenant_id, flow_id)


@router.get("/api/v1/flows/{flow_id}")
def get_flow(request: Request, tenant_id: TenantId, flow_id: str) -> dict[str, Any]:
    """One flow of the tenant."""
    with _store(request).connect() as conn:
        return _flow(request, conn, tenant_id, flow_id)


@router.patch("/api/v1/flows/{flow_id}")
def update_flow(
    request: Request, tenant_id: TenantId, flow_id: str, body: FlowUpdate
) -> dict[str, Any]:
    """Move the flow along its lifecycle; 409 for a move Pendula does not allow."""
    with _store(request).connect() as conn:
        current = _flow(request, conn, tenant_id, flow_id)["state"]
        if body.state != current:
            allowed = ALLOWED_TRANSITIONS[current]
            if body.state not in allowed:
                targets = ", ".join(allowed) if allowed else "nothing (it is final)"
                raise PendulaApiError(
                    409,
                    "invalid_state_transition",
                    f"flow {flow_id!r} is {current} and cannot become {body.state};"
                    f" it can become: {targets}",
                )
            conn.execute("UPDATE pendula_flows SET state = ? WHERE id = ?", (body.state, flow_id))
        return _flow(request, conn, tenant_id, flow_id)


@router.get("/api/v1/flows/{flow_id}/experiences")
def list_experiences(
    request: Request,
    tenant_id: TenantId,
    flow_id: str,
    limit: int = EXPERIENCES_DEFAULT_LIMIT,
    cursor: str | None = None,
) -> dict[str, Any]:
    """Experiences the flow's webhook trigger started, oldest first (read-only)."""
    check_limit(limit, EXPERIENCES_MAX_LIMIT)
    after = decode_cursor(cursor)
    with _store(request).connect() as conn:
        _flow(request, conn, tenant_id, flow_id)
        rows = conn.execute(
            "SELECT seq, id, received_at, body, headers, custom_context, auth_scheme, token_id"
            " FROM pendula_experiences WHERE flow_id = ? AND seq > ? ORDER BY seq LIMIT ?",
            (flow_id, after, limit + 1),
        ).fetchall()
    page = rows[:limit]
    return {
        "items": [
            {
                "id": row["id"],
                "received_at": row["received_at"],
                "body": json.loads(row["body"]),
                "headers": json.loads(row["headers"]),
                "custom_context": (
                    None if row["custom_context"] is None else json.loads(row["custom_context"])
                ),
                "auth_scheme": row["auth_scheme"],
                "token_id": row["token_id"],
            }
            for row in page
        ],
        "next_cursor": encode_cursor(page[-1]["seq"]) if len(rows) > limit else None,
    }
