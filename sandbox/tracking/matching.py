"""Which mappings an event triggers: enabled Webhooks (Actions) destinations on its source, their
enabled subscriptions, and each trigger checked the way Segment's Actions runtime does.

actions-core parses a subscription with `parseFql` and filters events with `validate`; an
unparsable trigger rejects every event with "Invalid subscription : ...". `components.fql`
reproduces both (it is imported lazily: it belongs to another part of the project).
"""

from __future__ import annotations

import importlib
import sqlite3
import threading
from collections.abc import Callable, Mapping
from typing import Any

from sandbox.segment_api.catalog import WEBHOOKS_ACTIONS_ID
from sandbox.tracking import delivery

Matcher = Callable[[Mapping[str, Any]], bool]

_cache: dict[str, Matcher | str] = {}
_cache_lock = threading.Lock()
_CACHE_LIMIT = 1024


def compiled_trigger(trigger: str) -> Matcher | str:
    """A predicate for `trigger`, or the "Invalid subscription" reason when it does not parse."""
    with _cache_lock:
        hit = _cache.get(trigger)
    if hit is not None:
        return hit
    conditions = importlib.import_module("components.fql")
    result: Matcher | str
    try:
        ast = conditions.parse_fql(trigger)
        result = conditions.compile_trigger(ast)
    except conditions.ConditionError as exc:
        result = f"Invalid subscription : {exc}"
    with _cache_lock:
        if len(_cache) >= _CACHE_LIMIT:
            _cache.clear()
        _cache[trigger] = result
    return result


def plan_deliveries(
    conn: sqlite3.Connection, source_id: str, event_id: str, event: Mapping[str, Any]
) -> int:
    """Queue one delivery job per matching mapping; record why the others were not sent.

    Returns the number of jobs queued for sending.
    """
    rows = conn.execute(
        "SELECT s.id AS subscription_id, s.enabled AS sub_enabled, s.trigger,"
        " d.id AS destination_id, d.enabled AS dest_enabled"
        " FROM segment_destinations d JOIN segment_subscriptions s ON s.destination_id = d.id"
        " WHERE d.source_id = ? AND d.metadata_id = ? ORDER BY d.created_at, s.created_at",
        (source_id, WEBHOOKS_ACTIONS_ID),
    ).fetchall()
    queued = 0
    for row in rows:
        state, reason = "pending", None
        if not row["dest_enabled"]:
            state, reason = "skipped", "destination disabled"
        elif not row["sub_enabled"]:
            state, reason = "skipped", "mapping disabled"
        else:
            matcher = compiled_trigger(row["trigger"])
            if isinstance(matcher, str):
                state, reason = "invalid", matcher
            elif not matcher(event):
                state, reason = "filtered", "event does not match the trigger"
        delivery.enqueue(
            conn,
            event_id=event_id,
            subscription_id=row["subscription_id"],
            destination_id=row["destination_id"],
            state=state,
            reason=reason,
        )
        queued += state == "pending"
    return queued
