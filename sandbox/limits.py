"""Pathological requests get a clean 4xx on every route, never a 500 or a hang.

- A body over ``SandboxSettings.max_body_bytes`` is answered 413 as soon as that is known:
  from ``Content-Length`` before a byte is read, or while a chunked body streams in (the rest
  is never read whole).
- JSON is parsed by ``parse_json``: nesting deeper than ``MAX_JSON_DEPTH`` (or deep enough to
  exhaust Python's recursion) and ``NaN``/``Infinity`` are ``ValueError``s, which each route
  turns into its own 400/422 error; ``RecursionError`` escaping any route is a 400 here.
- A gzip body is inflated up to the same limit (``gunzip_limited``), so a zip bomb is a 413.
"""

from __future__ import annotations

import json
import zlib
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

DEFAULT_MAX_BODY_BYTES = 4 * 1024 * 1024
"""Segment's tracking API accepts 500 KB per batch; webhook bodies are smaller still."""
MAX_JSON_DEPTH = 64
"""Segment events nest a few levels; 64 leaves room and stays far from the recursion limit."""


class BodyTooLargeError(ValueError):
    """A (decompressed) body exceeds the configured limit."""


def parse_json(raw: bytes | str) -> Any:
    """``json.loads`` that refuses deep nesting and non-JSON numbers with ``ValueError``."""
    try:
        value = json.loads(raw, parse_constant=_refuse_constant)
    except RecursionError:
        raise ValueError(f"JSON nested deeper than {MAX_JSON_DEPTH} levels") from None
    _check_depth(value)
    return value


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON number")


def _check_depth(value: Any) -> None:
    """Iteratively, so the check itself cannot exhaust the stack."""
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict | list):
            if depth > MAX_JSON_DEPTH:
                raise ValueError(f"JSON nested deeper than {MAX_JSON_DEPTH} levels")
            children = item.values() if isinstance(item, dict) else item
            stack.extend((child, depth + 1) for child in children)


def gunzip_limited(raw: bytes, limit: int) -> bytes:
    """Inflate a gzip body, refusing (``BodyTooLargeError``) output beyond ``limit`` bytes."""
    inflater = zlib.decompressobj(wbits=16 + zlib.MAX_WBITS)
    try:
        data = inflater.decompress(raw, limit + 1)
    except zlib.error as exc:
        raise OSError(str(exc)) from None
    if len(data) > limit or inflater.unconsumed_tail:
        raise BodyTooLargeError(f"the inflated body exceeds {limit} bytes")
    if not inflater.eof:
        raise EOFError("truncated gzip body")
    return data


class BodyLimitMiddleware:
    """Pure ASGI middleware enforcing the body limit on every route, control routes included."""

    def __init__(self, app: ASGIApp, max_body_bytes: int = DEFAULT_MAX_BODY_BYTES) -> None:
        self.app = app
        self.max_body_bytes = max_body_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.max_body_bytes
        declared = _content_length(scope)
        if declared is not None and declared > limit:
            await _too_large(send, limit)
            return
        # Read the body here, chunk by chunk, stopping at the limit; the app then reads the
        # buffered body as if it came from the client.
        chunks: list[bytes] = []
        size = 0
        more = True
        while more:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > limit:
                await _too_large(send, limit)
                return
            chunks.append(chunk)
            more = message.get("more_body", False)
        body = b"".join(chunks)
        delivered = False

        async def replay() -> Message:
            nonlocal delivered
            if not delivered:
                delivered = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        started = False

        async def tracking_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, replay, tracking_send)
        except RecursionError:
            # Any parser or walker that recursed on a pathological body: the input is bad.
            if started:
                raise
            await _send_json(
                send,
                400,
                {"error": {"code": "invalid_body", "message": "the body is nested too deeply"}},
            )


def _content_length(scope: Scope) -> int | None:
    for name, value in scope.get("headers", []):
        if name == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None
    return None


async def _too_large(send: Send, limit: int) -> None:
    await _send_json(
        send,
        413,
        {
            "error": {
                "code": "payload_too_large",
                "message": f"the request body exceeds the sandbox's limit of {limit} bytes",
            }
        },
    )


async def _send_json(send: Send, status: int, payload: dict[str, Any]) -> None:
    body = json.dumps(payload).encode("utf-8")
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode("ascii")),
                (b"connection", b"close"),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body, "more_body": False})
