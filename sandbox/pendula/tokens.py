"""Management of inbound API tokens: create (shown once), get, list, edit, (re)activate.

Mirrors the UI operations of pendula.md §2 (Integrations > API token); Pendula documents no
management API, so the HTTP shape is ours (docs/pendula-token-api.md).
"""

from __future__ import annotations

import sqlite3
import time
import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Request
from pydantic import StringConstraints, field_validator

from sandbox.pendula.auth import TenantId, hash_secret, new_secret
from sandbox.pendula.errors import PendulaApiError, PendulaRoute, StrictBody
from sandbox.pendula.pagination import DEFAULT_LIMIT, check_limit, decode_cursor, encode_cursor
from sandbox.pendula.timestamps import utc_now_iso
from sandbox.store import Store

router = APIRouter(route_class=PendulaRoute)

TokenName = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]
TokenDescription = Annotated[str, StringConstraints(strip_whitespace=True, max_length=500)]


class TokenCreate(StrictBody):
    """Body of `POST /api/v1/tokens`: the UI's Name and Description fields."""

    name: TokenName
    description: TokenDescription = ""


class TokenUpdate(StrictBody):
    """Body of `PATCH /api/v1/tokens/{id}`: only Name and Description are editable."""

    name: TokenName | None = None
    description: TokenDescription | None = None

    @field_validator("name", "description", mode="before")
    @classmethod
    def _not_null(cls, value: Any) -> Any:
        if value is None:
            raise ValueError("must be a string; omit the field to leave it unchanged")
        return value


def _store(request: Request) -> Store:
    store: Store = request.app.state.store
    return store


def _token_row(conn: sqlite3.Connection, tenant_id: str, token_id: str) -> dict[str, Any]:
    """The tenant's token, or 404 (another tenant's token is as unknown as a missing one)."""
    row = conn.execute(
        "SELECT id, name, description, status, tenant_id, created_at, idempotency_key"
        " FROM pendula_tokens"
        " WHERE id = ? AND tenant_id = ?",
        (token_id, tenant_id),
    ).fetchone()
    if row is None:
        raise PendulaApiError(404, "not_found", f"token {token_id!r} does not exist")
    return dict(row)


@router.post("/api/v1/tokens", status_code=201)
def create_token(request: Request, tenant_id: TenantId, body: TokenCreate) -> dict[str, Any]:
    """A new active token; the token text appears in this response and never again."""
    token_id = str(uuid.uuid4())
    token = new_secret("pdl")
    # Recorded and listed (never replayed: the text is not kept), so a client whose create
    # answer was lost can find exactly the token it made (docs/pendula-token-api.md).
    key = (request.headers.get("idempotency-key") or "").strip()[:200] or None
    with _store(request).connect() as conn:
        conn.execute(
            "INSERT INTO pendula_tokens (id, tenant_id, name, description, token_hash, status,"
            " created_at, idempotency_key) VALUES (?, ?, ?, ?, ?, 'active', ?, ?)",
            (
                token_id,
                tenant_id,
                body.name,
                body.description,
                hash_secret(token),
                utc_now_iso(),
                key,
            ),
        )
        created = _token_row(conn, tenant_id, token_id)
    return {**created, "token": token}


@router.get("/api/v1/tokens")
def list_tokens(
    request: Request, tenant_id: TenantId, limit: int = DEFAULT_LIMIT, cursor: str | None = None
) -> dict[str, Any]:
    """The tenant's tokens, oldest first, one page at a time."""
    check_limit(limit)
    after = decode_cursor(cursor)
    with _store(request).connect() as conn:
        rows = conn.execute(
            "SELECT seq, id, name, description, status, tenant_id, created_at, idempotency_key"
            " FROM pendula_tokens"
            " WHERE tenant_id = ? AND seq > ? ORDER BY seq LIMIT ?",
            (tenant_id, after, limit + 1),
        ).fetchall()
    page = [dict(row) for row in rows[:limit]]
    next_cursor = encode_cursor(page[-1]["seq"]) if len(rows) > limit else None
    return {
        "items": [{k: v for k, v in item.items() if k != "seq"} for item in page],
        "next_cursor": next_cursor,
    }


@router.get("/api/v1/tokens/{token_id}")
def get_token(request: Request, tenant_id: TenantId, token_id: str) -> dict[str, Any]:
    """One token, without its text."""
    with _store(request).connect() as conn:
        return _token_row(conn, tenant_id, token_id)


@router.patch("/api/v1/tokens/{token_id}")
def update_token(
    request: Request, tenant_id: TenantId, token_id: str, body: TokenUpdate
) -> dict[str, Any]:
    """Edit Name and/or Description ("Update connection" in the UI)."""
    with _store(request).connect() as conn:
        _token_row(conn, tenant_id, token_id)
        # An omitted field arrives as None (explicit nulls are rejected by the model).
        conn.execute(
            "UPDATE pendula_tokens SET name = COALESCE(?, name),"
            " description = COALESCE(?, description) WHERE id = ?",
            (body.name, body.description, token_id),
        )
        return _token_row(conn, tenant_id, token_id)


@router.post("/api/v1/tokens/{token_id}/deactivate", status_code=202)
def deactivate_token(request: Request, tenant_id: TenantId, token_id: str) -> dict[str, Any]:
    """Mark the token inactive; inbound calls fail once the deactivation delay has passed.

    202 rather than 200 because Pendula says deactivation "can take up to 60 seconds".
    Deactivating an inactive token keeps the original deactivation time.
    """
    with _store(request).connect() as conn:
        _token_row(conn, tenant_id, token_id)
        conn.execute(
            "UPDATE pendula_tokens SET status = 'inactive',"
            " deactivated_at = COALESCE(deactivated_at, ?) WHERE id = ?",
            (time.time(), token_id),
        )
        return _token_row(conn, tenant_id, token_id)


@router.post("/api/v1/tokens/{token_id}/reactivate")
def reactivate_token(request: Request, tenant_id: TenantId, token_id: str) -> dict[str, Any]:
    """Make the token active again, immediately."""
    with _store(request).connect() as conn:
        _token_row(conn, tenant_id, token_id)
        conn.execute(
            "UPDATE pendula_tokens SET status = 'active', deactivated_at = NULL WHERE id = ?",
            (token_id,),
        )
        return _token_row(conn, tenant_id, token_id)
