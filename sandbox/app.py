"""The sandbox's ASGI application: both stand-ins on one port, plus a request log."""

from __future__ import annotations

import time

from fastapi import FastAPI, Request, Response
from starlette.middleware.base import BaseHTTPMiddleware, RequestResponseEndpoint

from sandbox import pendula, segment_api, tracking
from sandbox.faults import FaultInjectionMiddleware
from sandbox.limits import BodyLimitMiddleware
from sandbox.settings import SandboxSettings
from sandbox.store import Store

REQUEST_LOG_SCHEMA = """
CREATE TABLE IF NOT EXISTS request_log (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    at REAL NOT NULL,
    method TEXT NOT NULL,
    path TEXT NOT NULL,
    status INTEGER NOT NULL,
    duration_ms REAL NOT NULL
);
"""


class RequestLogMiddleware(BaseHTTPMiddleware):
    """Records every request (never its headers or body, which may carry tokens).

    Tests count calls per operation from this log, e.g. "a no-op diff makes zero calls".
    """

    async def dispatch(self, request: Request, call_next: RequestResponseEndpoint) -> Response:
        started = time.perf_counter()
        response = await call_next(request)
        if not request.url.path.startswith("/_sandbox/"):
            row = (
                time.time(),
                request.method,
                request.url.path,
                response.status_code,
                (time.perf_counter() - started) * 1000,
            )
            # On the event loop, like the webhook trigger (see sandbox/pendula/inbound.py).
            _record(request.app.state.store, row)
        return response


def _record(store: Store, row: tuple[float, str, str, int, float]) -> None:
    with store.connect() as conn:
        conn.execute(
            "INSERT INTO request_log (at, method, path, status, duration_ms)"
            " VALUES (?, ?, ?, ?, ?)",
            row,
        )


def create_app(settings: SandboxSettings) -> FastAPI:
    """Build the app; every module contributes its tables and its routes."""
    app = FastAPI(title="segment-pendula sandbox", docs_url=None, redoc_url=None)
    app.state.settings = settings
    app.state.store = Store(
        settings.db_path,
        [REQUEST_LOG_SCHEMA, pendula.SCHEMA, segment_api.SCHEMA, tracking.SCHEMA],
    )
    # Innermost of ours: every route's body is bounded, and its 413/400 answers are logged.
    app.add_middleware(BodyLimitMiddleware, max_body_bytes=settings.max_body_bytes)
    app.add_middleware(RequestLogMiddleware)
    # Added last so it is outermost: it must see uvicorn's own receive() to drop connections.
    # It bounds the bodies it reads itself (its control route) with the same limit.
    app.add_middleware(FaultInjectionMiddleware, max_body_bytes=settings.max_body_bytes)

    @app.get("/_sandbox/requests")
    def request_log(since: int = 0) -> list[dict[str, object]]:
        """The request log after sequence number `since` (for tests and demos)."""
        with app.state.store.connect() as conn:
            rows = conn.execute(
                "SELECT * FROM request_log WHERE seq > ? ORDER BY seq", (since,)
            ).fetchall()
        return [dict(row) for row in rows]

    app.include_router(pendula.router)
    app.include_router(segment_api.router)
    app.include_router(tracking.router)
    return app
