"""Stand-in for Segment's Public API: workspaces, sources, destinations, subscriptions, catalog."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, HTTPException, Request

from sandbox.limits import parse_json
from sandbox.segment_api import (
    catalog,
    conventions,
    destinations,
    sources,
    subscriptions,
)
from sandbox.store import Store

SCHEMA = f"{conventions.SCHEMA}{sources.SCHEMA}{destinations.SCHEMA}{subscriptions.SCHEMA}"

REGIONS = ("us", "eu")

router = APIRouter()
router.include_router(catalog.router)
router.include_router(sources.router)
router.include_router(destinations.router)
router.include_router(subscriptions.router)


@router.post("/_sandbox/segment/workspaces", status_code=201)
async def create_workspace(request: Request) -> dict[str, Any]:
    """Seed a workspace: `{name?, region?}` -> `{workspace_id, token}` (a Public API token)."""
    raw = await request.body()
    try:
        body: Any = {} if not raw else parse_json(raw)
    except ValueError as exc:
        raise HTTPException(400, f"the body is not valid JSON: {exc}") from None
    if not isinstance(body, dict):
        raise HTTPException(422, "body must be a JSON object {name?, region?}")
    name = body.get("name", "Sandbox workspace")
    region = body.get("region", "us")
    if not isinstance(name, str) or not name.strip():
        raise HTTPException(422, f"name: {name!r} is not a non-empty string")
    if region not in REGIONS:
        raise HTTPException(422, f"region: {region!r} is not allowed; allowed {list(REGIONS)}")
    store: Store = request.app.state.store
    workspace_id, token = conventions.create_workspace(store, name, region)
    return {"workspace_id": workspace_id, "token": token}
