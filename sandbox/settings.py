"""Run-time settings of one sandbox process."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class SandboxSettings:
    """What a sandbox process needs to know; every field has a default suited to tests."""

    db_path: Path
    """SQLite file holding all state, so data survives a restart."""
    subscription_writes_per_minute: int = 5
    """Segment's documented limit on subscription create/update/delete calls (0 lifts it)."""
    pendula_flow_rate_per_second: int = 200
    """Pendula's documented per-flow webhook rate (HE/articles/11315957805327)."""
    token_deactivation_delay_seconds: float = 0.0
    """How long a deactivated Pendula API token keeps working (Pendula: "up to 60 seconds")."""
    delivery_retry_base_seconds: float = 0.2
    """First back-off of Segment-side event delivery retries (kept short for tests)."""
    delivery_max_attempts: int = 5
    """How many times the Segment side tries to deliver one event to one mapping."""
    delivery_timeout_seconds: float = 5.0
    """How long the Segment side waits for one webhook response before counting a failure."""
    delivery_workers: int = 4
    """Threads delivering Segment events concurrently (Segment itself sends in parallel)."""
    public_api_requests_per_minute: int = 600
    """General Public API limit per workspace; the real figure is undocumented (0 lifts it)."""
    max_body_bytes: int = 4 * 1024 * 1024
    """Largest request body any route accepts; larger ones get 413 before being read whole."""
    seed_stack: Path | None = None
    """The sandbox stack file seeded at start (`--seed`). A webhook for a flow the sandbox does
    not know re-seeds from it first, so flows added to the stack work without a restart."""
