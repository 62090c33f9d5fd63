"""Background delivery of matched events to their webhook, with Segment-like retries.

Jobs live in SQLite, so a restart resumes them. Worker threads claim due jobs, render the
mapping with `components.mapping.render` (the whole mapping, as actions-core does, so `url`
or `headers` may be directives too), send the request and record every attempt.

Lifecycle: under `python -m sandbox` the router's lifespan starts and stops the workers. Tests
run uvicorn with `lifespan="off"`, so the workers are also started on demand and bound to the
thread serving the app's event loop: once that thread ends (`SandboxServer.stop()`), they exit
on their next poll instead of outliving the server.
"""

from __future__ import annotations

import base64
import binascii
import importlib
import json
import logging
import sqlite3
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import requests

from sandbox.segment_api.catalog import secret_options
from sandbox.settings import SandboxSettings
from sandbox.store import Store
from sandbox.tracking.wire import json_stringify, signature

_LOG = logging.getLogger(__name__)

SCHEMA = """
CREATE TABLE IF NOT EXISTS segment_delivery_jobs (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    event_id TEXT NOT NULL,
    subscription_id TEXT NOT NULL,
    destination_id TEXT NOT NULL,
    state TEXT NOT NULL,
    reason TEXT,
    attempts INTEGER NOT NULL DEFAULT 0,
    next_at REAL NOT NULL,
    created_at REAL NOT NULL,
    finished_at REAL
);
CREATE INDEX IF NOT EXISTS segment_delivery_jobs_due ON segment_delivery_jobs (state, next_at);
CREATE INDEX IF NOT EXISTS segment_delivery_jobs_event ON segment_delivery_jobs (event_id);
CREATE TABLE IF NOT EXISTS segment_delivery_attempts (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    job_id INTEGER NOT NULL,
    event_id TEXT NOT NULL,
    subscription_id TEXT NOT NULL,
    attempt INTEGER NOT NULL,
    outcome TEXT NOT NULL,
    status INTEGER,
    response_excerpt TEXT,
    latency_ms REAL,
    error TEXT,
    request TEXT NOT NULL,
    at REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS segment_delivery_attempts_job ON segment_delivery_attempts (job_id);
"""

OPEN_STATES = ("pending", "sending")
METHODS = ("POST", "PUT", "PATCH")
USER_AGENT = "Segment (sandbox Actions runtime)"
REDACTED = "[REDACTED]"
EXCERPT_CHARS = 500
MAX_RETRY_AFTER_SECONDS = 60.0
_POLL_SECONDS = 0.05
# Jobs claimed (and later recorded) per transaction: each SQLite commit costs an fsync.
CLAIM_BATCH = 16
# Header names whose values are credentials; never stored or returned.
_SECRET_HEADER_HINTS = ("authorization", "token", "secret", "api-key", "apikey", "cookie")


def enqueue(
    conn: sqlite3.Connection,
    *,
    event_id: str,
    subscription_id: str,
    destination_id: str,
    state: str,
    reason: str | None,
) -> None:
    """Record one event x mapping decision; `pending` ones are picked up by the workers."""
    now = time.time()
    conn.execute(
        "INSERT INTO segment_delivery_jobs (event_id, subscription_id, destination_id, state,"
        " reason, next_at, created_at, finished_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        (
            event_id,
            subscription_id,
            destination_id,
            state,
            reason,
            now,
            now,
            None if state == "pending" else now,
        ),
    )


def redact_headers(headers: Mapping[str, str]) -> dict[str, str]:
    """Headers fit for a record: credential-like values replaced."""
    return {
        name: REDACTED if any(h in name.lower() for h in _SECRET_HEADER_HINTS) else value
        for name, value in headers.items()
    }


class InvalidPayloadError(Exception):
    """The rendered mapping is not a request actions-core would send (PayloadValidationError)."""


@dataclass(frozen=True)
class Job:
    """A claimed job with everything needed to send it."""

    id: int
    event_id: str
    subscription_id: str
    attempt: int
    event: dict[str, Any]
    mapping: dict[str, Any]
    destination_settings: dict[str, Any]
    destination_metadata_id: str


@dataclass(frozen=True)
class Result:
    """The outcome of one attempt, and the job state it leads to."""

    job: Job
    attempt: dict[str, Any]
    state: str
    reason: str | None
    next_at: float | None


@dataclass(frozen=True)
class OutgoingRequest:
    method: str
    url: str
    headers: dict[str, str]
    body: bytes | None
    secrets: tuple[str, ...]


def build_request(job: Job) -> OutgoingRequest:
    """Render the mapping for the event and validate it like the Send action's field schema."""
    mapping_module = importlib.import_module("components.mapping")
    try:
        payload = mapping_module.render(job.mapping, job.event)
    except mapping_module.MappingError as exc:
        raise InvalidPayloadError(f"mapping cannot be rendered: {exc}") from exc
    if not isinstance(payload, dict):
        raise InvalidPayloadError("the mapping must render to an object")
    url, method, headers = payload.get("url"), payload.get("method"), payload.get("headers") or {}
    if not isinstance(url, str) or not url.startswith(("http://", "https://")):
        raise InvalidPayloadError(f"url: {url!r} is not an http(s) URL")
    if method not in METHODS:
        raise InvalidPayloadError(f"method: {method!r} is not allowed; allowed {list(METHODS)}")
    if not isinstance(headers, dict):
        raise InvalidPayloadError("headers: must be an object of header names to values")
    out_headers: dict[str, str] = {"User-Agent": USER_AGENT}
    secrets: list[str] = []
    body: bytes | None = None
    if "data" in payload:
        text = json_stringify(payload["data"])
        body = text.encode("utf-8")
        out_headers["Content-Type"] = "application/json"
        shared = job.destination_settings.get("sharedSecret")
        if isinstance(shared, str) and shared:
            out_headers["X-Signature"] = signature(shared, text)
    for name, value in headers.items():
        # Segment: "Only ASCII characters are supported" (PayloadValidationError otherwise).
        if not isinstance(value, str | int | float) or not str(value).isascii():
            raise InvalidPayloadError(f"headers.{name}: header values must be ASCII strings")
        out_headers[str(name)] = str(value)
        secrets += _credential_parts(str(value))
    secrets += [
        str(job.destination_settings[k])
        for k in secret_options(job.destination_metadata_id)
        if job.destination_settings.get(k)
    ]
    return OutgoingRequest(method, url, out_headers, body, tuple(s for s in secrets if s))


def _credential_parts(value: str) -> list[str]:
    """A header value, and for ``Bearer``/``Basic`` values the credential parts an endpoint
    might echo on their own (the token; the decoded ``user:token`` and its token)."""
    parts = [value]
    scheme, _, credential = value.partition(" ")
    if credential and scheme.lower() in ("bearer", "basic"):
        parts.append(credential)
        if scheme.lower() == "basic":
            try:
                decoded = base64.b64decode(credential, validate=True).decode("utf-8")
            except (binascii.Error, UnicodeDecodeError):
                decoded = ""
            if decoded:
                parts += [decoded, decoded.partition(":")[2]]
    return [p for p in parts if p]


def _scrub(text: str, secrets: tuple[str, ...]) -> str:
    # Longest first, so a whole header is redacted before the token inside it.
    for secret in sorted(secrets, key=len, reverse=True):
        if len(secret) >= 4:
            text = text.replace(secret, REDACTED)
    return text


class Deliverer:
    """The worker pool of one app: claims due jobs, sends them, records attempts, retries."""

    def __init__(self, store: Store, settings: SandboxSettings) -> None:
        self.store = store
        self.settings = settings
        self._lock = threading.Lock()
        self._wake = threading.Condition()
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self._owner: threading.Thread | None = None
        self._readers = threading.local()
        with store.connect() as conn:
            # A job claimed by a process that died is sent again: at-least-once, like Segment.
            conn.execute(
                "UPDATE segment_delivery_jobs SET state = 'pending' WHERE state = 'sending'"
            )

    def ensure_running(self, owner: threading.Thread | None) -> None:
        """Start the workers unless they run; `owner` bounds their life (None: until stop())."""
        with self._lock:
            alive = [t for t in self._threads if t.is_alive()]
            if alive and not self._stop.is_set():
                return
            self._stop.clear()
            self._owner = owner
            self._threads = [
                threading.Thread(target=self._run, name=f"segment-delivery-{i}", daemon=True)
                for i in range(max(self.settings.delivery_workers, 1))
            ]
            for thread in self._threads:
                thread.start()

    def notify(self) -> None:
        with self._wake:
            self._wake.notify_all()

    def stop(self, timeout: float = 10.0) -> None:
        self._stop.set()
        self.notify()
        for thread in self._threads:
            thread.join(timeout)

    def running(self) -> bool:
        return any(t.is_alive() for t in self._threads)

    def open_jobs(self) -> int:
        """Jobs pending or in flight (a lock-free read: WAL lets readers run beside the writer)."""
        count: int = (
            self._reader()
            .execute(
                "SELECT COUNT(*) FROM segment_delivery_jobs WHERE state IN ('pending', 'sending')"
            )
            .fetchone()[0]
        )
        return count

    def _due(self) -> bool:
        """Whether any job is due, checked without taking the store's write lock."""
        row = (
            self._reader()
            .execute(
                "SELECT 1 FROM segment_delivery_jobs WHERE state = 'pending' AND next_at <= ?"
                " LIMIT 1",
                (time.time(),),
            )
            .fetchone()
        )
        return row is not None

    def _reader(self) -> sqlite3.Connection:
        # Store.connect() opens a write transaction under a process-wide lock; polling through
        # it would stall every writer (intake, the Pendula stand-in) several times a second.
        conn: sqlite3.Connection | None = getattr(self._readers, "conn", None)
        if conn is None:
            conn = sqlite3.connect(self.store.db_path, timeout=10, isolation_level=None)
            self._readers.conn = conn
        return conn

    def _should_run(self) -> bool:
        owner = self._owner
        return not self._stop.is_set() and (owner is None or owner.is_alive())

    def _run(self) -> None:
        session = requests.Session()
        try:
            while self._should_run():
                try:
                    jobs = self._claim() if self._due() else []
                    if jobs:
                        self._record([self._deliver(session, job) for job in jobs])
                        continue
                except Exception:  # the loop outlives any one event
                    _LOG.exception("sandbox delivery: one round failed; the loop goes on")
                with self._wake:
                    self._wake.wait(_POLL_SECONDS)
        finally:
            session.close()
            reader: sqlite3.Connection | None = getattr(self._readers, "conn", None)
            if reader is not None:
                reader.close()

    def _claim(self) -> list[Job]:
        """Claim up to CLAIM_BATCH due jobs in one transaction (SQLite commits are the cost)."""
        jobs: list[Job] = []
        with self.store.connect() as conn:
            rows = conn.execute(
                "SELECT * FROM segment_delivery_jobs WHERE state = 'pending' AND next_at <= ?"
                " ORDER BY next_at, id LIMIT ?",
                (time.time(), CLAIM_BATCH),
            ).fetchall()
            for row in rows:
                context = conn.execute(
                    "SELECT e.body, s.settings AS mapping, s.enabled AS sub_enabled,"
                    " d.settings AS dest_settings, d.enabled AS dest_enabled, d.metadata_id"
                    " FROM segment_events e, segment_subscriptions s, segment_destinations d"
                    " WHERE e.id = ? AND s.id = ? AND d.id = s.destination_id",
                    (row["event_id"], row["subscription_id"]),
                ).fetchone()
                if context is None or not context["sub_enabled"] or not context["dest_enabled"]:
                    # Changed since intake: Segment stops sending to removed or disabled mappings.
                    conn.execute(
                        "UPDATE segment_delivery_jobs SET state = 'skipped', finished_at = ?,"
                        " reason = 'mapping or destination removed or disabled before delivery'"
                        " WHERE id = ?",
                        (time.time(), row["id"]),
                    )
                    continue
                try:
                    columns = ("body", "mapping", "dest_settings")
                    event, mapping, settings = (json.loads(context[c]) for c in columns)
                except (ValueError, TypeError, RecursionError) as exc:
                    # One unreadable row fails its own job; the claim goes on with the others.
                    conn.execute(
                        "UPDATE segment_delivery_jobs SET state = 'failed', finished_at = ?,"
                        " reason = ? WHERE id = ?",
                        (time.time(), f"stored event unreadable: {type(exc).__name__}", row["id"]),
                    )
                    continue
                conn.execute(
                    "UPDATE segment_delivery_jobs SET state = 'sending', attempts = attempts + 1"
                    " WHERE id = ?",
                    (row["id"],),
                )
                jobs.append(
                    Job(
                        id=row["id"],
                        event_id=row["event_id"],
                        subscription_id=row["subscription_id"],
                        attempt=row["attempts"] + 1,
                        event=event,
                        mapping=mapping,
                        destination_settings=settings,
                        destination_metadata_id=context["metadata_id"],
                    )
                )
        return jobs

    def _deliver(self, session: requests.Session, job: Job) -> Result:
        """Send one job once; the caller records the results of a whole claim together."""
        try:
            request = build_request(job)
        except Exception as exc:  # any event, however odd, is one failed job
            # No request leaves; recorded as an attempt so "why was nothing sent" is answerable.
            # Not only InvalidPayloadError: whatever an event makes rendering raise fails that
            # job, never the loop that delivers the next ones.
            kind = (
                "PayloadValidationError"
                if isinstance(exc, InvalidPayloadError)
                else (f"PayloadValidationError ({type(exc).__name__})")
            )
            problem = f"{kind}: {exc}"
            record = _attempt_record(
                job,
                outcome="invalid",
                status=None,
                excerpt=None,
                latency_ms=0.0,
                error=problem,
                request={},
            )
            return Result(job, record, "invalid", problem, None)
        started = time.perf_counter()
        status: int | None = None
        excerpt: str | None = None
        error: str | None = None
        retry_after: float | None = None
        permanent = False
        try:
            response = session.request(
                request.method,
                request.url,
                data=request.body,
                headers=request.headers,
                timeout=self.settings.delivery_timeout_seconds,
            )
            status = response.status_code
            excerpt = _scrub(response.text[:EXCERPT_CHARS], request.secrets)
            retry_after = _retry_after(response.headers.get("Retry-After"))
        except requests.RequestException as exc:
            error = _scrub(f"{type(exc).__name__}: {exc}", request.secrets)
        except Exception as exc:  # a URL or header no HTTP client can send: no retry helps
            error = _scrub(f"{type(exc).__name__}: {exc}", request.secrets)
            permanent = True
        latency_ms = (time.perf_counter() - started) * 1000
        retryable = not permanent and (status is None or status == 429 or status >= 500)
        if status is not None and 200 <= status < 300:
            outcome = "delivered"
        elif retryable and job.attempt < self.settings.delivery_max_attempts:
            outcome = "retry"
        else:
            outcome = "failed"
        request_record = {
            "method": request.method,
            "url": request.url,
            "headers": redact_headers(request.headers),
        }
        record = _attempt_record(
            job,
            outcome=outcome,
            status=status,
            excerpt=excerpt,
            latency_ms=latency_ms,
            error=error,
            request=request_record,
        )
        if outcome == "retry":
            backoff = self.settings.delivery_retry_base_seconds * 2 ** (job.attempt - 1)
            delay = max(backoff, retry_after or 0.0)
            return Result(job, record, "pending", None, time.time() + delay)
        failure = None if outcome == "delivered" else _failure_reason(status, error)
        return Result(job, record, outcome, failure, None)

    def _record(self, results: list[Result]) -> None:
        with self.store.connect() as conn:
            for result in results:
                attempt = result.attempt
                conn.execute(
                    f"INSERT INTO segment_delivery_attempts ({', '.join(attempt)})"  # noqa: S608
                    f" VALUES ({', '.join('?' for _ in attempt)})",  # fixed keys, bound values
                    tuple(attempt.values()),
                )
                if result.next_at is not None:
                    conn.execute(
                        "UPDATE segment_delivery_jobs SET state = ?, next_at = ? WHERE id = ?",
                        (result.state, result.next_at, result.job.id),
                    )
                else:
                    conn.execute(
                        "UPDATE segment_delivery_jobs SET state = ?, reason = ?, finished_at = ?"
                        " WHERE id = ?",
                        (result.state, result.reason, time.time(), result.job.id),
                    )


def _attempt_record(
    job: Job,
    *,
    outcome: str,
    status: int | None,
    excerpt: str | None,
    latency_ms: float,
    error: str | None,
    request: dict[str, Any],
) -> dict[str, Any]:
    return {
        "job_id": job.id,
        "event_id": job.event_id,
        "subscription_id": job.subscription_id,
        "attempt": job.attempt,
        "outcome": outcome,
        "status": status,
        "response_excerpt": excerpt,
        "latency_ms": round(latency_ms, 3),
        "error": error,
        "request": json.dumps(request),
        "at": time.time(),
    }


def _retry_after(value: str | None) -> float | None:
    if value is None:
        return None
    try:
        return min(max(float(value), 0.0), MAX_RETRY_AFTER_SECONDS)
    except ValueError:
        return None


def _failure_reason(status: int | None, error: str | None) -> str:
    if status is None:
        return f"gave up: {error}"
    return f"HTTP {status}"
