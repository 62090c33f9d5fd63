"""Public API stand-in for destinations: the calls `segment_destination` makes, plus list."""

from __future__ import annotations

import json
import sqlite3
import time
from typing import Any

from fastapi import APIRouter, Request, Response

from sandbox.segment_api import catalog
from sandbox.segment_api.conventions import (
    Caller,
    SegmentRoute,
    V1Json,
    Workspace,
    invalid,
    json_object,
    list_page,
    new_object_id,
    not_found,
    page_from,
    rate_limit,
    transaction,
)
from sandbox.segment_api.fields import (
    checked_bool,
    checked_object,
    checked_optional_str,
    merge_settings,
)
from sandbox.segment_api.sources import load_source

SCHEMA = """
CREATE TABLE IF NOT EXISTS segment_destinations (
    id TEXT PRIMARY KEY,
    workspace_id TEXT NOT NULL,
    source_id TEXT NOT NULL,
    metadata_id TEXT NOT NULL,
    name TEXT,
    enabled INTEGER NOT NULL,
    settings TEXT NOT NULL,
    created_at REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS segment_destinations_source ON segment_destinations (source_id);
"""

# What a censored secret looks like on read. Segment's exact mask is undocumented; the
# Terraform provider only checks for the bullet character (mergeSettings), and a fixed-length
# mask does not reveal the secret's length.
CENSORED = "••••••••"

router = APIRouter(route_class=SegmentRoute, default_response_class=V1Json)


def censor(metadata_id: str, settings: dict[str, Any]) -> dict[str, Any]:
    """Settings as Segment returns them: non-empty secret-typed values replaced by bullets."""
    secret = catalog.secret_options(metadata_id)
    return {
        key: CENSORED if key in secret and isinstance(value, str) and value else value
        for key, value in settings.items()
    }


def destination_view(row: sqlite3.Row) -> dict[str, Any]:
    """A row as `DestinationV1`, secrets censored, name omitted when unset."""
    view: dict[str, Any] = {
        "id": row["id"],
        "enabled": bool(row["enabled"]),
        "metadata": catalog.destination_metadata(row["metadata_id"]),
        "sourceId": row["source_id"],
        "settings": censor(row["metadata_id"], json.loads(row["settings"])),
    }
    if row["name"] is not None:
        view["name"] = row["name"]
    return view


def load_destination(
    conn: sqlite3.Connection, workspace: Workspace, destination_id: str
) -> sqlite3.Row:
    row: sqlite3.Row | None = conn.execute(
        "SELECT * FROM segment_destinations WHERE id = ? AND workspace_id = ?",
        (destination_id, workspace.id),
    ).fetchone()
    if row is None:
        raise not_found("Destination", destination_id)
    return row


def _checked_settings(metadata_id: str, value: Any) -> dict[str, Any]:
    """Settings must be an object; secret options (sharedSecret) must be strings."""
    settings = checked_object("settings", value)
    for key in catalog.secret_options(metadata_id):
        secret = settings.get(key)
        if secret is not None and not isinstance(secret, str):
            raise invalid(f"settings.{key}", f"must be a string, got {type(secret).__name__}.")
    return settings


@router.post("/destinations")
async def create_destination(
    request: Request, response: Response, workspace: Caller
) -> dict[str, Any]:
    """Body {sourceId, metadataId, enabled?, name?, settings}; answers 200 (per the SDK)."""
    rate_limit(request, response, workspace, "general")
    body = await json_object(request)
    source_id = body.get("sourceId")
    if not isinstance(source_id, str) or not source_id:
        raise invalid("sourceId", f"{source_id!r} is not a source id.")
    metadata_id = body.get("metadataId")
    if not isinstance(metadata_id, str) or catalog.destination_metadata(metadata_id) is None:
        raise invalid(
            "metadataId",
            f"{metadata_id!r} is not in this catalog; allowed "
            f"{catalog.WEBHOOKS_ACTIONS_ID!r} (Webhooks (Actions)).",
        )
    enabled = checked_bool("enabled", body.get("enabled", False))
    name = checked_optional_str("name", body.get("name"))
    if "settings" not in body:
        raise invalid("settings", "is required (an object, may be empty).")
    settings = {
        k: v for k, v in _checked_settings(metadata_id, body["settings"]).items() if v is not None
    }
    destination_id = new_object_id()
    with transaction(request) as conn:
        load_source(conn, workspace, source_id)
        conn.execute(
            "INSERT INTO segment_destinations (id, workspace_id, source_id, metadata_id, name,"
            " enabled, settings, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (
                destination_id,
                workspace.id,
                source_id,
                metadata_id,
                name,
                int(enabled),
                json.dumps(settings),
                time.time(),
            ),
        )
        row = load_destination(conn, workspace, destination_id)
    return {"data": {"destination": destination_view(row)}}


@router.get("/destinations")
def list_destinations(request: Request, response: Response, workspace: Caller) -> dict[str, Any]:
    rate_limit(request, response, workspace, "general")
    page = page_from(request)
    with transaction(request) as conn:
        rows, pagination = list_page(
            conn, "segment_destinations", "workspace_id", workspace.id, page
        )
    return {"data": {"destinations": [destination_view(r) for r in rows], "pagination": pagination}}


@router.get("/destinations/{destination_id}")
def get_destination(
    destination_id: str,
    request: Request,
    response: Response,
    workspace: Caller,
) -> dict[str, Any]:
    rate_limit(request, response, workspace, "general")
    with transaction(request) as conn:
        row = load_destination(conn, workspace, destination_id)
    return {"data": {"destination": destination_view(row)}}


@router.patch("/destinations/{destination_id}")
async def update_destination(
    destination_id: str,
    request: Request,
    response: Response,
    workspace: Caller,
) -> dict[str, Any]:
    """`UpdateDestinationV1Input` = {name (nullable), enabled?, settings?}.

    Settings merge key by key: keys absent from the body keep their value; a key sent as null is
    removed. A censored value sent back unchanged (bullets) keeps the stored secret, so a
    read-modify-write round trip cannot overwrite a secret with its mask.
    """
    rate_limit(request, response, workspace, "general")
    body = await json_object(request)
    with transaction(request) as conn:
        row = load_destination(conn, workspace, destination_id)
        enabled = bool(row["enabled"])
        if "enabled" in body and body["enabled"] is not None:
            if not isinstance(body["enabled"], bool):
                raise invalid("enabled", f"{body['enabled']!r} is not a boolean.")
            enabled = body["enabled"]
        name = checked_optional_str("name", body["name"]) if "name" in body else row["name"]
        settings = json.loads(row["settings"])
        if body.get("settings") is not None:
            patch = _checked_settings(row["metadata_id"], body["settings"])
            settings = merge_settings(settings, patch, mask=CENSORED)
        conn.execute(
            "UPDATE segment_destinations SET enabled = ?, name = ?, settings = ? WHERE id = ?",
            (int(enabled), name, json.dumps(settings), destination_id),
        )
        row = load_destination(conn, workspace, destination_id)
    return {"data": {"destination": destination_view(row)}}


@router.delete("/destinations/{destination_id}")
def delete_destination(
    destination_id: str,
    request: Request,
    response: Response,
    workspace: Caller,
) -> dict[str, Any]:
    rate_limit(request, response, workspace, "general")
    with transaction(request) as conn:
        load_destination(conn, workspace, destination_id)
        conn.execute(
            "DELETE FROM segment_subscriptions WHERE destination_id = ?",
            (destination_id,),
        )
        conn.execute("DELETE FROM segment_destinations WHERE id = ?", (destination_id,))
    return {"data": {"status": "SUCCESS"}}


@router.get("/sources/{source_id}/connected-destinations")
def list_connected_destinations(
    source_id: str,
    request: Request,
    response: Response,
    workspace: Caller,
) -> dict[str, Any]:
    rate_limit(request, response, workspace, "general")
    page = page_from(request)
    with transaction(request) as conn:
        load_source(conn, workspace, source_id)
        rows, pagination = list_page(conn, "segment_destinations", "source_id", source_id, page)
    return {"data": {"destinations": [destination_view(r) for r in rows], "pagination": pagination}}
