"""Test and demo controls of the Segment data plane under `/_sandbox/segment/`."""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any

from fastapi import APIRouter, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse

from sandbox.store import Store
from sandbox.tracking.runtime import deliverer_of, wake_workers

router = APIRouter()


def _where(filters: dict[str, str | None]) -> tuple[str, list[str]]:
    """A WHERE clause over fixed column names (never user text) and its parameters."""
    given = {column: value for column, value in filters.items() if value is not None}
    if not given:
        return "", []
    return "WHERE " + " AND ".join(f"{column} = ?" for column in given), list(given.values())


@router.post("/_sandbox/segment/drain")
async def drain(request: Request, timeout: float = Query(10.0, ge=0.0, le=120.0)) -> JSONResponse:
    """Wait until no delivery is pending or in flight: 200 when drained, 504 after `timeout` s."""
    worker = deliverer_of(request.app)
    deadline = time.monotonic() + timeout
    while True:
        open_jobs = await run_in_threadpool(worker.open_jobs)
        if open_jobs == 0:
            return JSONResponse({"drained": True, "open": 0})
        # Jobs left by an earlier process need workers even when no event arrived since.
        wake_workers(request.app)
        if time.monotonic() >= deadline:
            return JSONResponse({"drained": False, "open": open_jobs}, status_code=504)
        await asyncio.sleep(0.02)


@router.get("/_sandbox/segment/deliveries")
def deliveries(
    request: Request,
    event_id: str | None = None,
    message_id: str | None = None,
    subscription_id: str | None = None,
) -> dict[str, Any]:
    """Every delivery attempt, oldest first (credential headers redacted at record time)."""
    where, params = _where(
        {"a.event_id": event_id, "e.message_id": message_id, "a.subscription_id": subscription_id}
    )
    store: Store = request.app.state.store
    with store.connect() as conn:
        rows = conn.execute(  # where: fixed column names only, values bound as parameters
            "SELECT a.*, e.message_id FROM segment_delivery_attempts a"  # noqa: S608
            f" JOIN segment_events e ON e.id = a.event_id {where} ORDER BY a.id",
            params,
        ).fetchall()
    return {"items": [{**dict(row), "request": json.loads(row["request"])} for row in rows]}


@router.get("/_sandbox/segment/events")
def events(
    request: Request, source_id: str | None = None, message_id: str | None = None
) -> dict[str, Any]:
    """Received events and, per mapping, what became of them (pending, delivered, filtered, ...)."""
    where, params = _where({"source_id": source_id, "message_id": message_id})
    store: Store = request.app.state.store
    with store.connect() as conn:
        rows = conn.execute(
            f"SELECT * FROM segment_events {where} ORDER BY received_at, id",  # noqa: S608
            params,
        ).fetchall()
        jobs = conn.execute(
            "SELECT event_id, subscription_id, destination_id, state, reason, attempts"
            " FROM segment_delivery_jobs ORDER BY id"
        ).fetchall()
    by_event: dict[str, list[dict[str, Any]]] = {}
    for job in jobs:
        by_event.setdefault(job["event_id"], []).append(
            {
                k: job[k]
                for k in ("subscription_id", "destination_id", "state", "reason", "attempts")
            }
        )
    return {
        "items": [
            {
                "event_id": row["id"],
                "source_id": row["source_id"],
                "message_id": row["message_id"],
                "type": row["type"],
                "note": row["note"],
                "event": json.loads(row["body"]),
                "mappings": by_event.get(row["id"], []),
            }
            for row in rows
        ]
    }
