"""A scripted stand-in of the token API for what the sandbox cannot show.

The sandbox answers faults before its handlers run, so it never creates a token and then
fails; this fake can (`create_outcomes`), can replay by `Idempotency-Key`, and records the
headers of every request.
"""

from __future__ import annotations

import json
import threading
import time
import uuid
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any


class FakeTokenApi:
    """Serves /api/v1/tokens on 127.0.0.1; `create_outcomes` scripts each POST's answer.

    Outcomes: "ok" (201), "created-then-502" (the token is created, the answer is lost),
    "bystander-then-502" (as created-then-502, and meanwhile someone else creates a token of
    the same name and description with their own key), "503" (refused before doing anything),
    "late" (the server takes `late_seconds` before it creates the token and answers 201: a
    client with a shorter read timeout has given up by then, so the create finishes after it).
    With `honour_idempotency`, a repeated key replays the first 201 with
    `Idempotent-Replayed: true`; with `records_keys` (the default) each token lists the
    `idempotency_key` it was created with.
    """

    def __init__(
        self,
        create_outcomes: list[str],
        honour_idempotency: bool = False,
        records_keys: bool = True,
        late_seconds: float = 1.0,
    ) -> None:
        self.create_outcomes = list(create_outcomes)
        self.late_seconds = late_seconds
        self.late_done = threading.Event()
        """Set whenever a "late" create has finished (its token exists)."""
        self.honour_idempotency = honour_idempotency
        self.records_keys = records_keys
        self.tokens: dict[str, dict[str, Any]] = {}
        self.requests: list[tuple[str, str, dict[str, str]]] = []
        self._replies: dict[str, dict[str, Any]] = {}
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}/api/v1"

    def __enter__(self) -> FakeTokenApi:
        self._thread.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    def backdate(self, token_id: str, seconds: float) -> None:
        """Pretend the token was created `seconds` earlier."""
        created = datetime.fromisoformat(self.tokens[token_id]["created_at"])
        earlier = created - timedelta(seconds=seconds)
        self.tokens[token_id]["created_at"] = earlier.isoformat().replace("+00:00", "Z")

    def _create(self, body: dict[str, Any], key: str | None) -> tuple[int, dict[str, Any], bool]:
        if self.honour_idempotency and key in self._replies:
            return 201, self._replies[key], True
        outcome = self.create_outcomes.pop(0) if self.create_outcomes else "ok"
        if outcome == "503":
            return 503, {"error": {"code": "unavailable", "message": "try later"}}, False
        if outcome == "late":
            time.sleep(self.late_seconds)
            reply = self._insert(body, key)
            self.late_done.set()
            return 201, reply, False
        if outcome == "bystander-then-502":
            self._insert(body, f"someone-else-{uuid.uuid4()}")
            outcome = "created-then-502"
        reply = self._insert(body, key)
        if key is not None:
            self._replies[key] = reply
        if outcome == "created-then-502":
            return 502, {"error": {"code": "bad_gateway", "message": "upstream hiccup"}}, False
        return 201, reply, False

    def _insert(self, body: dict[str, Any], key: str | None) -> dict[str, Any]:
        """Store a new active token; its create response (with the token text)."""
        token_id = str(uuid.uuid4())
        info = {
            "id": token_id,
            "name": body["name"],
            "description": body.get("description", ""),
            "status": "active",
            "tenant_id": "tenant-1",
            "created_at": datetime.now(UTC).isoformat().replace("+00:00", "Z"),
        }
        if self.records_keys:
            info["idempotency_key"] = key
        self.tokens[token_id] = info
        return {**info, "token": f"pdl_{uuid.uuid4().hex}"}

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:
                pass  # keep test output clean

            def _reply(self, status: int, body: Any, headers: dict[str, str] | None = None) -> None:
                data = json.dumps(body).encode()
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(data)))
                    for name, value in (headers or {}).items():
                        self.send_header(name, value)
                    self.end_headers()
                    self.wfile.write(data)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up waiting ("late")

            def do_POST(self) -> None:
                fake.requests.append(("POST", self.path, dict(self.headers)))
                length = int(self.headers.get("Content-Length") or 0)
                body = json.loads(self.rfile.read(length) or b"{}")
                if self.path == "/api/v1/tokens":
                    status, reply, replayed = fake._create(body, self.headers["Idempotency-Key"])
                    headers = {"Idempotent-Replayed": "true"} if replayed else {}
                    self._reply(status, reply, headers)
                elif self.path.endswith("/deactivate"):
                    token_id = self.path.split("/")[-2]
                    fake.tokens[token_id]["status"] = "inactive"
                    self._reply(202, fake.tokens[token_id])

            def do_GET(self) -> None:
                fake.requests.append(("GET", self.path, dict(self.headers)))
                path = self.path.split("?", 1)[0]
                if path.startswith("/api/v1/tokens/"):
                    token = fake.tokens.get(path.rsplit("/", 1)[1])
                    if token is None:
                        self._reply(404, {"error": {"code": "not_found", "message": "no token"}})
                    else:
                        self._reply(200, token)
                    return
                items = list(fake.tokens.values())
                self._reply(200, {"items": items, "next_cursor": None})

        return Handler
