"""Public API stand-in for sources: the calls `segment_source` makes, plus list and connections."""

from __future__ import annotations

import json
import re
import secrets
import sqlite3
import time
from typing import Any

from fastapi import APIRouter, Request, Response

from sandbox.segment_api import catalog
from sandbox.segment_api.conventions import (
    ApiError,
    Caller,
    SegmentRoute,
    V1Json,
    Workspace,
    invalid,
    json_object,
    list_page,
    new_id,
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

SCHEMA = """
CREATE TABLE IF NOT EXISTS segment_sources (
    id TEXT PRIMARY KEY,
    workspace_id TEXT NOT NULL,
    slug TEXT NOT NULL,
    name TEXT,
    enabled INTEGER NOT NULL,
    metadata_id TEXT NOT NULL,
    settings TEXT NOT NULL,
    labels TEXT NOT NULL,
    write_key TEXT NOT NULL UNIQUE,
    created_at REAL NOT NULL,
    UNIQUE (workspace_id, slug)
);
"""

_SLUG = re.compile(r"^[a-z0-9][a-z0-9_-]{0,99}$")

router = APIRouter(route_class=SegmentRoute, default_response_class=V1Json)


def source_view(row: sqlite3.Row) -> dict[str, Any]:
    """A row as `SourceV1` (name omitted when unset, as the SDK's ToMap does)."""
    view: dict[str, Any] = {
        "id": row["id"],
        "slug": row["slug"],
        "metadata": catalog.source_metadata(row["metadata_id"]),
        "workspaceId": row["workspace_id"],
        "enabled": bool(row["enabled"]),
        "writeKeys": [row["write_key"]],
        "settings": json.loads(row["settings"]),
        "labels": json.loads(row["labels"]),
    }
    if row["name"] is not None:
        view["name"] = row["name"]
    return view


def load_source(conn: sqlite3.Connection, workspace: Workspace, source_id: str) -> sqlite3.Row:
    row: sqlite3.Row | None = conn.execute(
        "SELECT * FROM segment_sources WHERE id = ? AND workspace_id = ?",
        (source_id, workspace.id),
    ).fetchone()
    if row is None:
        raise not_found("Source", source_id)
    return row


def _slug(value: Any) -> str:
    if not isinstance(value, str) or not _SLUG.match(value):
        raise invalid(
            "slug",
            f"{value!r} is not a valid slug; use 1-100 of a-z, 0-9, '-', '_' (first a-z0-9).",
        )
    return value


def _check_slug_free(conn: sqlite3.Connection, workspace: Workspace, slug: str) -> None:
    """Slugs are unique per workspace; 409 when another source has `slug`."""
    taken = conn.execute(
        "SELECT 1 FROM segment_sources WHERE workspace_id = ? AND slug = ?",
        (workspace.id, slug),
    ).fetchone()
    if taken:
        raise ApiError(409, "conflict", f"slug: a source with slug {slug!r} already exists.")


def _labels(value: Any) -> list[dict[str, str]]:
    if not isinstance(value, list) or not all(
        isinstance(item, dict)
        and set(item) == {"key", "value"}
        and all(isinstance(v, str) and v for v in item.values())
        for item in value
    ):
        raise invalid("labels", "must be a list of {key, value} objects with non-empty strings.")
    return [{"key": item["key"], "value": item["value"]} for item in value]


@router.post("/sources", status_code=201)
async def create_source(request: Request, response: Response, workspace: Caller) -> dict[str, Any]:
    rate_limit(request, response, workspace, "general")
    body = await json_object(request)
    slug = _slug(body.get("slug"))
    enabled = checked_bool("enabled", body.get("enabled"))
    metadata_id = body.get("metadataId")
    if not isinstance(metadata_id, str) or catalog.source_metadata(metadata_id) is None:
        raise invalid(
            "metadataId",
            f"{metadata_id!r} is not a source type of this catalog; "
            f"allowed {sorted(catalog.SOURCE_TYPES)}.",
        )
    settings = checked_object("settings", body.get("settings", {}))
    source_id = new_id()
    with transaction(request) as conn:
        _check_slug_free(conn, workspace, slug)
        conn.execute(
            "INSERT INTO segment_sources (id, workspace_id, slug, name, enabled, metadata_id,"
            " settings, labels, write_key, created_at) VALUES (?, ?, ?, NULL, ?, ?, ?, '[]', ?, ?)",
            (
                source_id,
                workspace.id,
                slug,
                int(enabled),
                metadata_id,
                json.dumps(settings),
                secrets.token_urlsafe(24),
                time.time(),
            ),
        )
        row = load_source(conn, workspace, source_id)
    return {"data": {"source": source_view(row)}}


@router.get("/sources")
def list_sources(request: Request, response: Response, workspace: Caller) -> dict[str, Any]:
    rate_limit(request, response, workspace, "general")
    page = page_from(request)
    with transaction(request) as conn:
        rows, pagination = list_page(conn, "segment_sources", "workspace_id", workspace.id, page)
    return {"data": {"sources": [source_view(r) for r in rows], "pagination": pagination}}


@router.get("/sources/{source_id}")
def get_source(
    source_id: str,
    request: Request,
    response: Response,
    workspace: Caller,
) -> dict[str, Any]:
    rate_limit(request, response, workspace, "general")
    with transaction(request) as conn:
        row = load_source(conn, workspace, source_id)
    return {"data": {"source": source_view(row)}}


@router.patch("/sources/{source_id}")
async def update_source(
    source_id: str,
    request: Request,
    response: Response,
    workspace: Caller,
) -> dict[str, Any]:
    """Fields absent from the body stay; a settings key sent as null is removed (how the
    Terraform provider deletes keys dropped from config)."""
    rate_limit(request, response, workspace, "general")
    body = await json_object(request)
    with transaction(request) as conn:
        row = load_source(conn, workspace, source_id)
        slug = _slug(body["slug"]) if "slug" in body else row["slug"]
        enabled = (
            checked_bool("enabled", body["enabled"]) if "enabled" in body else bool(row["enabled"])
        )
        name = checked_optional_str("name", body["name"]) if "name" in body else row["name"]
        settings = json.loads(row["settings"])
        if body.get("settings") is not None:
            settings = merge_settings(settings, checked_object("settings", body["settings"]))
        if slug != row["slug"]:
            _check_slug_free(conn, workspace, slug)
        conn.execute(
            "UPDATE segment_sources SET slug = ?, enabled = ?, name = ?, settings = ? WHERE id = ?",
            (slug, int(enabled), name, json.dumps(settings), source_id),
        )
        row = load_source(conn, workspace, source_id)
    return {"data": {"source": source_view(row)}}


@router.delete("/sources/{source_id}")
def delete_source(
    source_id: str,
    request: Request,
    response: Response,
    workspace: Caller,
) -> dict[str, Any]:
    """Deletes the source and (sandbox choice) everything connected to it."""
    rate_limit(request, response, workspace, "general")
    with transaction(request) as conn:
        load_source(conn, workspace, source_id)
        conn.execute(
            "DELETE FROM segment_subscriptions WHERE destination_id IN"
            " (SELECT id FROM segment_destinations WHERE source_id = ?)",
            (source_id,),
        )
        conn.execute("DELETE FROM segment_destinations WHERE source_id = ?", (source_id,))
        conn.execute("DELETE FROM segment_sources WHERE id = ?", (source_id,))
    return {"data": {"status": "SUCCESS"}}


@router.put("/sources/{source_id}/labels")
async def replace_labels(
    source_id: str,
    request: Request,
    response: Response,
    workspace: Caller,
) -> dict[str, Any]:
    rate_limit(request, response, workspace, "general")
    body = await json_object(request)
    labels = _labels(body.get("labels"))
    with transaction(request) as conn:
        load_source(conn, workspace, source_id)
        conn.execute(
            "UPDATE segment_sources SET labels = ? WHERE id = ?",
            (json.dumps(labels), source_id),
        )
    return {"data": {"labels": labels}}


@router.get("/sources/{source_id}/settings")
def get_source_settings(
    source_id: str,
    request: Request,
    response: Response,
    workspace: Caller,
) -> dict[str, Any]:
    """Protocols settings (`SourceSettingsOutputV1`): empty, the sandbox has no tracking plans."""
    rate_limit(request, response, workspace, "general")
    with transaction(request) as conn:
        load_source(conn, workspace, source_id)
    return {"data": {"settings": {}}}
