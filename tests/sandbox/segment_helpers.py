"""Helpers for tests that drive the Segment half of the sandbox over real HTTP."""

from __future__ import annotations

import json
from typing import Any

import requests

from sandbox.server import SandboxServer

TIMEOUT = 10
WEBHOOKS_ACTIONS = "614a3c7d791c91c41bae7599"
SEND_ACTION = "nFPnRozhz1mh4Gbx4MLvT5"
HTTP_API_SOURCE = "iUM16Md8P2"
ALPHA = "application/vnd.segment.v1alpha+json"


class SegmentWorkspace:
    """A seeded workspace of a running sandbox, calling the Public API with its token."""

    def __init__(self, server: SandboxServer, name: str = "Test workspace") -> None:
        response = requests.post(
            f"{server.url}/_sandbox/segment/workspaces", json={"name": name}, timeout=TIMEOUT
        )
        assert response.status_code == 201, response.text
        self.server = server
        self.id: str = response.json()["workspace_id"]
        self.token: str = response.json()["token"]

    def call(self, method: str, path: str, **kwargs: Any) -> requests.Response:
        headers = {"Authorization": f"Bearer {self.token}", **kwargs.pop("headers", {})}
        return requests.request(
            method, f"{self.server.url}{path}", headers=headers, timeout=TIMEOUT, **kwargs
        )

    def source(self, slug: str = "web", enabled: bool = True) -> dict[str, Any]:
        response = self.call(
            "POST",
            "/sources",
            json={"slug": slug, "enabled": enabled, "metadataId": HTTP_API_SOURCE, "settings": {}},
        )
        assert response.status_code == 201, response.text
        source: dict[str, Any] = response.json()["data"]["source"]
        return source

    def destination(
        self, source_id: str, settings: dict[str, Any] | None = None, enabled: bool = True
    ) -> dict[str, Any]:
        response = self.call(
            "POST",
            "/destinations",
            json={
                "sourceId": source_id,
                "metadataId": WEBHOOKS_ACTIONS,
                "enabled": enabled,
                "name": "Pendula",
                "settings": settings or {},
            },
        )
        assert response.status_code == 200, response.text
        destination: dict[str, Any] = response.json()["data"]["destination"]
        return destination

    def subscription(
        self,
        destination_id: str,
        settings: dict[str, Any],
        trigger: str = 'type = "track"',
        enabled: bool = True,
        name: str = "mapping",
    ) -> dict[str, Any]:
        response = self.call(
            "POST",
            f"/destinations/{destination_id}/subscriptions",
            headers={"Content-Type": ALPHA, "Accept": ALPHA},
            data=json.dumps(
                {
                    "name": name,
                    "actionId": SEND_ACTION,
                    "trigger": trigger,
                    "enabled": enabled,
                    "settings": settings,
                }
            ),
        )
        assert response.status_code == 200, response.text
        subscription: dict[str, Any] = response.json()["data"]["destinationSubscription"]
        return subscription


def errors_of(response: requests.Response) -> list[dict[str, Any]]:
    """The Public API error envelope's `errors` (and nothing else in the body)."""
    body = response.json()
    assert set(body) == {"errors"}, body
    errors: list[dict[str, Any]] = body["errors"]
    return errors
