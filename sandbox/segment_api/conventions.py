"""Public API conventions shared by every route: errors, auth, media types, rate limits, paging.

Sources: reference/segment.md section 5 (docs.segmentapis.com: Authentication, Versioning, Error
Handling, Rate Limits, Pagination) and the public-api-sdk-go models. The `type` strings of error
bodies other than the documented 429 example are not documented anywhere; ours are marked as ours.
"""

from __future__ import annotations

import base64
import math
import secrets
import sqlite3
import string
import time
from collections.abc import Callable, Coroutine, Mapping
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import format_datetime
from typing import Annotated, Any, Literal

from fastapi import Depends, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute

from sandbox.limits import parse_json
from sandbox.settings import SandboxSettings
from sandbox.store import Store

V1_JSON = "application/vnd.segment.v1+json"
V1ALPHA_JSON = "application/vnd.segment.v1alpha+json"

SCHEMA = """
CREATE TABLE IF NOT EXISTS segment_workspaces (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    slug TEXT NOT NULL,
    region TEXT NOT NULL,
    token TEXT NOT NULL UNIQUE
);
CREATE TABLE IF NOT EXISTS segment_rate_windows (
    key TEXT PRIMARY KEY,
    window_start REAL NOT NULL,
    consumed INTEGER NOT NULL
);
"""

RATE_WINDOW_SECONDS = 60.0
_BASE62 = string.ascii_letters + string.digits


def new_id(length: int = 22) -> str:
    """A Segment-looking opaque id (base62, like `nFPnRozhz1mh4Gbx4MLvT5`)."""
    return "".join(secrets.choice(_BASE62) for _ in range(length))


def new_object_id() -> str:
    """A 24-hex-digit id like Segment's destination ids (`66a0c9753fc5c8ba760f2ec1`)."""
    return secrets.token_hex(12)


class ApiError(Exception):
    """A failure answered with the envelope `{"errors": [{type, message, field?, data?}]}`."""

    def __init__(
        self,
        status: int,
        type_: str,
        message: str,
        *,
        field: str | None = None,
        data: Mapping[str, Any] | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.type = type_
        self.message = message
        self.field = field
        self.data = data
        self.headers = dict(headers or {})

    def response(self, media_type: str) -> JSONResponse:
        error: dict[str, Any] = {"type": self.type, "message": self.message}
        if self.field is not None:
            error["field"] = self.field
        if self.data is not None:
            error["data"] = dict(self.data)
        return JSONResponse(
            {"errors": [error]},
            status_code=self.status,
            headers=self.headers,
            media_type=media_type,
        )


def not_found(kind: str, ident: str) -> ApiError:
    return ApiError(404, "not-found", f"{kind} {ident!r} was not found in this workspace.")


def invalid(field: str, message: str) -> ApiError:
    return ApiError(422, "validation", f"{field}: {message}", field=field)


def media_type_for(path: str) -> str:
    """Subscription endpoints are alpha and answer with the alpha media type; the rest are v1."""
    return V1ALPHA_JSON if "/subscriptions" in path else V1_JSON


class V1Json(JSONResponse):
    media_type = V1_JSON


class V1AlphaJson(JSONResponse):
    media_type = V1ALPHA_JSON


class SegmentRoute(APIRoute):
    """Routes whose failures (ours and FastAPI's own validation) use the Public API error envelope.

    Routers cannot register exception handlers, so the conversion lives in the route class.
    """

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def envelope(request: Request) -> Response:
            media_type = media_type_for(request.url.path)
            try:
                return await handler(request)
            except ApiError as err:
                return err.response(media_type)
            except RequestValidationError as exc:
                first = exc.errors()[0] if exc.errors() else {}
                location = ".".join(str(p) for p in first.get("loc", ()) if p != "body")
                message = str(first.get("msg", "invalid request"))
                return ApiError(
                    422 if location else 400,
                    "validation",
                    f"{location or 'body'}: {message}",
                    field=location or None,
                ).response(media_type)

        return envelope


def check_content_type(request: Request) -> None:
    """Bodies must be JSON: `application/json` or a versioned `application/vnd.segment.*+json`."""
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type == "application/json" or (
        content_type.startswith("application/vnd.segment.") and content_type.endswith("+json")
    ):
        return
    raise ApiError(
        415,
        "unsupported-media-type",
        f"Content-Type {content_type or '(none)'!r} is not supported; send application/json or "
        f"{media_type_for(request.url.path)}.",
    )


async def json_object(request: Request) -> dict[str, Any]:
    """The request body as a JSON object, or a 400/415 naming what is wrong."""
    check_content_type(request)
    raw = await request.body()
    try:
        body = parse_json(raw or b"null")
    except ValueError as exc:
        raise ApiError(400, "bad-request", f"The body is not valid JSON: {exc}.") from exc
    if not isinstance(body, dict):
        raise ApiError(400, "bad-request", "The body must be a JSON object.")
    return body


def transaction(request: Request) -> AbstractContextManager[sqlite3.Connection]:
    """The app's store connection in one transaction: commits on success, rolls back on error."""
    store: Store = request.app.state.store
    return store.connect()


@dataclass(frozen=True)
class Workspace:
    """The workspace a Public API token belongs to."""

    id: str
    name: str
    slug: str
    region: str


def authenticate(request: Request) -> Workspace:
    """The workspace of `Authorization: Bearer <token>`; 401 otherwise (never echoing the token)."""
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if not header:
        raise ApiError(
            401,
            "unauthorized",
            "Missing Authorization header; send 'Bearer <Public API token>'.",
        )
    if scheme.lower() != "bearer" or not token.strip():
        raise ApiError(
            401,
            "unauthorized",
            "Authorization header must use the Bearer scheme with a token.",
        )
    with transaction(request) as conn:
        row = conn.execute(
            "SELECT id, name, slug, region FROM segment_workspaces WHERE token = ?",
            (token.strip(),),
        ).fetchone()
    if row is None:
        raise ApiError(401, "unauthorized", "The Public API token is not valid for any workspace.")
    return Workspace(row["id"], row["name"], row["slug"], row["region"])


Caller = Annotated[Workspace, Depends(authenticate)]
"""Endpoint parameter type: the authenticated caller's workspace."""


def create_workspace(store: Store, name: str, region: str) -> tuple[str, str]:
    """Seed a workspace; returns (workspace_id, token). Only sandbox controls call this."""
    workspace_id = new_id()
    # Real tokens look like `sta_...`; a fixed prefix makes leaked sandbox tokens easy to spot.
    token = "sta_" + secrets.token_urlsafe(32)
    slug = "".join(c if c.isalnum() else "-" for c in name.lower()).strip("-") or workspace_id
    with store.connect() as conn:
        conn.execute(
            "INSERT INTO segment_workspaces (id, name, slug, region, token) VALUES (?, ?, ?, ?, ?)",
            (workspace_id, name, slug, region, token),
        )
    return workspace_id, token


@dataclass(frozen=True)
class RateState:
    """One fixed-window counter, in the vocabulary of the 429 body (rate-limiter-flexible)."""

    limit: int
    consumed: int
    ms_before_next: int
    reset_at: float

    @property
    def exceeded(self) -> bool:
        return self.limit > 0 and self.consumed > self.limit

    @property
    def remaining(self) -> int:
        return max(self.limit - self.consumed, 0) if self.limit > 0 else 1_000_000

    def headers(self) -> dict[str, str]:
        reset = datetime.fromtimestamp(self.reset_at, tz=UTC)
        return {
            "X-RateLimit-Consumed": str(self.consumed),
            "X-RateLimit-Remaining": str(self.remaining),
            "X-RateLimit-Reset": format_datetime(reset, usegmt=True),
        }

    def too_many(self) -> ApiError:
        return ApiError(
            429,
            "RequestError",
            "Too many requests",
            data={
                "remainingPoints": 0,
                "msBeforeNext": self.ms_before_next,
                "consumedPoints": self.consumed,
            },
            headers={
                **self.headers(),
                "Retry-After": str(max(math.ceil(self.ms_before_next / 1000), 1)),
            },
        )


def consume(conn: sqlite3.Connection, key: str, limit: int) -> RateState:
    """Count one request against the fixed 60 s window `key` (the window opens on first use)."""
    now = time.time()
    row = conn.execute(
        "SELECT window_start, consumed FROM segment_rate_windows WHERE key = ?", (key,)
    ).fetchone()
    if row is None or now >= row["window_start"] + RATE_WINDOW_SECONDS:
        start, consumed = now, 1
    else:
        start, consumed = row["window_start"], row["consumed"] + 1
    conn.execute(
        "INSERT INTO segment_rate_windows (key, window_start, consumed) VALUES (?, ?, ?)"
        " ON CONFLICT(key) DO UPDATE SET window_start = excluded.window_start,"
        " consumed = excluded.consumed",
        (key, start, consumed),
    )
    reset_at = start + RATE_WINDOW_SECONDS
    return RateState(limit, consumed, max(int((reset_at - now) * 1000), 0), reset_at)


def rate_limit(request: Request, response: Response, workspace: Workspace, bucket: str) -> None:
    """Count against the workspace's `bucket` limit; headers on success, 429 when exceeded."""
    settings: SandboxSettings = request.app.state.settings
    limit = (
        settings.subscription_writes_per_minute
        if bucket == "subscription-writes"
        else settings.public_api_requests_per_minute
    )
    # Its own transaction, so the count stands even when the request's work then fails.
    with transaction(request) as conn:
        state = consume(conn, f"{workspace.id}:{bucket}", limit)
    if state.exceeded:
        raise state.too_many()
    response.headers.update(state.headers())


@dataclass(frozen=True)
class Page:
    """Cursor pagination input (`pagination.count`, `pagination.cursor`)."""

    offset: int
    count: int


def page_from(request: Request) -> Page:
    """Read `?pagination.count=&pagination.cursor=`; count 1..1000, default 200 (segment.md 5.5)."""
    raw_count = request.query_params.get("pagination.count", "200")
    try:
        count = int(raw_count)
    except ValueError as exc:
        raise invalid("pagination.count", f"{raw_count!r} is not an integer (1..1000).") from exc
    if not 1 <= count <= 1000:
        raise invalid("pagination.count", f"{count} is out of range; allowed 1..1000.")
    cursor = request.query_params.get("pagination.cursor")
    if cursor is None:
        return Page(0, count)
    try:
        offset = int(base64.b64decode(cursor.encode(), validate=True).decode())
    except ValueError as exc:
        raise invalid("pagination.cursor", "is not a cursor returned by this API.") from exc
    if offset < 0:
        raise invalid("pagination.cursor", "is not a cursor returned by this API.")
    return Page(offset, count)


def cursor_for(offset: int) -> str:
    """Opaque cursor; `MA==` (offset 0) matches the shape of Segment's own example."""
    return base64.b64encode(str(offset).encode()).decode()


def pagination_output(page: Page, total: int) -> dict[str, Any]:
    """`data.pagination`: `current`, `next` (absent on the last page), `previous`, totals."""
    out: dict[str, Any] = {"current": cursor_for(page.offset), "totalEntries": total}
    if page.offset + page.count < total:
        out["next"] = cursor_for(page.offset + page.count)
    if page.offset > 0:
        out["previous"] = cursor_for(max(page.offset - page.count, 0))
    return out


ListedTable = Literal["segment_sources", "segment_destinations", "segment_subscriptions"]
ListedBy = Literal["workspace_id", "source_id", "destination_id"]


def list_page(
    conn: sqlite3.Connection, table: ListedTable, column: ListedBy, value: str, page: Page
) -> tuple[list[sqlite3.Row], dict[str, Any]]:
    """One page of `table`'s rows whose `column` is `value`, oldest first, and `data.pagination`."""
    # SQLite cannot bind identifiers; the Literal types keep them to our own table and column
    # names, and the request's values are bound.
    where = f"FROM {table} WHERE {column} = ?"
    total: int = conn.execute(f"SELECT COUNT(*) {where}", (value,)).fetchone()[0]
    rows = conn.execute(
        f"SELECT * {where} ORDER BY created_at, id LIMIT ? OFFSET ?",
        (value, page.count, page.offset),
    ).fetchall()
    return rows, pagination_output(page, total)
