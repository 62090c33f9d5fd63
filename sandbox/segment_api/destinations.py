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
    new_object_id,
    not_found,
    page_from,
    pagination_output,
    rate_limit,
)
from sandbox.segment_api.sources import load_source
from sandbox.store import Store

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
    if not isinstance(value, dict):
        raise invalid("settings", f"must be a JSON object, got {type(value).__name__}.")
    for key in catalog.secret_options(metadata_id):
        if key in value and value[key] is not None and not isinstance(value[key], str):
            raise invalid(f"settings.{key}", f"must be a string, got {type(value[key]).__name__}.")
    return value


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
    enabled = body.get("enabled", False)
    if not isinstance(enabled, bool):
        raise invalid("enabled", f"{enabled!r} is not a boolean; allowed true or false.")
    name = body.get("name")
    if name is not None and not isinstance(name, str):
        raise invalid("name", f"{name!r} is not a string.")
    if "settings" not in body:
        raise invalid("settings", "is required (an object, may be empty).")
    settings = {
        k: v for k, v in _checked_settings(metadata_id, body["settings"]).items() if v is not None
    }
    store: Store = request.app.state.store
    destination_id = new_object_id()
    with store.connect() as conn:
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
    store: Store = request.app.state.store
    with store.connect() as conn:
        total = conn.execute(
            "SELECT COUNT(*) FROM segment_destinations WHERE workspace_id = ?",
            (workspace.id,),
        ).fetchone()[0]
        rows = conn.execute(
            "SELECT * FROM segment_destinations WHERE workspace_id = ? ORDER BY created_at, id"
            " LIMIT ? OFFSET ?",
            (workspace.id, page.count, page.offset),
        ).fetchall()
    return {
        "data": {
            "destinations": [destination_view(r) for r in rows],
            "pagination": pagination_output(page, total),
        }
    }


@router.get("/destinations/{destination_id}")
def get_destination(
    destination_id: str,
    request: Request,
    response: Response,
    workspace: Caller,
) -> dict[str, Any]:
    rate_limit(request, response, workspace, "general")
    store: Store = request.app.state.store
    with store.connect() as conn:
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
    store: Store = request.app.state.store
    with store.connect() as conn:
        row = load_destination(conn, workspace, destination_id)
        enabled = bool(row["enabled"])
        if "enabled" in body and body["enabled"] is not None:
            if not isinstance(body["enabled"], bool):
                raise invalid("enabled", f"{body['enabled']!r} is not a boolean.")
            enabled = body["enabled"]
        name = row["name"]
        if "name" in body:
            if body["name"] is not None and not isinstance(body["name"], str):
                raise invalid("name", f"{body['name']!r} is not a string.")
            name = body["name"]
        settings = json.loads(row["settings"])
        if body.get("settings") is not None:
            patch = _checked_settings(row["metadata_id"], body["settings"])
            for key, value in patch.items():
                if value is None:
                    settings.pop(key, None)
                elif value != CENSORED:
                    settings[key] = value
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
    store: Store = request.app.state.store
    with store.connect() as conn:
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
    store: Store = request.app.state.store
    with store.connect() as conn:
        load_source(conn, workspace, source_id)
        total = conn.execute(
            "SELECT COUNT(*) FROM segment_destinations WHERE source_id = ?",
            (source_id,),
        ).fetchone()[0]
        rows = conn.execute(
            "SELECT * FROM segment_destinations WHERE source_id = ? ORDER BY created_at, id"
            " LIMIT ? OFFSET ?",
            (source_id, page.count, page.offset),
        ).fetchall()
    return {
        "data": {
            "destinations": [destination_view(r) for r in rows],
            "pagination": pagination_output(page, total),
        }
    }
