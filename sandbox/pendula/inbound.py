"""The webhook trigger: `POST /webhook/inbound/{uuid}` starts one experience per JSON request."""

from __future__ import annotations

import json
import threading
import time
import uuid
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from sandbox.limits import parse_json
from sandbox.pendula.auth import InboundCredential, hash_secret, parse_inbound_authorization
from sandbox.pendula.errors import PendulaApiError, PendulaRoute
from sandbox.pendula.ratelimit import RateLimiter
from sandbox.pendula.timestamps import utc_now_iso
from sandbox.settings import SandboxSettings
from sandbox.store import Store

router = APIRouter(route_class=PendulaRoute)

CUSTOM_CONTEXT_HEADER = "x-pendula-custom-context"
REDACTED = "[REDACTED]"

_limiter_lock = threading.Lock()


def _rate_limiter(request: Request) -> RateLimiter:
    """The app's per-flow limiter, created on first use (it lives as long as the process)."""
    state = request.app.state
    with _limiter_lock:
        limiter: RateLimiter | None = getattr(state, "pendula_rate_limiter", None)
        if limiter is None:
            settings: SandboxSettings = state.settings
            limiter = RateLimiter(settings.pendula_flow_rate_per_second)
            state.pendula_rate_limiter = limiter
    return limiter


def _is_json_media_type(content_type: str | None) -> bool:
    media_type = (content_type or "").split(";", 1)[0].strip().lower()
    return media_type == "application/json" or (
        media_type.startswith("application/") and media_type.endswith("+json")
    )


def _parse_custom_context(value: str | None) -> Any:
    """The newer JSON-object form is kept as an object; anything else as the plain string."""
    if value is None:
        return None
    try:
        parsed = json.loads(value)
    except ValueError:
        return value
    return parsed if isinstance(parsed, dict) else value


def _recorded_headers(request: Request) -> dict[str, str]:
    """Request headers as received, with the credential replaced (experiences are readable)."""
    headers = dict(request.headers)
    if "authorization" in headers:
        scheme = headers["authorization"].partition(" ")[0]
        headers["authorization"] = f"{scheme} {REDACTED}"
    return headers


def _flow_known(store: Store, flow_id: str) -> bool:
    with store.connect() as conn:
        row = conn.execute("SELECT 1 FROM pendula_flows WHERE id = ?", (flow_id,)).fetchone()
    return row is not None


def _reseed_for_unknown_flow(store: Store, settings: SandboxSettings, flow_id: str) -> None:
    """Re-read the seed stack file: a flow added there since the start is served at once.

    Seeding is idempotent, so this only adds what is new (flows, tokens, sources)."""
    if settings.seed_stack is None:
        return
    from sandbox.seed import SeedError, seed_store  # noqa: PLC0415 (seed imports this package)

    try:
        seed_store(store, settings.seed_stack)
    except SeedError as exc:
        raise PendulaApiError(
            404,
            "not_found",
            f"no webhook trigger at flow {flow_id!r}, and the sandbox could not re-read its "
            f"stack file to look for it: {exc}",
        ) from None


def _unknown_flow_message(settings: SandboxSettings, flow_id: str) -> str:
    """Why the flow is unknown and how to make the sandbox know it."""
    if settings.seed_stack is not None:
        return (
            f"no webhook trigger at flow {flow_id!r}: no flow URL in {settings.seed_stack} "
            "ends with this id (the sandbox re-read it just now). Add the flow there, its URL "
            "ending in the flow id, and send again"
        )
    return (
        f"no webhook trigger at flow {flow_id!r}: this sandbox was started without --seed; "
        "seed it from the sandbox stack file (idempotent, while it runs): "
        "venv/bin/python -m sandbox --seed stacks/Pulumi.local.yaml --seed-only"
    )


def _start_experience(
    request: Request, flow_id: str, credential: InboundCredential, body: Any
) -> str:
    """Check credential, flow state and rate; record the experience and return its id."""
    store: Store = request.app.state.store
    settings: SandboxSettings = request.app.state.settings
    if not _flow_known(store, flow_id):
        _reseed_for_unknown_flow(store, settings, flow_id)
    with store.connect() as conn:
        flow = conn.execute(
            "SELECT tenant_id, state FROM pendula_flows WHERE id = ?", (flow_id,)
        ).fetchone()
        if flow is None:
            raise PendulaApiError(404, "not_found", _unknown_flow_message(settings, flow_id))
        token = conn.execute(
            "SELECT id, tenant_id, status, deactivated_at FROM pendula_tokens WHERE token_hash = ?",
            (hash_secret(credential.token),),
        ).fetchone()
        if token is None:
            raise PendulaApiError(401, "unauthorized", "the API token is not valid")
        if credential.tenant_id is not None and credential.tenant_id != token["tenant_id"]:
            raise PendulaApiError(
                401, "unauthorized", "the Basic user name is not the tenant ID of this API token"
            )
        if token["tenant_id"] != flow["tenant_id"]:
            raise PendulaApiError(
                401, "unauthorized", "the API token belongs to a different tenant than this flow"
            )
        # Pendula: deactivation "can take up to 60 seconds"; until then the token still works.
        if token["status"] != "active" and (
            time.time() >= token["deactivated_at"] + settings.token_deactivation_delay_seconds
        ):
            raise PendulaApiError(401, "unauthorized", "the API token has been deactivated")
        if flow["state"] != "active":
            raise PendulaApiError(
                409,
                "flow_not_active",
                f"flow {flow_id!r} is {flow['state']}; only active flows start experiences",
            )
        retry_after = _rate_limiter(request).acquire(flow_id)
        if retry_after is not None:
            raise PendulaApiError(
                429,
                "rate_limited",
                f"flow {flow_id!r} accepts at most {settings.pendula_flow_rate_per_second}"
                f" requests per second; retry after {retry_after} s",
                {"Retry-After": str(retry_after)},
            )
        experience_id = str(uuid.uuid4())
        custom_context = _parse_custom_context(request.headers.get(CUSTOM_CONTEXT_HEADER))
        conn.execute(
            "INSERT INTO pendula_experiences (id, flow_id, received_at, body, headers,"
            " custom_context, auth_scheme, token_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (
                experience_id,
                flow_id,
                utc_now_iso(),
                json.dumps(body),
                json.dumps(_recorded_headers(request)),
                None if custom_context is None else json.dumps(custom_context),
                credential.scheme,
                token["id"],
            ),
        )
    return experience_id


@router.post("/webhook/inbound/{flow_id}", status_code=202)
async def inbound_webhook(request: Request, flow_id: str) -> JSONResponse:
    """Pendula's webhook trigger (pendula.md §1): authenticated JSON in, one experience out."""
    credential = parse_inbound_authorization(request.headers.get("authorization"))
    content_type = request.headers.get("content-type")
    if not _is_json_media_type(content_type):
        raise PendulaApiError(
            415,
            "unsupported_media_type",
            f"Content-Type must be application/json, got {content_type or 'none'!r}",
        )
    raw = await request.body()
    try:
        body = parse_json(raw)
    except ValueError as exc:
        # The media type was right; the content is not (truncated, too deep, NaN…): 400.
        raise PendulaApiError(
            400, "invalid_json", f"the request body is not valid JSON: {exc}"
        ) from exc
    # Straight on the event loop: the transaction takes well under a millisecond (WAL, no
    # fsync), and a hop to the thread pool cost more than that and lengthened the latency
    # tail under load (bench/load_pendula.py: p99 57 -> 33 ms at 200 req/s).
    experience_id = _start_experience(request, flow_id, credential, body)
    return JSONResponse({"experience_id": experience_id}, status_code=202)
