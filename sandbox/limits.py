"""Pathological requests get a clean 4xx on every route, never a 500 or a hang.

- A body over ``SandboxSettings.max_body_bytes`` is answered 413 as soon as that is known:
  from ``Content-Length`` before a byte is read, or while a chunked body streams in (the rest
  is never read whole).
- JSON is parsed by ``parse_json`` as a strict JSON server (Go's ``encoding/json``, a
  browser's ``JSON.parse`` into float64) reads it: nesting deeper than ``MAX_JSON_DEPTH`` (or
  deep enough to exhaust Python's recursion), ``NaN``/``Infinity``, numbers that overflow a
  double to ±Infinity (``1e999``, a 400-digit integer) and unpaired UTF-16 surrogates
  (``"\ud800"``, which no UTF-8 store or response can hold) are ``ValueError``s, which each
  route turns into its own 400/422 error; ``RecursionError`` escaping any route is a 400 here.
- Intake on every route: ``BodyLimitMiddleware`` reads each JSON body with ``parse_json``
  before any route sees it, so a body that Python's lenient ``json`` accepts but a strict
  server refuses is a 400 whatever the route (FastAPI's own body parsing is lenient), and
  nothing that cannot be stored or read back is ever stored.
- A gzip body is inflated up to the same limit (``gunzip_limited``), so a zip bomb is a 413.
"""

from __future__ import annotations

import json
import re
import sys
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
        value = json.loads(
            raw, parse_constant=_refuse_constant, parse_float=_finite_float, parse_int=_finite_int
        )
    except RecursionError:
        raise ValueError(f"JSON nested deeper than {MAX_JSON_DEPTH} levels") from None
    _check_depth(value)
    return value


def _finite_float(text: str) -> float:
    value = float(text)
    if value in (float("inf"), float("-inf")):
        raise ValueError(f"the number {text[:40]} overflows a double (±Infinity)")
    return value


def _finite_int(text: str) -> int:
    # int() itself refuses more than sys.int_info's 4300 digits with a ValueError.
    value = int(text)
    if abs(value) > sys.float_info.max:
        raise ValueError(f"the number {text[:40]}… overflows a double (±Infinity)")
    return value


_SURROGATE = re.compile("[\ud800-\udfff]")
"""JSON's ``\ud800`` escapes decode to lone surrogates when unpaired (a pair is joined)."""


def _check_text(text: str) -> None:
    if _SURROGATE.search(text):
        raise ValueError("a string holds an unpaired UTF-16 surrogate (\\ud800-\\udfff)")


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON number")


def _check_depth(value: Any) -> None:
    """Depth and strings (keys too), iteratively, so the check cannot exhaust the stack."""
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, str):
            _check_text(item)
        elif isinstance(item, dict | list):
            if depth > MAX_JSON_DEPTH:
                raise ValueError(f"JSON nested deeper than {MAX_JSON_DEPTH} levels")
            if isinstance(item, dict):
                for key in item:
                    _check_text(key)
            children = item.values() if isinstance(item, dict) else item
            stack.extend((child, depth + 1) for child in children)


def strict_json_problem(raw: bytes, content_type: str) -> str | None:
    """Why a JSON request body is refused at intake, or None.

    Only a body that Python's lenient ``json`` reads but ``parse_json`` refuses is answered
    here; a body that is not JSON at all is left to its route, which says so in its own
    error format. Compressed bodies are checked by their route once inflated.
    """
    if not raw or ("json" not in content_type and content_type):
        return None
    try:
        parse_json(raw)
    except ValueError as exc:
        try:
            json.loads(raw)
        except (ValueError, RecursionError):
            return None  # not JSON: the route's own answer
        return str(exc)
    return None


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
        headers = dict(scope.get("headers", []))
        content_type = headers.get(b"content-type", b"").decode("latin-1")
        if b"content-encoding" not in headers and (
            problem := strict_json_problem(body, content_type)
        ):
            error = {"code": "invalid_json", "message": f"invalid JSON: {problem}"}
            await _send_json(send, 400, {"error": error})
            return
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
