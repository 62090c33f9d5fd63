"""The sandbox's Segment catalog: Webhooks (Actions) in full, plus a few source types."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

from fastapi import APIRouter, Request, Response

from sandbox.segment_api.conventions import (
    Caller,
    SegmentRoute,
    V1Json,
    not_found,
    page_from,
    pagination_output,
    rate_limit,
)

WEBHOOKS_ACTIONS_ID = "614a3c7d791c91c41bae7599"
SEND_ACTION_ID = "nFPnRozhz1mh4Gbx4MLvT5"

# Ids and names from segment-docs src/_data/catalog/sources.yml (reference/segment.md 1.4);
# the remaining SourceMetadataV1 fields are plausible fillers, not Segment's data.
SOURCE_TYPES = {
    "iUM16Md8P2": ("HTTP API", "http-api"),
    "IqDTy1TpoU": ("Javascript", "javascript"),
    "U9mT0bPcI6": ("Node.js", "node-js"),
    "XRksQPCr7X": ("Python", "python"),
}


@cache
def _webhooks_actions() -> dict[str, Any]:
    raw = json.loads((Path(__file__).with_name("webhooks_actions.json")).read_text("utf-8"))
    # Keys starting with "_" document where the data comes from; they are not API fields.
    return {key: value for key, value in raw.items() if not key.startswith("_")}


def destination_metadata(metadata_id: str) -> dict[str, Any] | None:
    """A fresh copy of `DestinationMetadataV1` for `metadata_id`, or None if not in this catalog."""
    if metadata_id != WEBHOOKS_ACTIONS_ID:
        return None
    copy: dict[str, Any] = json.loads(json.dumps(_webhooks_actions()))
    return copy


def action(metadata_id: str, action_id: str) -> dict[str, Any] | None:
    """The catalog action `action_id` of destination type `metadata_id`, if it exists."""
    metadata = destination_metadata(metadata_id)
    if metadata is None:
        return None
    return next((a for a in metadata["actions"] if a["id"] == action_id), None)


def secret_options(metadata_id: str) -> set[str]:
    """Setting names Segment censors on read (options of type `password`)."""
    metadata = destination_metadata(metadata_id) or {"options": []}
    return {o["name"] for o in metadata["options"] if o["type"] == "password"}


def source_metadata(metadata_id: str) -> dict[str, Any] | None:
    """`SourceMetadataV1` for the known source types, or None."""
    if metadata_id not in SOURCE_TYPES:
        return None
    name, slug = SOURCE_TYPES[metadata_id]
    return {
        "id": metadata_id,
        "name": name,
        "slug": slug,
        "description": f"{name} source (sandbox catalog).",
        "logos": {"default": f"https://cdn.segment.com/sandbox/logos/{slug}.svg"},
        "options": [],
        "categories": ["Server"],
        "isCloudEventSource": False,
    }


router = APIRouter(route_class=SegmentRoute, default_response_class=V1Json)


@router.get("/catalog/destinations/{metadata_id}")
def get_destination_metadata(
    metadata_id: str,
    request: Request,
    response: Response,
    workspace: Caller,
) -> dict[str, Any]:
    rate_limit(request, response, workspace, "general")
    metadata = destination_metadata(metadata_id)
    if metadata is None:
        raise not_found("Destination metadata", metadata_id)
    return {"data": {"destinationMetadata": metadata}}


@router.get("/catalog/destinations")
def list_destination_metadata(
    request: Request, response: Response, workspace: Caller
) -> dict[str, Any]:
    rate_limit(request, response, workspace, "general")
    page = page_from(request)
    items = [_webhooks_actions()][page.offset : page.offset + page.count]
    return {
        "data": {
            "destinationsCatalog": items,
            "pagination": pagination_output(page, 1),
        }
    }
