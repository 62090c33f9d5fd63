"""One delivery worker pool per app: created on first use, started by lifespan or on demand."""

from __future__ import annotations

import threading
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from fastapi.concurrency import run_in_threadpool

from sandbox.tracking.delivery import Deliverer

_create_lock = threading.Lock()


def deliverer_of(app: FastAPI) -> Deliverer:
    """The app's worker pool (kept on app.state: the app factory belongs to the sandbox core)."""
    with _create_lock:
        existing: Deliverer | None = getattr(app.state, "segment_deliverer", None)
        if existing is None:
            existing = Deliverer(app.state.store, app.state.settings)
            app.state.segment_deliverer = existing
        return existing


def wake_workers(app: FastAPI) -> None:
    """Start the workers if needed and wake them. Call from the event-loop thread (async routes):
    without lifespan events, that thread's life bounds the workers' (see delivery.py)."""
    worker = deliverer_of(app)
    lifespan_managed = getattr(app.state, "segment_lifespan", False)
    worker.ensure_running(owner=None if lifespan_managed else threading.current_thread())
    worker.notify()


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    """Under a server that runs lifespan events, the workers live exactly as long as the app."""
    app.state.segment_lifespan = True
    deliverer_of(app).ensure_running(owner=None)
    try:
        yield
    finally:
        await run_in_threadpool(deliverer_of(app).stop)
