"""The Public API calls `segmentio/segment` (Terraform provider 1.6.x) makes per CRUD step.

Reconstructed from `internal/provider/destination_resource.go`,
`destination_subscription_resource.go` and `models/*.go` (reference/segment.md 1.2, 1.3):

- segment_destination: Create `POST /destinations`; Read `GET /destinations/{id}` (404 drops
  the resource; settings merged with `mergeSettings`); Update `PATCH /destinations/{id}` with
  `{name, enabled, settings}`; Delete `DELETE /destinations/{id}`.
- segment_destination_subscription: Create `POST .../subscriptions` **then** `PATCH
  .../subscriptions/{id}` with the `{"input": {...}}` wrapper (two writes against the 5/min
  limit); Read `GET`; Update `PATCH`; Delete `DELETE`.

Inputs are the camelCase property bags our `pulumi_segment` SDK sends (`sourceId`,
`metadata.id`, `settings` as a JSON string; `destinationId`, `actionId`, `trigger`). States are
returned in the same shape; `settings` stays the planned string, as the provider keeps
`plan.Settings` after create/update. Retries of go-retryablehttp are not replayed: a 429 surfaces
as `ProviderError` so tests can count writes.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

import requests

V1 = "application/vnd.segment.v1+json"
V1ALPHA = "application/vnd.segment.v1alpha+json"
USER_AGENT = "Segment (terraform 1.6.0)"
CENSOR_MARK = "•"


class ProviderError(RuntimeError):
    """What Terraform would report as a diagnostic: the step, the status and the API's errors."""

    def __init__(self, step: str, response: requests.Response) -> None:
        super().__init__(f"{step}: HTTP {response.status_code}: {response.text}")
        self.step = step
        self.status = response.status_code
        self.body = response.text


@dataclass
class PublicApi:
    """The provider's API client: bearer token, versioned media types, a log of every call."""

    url: str
    token: str
    calls: list[tuple[str, str, int]] = field(default_factory=list)

    def request(
        self, method: str, path: str, media_type: str, body: Any = None
    ) -> requests.Response:
        headers = {
            "Authorization": f"Bearer {self.token}",
            "User-Agent": USER_AGENT,
            "Accept": f"{media_type}, application/json",
        }
        data = None
        if body is not None:
            headers["Content-Type"] = media_type
            data = json.dumps(body)
        response = requests.request(
            method, f"{self.url}{path}", headers=headers, data=data, timeout=10
        )
        self.calls.append((method, path, response.status_code))
        return response


def merge_settings(previous: dict[str, Any], remote: dict[str, Any]) -> dict[str, Any]:
    """Provider 1.6.0 `mergeSettings`: keep only configured keys; a censored remote string
    (containing `•`) keeps the configured value."""
    merged: dict[str, Any] = {}
    for key, value in previous.items():
        if key not in remote:
            continue
        remote_value = remote[key]
        censored = isinstance(remote_value, str) and CENSOR_MARK in remote_value
        merged[key] = value if censored else remote_value
    return merged


def _settings_string(previous: str, remote: dict[str, Any]) -> str:
    merged = merge_settings(json.loads(previous), remote)
    # jsontypes.Normalized compares semantically; a canonical dump keeps equal values equal.
    return json.dumps(merged, sort_keys=True, separators=(",", ":"))


def _destination_state(data: dict[str, Any], settings: str) -> dict[str, Any]:
    return {
        "id": data["id"],
        "name": data.get("name"),
        "enabled": data["enabled"],
        "sourceId": data["sourceId"],
        "metadata": {"id": data["metadata"]["id"]},
        "settings": settings,
    }


def destination_create(api: PublicApi, inputs: dict[str, Any]) -> dict[str, Any]:
    body: dict[str, Any] = {
        "sourceId": inputs["sourceId"],
        "metadataId": inputs["metadata"]["id"],
        "enabled": inputs["enabled"],
        "settings": json.loads(inputs["settings"]),
    }
    if inputs.get("name") is not None:
        body["name"] = inputs["name"]
    response = api.request("POST", "/destinations", V1, body)
    if not response.ok:
        raise ProviderError("Unable to create Destination", response)
    return _destination_state(response.json()["data"]["destination"], inputs["settings"])


def destination_read(api: PublicApi, state: dict[str, Any]) -> dict[str, Any] | None:
    """The refreshed state, or None when the destination is gone (removed from state)."""
    response = api.request("GET", f"/destinations/{state['id']}", V1)
    if response.status_code == 404:
        return None
    if not response.ok:
        raise ProviderError("Unable to read Destination", response)
    data = response.json()["data"]["destination"]
    return _destination_state(data, _settings_string(state["settings"], data["settings"]))


def destination_update(
    api: PublicApi, state: dict[str, Any], inputs: dict[str, Any]
) -> dict[str, Any]:
    body = {
        "name": inputs.get("name"),
        "enabled": inputs["enabled"],
        "settings": json.loads(inputs["settings"]),
    }
    response = api.request("PATCH", f"/destinations/{state['id']}", V1, body)
    if not response.ok:
        raise ProviderError("Unable to update Destination", response)
    return _destination_state(response.json()["data"]["destination"], inputs["settings"])


def destination_delete(api: PublicApi, state: dict[str, Any]) -> None:
    response = api.request("DELETE", f"/destinations/{state['id']}", V1)
    if not response.ok:
        raise ProviderError("Unable to delete Destination", response)


def _subscription_state(data: dict[str, Any], settings: str) -> dict[str, Any]:
    return {
        "id": data["id"],
        "destinationId": data["destinationId"],
        "name": data["name"],
        "enabled": data["enabled"],
        "actionId": data["actionId"],
        "actionSlug": data["actionSlug"],
        "trigger": data["trigger"],
        # The provider normalises "" to null.
        "modelId": data.get("modelId") or None,
        "settings": settings,
    }


def _update_input(inputs: dict[str, Any]) -> dict[str, Any]:
    return {
        "input": {
            "name": inputs["name"],
            "trigger": inputs["trigger"],
            "enabled": inputs["enabled"],
            "settings": json.loads(inputs["settings"]),
        }
    }


def subscription_create(api: PublicApi, inputs: dict[str, Any]) -> dict[str, Any]:
    base = f"/destinations/{inputs['destinationId']}/subscriptions"
    body = {
        "name": inputs["name"],
        "actionId": inputs["actionId"],
        "trigger": inputs["trigger"],
        "enabled": inputs["enabled"],
        "settings": json.loads(inputs["settings"]),
    }
    created = api.request("POST", base, V1ALPHA, body)
    if not created.ok:
        raise ProviderError("Unable to create Destination subscription", created)
    subscription_id = created.json()["data"]["destinationSubscription"]["id"]
    updated = api.request("PATCH", f"{base}/{subscription_id}", V1ALPHA, _update_input(inputs))
    if not updated.ok:
        raise ProviderError("Unable to update Destination subscription", updated)
    return _subscription_state(updated.json()["data"]["subscription"], inputs["settings"])


def subscription_read(api: PublicApi, state: dict[str, Any]) -> dict[str, Any] | None:
    path = f"/destinations/{state['destinationId']}/subscriptions/{state['id']}"
    response = api.request("GET", path, V1ALPHA)
    if response.status_code == 404:
        return None
    if not response.ok:
        raise ProviderError("Unable to read Destination subscription", response)
    data = response.json()["data"]["subscription"]
    return _subscription_state(data, _settings_string(state["settings"], data["settings"]))


def subscription_update(
    api: PublicApi, state: dict[str, Any], inputs: dict[str, Any]
) -> dict[str, Any]:
    path = f"/destinations/{state['destinationId']}/subscriptions/{state['id']}"
    response = api.request("PATCH", path, V1ALPHA, _update_input(inputs))
    if not response.ok:
        raise ProviderError("Unable to update Destination subscription", response)
    return _subscription_state(response.json()["data"]["subscription"], inputs["settings"])


def subscription_delete(api: PublicApi, state: dict[str, Any]) -> None:
    path = f"/destinations/{state['destinationId']}/subscriptions/{state['id']}"
    response = api.request("DELETE", path, V1ALPHA)
    if not response.ok:
        raise ProviderError("Unable to delete Destination subscription", response)
