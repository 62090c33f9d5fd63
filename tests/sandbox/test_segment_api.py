"""The Segment Public API stand-in over real HTTP: endpoints, auth, errors, paging, rate limits."""

from __future__ import annotations

import json
from collections.abc import Iterator
from email.utils import parsedate_to_datetime
from pathlib import Path

import pytest
import requests

from sandbox.segment_api.destinations import CENSORED
from sandbox.server import SandboxServer
from sandbox.settings import SandboxSettings
from sandbox.store import Store
from tests.sandbox.segment_helpers import (
    ALPHA,
    HTTP_API_SOURCE,
    SEND_ACTION,
    TIMEOUT,
    WEBHOOKS_ACTIONS,
    SegmentWorkspace,
    errors_of,
)

V1 = "application/vnd.segment.v1+json"
SECRET = "shh-this-is-the-shared-secret"
MAPPING = {
    "url": "https://pendula.app/webhook/inbound/0b7d9c1e-0000-4000-8000-000000000001",
    "method": "POST",
    "batch_size": 0,
    "headers": {"Authorization": "Bearer pdl_test_token"},
    "data": {"@path": "$."},
    "enable_batching": False,
}


@pytest.fixture
def unlimited(tmp_path: Path) -> Iterator[SandboxServer]:
    """A sandbox without the subscription write limit, for tests that create many mappings."""
    settings = SandboxSettings(db_path=tmp_path / "db.sqlite3", subscription_writes_per_minute=0)
    with SandboxServer(settings) as server:
        yield server


def test_missing_and_invalid_tokens_get_401_envelopes(sandbox: SandboxServer) -> None:
    missing = requests.get(f"{sandbox.url}/destinations", timeout=TIMEOUT)
    wrong_scheme = requests.get(
        f"{sandbox.url}/destinations", headers={"Authorization": "Basic abc"}, timeout=TIMEOUT
    )
    unknown = requests.get(
        f"{sandbox.url}/destinations",
        headers={"Authorization": "Bearer sta_not-a-token"},
        timeout=TIMEOUT,
    )

    assert missing.status_code == 401
    assert errors_of(missing) == [
        {
            "type": "unauthorized",
            "message": "Missing Authorization header; send 'Bearer <Public API token>'.",
        }
    ]
    assert wrong_scheme.status_code == 401
    assert errors_of(wrong_scheme)[0]["message"] == (
        "Authorization header must use the Bearer scheme with a token."
    )
    assert unknown.status_code == 401
    assert errors_of(unknown) == [
        {"type": "unauthorized", "message": "The Public API token is not valid for any workspace."}
    ]
    assert "sta_not-a-token" not in unknown.text


def test_workspaces_are_isolated(sandbox: SandboxServer) -> None:
    first, second = SegmentWorkspace(sandbox, "one"), SegmentWorkspace(sandbox, "two")
    source = first.source()

    response = second.call("GET", f"/sources/{source['id']}")

    assert response.status_code == 404
    assert errors_of(response) == [
        {
            "type": "not-found",
            "message": f"Source {source['id']!r} was not found in this workspace.",
        }
    ]


def test_workspace_seed_rejects_unknown_region(sandbox: SandboxServer) -> None:
    response = requests.post(
        f"{sandbox.url}/_sandbox/segment/workspaces", json={"region": "apac"}, timeout=TIMEOUT
    )

    assert response.status_code == 422
    assert response.json()["detail"] == "region: 'apac' is not allowed; allowed ['us', 'eu']"


def test_source_lifecycle_as_the_terraform_provider_drives_it(sandbox: SandboxServer) -> None:
    workspace = SegmentWorkspace(sandbox)
    created = workspace.call(
        "POST",
        "/sources",
        json={
            "slug": "checkout",
            "enabled": True,
            "metadataId": HTTP_API_SOURCE,
            "settings": {"keep": 1, "drop": 2},
            "disconnectAllWarehouses": True,
        },
    )
    source = created.json()["data"]["source"]
    source_id = source["id"]

    named = workspace.call("PATCH", f"/sources/{source_id}", json={"name": "Checkout"})
    labels = workspace.call(
        "PUT", f"/sources/{source_id}/labels", json={"labels": [{"key": "env", "value": "dev"}]}
    )
    updated = workspace.call(
        "PATCH",
        f"/sources/{source_id}",
        json={"slug": "checkout", "enabled": False, "settings": {"drop": None, "new": "x"}},
    )
    settings = workspace.call("GET", f"/sources/{source_id}/settings")
    deleted = workspace.call("DELETE", f"/sources/{source_id}")
    gone = workspace.call("GET", f"/sources/{source_id}")

    assert created.status_code == 201
    assert created.headers["content-type"] == V1
    assert "name" not in source
    assert source["workspaceId"] == workspace.id
    assert source["metadata"]["id"] == HTTP_API_SOURCE
    assert len(source["writeKeys"]) == 1
    assert named.json()["data"]["source"]["name"] == "Checkout"
    assert labels.json() == {"data": {"labels": [{"key": "env", "value": "dev"}]}}
    final = updated.json()["data"]["source"]
    assert (final["enabled"], final["name"], final["settings"]) == (
        False,
        "Checkout",
        {"keep": 1, "new": "x"},
    )
    assert final["labels"] == [{"key": "env", "value": "dev"}]
    assert settings.json() == {"data": {"settings": {}}}
    assert deleted.json() == {"data": {"status": "SUCCESS"}}
    assert gone.status_code == 404


def test_source_validation_names_field_and_value(sandbox: SandboxServer) -> None:
    workspace = SegmentWorkspace(sandbox)

    bad_slug = workspace.call(
        "POST", "/sources", json={"slug": "Bad Slug", "enabled": True, "metadataId": "x"}
    )
    bad_type = workspace.call(
        "POST", "/sources", json={"slug": "ok", "enabled": True, "metadataId": "nope"}
    )
    workspace.source("dup")
    duplicate = workspace.call(
        "POST", "/sources", json={"slug": "dup", "enabled": True, "metadataId": HTTP_API_SOURCE}
    )

    assert bad_slug.status_code == 422
    assert errors_of(bad_slug)[0]["field"] == "slug"
    assert "'Bad Slug'" in errors_of(bad_slug)[0]["message"]
    assert bad_type.status_code == 422
    assert errors_of(bad_type)[0]["message"].startswith(
        "metadataId: 'nope' is not a source type of this catalog; allowed ["
    )
    assert duplicate.status_code == 409
    assert errors_of(duplicate)[0]["message"] == "slug: a source with slug 'dup' already exists."


def test_destination_censors_secrets_and_merges_patches(sandbox: SandboxServer) -> None:
    workspace = SegmentWorkspace(sandbox)
    source = workspace.source()
    destination = workspace.destination(source["id"], {"sharedSecret": SECRET, "extra": "a"})
    destination_id = destination["id"]

    read = workspace.call("GET", f"/destinations/{destination_id}")
    echoed = workspace.call(
        "PATCH",
        f"/destinations/{destination_id}",
        json={"name": None, "enabled": False, "settings": {"sharedSecret": CENSORED}},
    )
    merged = workspace.call(
        "PATCH",
        f"/destinations/{destination_id}",
        json={"name": "Renamed", "settings": {"extra": None, "more": 1}},
    )
    connected = workspace.call("GET", f"/sources/{source['id']}/connected-destinations")

    assert destination["settings"] == {"sharedSecret": CENSORED, "extra": "a"}
    assert destination["metadata"]["id"] == WEBHOOKS_ACTIONS
    assert destination["sourceId"] == source["id"]
    body = read.json()["data"]["destination"]
    assert body["settings"]["sharedSecret"] == CENSORED
    assert body["name"] == "Pendula"
    for response in (read, echoed, merged, connected):
        assert SECRET not in response.text
    after_echo = echoed.json()["data"]["destination"]
    assert "name" not in after_echo
    assert after_echo["enabled"] is False
    final = merged.json()["data"]["destination"]
    assert final["settings"] == {"sharedSecret": CENSORED, "more": 1}
    assert final["name"] == "Renamed"
    assert [d["id"] for d in connected.json()["data"]["destinations"]] == [destination_id]


def test_destination_keeps_the_real_secret_behind_the_mask(sandbox: SandboxServer) -> None:
    """A PATCH echoing the mask must not overwrite the secret: deliveries still sign with it."""
    workspace = SegmentWorkspace(sandbox)
    destination = workspace.destination(workspace.source()["id"], {"sharedSecret": SECRET})

    workspace.call(
        "PATCH",
        f"/destinations/{destination['id']}",
        json={"settings": {"sharedSecret": CENSORED}},
    )

    with Store(sandbox.settings.db_path, []).connect() as conn:
        stored = conn.execute(
            "SELECT settings FROM segment_destinations WHERE id = ?", (destination["id"],)
        ).fetchone()["settings"]
    assert json.loads(stored) == {"sharedSecret": SECRET}


def test_destination_errors(sandbox: SandboxServer) -> None:
    workspace = SegmentWorkspace(sandbox)
    source = workspace.source()

    unknown_type = workspace.call(
        "POST",
        "/destinations",
        json={"sourceId": source["id"], "metadataId": "54521fdc25e721e32a72ef04", "settings": {}},
    )
    unknown_source = workspace.call(
        "POST",
        "/destinations",
        json={"sourceId": "nope", "metadataId": WEBHOOKS_ACTIONS, "settings": {}},
    )
    bad_secret = workspace.call(
        "POST",
        "/destinations",
        json={
            "sourceId": source["id"],
            "metadataId": WEBHOOKS_ACTIONS,
            "settings": {"sharedSecret": 5},
        },
    )
    not_json = workspace.call(
        "POST", "/destinations", data="{", headers={"Content-Type": "application/json"}
    )
    form = workspace.call("POST", "/destinations", data={"a": "b"})
    missing = workspace.call("DELETE", "/destinations/000000000000000000000000")

    assert unknown_type.status_code == 422
    assert errors_of(unknown_type)[0] == {
        "type": "validation",
        "message": "metadataId: '54521fdc25e721e32a72ef04' is not in this catalog; allowed "
        "'614a3c7d791c91c41bae7599' (Webhooks (Actions)).",
        "field": "metadataId",
    }
    assert unknown_source.status_code == 404
    assert bad_secret.status_code == 422
    assert errors_of(bad_secret)[0]["field"] == "settings.sharedSecret"
    assert not_json.status_code == 400
    assert errors_of(not_json)[0]["type"] == "bad-request"
    assert form.status_code == 415
    assert missing.status_code == 404


def test_subscription_lifecycle_with_alpha_media_type(sandbox: SandboxServer) -> None:
    workspace = SegmentWorkspace(sandbox)
    destination = workspace.destination(workspace.source()["id"])
    base = f"/destinations/{destination['id']}/subscriptions"

    created = workspace.call(
        "POST",
        base,
        json={
            "name": "Signed up",
            "actionId": SEND_ACTION,
            "trigger": 'event = "Signed Up"',
            "enabled": False,
            "settings": MAPPING,
        },
    )
    sub_id = created.json()["data"]["destinationSubscription"]["id"]
    patched = workspace.call(
        "PATCH",
        f"{base}/{sub_id}",
        headers={"Content-Type": ALPHA},
        data=json.dumps({"input": {"enabled": True, "trigger": 'type = "track"'}}),
    )
    read = workspace.call("GET", f"{base}/{sub_id}", headers={"Accept": ALPHA})
    deleted = workspace.call("DELETE", f"{base}/{sub_id}")
    gone = workspace.call("GET", f"{base}/{sub_id}")

    assert created.status_code == 200
    assert created.headers["content-type"] == ALPHA
    assert created.json()["data"]["destinationSubscription"] == {
        "id": sub_id,
        "name": "Signed up",
        "actionId": SEND_ACTION,
        "actionSlug": "send",
        "destinationId": destination["id"],
        "enabled": False,
        "trigger": 'event = "Signed Up"',
        "settings": MAPPING,
        "modelId": "",
    }
    assert patched.headers["content-type"] == ALPHA
    subscription = patched.json()["data"]["subscription"]
    assert (subscription["enabled"], subscription["trigger"], subscription["name"]) == (
        True,
        'type = "track"',
        "Signed up",
    )
    assert subscription["settings"] == MAPPING
    assert read.json()["data"]["subscription"] == subscription
    assert deleted.json() == {"data": {"status": "SUCCESS"}}
    assert gone.status_code == 404
    assert gone.headers["content-type"] == ALPHA


def test_subscription_validation(unlimited: SandboxServer) -> None:
    workspace = SegmentWorkspace(unlimited)
    destination = workspace.destination(workspace.source()["id"])
    base = f"/destinations/{destination['id']}/subscriptions"
    good = {"name": "n", "actionId": SEND_ACTION, "trigger": 'type = "track"', "enabled": True}

    wrong_action = workspace.call("POST", base, json={**good, "actionId": "abc123"})
    empty_trigger = workspace.call("POST", base, json={**good, "trigger": ""})
    sub_id = workspace.subscription(destination["id"], MAPPING)["id"]
    unwrapped = workspace.call("PATCH", f"{base}/{sub_id}", json={"enabled": False})
    bad_settings = workspace.call(
        "PATCH", f"{base}/{sub_id}", json={"input": {"settings": "not-json-object"}}
    )

    assert wrong_action.status_code == 422
    assert errors_of(wrong_action)[0]["message"] == (
        "actionId: 'abc123' is not an action of this destination; "
        "allowed ['nFPnRozhz1mh4Gbx4MLvT5 (send)']."
    )
    assert errors_of(empty_trigger)[0]["field"] == "trigger"
    assert unwrapped.status_code == 422
    assert errors_of(unwrapped)[0]["field"] == "input"
    assert errors_of(bad_settings)[0] == {
        "type": "validation",
        "message": "input.settings: must be a JSON object, got str.",
        "field": "input.settings",
    }


def test_cursor_pagination_walks_every_item_once(unlimited: SandboxServer) -> None:
    workspace = SegmentWorkspace(unlimited)
    destination = workspace.destination(workspace.source()["id"])
    created = [
        workspace.subscription(destination["id"], MAPPING, name=f"m{i}")["id"] for i in range(5)
    ]

    seen: list[str] = []
    pages: list[dict[str, object]] = []
    params: dict[str, str | int] = {"pagination.count": 2}
    while True:
        response = workspace.call(
            "GET", f"/destinations/{destination['id']}/subscriptions", params=params
        )
        data = response.json()["data"]
        seen += [s["id"] for s in data["subscriptions"]]
        pages.append(data["pagination"])
        if "next" not in data["pagination"]:
            break
        params = {"pagination.count": 2, "pagination.cursor": data["pagination"]["next"]}

    assert seen == created
    assert len(pages) == 3
    assert pages[0]["current"] == "MA=="
    assert all(page["totalEntries"] == 5 for page in pages)
    assert "previous" not in pages[0]
    assert "previous" in pages[2]


def test_pagination_rejects_bad_input(sandbox: SandboxServer) -> None:
    workspace = SegmentWorkspace(sandbox)

    too_big = workspace.call("GET", "/sources", params={"pagination.count": 1001})
    bad_cursor = workspace.call("GET", "/destinations", params={"pagination.cursor": "%%%"})

    assert too_big.status_code == 422
    assert errors_of(too_big)[0]["message"] == (
        "pagination.count: 1001 is out of range; allowed 1..1000."
    )
    assert errors_of(bad_cursor)[0] == {
        "type": "validation",
        "message": "pagination.cursor: is not a cursor returned by this API.",
        "field": "pagination.cursor",
    }


def test_sixth_subscription_write_in_a_minute_gets_documented_429(sandbox: SandboxServer) -> None:
    workspace = SegmentWorkspace(sandbox)
    destination = workspace.destination(workspace.source()["id"])
    base = f"/destinations/{destination['id']}/subscriptions"

    sub_id = workspace.subscription(destination["id"], MAPPING)["id"]
    writes = [
        workspace.call("PATCH", f"{base}/{sub_id}", json={"input": {"name": f"n{i}"}})
        for i in range(4)
    ]
    limited = workspace.call("DELETE", f"{base}/{sub_id}")
    still_readable = workspace.call("GET", f"{base}/{sub_id}")

    assert [w.status_code for w in writes] == [200, 200, 200, 200]
    assert [w.headers["X-RateLimit-Remaining"] for w in writes] == ["3", "2", "1", "0"]
    assert limited.status_code == 429
    error = errors_of(limited)[0]
    assert (error["type"], error["message"]) == ("RequestError", "Too many requests")
    assert set(error["data"]) == {"remainingPoints", "msBeforeNext", "consumedPoints"}
    assert error["data"]["remainingPoints"] == 0
    assert error["data"]["consumedPoints"] == 6
    assert 0 < error["data"]["msBeforeNext"] <= 60_000
    assert int(limited.headers["Retry-After"]) == -(-error["data"]["msBeforeNext"] // 1000)
    assert still_readable.status_code == 200


def test_success_responses_carry_rate_limit_headers(sandbox: SandboxServer) -> None:
    workspace = SegmentWorkspace(sandbox)

    first = workspace.call("GET", "/sources")
    second = workspace.call("GET", "/sources")

    assert first.headers["X-RateLimit-Consumed"] == "1"
    assert second.headers["X-RateLimit-Consumed"] == "2"
    assert second.headers["X-RateLimit-Remaining"] == "598"
    assert parsedate_to_datetime(second.headers["X-RateLimit-Reset"]).tzinfo is not None


def test_general_limit_is_configurable(tmp_path: Path) -> None:
    settings = SandboxSettings(db_path=tmp_path / "db.sqlite3", public_api_requests_per_minute=2)
    with SandboxServer(settings) as server:
        workspace = SegmentWorkspace(server)
        statuses = [workspace.call("GET", "/sources").status_code for _ in range(3)]

    assert statuses == [200, 200, 429]


def test_catalog_describes_webhooks_actions(sandbox: SandboxServer) -> None:
    workspace = SegmentWorkspace(sandbox)

    response = workspace.call("GET", f"/catalog/destinations/{WEBHOOKS_ACTIONS}")
    unknown = workspace.call("GET", "/catalog/destinations/54521fdc25e721e32a72ef04")

    metadata = response.json()["data"]["destinationMetadata"]
    assert (metadata["id"], metadata["name"], metadata["slug"]) == (
        WEBHOOKS_ACTIONS,
        "Webhooks (Actions)",
        "actions-webhook",
    )
    assert metadata["options"][0]["name"] == "sharedSecret"
    assert metadata["options"][0]["type"] == "password"
    assert not any(key.startswith("_") for key in metadata)
    (send,) = metadata["actions"]
    assert (send["id"], send["slug"], send["name"], send["defaultTrigger"]) == (
        SEND_ACTION,
        "send",
        "Send",
        None,
    )
    fields = {f["fieldKey"]: f for f in send["fields"]}
    assert {key: fields[key]["id"] for key in fields} == {
        "url": "chABtpe8R3Fuff394fGrRE",
        "method": "qWdhkvZC25kbeusBhUsQqD",
        "batch_size": "xmwgA3k9zNsGzr9GETqqrJ",
        "headers": "p1hvcNQBwuGqeUKzUnTPWi",
        "data": "aR2f2X4hcT2nedjMJt3j3e",
        "enable_batching": "hguDY3MfapSaUior43bzE3",
    }
    assert [c["value"] for c in fields["method"]["choices"]] == ["POST", "PUT", "PATCH"]
    assert fields["data"]["defaultValue"] == {"@path": "$."}
    assert fields["enable_batching"]["sortOrder"] == 6
    assert unknown.status_code == 404


def test_state_survives_a_restart(tmp_path: Path) -> None:
    settings = SandboxSettings(db_path=tmp_path / "db.sqlite3")
    with SandboxServer(settings) as server:
        workspace = SegmentWorkspace(server)
        destination = workspace.destination(workspace.source()["id"], {"sharedSecret": SECRET})
        subscription = workspace.subscription(destination["id"], MAPPING)
        token = workspace.token

    with SandboxServer(settings) as restarted:
        headers = {"Authorization": f"Bearer {token}"}
        read = requests.get(
            f"{restarted.url}/destinations/{destination['id']}/subscriptions/{subscription['id']}",
            headers=headers,
            timeout=TIMEOUT,
        )

    assert read.status_code == 200
    assert read.json()["data"]["subscription"] == subscription
