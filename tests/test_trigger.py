"""PendulaTrigger under Pulumi's mock runtime: exact children, inputs, secrecy, determinism."""

from __future__ import annotations

import json
from typing import Any

import pulumi
import pytest

from components.config.models import ConfigError
from components.review.offline import (
    DESTINATION_TYPE,
    FLOW_TOKEN_TYPE,
    SUBSCRIPTION_TYPE,
    RecordedResource,
    RecordingMocks,
    RecordingMonitor,
    Secret,
    run_program,
    unwrap,
)
from components.trigger import (
    SEND_ACTION_ID,
    TYPE_TOKEN,
    WEBHOOKS_ACTIONS_METADATA_ID,
    PendulaTrigger,
)
from tests.test_config import SECRET, TOKEN, URL, URL2, base

COMPONENT_URN = (
    "urn:pulumi:dev::segment-pendula::pulumi:pulumi:Stack$segment-pendula:index:PendulaTrigger::web"
)


def by_name(resources: list[RecordedResource]) -> dict[str, RecordedResource]:
    return {r.name: r for r in resources}


def test_children_types_names_and_parents() -> None:
    resources = run_program(base(), SECRET)
    # Registration order follows input resolution, so compare as a sorted list.
    assert sorted((r.type, r.name) for r in resources) == sorted(
        [
            (TYPE_TOKEN, "web"),
            (DESTINATION_TYPE, "web-destination"),
            (FLOW_TOKEN_TYPE, "web-welcome-token"),
            (SUBSCRIPTION_TYPE, "web-welcome-subscription"),
            (FLOW_TOKEN_TYPE, "web-vip-token"),
            (SUBSCRIPTION_TYPE, "web-vip-subscription"),
        ]
    )
    component, *children = resources
    assert component.urn == COMPONENT_URN
    assert component.custom is False
    assert {c.parent for c in children} == {COMPONENT_URN}
    assert all(c.custom for c in children)


def test_destination_inputs() -> None:
    destination = by_name(run_program(base(), SECRET))["web-destination"]
    assert destination.inputs == {
        "enabled": True,
        "metadata": {"id": WEBHOOKS_ACTIONS_METADATA_ID},
        "name": "Pendula (web)",
        "settings": "{}",
        "sourceId": "qRTqz5cTyodBXJ4Ex2Ka1W",
    }
    assert destination.package_ref != ""


def test_subscription_inputs_and_canonical_settings() -> None:
    subscription = by_name(run_program(base(), SECRET))["web-welcome-subscription"]
    settings = subscription.inputs.pop("settings")
    assert subscription.inputs == {
        "actionId": SEND_ACTION_ID,
        "destinationId": "web-destination-id",
        "enabled": True,
        "name": "welcome",
        "trigger": 'type = "track" and event = "Signed Up"',
    }
    assert isinstance(settings, Secret)
    assert settings.value == (
        '{"batch_size":0,"data":{"@path":"$."},"enable_batching":false,'
        f'"headers":{{"Authorization":"Bearer {TOKEN}"}},"method":"POST","url":"{URL}"}}'
    )
    assert "settings" in subscription.additional_secret_outputs


def test_custom_context_and_custom_data_mapping() -> None:
    values = base()
    flow = values["destinations"][0]["flows"][1]
    flow["customContext"] = {"stack": "dev", "flow": "vip"}
    flow["data"] = {"userId": {"@path": "$.userId"}}
    settings = json.loads(
        unwrap(by_name(run_program(values, SECRET))["web-vip-subscription"].inputs["settings"])
    )
    assert settings == {
        "batch_size": 0,
        "data": {"userId": {"@path": "$.userId"}},
        "enable_batching": False,
        "headers": {
            "Authorization": f"Bearer {TOKEN}2",
            "X-PENDULA-CUSTOM-CONTEXT": '{"flow":"vip","stack":"dev"}',
        },
        "method": "POST",
        "url": URL2,
    }


def test_token_resource_gets_the_token_as_a_secret_input() -> None:
    token = by_name(run_program(base(), SECRET))["web-welcome-token"]
    assert token.inputs["token"] == Secret(TOKEN)
    assert token.inputs["flow_url"] == URL
    assert "authorization" in token.additional_secret_outputs


def _plain_strings(value: Any) -> list[str]:
    """Every string not behind a Secret marker."""
    if isinstance(value, Secret):
        return []
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [s for k, v in value.items() for s in [str(k), *_plain_strings(v)]]
    if isinstance(value, list):
        return [s for v in value for s in _plain_strings(v)]
    return []


def test_token_text_is_absent_from_every_non_secret_value() -> None:
    values = base()
    values["sharedSecrets"] = {"web": "whsec-shared-secret-value"}
    resources = run_program(values, SECRET | {"sharedSecrets"})
    plain = [s for r in resources for s in _plain_strings(r.inputs)]
    assert plain, "the check must see the plain inputs"
    for secret in (TOKEN, TOKEN + "2", "whsec-shared-secret-value"):
        assert not [s for s in plain if secret in s]
    destination = by_name(resources)["web-destination"]
    assert destination.inputs["settings"] == Secret('{"sharedSecret":"whsec-shared-secret-value"}')


def test_two_runs_give_byte_identical_inputs() -> None:
    def snapshot() -> str:
        return json.dumps(
            sorted(
                [r.type, r.name, r.parent, unwrap(r.inputs)] for r in run_program(base(), SECRET)
            ),
            sort_keys=True,
        )

    assert snapshot() == snapshot()


def test_invalid_config_registers_nothing() -> None:
    monitor = RecordingMonitor(RecordingMocks())
    values = base()
    values["destinations"][0]["flows"][0]["url"] = "https://evil.example/webhook"
    with pytest.raises(ConfigError):
        run_program(values, SECRET, monitor=monitor)
    assert monitor.recorded == []


@pulumi.runtime.test
def _two_workspaces() -> pulumi.Output[Any]:
    import pulumi_segment as segment

    us = segment.Provider("us", url="https://api.segmentapis.com", token="us-token")
    eu = segment.Provider("eu", url="https://eu1.api.segmentapis.com", token="eu-token")
    flow = {"name": "welcome", "url": URL, "trigger": 'type = "track"', "token": TOKEN}
    PendulaTrigger(
        "us-web",
        {"source_id": "src-us", "flows": [flow]},
        opts=pulumi.ResourceOptions(providers=[us]),
    )
    PendulaTrigger(
        "eu-web",
        {"source_id": "src-eu", "flows": [flow]},
        opts=pulumi.ResourceOptions(providers=[eu]),
    )
    return pulumi.Output.all(us.urn, eu.urn)


def test_each_component_uses_its_own_segment_provider() -> None:
    monitor = RecordingMonitor(RecordingMocks())
    pulumi.runtime.set_mocks(monitor.mocks, project="segment-pendula", stack="dev", monitor=monitor)
    _two_workspaces()
    providers = {r.name: r for r in monitor.recorded if r.type == "pulumi:providers:segment"}
    assert providers["eu"].inputs["url"] == "https://eu1.api.segmentapis.com"
    refs = {r.name: r.provider for r in monitor.recorded if r.type.startswith("segment:index")}
    assert refs["us-web-destination"].startswith(providers["us"].urn + "::")
    assert refs["us-web-welcome-subscription"].startswith(providers["us"].urn + "::")
    assert refs["eu-web-destination"].startswith(providers["eu"].urn + "::")
    assert refs["eu-web-welcome-subscription"].startswith(providers["eu"].urn + "::")


@pytest.mark.parametrize(
    ("flows", "message"),
    [
        ([], "flows: at least one flow is required"),
        (
            [{"name": "Bad Name", "url": URL, "trigger": 'type = "track"'}],
            "flows[0].name: 'Bad Name' must match ^[a-z][a-z0-9-]{0,39}$ "
            "(it becomes part of child resource names)",
        ),
        (
            [
                {"name": "a", "url": URL, "trigger": 'type = "track"'},
                {"name": "a", "url": URL, "trigger": 'type = "track"'},
            ],
            "flows[1].name: 'a' is used twice",
        ),
        ([{"name": "a", "url": URL}], "flows[0]: give exactly one of 'conditions' and 'trigger'"),
    ],
)
def test_component_rejects_bad_flows(flows: list[Any], message: str) -> None:
    pulumi.runtime.set_mocks(RecordingMocks(), project="segment-pendula", stack="dev")
    with pytest.raises(ValueError) as excinfo:
        PendulaTrigger("web", {"source_id": "src", "flows": flows})
    assert str(excinfo.value) == message
