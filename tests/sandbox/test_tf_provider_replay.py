"""Replays the Terraform provider's call sequences against the Segment stand-in."""

from __future__ import annotations

import json

import pytest

from sandbox.server import SandboxServer
from tests.sandbox import tf_provider_replay as tf
from tests.sandbox.segment_helpers import SEND_ACTION, WEBHOOKS_ACTIONS, SegmentWorkspace


def canonical(value: object) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=True)


def mapping_settings(token: str) -> str:
    return canonical(
        {
            "batch_size": 0,
            "data": {"@path": "$."},
            "enable_batching": False,
            "headers": {"Authorization": f"Bearer {token}"},
            "method": "POST",
            "url": "https://pendula.app/webhook/inbound/0b7d9c1e-0000-4000-8000-000000000001",
        }
    )


def setup(sandbox: SandboxServer) -> tuple[tf.PublicApi, dict[str, object]]:
    workspace = SegmentWorkspace(sandbox)
    source = workspace.source()
    api = tf.PublicApi(sandbox.url, workspace.token)
    inputs = {
        "sourceId": source["id"],
        "metadata": {"id": WEBHOOKS_ACTIONS},
        "name": "Pendula (dev)",
        "enabled": True,
        "settings": canonical({"sharedSecret": "s3cret-value"}),
    }
    return api, inputs


def test_destination_crud_round_trip(sandbox: SandboxServer) -> None:
    api, inputs = setup(sandbox)

    state = tf.destination_create(api, inputs)
    refreshed = tf.destination_read(api, state)
    updated = tf.destination_update(api, state, {**inputs, "enabled": False})
    tf.destination_delete(api, updated)
    gone = tf.destination_read(api, updated)

    assert state["settings"] == inputs["settings"]
    # The censored secret comes back as bullets; mergeSettings keeps the configured value,
    # so a refresh right after create shows no drift.
    assert refreshed == state
    assert updated["enabled"] is False
    assert gone is None
    assert [(m, s) for m, _, s in api.calls] == [
        ("POST", 200),
        ("GET", 200),
        ("PATCH", 200),
        ("DELETE", 200),
        ("GET", 404),
    ]


def test_subscription_create_is_two_writes_and_refresh_shows_no_drift(
    sandbox: SandboxServer,
) -> None:
    api, inputs = setup(sandbox)
    destination = tf.destination_create(api, inputs)
    sub_inputs = {
        "destinationId": destination["id"],
        "name": "welcome",
        "enabled": True,
        "actionId": SEND_ACTION,
        "trigger": 'type = "track" and event = "Signed Up"',
        "settings": mapping_settings("pdl_secret_token"),
    }
    api.calls.clear()

    state = tf.subscription_create(api, sub_inputs)
    refreshed = tf.subscription_read(api, state)

    assert [(m, p.rsplit("/", 1)[-1] == state["id"]) for m, p, _ in api.calls] == [
        ("POST", False),
        ("PATCH", True),
        ("GET", True),
    ]
    assert refreshed == state
    assert state["actionSlug"] == "send"
    assert state["modelId"] is None
    assert json.loads(state["settings"]) == json.loads(sub_inputs["settings"])


def test_third_create_in_a_minute_fails_on_its_patch(sandbox: SandboxServer) -> None:
    """Five subscription writes per minute, two per create: the third create's PATCH is the
    sixth write and is refused, leaving a created-but-unpatched subscription behind."""
    api, inputs = setup(sandbox)
    destination = tf.destination_create(api, inputs)
    sub_inputs = {
        "destinationId": destination["id"],
        "name": "m",
        "enabled": True,
        "actionId": SEND_ACTION,
        "trigger": 'type = "track"',
        "settings": mapping_settings("t"),
    }

    tf.subscription_create(api, sub_inputs)
    tf.subscription_create(api, sub_inputs)
    with pytest.raises(tf.ProviderError) as failure:
        tf.subscription_create(api, sub_inputs)

    assert failure.value.step == "Unable to update Destination subscription"
    assert failure.value.status == 429
    assert [s for m, _, s in api.calls if m in {"POST", "PATCH"}][-3:] == [200, 200, 429]


def test_subscription_update_and_delete(sandbox: SandboxServer) -> None:
    api, inputs = setup(sandbox)
    destination = tf.destination_create(api, inputs)
    sub_inputs = {
        "destinationId": destination["id"],
        "name": "m",
        "enabled": True,
        "actionId": SEND_ACTION,
        "trigger": 'type = "track"',
        "settings": mapping_settings("old"),
    }
    state = tf.subscription_create(api, sub_inputs)

    updated = tf.subscription_update(
        api, state, {**sub_inputs, "enabled": False, "settings": mapping_settings("new")}
    )
    tf.subscription_delete(api, updated)

    assert updated["enabled"] is False
    assert json.loads(updated["settings"])["headers"] == {"Authorization": "Bearer new"}
    assert tf.subscription_read(api, updated) is None


def test_merge_settings_keeps_configured_keys_and_censored_values() -> None:
    merged = tf.merge_settings(
        {"sharedSecret": "real", "kept": 1, "gone": 2},
        {"sharedSecret": "••••••••", "kept": 3, "added_by_server": 4},
    )

    assert merged == {"sharedSecret": "real", "kept": 3}
