"""Public API stand-in for destination subscriptions (the UI's "mappings"), alpha endpoints.

Writes (create, update, delete) share Segment's documented 5-per-minute limit per workspace.
"""

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
    V1AlphaJson,
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
from sandbox.segment_api.destinations import load_destination
from sandbox.segment_api.fields import checked_bool, checked_object

SCHEMA = """
CREATE TABLE IF NOT EXISTS segment_subscriptions (
    id TEXT PRIMARY KEY,
    destination_id TEXT NOT NULL,
    name TEXT NOT NULL,
    action_id TEXT NOT NULL,
    action_slug TEXT NOT NULL,
    enabled INTEGER NOT NULL,
    trigger TEXT NOT NULL,
    settings TEXT NOT NULL,
    created_at REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS segment_subscriptions_destination
    ON segment_subscriptions (destination_id);
"""

router = APIRouter(route_class=SegmentRoute, default_response_class=V1AlphaJson)


def subscription_view(row: sqlite3.Row) -> dict[str, Any]:
    """A row as the SDK's `DestinationSubscription`; settings as an object, header values as stored.

    `modelId` comes back as "" for non-Reverse-ETL subscriptions, which the provider normalises.
    """
    return {
        "id": row["id"],
        "name": row["name"],
        "actionId": row["action_id"],
        "actionSlug": row["action_slug"],
        "destinationId": row["destination_id"],
        "enabled": bool(row["enabled"]),
        "trigger": row["trigger"],
        "settings": json.loads(row["settings"]),
        "modelId": "",
    }


def _load(
    conn: sqlite3.Connection, workspace: Workspace, destination_id: str, subscription_id: str
) -> sqlite3.Row:
    """The subscription under the caller's destination; 404 naming whichever is missing."""
    load_destination(conn, workspace, destination_id)
    row: sqlite3.Row | None = conn.execute(
        "SELECT * FROM segment_subscriptions WHERE id = ? AND destination_id = ?",
        (subscription_id, destination_id),
    ).fetchone()
    if row is None:
        raise not_found("Subscription", subscription_id)
    return row


def _name(field: str, value: Any) -> str:
    if not isinstance(value, str) or not value.strip():
        raise invalid(field, f"{value!r} is not a non-empty string.")
    return value


def _trigger(field: str, value: Any) -> str:
    # Segment's runtime rejects every event of an unparsable trigger; the API accepts any text
    # (whether it validates FQL at write time is unverified), so parsing happens at delivery.
    if not isinstance(value, str) or not value.strip():
        raise invalid(field, f"{value!r} is not a trigger; send a non-empty FQL string.")
    return value


@router.post("/destinations/{destination_id}/subscriptions")
async def create_subscription(
    destination_id: str,
    request: Request,
    response: Response,
    workspace: Caller,
) -> dict[str, Any]:
    """Body {name, actionId, trigger, enabled, settings?, modelId?} -> destinationSubscription."""
    rate_limit(request, response, workspace, "subscription-writes")
    body = await json_object(request)
    name = _name("name", body.get("name"))
    trigger = _trigger("trigger", body.get("trigger"))
    enabled = checked_bool("enabled", body.get("enabled"))
    settings = checked_object("settings", body.get("settings") or {})
    if body.get("modelId"):
        raise invalid("modelId", "Reverse ETL models are not supported by this sandbox.")
    action_id = body.get("actionId")
    subscription_id = new_id()
    with transaction(request) as conn:
        destination = load_destination(conn, workspace, destination_id)
        action = catalog.action(destination["metadata_id"], action_id) if action_id else None
        if action is None:
            meta = catalog.destination_metadata(destination["metadata_id"]) or {"actions": []}
            allowed = [f"{a['id']} ({a['slug']})" for a in meta["actions"]]
            raise invalid(
                "actionId",
                f"{action_id!r} is not an action of this destination; allowed {allowed}.",
            )
        conn.execute(
            "INSERT INTO segment_subscriptions (id, destination_id, name, action_id, action_slug,"
            " enabled, trigger, settings, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                subscription_id,
                destination_id,
                name,
                action["id"],
                action["slug"],
                int(enabled),
                trigger,
                json.dumps(settings),
                time.time(),
            ),
        )
        row = _load(conn, workspace, destination_id, subscription_id)
    return {"data": {"destinationSubscription": subscription_view(row)}}


@router.get("/destinations/{destination_id}/subscriptions")
def list_subscriptions(
    destination_id: str,
    request: Request,
    response: Response,
    workspace: Caller,
) -> dict[str, Any]:
    rate_limit(request, response, workspace, "general")
    page = page_from(request)
    with transaction(request) as conn:
        load_destination(conn, workspace, destination_id)
        rows, pagination = list_page(
            conn, "segment_subscriptions", "destination_id", destination_id, page
        )
    return {
        "data": {"subscriptions": [subscription_view(r) for r in rows], "pagination": pagination}
    }


@router.get("/destinations/{destination_id}/subscriptions/{subscription_id}")
def get_subscription(
    destination_id: str,
    subscription_id: str,
    request: Request,
    response: Response,
    workspace: Caller,
) -> dict[str, Any]:
    rate_limit(request, response, workspace, "general")
    with transaction(request) as conn:
        row = _load(conn, workspace, destination_id, subscription_id)
    return {"data": {"subscription": subscription_view(row)}}


@router.patch("/destinations/{destination_id}/subscriptions/{subscription_id}")
async def update_subscription(
    destination_id: str,
    subscription_id: str,
    request: Request,
    response: Response,
    workspace: Caller,
) -> dict[str, Any]:
    """Body `{"input": {name?, trigger?, enabled?, settings?}}` -> `data.subscription`.

    Fields absent from `input` keep their value; `settings`, when sent, replaces the mapping
    as a whole (a mapping is edited as one object in Segment's UI; partial merge is unverified).
    """
    rate_limit(request, response, workspace, "subscription-writes")
    body = await json_object(request)
    update = body.get("input")
    if not isinstance(update, dict):
        raise invalid(
            "input",
            'is required: send {"input": {name?, trigger?, enabled?, settings?}}.',
        )
    if update.get("reverseETLModelId") or update.get("reverseETLSchedule"):
        raise invalid("input.reverseETLModelId", "Reverse ETL is not supported by this sandbox.")
    with transaction(request) as conn:
        row = _load(conn, workspace, destination_id, subscription_id)
        name = (
            _name("input.name", update["name"]) if update.get("name") is not None else row["name"]
        )
        trigger = (
            _trigger("input.trigger", update["trigger"])
            if update.get("trigger") is not None
            else row["trigger"]
        )
        enabled = (
            checked_bool("input.enabled", update["enabled"])
            if update.get("enabled") is not None
            else bool(row["enabled"])
        )
        settings = (
            checked_object("input.settings", update["settings"])
            if update.get("settings") is not None
            else json.loads(row["settings"])
        )
        conn.execute(
            "UPDATE segment_subscriptions SET name = ?, trigger = ?, enabled = ?, settings = ?"
            " WHERE id = ?",
            (name, trigger, int(enabled), json.dumps(settings), subscription_id),
        )
        row = _load(conn, workspace, destination_id, subscription_id)
    return {"data": {"subscription": subscription_view(row)}}


@router.delete("/destinations/{destination_id}/subscriptions/{subscription_id}")
def delete_subscription(
    destination_id: str,
    subscription_id: str,
    request: Request,
    response: Response,
    workspace: Caller,
) -> dict[str, Any]:
    rate_limit(request, response, workspace, "subscription-writes")
    with transaction(request) as conn:
        _load(conn, workspace, destination_id, subscription_id)
        conn.execute("DELETE FROM segment_subscriptions WHERE id = ?", (subscription_id,))
    return {"data": {"status": "SUCCESS"}}
