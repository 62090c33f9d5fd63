"""Fault injection for every sandbox route: make the next N matching requests fail on purpose.

`POST /_sandbox/faults` `{path_prefix, count, status?, retry_after?, delay_ms?, drop_connection?,
method?, body?}` arms a rule; `GET` lists the armed rules; `DELETE` clears them. A request whose
path starts with `path_prefix` (and whose method matches, if given) consumes one use of the
oldest matching rule and is then delayed, answered with `status`, or cut off without any HTTP
response. A rule with only `delay_ms` delays the request and then serves it normally.
"""

from __future__ import annotations

import asyncio
import json
import time
from dataclasses import dataclass
from typing import Any

import anyio
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from sandbox.limits import DEFAULT_MAX_BODY_BYTES, strict_json_problem

CONTROL_PATH = "/_sandbox/faults"
UNLOGGED_PREFIX = "/_sandbox/"
DROPPED_STATUS = 0
"""Status recorded in the request log for a request whose connection was dropped."""


class FaultSpec(BaseModel):
    """Body of `POST /_sandbox/faults`."""

    model_config = ConfigDict(extra="forbid")

    path_prefix: str = Field(pattern=r"^/", description="matches request paths starting with it")
    count: int = Field(ge=1, le=100_000, description="how many matching requests fail")
    status: int | None = Field(default=None, ge=400, le=599)
    retry_after: int | None = Field(default=None, ge=0, le=86_400)
    delay_ms: int | None = Field(default=None, ge=0, le=60_000)
    drop_connection: bool = False
    method: str | None = Field(default=None, pattern=r"^[A-Za-z]+$")
    body: Any = None

    @model_validator(mode="after")
    def _one_coherent_effect(self) -> FaultSpec:
        if self.status is None and self.delay_ms is None and not self.drop_connection:
            raise ValueError("give at least one of status, delay_ms or drop_connection: true")
        if self.drop_connection and self.status is not None:
            raise ValueError("status and drop_connection: true exclude each other")
        if (self.retry_after is not None or self.body is not None) and self.status is None:
            raise ValueError("retry_after and body need a status")
        return self


@dataclass
class _Rule:
    spec: FaultSpec
    remaining: int

    def matches(self, method: str, path: str) -> bool:
        return (
            self.remaining > 0
            and path.startswith(self.spec.path_prefix)
            and (self.spec.method is None or self.spec.method.upper() == method)
        )


async def _send_json(send: Send, status: int, payload: Any, headers: dict[str, str]) -> None:
    body = json.dumps(payload).encode()
    raw_headers = [(b"content-type", b"application/json"), (b"content-length", b"%d" % len(body))]
    raw_headers += [(k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in headers.items()]
    await send({"type": "http.response.start", "status": status, "headers": raw_headers})
    await send({"type": "http.response.body", "body": body})


async def _read_body(receive: Receive, limit: int = DEFAULT_MAX_BODY_BYTES) -> bytes | None:
    """The request body, or None as soon as it exceeds ``limit`` (the rest is never read)."""
    chunks = []
    size = 0
    while True:
        message: Message = await receive()
        if message["type"] == "http.disconnect":
            break
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            return None
        chunks.append(chunk)
        if not message.get("more_body", False):
            break
    return b"".join(chunks)


async def _drop_connection(receive: Receive) -> None:
    """Close the TCP connection without writing a byte of HTTP response.

    ASGI has no message for this, and uvicorn answers 500 when an app raises or returns before
    responding, so this closes uvicorn's transport directly. The receive callable handed to the
    outermost middleware is uvicorn's bound `RequestResponseCycle.receive`, which owns the
    transport. After closing, waiting for `http.disconnect` lets uvicorn mark the cycle
    disconnected, so it does not try to send its own 500.
    """
    transport = getattr(getattr(receive, "__self__", None), "transport", None)
    if not isinstance(transport, asyncio.BaseTransport):
        # Not served by uvicorn (e.g. an in-process test client): fail loudly instead.
        raise ConnectionAbortedError("fault injection dropped the connection")
    transport.close()
    while (await receive())["type"] != "http.disconnect":
        pass


class FaultInjectionMiddleware:
    """Pure ASGI middleware; must be the outermost user middleware (see `_drop_connection`)."""

    def __init__(self, app: ASGIApp, max_body_bytes: int = DEFAULT_MAX_BODY_BYTES) -> None:
        self.app = app
        self.max_body_bytes = max_body_bytes
        self._rules: list[_Rule] = []  # only touched on the event loop thread

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path: str = scope["path"]
        method: str = scope["method"]
        if path == CONTROL_PATH:
            await self._control(method, receive, send)
            return
        rule = next((r for r in self._rules if r.matches(method, path)), None)
        if rule is None:
            await self.app(scope, receive, send)
            return
        rule.remaining -= 1
        self._rules = [r for r in self._rules if r.remaining > 0]
        await self._inject(rule.spec, scope, receive, send)

    async def _inject(self, spec: FaultSpec, scope: Scope, receive: Receive, send: Send) -> None:
        started = time.perf_counter()
        if spec.delay_ms:
            await asyncio.sleep(spec.delay_ms / 1000)
        if spec.status is None and not spec.drop_connection:
            await self.app(scope, receive, send)  # a pure delay; the request log records it
            return
        if spec.drop_connection:
            await _log(scope, DROPPED_STATUS, started)
            await _drop_connection(receive)
            return
        assert spec.status is not None
        headers = {} if spec.retry_after is None else {"Retry-After": str(spec.retry_after)}
        payload = spec.body
        if payload is None:
            payload = {
                "error": {
                    "code": "injected_fault",
                    "message": f"fault injected by {CONTROL_PATH}: status {spec.status}",
                }
            }
        await _read_body(receive, self.max_body_bytes)
        await _log(scope, spec.status, started)
        await _send_json(send, spec.status, payload, headers)

    async def _control(self, method: str, receive: Receive, send: Send) -> None:
        if method == "GET":
            await _send_json(send, 200, {"items": [self._describe(r) for r in self._rules]}, {})
        elif method == "DELETE":
            cleared = len(self._rules)
            self._rules = []
            await _send_json(send, 200, {"cleared": cleared}, {})
        elif method == "POST":
            raw = await _read_body(receive, self.max_body_bytes)
            if raw is None:
                message = (
                    f"the request body exceeds the sandbox's limit of {self.max_body_bytes} bytes"
                )
                await _send_json(
                    send, 413, {"error": {"code": "payload_too_large", "message": message}}, {}
                )
                return
            # The same intake as every other route (sandbox.limits): what a strict JSON
            # server refuses is a 400 before the model sees it.
            if problem := strict_json_problem(raw, "application/json"):
                error = {"code": "invalid_json", "message": f"invalid JSON: {problem}"}
                await _send_json(send, 400, {"error": error}, {})
                return
            try:
                spec = FaultSpec.model_validate_json(raw or b"{}")
            except ValidationError as exc:
                message = "; ".join(
                    f"{'.'.join(str(p) for p in e['loc']) or 'body'}: {e['msg']}"
                    for e in exc.errors()
                )
                await _send_json(
                    send, 422, {"error": {"code": "validation_error", "message": message}}, {}
                )
                return
            rule = _Rule(spec, spec.count)
            self._rules.append(rule)
            await _send_json(send, 201, self._describe(rule), {})
        else:
            await _send_json(
                send,
                405,
                {"error": {"code": "method_not_allowed", "message": "use GET, POST or DELETE"}},
                {"Allow": "GET, POST, DELETE"},
            )

    @staticmethod
    def _describe(rule: _Rule) -> dict[str, Any]:
        return {**rule.spec.model_dump(), "remaining": rule.remaining}


async def _log(scope: Scope, status: int, started: float) -> None:
    """Record a faulted request in the sandbox's request log, as the log middleware would."""
    path: str = scope["path"]
    if path.startswith(UNLOGGED_PREFIX):
        return
    store = scope["app"].state.store
    duration_ms = (time.perf_counter() - started) * 1000

    def insert() -> None:
        with store.connect() as conn:
            conn.execute(
                "INSERT INTO request_log (at, method, path, status, duration_ms)"
                " VALUES (?, ?, ?, ?, ?)",
                (time.time(), scope["method"], path, status, duration_ms),
            )

    await anyio.to_thread.run_sync(insert)
