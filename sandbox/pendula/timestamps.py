"""Timestamps as the stand-in reports them: ISO 8601 in UTC with a `Z` suffix."""

from __future__ import annotations

from datetime import UTC, datetime


def utc_now_iso() -> str:
    """The current time, e.g. `2025-01-31T09:15:02.123456Z`."""
    return datetime.now(UTC).isoformat().replace("+00:00", "Z")
