"""Segment's Tracking API on the stand-in: `/v1/track|identify|page|screen|group|alias|batch`.

Authentication follows Segment's HTTP API docs: the source's write key as the Basic-auth user name
(empty password), or `writeKey` in the body (what analytics-python sends as well). Like the real
API (segmentio/analytics-ruby#257), an unknown write key still gets 200; the sandbox records the
event as dropped so tests can see why nothing was delivered.
"""

from __future__ import annotations

import base64
import binascii
import json
import sqlite3
import time
import uuid
from datetime import UTC, datetime
from typing import Any

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse

from sandbox.limits import BodyTooLargeError, gunzip_limited, parse_json
from sandbox.store import Store
from sandbox.tracking import matching
from sandbox.tracking.runtime import wake_workers

SCHEMA = """
CREATE TABLE IF NOT EXISTS segment_events (
    id TEXT PRIMARY KEY,
    source_id TEXT,
    message_id TEXT NOT NULL,
    type TEXT NOT NULL,
    body TEXT NOT NULL,
    received_at REAL NOT NULL,
    note TEXT
);
CREATE UNIQUE INDEX IF NOT EXISTS segment_events_dedup
    ON segment_events (source_id, message_id) WHERE source_id IS NOT NULL;
"""

EVENT_TYPES = ("track", "identify", "page", "screen", "group", "alias")
# Documented Tracking API limits: 32 KB per call, 500 KB per batch request.
MAX_EVENT_BYTES = 32 * 1024
MAX_BATCH_BYTES = 500 * 1024


class IntakeError(Exception):
    """A 400 in the shape analytics-python reads: `{"code", "message"}`."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message

    def response(self) -> JSONResponse:
        return JSONResponse(
            {"success": False, "code": self.code, "message": self.message}, status_code=400
        )


def _iso_now() -> str:
    return datetime.now(tz=UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def decode_body(raw: bytes, content_encoding: str | None) -> dict[str, Any]:
    """The JSON object of a tracking call, gunzipped when the client compressed it."""
    if (content_encoding or "").lower() == "gzip":
        try:
            # Inflated only up to the batch limit: a small zip bomb stays small.
            raw = gunzip_limited(raw, MAX_BATCH_BYTES)
        except BodyTooLargeError:
            raise IntakeError("too_large", "The inflated request exceeds 500 KB.") from None
        except (OSError, EOFError) as exc:
            raise IntakeError(
                "invalid_body", "Content-Encoding is gzip but the body is not."
            ) from exc
    if len(raw) > MAX_BATCH_BYTES:
        raise IntakeError("too_large", f"The request is {len(raw)} bytes; the limit is 500 KB.")
    try:
        body = parse_json(raw or b"null")
    except ValueError as exc:
        raise IntakeError("invalid_json", f"The body is not valid JSON: {exc}.") from exc
    if not isinstance(body, dict):
        raise IntakeError("invalid_json", "The body must be a JSON object.")
    return body


def write_key_of(authorization: str | None, body: dict[str, Any]) -> str:
    """The write key: Basic-auth user name first, else `writeKey` in the body."""
    if authorization and authorization.lower().startswith("basic "):
        try:
            decoded = base64.b64decode(authorization[6:].strip(), validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError) as exc:
            raise IntakeError(
                "invalid_auth", "The Basic Authorization header is malformed."
            ) from exc
        user = decoded.partition(":")[0]
        if user:
            return user
    key = body.get("writeKey")
    if isinstance(key, str) and key:
        return key
    raise IntakeError(
        "missing_write_key",
        "No write key: send it as the Basic-auth user name or as writeKey in the body.",
    )


def normalise(message: Any, event_type: str | None, batch: dict[str, Any]) -> dict[str, Any]:
    """One message as Segment stores it: type, messageId, receivedAt, timestamp filled in."""
    if not isinstance(message, dict):
        raise IntakeError("invalid_message", "Every event must be a JSON object.")
    event = {k: v for k, v in message.items() if k != "writeKey"}
    kind = event_type or event.get("type")
    if kind not in EVENT_TYPES:
        raise IntakeError(
            "invalid_type", f"type {kind!r} is not allowed; allowed {list(EVENT_TYPES)}."
        )
    event["type"] = kind
    if not event.get("userId") and not event.get("anonymousId"):
        raise IntakeError("missing_identity", f"{kind} events need a userId or an anonymousId.")
    required = {"track": "event", "group": "groupId", "alias": "previousId"}.get(kind)
    if required and not isinstance(event.get(required), str | int):
        raise IntakeError("missing_field", f"{kind} events need {required}.")
    if len(json.dumps(event)) > MAX_EVENT_BYTES:
        raise IntakeError("too_large", "An event is larger than the 32 KB limit.")
    if not isinstance(event.get("messageId"), str) or not event["messageId"]:
        event["messageId"] = f"api-{uuid.uuid4()}"
    received = _iso_now()
    event["receivedAt"] = received
    event.setdefault("timestamp", event.get("sentAt") or batch.get("sentAt") or received)
    if "sentAt" in batch and "sentAt" not in event:
        event["sentAt"] = batch["sentAt"]
    if isinstance(batch.get("context"), dict) and not isinstance(event.get("context"), dict):
        event["context"] = batch["context"]
    return event


def messages_of(path_type: str, body: dict[str, Any]) -> list[dict[str, Any]]:
    """Normalised events of one call (`batch` holds many; the others are one event)."""
    if path_type != "batch":
        return [normalise(body, path_type, body)]
    batch = body.get("batch")
    if not isinstance(batch, list):
        raise IntakeError("invalid_batch", "batch must be a list of events.")
    return [normalise(message, None, body) for message in batch]


def record(store: Store, write_key: str, events: list[dict[str, Any]]) -> int:
    """Store the events and plan their deliveries; returns how many delivery jobs were queued.

    A repeated messageId on the same source is ignored, as Segment deduplicates by messageId,
    so client retries never deliver twice.
    """
    queued = 0
    with store.connect() as conn:
        source = conn.execute(
            "SELECT id, enabled FROM segment_sources WHERE write_key = ?", (write_key,)
        ).fetchone()
        for event in events:
            queued += _record_one(conn, source, event)
    return queued


def _record_one(conn: sqlite3.Connection, source: sqlite3.Row | None, event: dict[str, Any]) -> int:
    event_id = f"evt_{uuid.uuid4().hex}"
    note = None
    if source is None:
        note = "dropped: unknown write key"
    elif not source["enabled"]:
        note = "dropped: source disabled"
    inserted = conn.execute(
        "INSERT INTO segment_events (id, source_id, message_id, type, body, received_at, note)"
        " VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
        (
            event_id,
            source["id"] if source is not None else None,
            event["messageId"],
            event["type"],
            json.dumps(event),
            time.time(),
            note,
        ),
    ).rowcount
    if not inserted or note is not None or source is None:
        return 0
    return matching.plan_deliveries(conn, source["id"], event_id, event)


router = APIRouter()


async def _intake(request: Request, path_type: str) -> JSONResponse:
    try:
        body = decode_body(await request.body(), request.headers.get("content-encoding"))
        write_key = write_key_of(request.headers.get("authorization"), body)
        events = messages_of(path_type, body)
    except IntakeError as err:
        return err.response()
    store: Store = request.app.state.store
    queued = await run_in_threadpool(record, store, write_key, events)
    if queued:
        wake_workers(request.app)
    return JSONResponse({"success": True})


def _route(event_type: str) -> None:
    async def endpoint(request: Request) -> JSONResponse:
        return await _intake(request, event_type)

    endpoint.__name__ = f"tracking_{event_type}"
    router.add_api_route(f"/v1/{event_type}", endpoint, methods=["POST"], name=endpoint.__name__)


for _type in (*EVENT_TYPES, "batch"):
    _route(_type)
