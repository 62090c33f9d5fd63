"""Sandbox-only control: create a tenant and receive its admin token for the management API."""

from __future__ import annotations

import uuid

from fastapi import APIRouter, Request

from sandbox.pendula.auth import hash_secret, new_secret
from sandbox.pendula.errors import PendulaRoute, StrictBody
from sandbox.pendula.timestamps import utc_now_iso
from sandbox.store import Store

router = APIRouter(route_class=PendulaRoute)


class TenantCreate(StrictBody):
    """No fields yet: every tenant is alike; the body is `{}` or absent."""


@router.post("/_sandbox/pendula/tenants", status_code=201)
def create_tenant(request: Request, body: TenantCreate | None = None) -> dict[str, str]:
    """A new tenant; its admin token is returned here only, like Pendula's "shown once"."""
    tenant_id = str(uuid.uuid4())
    admin_token = new_secret("pdla")
    store: Store = request.app.state.store
    with store.connect() as conn:
        conn.execute(
            "INSERT INTO pendula_tenants (id, admin_token_hash, created_at) VALUES (?, ?, ?)",
            (tenant_id, hash_secret(admin_token), utc_now_iso()),
        )
    return {"tenant_id": tenant_id, "admin_token": admin_token}
