"""Credentials of the Pendula stand-in: issuing, hashing and checking admin and API tokens."""

from __future__ import annotations

import base64
import binascii
import hashlib
import secrets
from typing import Annotated, NamedTuple

from fastapi import Depends, Request

from sandbox.pendula.errors import PendulaApiError
from sandbox.store import Store


def new_secret(prefix: str) -> str:
    """A fresh random credential; the prefix tells a reader which kind it is."""
    return f"{prefix}_{secrets.token_urlsafe(32)}"


def hash_secret(secret: str) -> str:
    """The only form in which a credential is stored.

    Plain SHA-256 suffices: the credentials are 256-bit random strings, not passwords.
    """
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def _unauthorized(message: str) -> PendulaApiError:
    return PendulaApiError(401, "unauthorized", message, {"WWW-Authenticate": "Bearer"})


def require_tenant(request: Request) -> str:
    """The tenant whose admin token authorises this management call (401 otherwise)."""
    header = request.headers.get("authorization")
    if header is None:
        raise _unauthorized(
            "missing Authorization header; send 'Authorization: Bearer <admin token>'"
        )
    scheme, _, credential = header.partition(" ")
    if scheme.lower() != "bearer" or not credential.strip():
        raise _unauthorized("the management API accepts only 'Authorization: Bearer <admin token>'")
    store: Store = request.app.state.store
    with store.connect() as conn:
        row = conn.execute(
            "SELECT id FROM pendula_tenants WHERE admin_token_hash = ?",
            (hash_secret(credential.strip()),),
        ).fetchone()
    if row is None:
        raise _unauthorized("the admin token is not valid for any tenant")
    tenant_id: str = row["id"]
    return tenant_id


TenantId = Annotated[str, Depends(require_tenant)]
"""Endpoint parameter type: the authenticated tenant's id."""


class InboundCredential(NamedTuple):
    """What a webhook caller presented: the scheme, the API token and, for Basic, the tenant."""

    scheme: str
    token: str
    tenant_id: str | None


def parse_inbound_authorization(header: str | None) -> InboundCredential:
    """Read `Bearer <token>` or `Basic base64(<tenant_id>:<token>)` (pendula.md §1.2)."""
    if header is None:
        raise _unauthorized(
            "missing Authorization header; send 'Bearer <API token>' or"
            " 'Basic base64(<tenant id>:<API token>)'"
        )
    scheme, _, credential = header.partition(" ")
    credential = credential.strip()
    if scheme.lower() == "bearer" and credential:
        return InboundCredential("bearer", credential, None)
    if scheme.lower() == "basic" and credential:
        try:
            decoded = base64.b64decode(credential, validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError):
            raise _unauthorized(
                "Basic credentials are not valid base64 of '<tenant id>:<API token>'"
            ) from None
        tenant_id, colon, token = decoded.partition(":")
        if not colon or not tenant_id or not token:
            raise _unauthorized("Basic credentials must be '<tenant id>:<API token>'")
        return InboundCredential("basic", token, tenant_id)
    raise _unauthorized(
        "unsupported Authorization scheme; use 'Bearer <API token>' or"
        " 'Basic base64(<tenant id>:<API token>)'"
    )
