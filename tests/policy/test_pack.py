"""Tests of policy.pack: each pulumi-policy policy's validate, called as the analyzer calls it."""

from __future__ import annotations

import json
from typing import Any

import pytest
from pulumi_policy import (
    EnforcementLevel,
    Policy,
    PolicyCustomTimeouts,
    PolicyResource,
    PolicyResourceOptions,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    Severity,
    StackValidationArgs,
    StackValidationPolicy,
)
from pulumi_policy.policy import _NotApplicableError
from pulumi_policy.proxy import UNKNOWN_STRING_VALUE, unknown_checking_proxy

from policy.pack import PACK_NAME, build_policies, plain
from policy.rules import (
    DESTINATION_TYPE,
    FLOW_TOKEN_TYPE,
    RESOURCE_RULES,
    SEND_ACTION_ID,
    STACK_RULES,
    SUBSCRIPTION_TYPE,
    UNKNOWN,
)

TOKEN = "pdl_live_0a9b8c7d6e5f4a3b2c1d0e9f8a7b6c5d"
STACK = "urn:pulumi:dev::segment-pendula"
COMPONENT_URN = f"{STACK}::segment-pendula:index:PendulaTrigger::orders"
DESTINATION_URN = (
    f"{STACK}::segment-pendula:index:PendulaTrigger${DESTINATION_TYPE}::orders-destination"
)
POLICIES: dict[str, Policy] = {policy.name: policy for policy in build_policies()}


def options(secret_outputs: list[str], parent: str | None = COMPONENT_URN) -> PolicyResourceOptions:
    return PolicyResourceOptions(
        False, [], None, [], PolicyCustomTimeouts(0, 0, 0), secret_outputs, parent
    )


def settings(url: str = "https://pendula.app/webhook/inbound/abc", **changes: Any) -> str:
    value = {
        "batch_size": 0,
        "data": {"@path": "$."},
        "enable_batching": False,
        "headers": {"Authorization": f"Bearer {TOKEN}"},
        "method": "POST",
        "url": url,
    }
    value.update(changes)
    return json.dumps(value, sort_keys=True, separators=(",", ":"))


def subscription(**changes: Any) -> dict[str, Any]:
    props: dict[str, Any] = {
        "actionId": SEND_ACTION_ID,
        "destinationId": "dest_1",
        "enabled": False,
        "name": "orders",
        "settings": settings(),
        "trigger": 'type = "track"',
    }
    props.update(changes)
    return props


def validate(
    policy_name: str,
    resource_type: str,
    props: dict[str, Any],
    secret_outputs: list[str] | None = None,
    config: dict[str, Any] | None = None,
) -> list[tuple[str, str | None]]:
    """Runs one resource policy on analyzer-shaped args; returns (message, urn) pairs."""
    policy = POLICIES[policy_name]
    assert isinstance(policy, ResourceValidationPolicy)
    args = ResourceValidationArgs(
        resource_type,
        unknown_checking_proxy(props),
        f"{COMPONENT_URN}::res",
        "res",
        options(["settings"] if secret_outputs is None else secret_outputs),
        None,
        config,
    )
    reported: list[tuple[str, str | None]] = []

    def report(message: str, urn: str | None = None) -> None:
        reported.append((message, urn))

    policy.validate(args, report)
    return reported


def test_the_pack_has_one_policy_per_rule_all_mandatory() -> None:
    assert PACK_NAME == "segment-pendula-guardrails"
    rule_names = [rule.name for rule in RESOURCE_RULES] + [rule.name for rule in STACK_RULES]
    assert list(POLICIES) == rule_names
    assert {p.enforcement_level for p in POLICIES.values()} == {EnforcementLevel.MANDATORY}
    assert POLICIES["subscription-settings-secret"].severity == Severity.CRITICAL
    assert isinstance(POLICIES["destination-mapping-limit"], StackValidationPolicy)


def test_config_schemas_declare_the_tunables_with_defaults() -> None:
    url_schema = POLICIES["subscription-pendula-url"].config_schema
    assert url_schema is not None
    assert url_schema.properties["allowedHosts"]["default"] == ["pendula.app"]
    assert url_schema.properties["allowLoopback"]["default"] is False
    limit_schema = POLICIES["destination-mapping-limit"].config_schema
    assert limit_schema is not None
    assert limit_schema.properties["maxMappingsPerDestination"]["default"] == 5
    assert POLICIES["subscription-send-action"].config_schema is None


def test_send_action_policy_reports_on_the_resource() -> None:
    assert validate("subscription-send-action", SUBSCRIPTION_TYPE, subscription()) == []
    assert validate("subscription-send-action", SUBSCRIPTION_TYPE, subscription(actionId="a")) == [
        (
            'actionId is "a"; a Pendula mapping must use the Webhooks (Actions) action "Send" '
            '(nFPnRozhz1mh4Gbx4MLvT5). Fix: set action_id="nFPnRozhz1mh4Gbx4MLvT5".',
            None,
        )
    ]


def test_policies_ignore_other_resource_types() -> None:
    for name, policy in POLICIES.items():
        if isinstance(policy, ResourceValidationPolicy):
            assert validate(name, "segment:index/source:Source", {"name": "x"}) == []


def test_url_policy_reads_its_config() -> None:
    props = subscription(settings=settings(url="http://127.0.0.1:8787/webhook/inbound/abc"))
    assert len(validate("subscription-pendula-url", SUBSCRIPTION_TYPE, props)) == 1
    allowed = {"allowLoopback": True}
    assert validate("subscription-pendula-url", SUBSCRIPTION_TYPE, props, config=allowed) == []


def test_bad_config_raises_naming_the_policy_and_key() -> None:
    with pytest.raises(ValueError, match=r"^subscription-pendula-url\.allowedHosts: \[\] is not"):
        validate(
            "subscription-pendula-url",
            SUBSCRIPTION_TYPE,
            subscription(),
            config={"allowedHosts": []},
        )


def test_post_unbatched_policy_reports_each_field() -> None:
    props = subscription(settings=settings(method="PATCH", batch_size=10))
    found = validate("subscription-post-unbatched", SUBSCRIPTION_TYPE, props)
    assert [message.split(";")[0] for message, _ in found] == [
        'settings.method is "PATCH"',
        "settings.batch_size is 10",
    ]


def test_authorization_header_policy() -> None:
    props = subscription(settings=settings(headers={}))
    assert validate("subscription-authorization-header", SUBSCRIPTION_TYPE, props) == [
        (
            "settings.headers has no Authorization header; Pendula answers 401 to webhook calls "
            "without one. Fix: set headers.Authorization to the flow's PendulaFlowToken "
            "authorization output.",
            None,
        )
    ]


def test_settings_json_policy() -> None:
    found = validate("subscription-settings-json", SUBSCRIPTION_TYPE, subscription(settings="["))
    assert found == [
        (
            "settings cannot be read: it is not valid JSON: Expecting value: line 1 column 2 "
            "(char 1). Fix: pass the Send action's fields as one JSON object, e.g. "
            'json.dumps({"url": ..., "method": "POST", ...}, sort_keys=True).',
            None,
        )
    ]


def test_settings_secret_policy_requires_additional_secret_outputs() -> None:
    assert validate("subscription-settings-secret", SUBSCRIPTION_TYPE, subscription()) == []
    found = validate("subscription-settings-secret", SUBSCRIPTION_TYPE, subscription(), [])
    assert found[0][0].startswith("settings is not listed in additionalSecretOutputs;")


def test_unknown_settings_at_preview_make_settings_policies_not_applicable() -> None:
    props = subscription(settings=UNKNOWN_STRING_VALUE)
    for name in ("subscription-post-unbatched", "subscription-pendula-url"):
        with pytest.raises(_NotApplicableError) as raised:
            validate(name, SUBSCRIPTION_TYPE, props)
        assert raised.value.reason == (
            "settings is not known until an earlier resource exists; checked at up"
        )
    # The option is visible even when the value is not, so this one still judges.
    assert len(validate("subscription-settings-secret", SUBSCRIPTION_TYPE, props, [])) == 1


def test_plain_turns_unknown_sentinels_into_unknown_at_any_depth() -> None:
    proxied = unknown_checking_proxy(
        {"a": UNKNOWN_STRING_VALUE, "b": {"c": [1, UNKNOWN_STRING_VALUE]}, "d": "x"}
    )
    assert plain(proxied) == {"a": UNKNOWN, "b": {"c": [1, UNKNOWN]}, "d": "x"}


def test_trigger_policy_reports_a_missing_trigger() -> None:
    found = validate("subscription-trigger-fql", SUBSCRIPTION_TYPE, subscription(trigger=None))
    assert found == [
        (
            'trigger is missing; it must be FQL that Segment reads, e.g. type = "track". Fix: '
            "declare the flow's conditions in the stack file so the trigger is generated, or "
            "correct the FQL.",
            None,
        )
    ]


def test_destination_policies() -> None:
    props = {"metadata": {"id": "54521fdc25e721e32a72ef04"}, "settings": "{}", "name": "P"}
    found = validate("webhooks-actions-destination", DESTINATION_TYPE, props, [])
    assert found[0][0].startswith('metadata.id is "54521fdc25e721e32a72ef04";')
    signed = dict(props, settings=json.dumps({"sharedSecret": "a-long-shared-secret"}))
    found = validate("destination-settings-secret", DESTINATION_TYPE, signed, [])
    assert found[0][0].startswith("settings holds sharedSecret but is not listed")
    assert "a-long-shared-secret" not in found[0][0]


def test_flow_token_policy() -> None:
    props = {"flow_url": "https://pendula.app/webhook/inbound/abc", "token": TOKEN}
    assert validate("flow-token-secret", FLOW_TOKEN_TYPE, props, ["authorization", "token"]) == []
    found = validate("flow-token-secret", FLOW_TOKEN_TYPE, props, ["token"])
    assert [message.split(";")[0] for message, _ in found] == [
        "authorization is not listed in additional_secret_outputs"
    ]


def policy_resource(
    urn: str,
    resource_type: str,
    props: dict[str, Any],
    dependencies: dict[str, list[PolicyResource]] | None = None,
) -> PolicyResource:
    return PolicyResource(
        resource_type,
        unknown_checking_proxy(props),
        urn,
        urn.rsplit("::", 1)[-1],
        options(["settings"]),
        None,
        None,
        [],
        dependencies or {},
    )


def run_stack_policy(count: int, config: dict[str, Any] | None = None) -> list[tuple[str, Any]]:
    destination = policy_resource(DESTINATION_URN, DESTINATION_TYPE, {"name": "Pendula"})
    resources = [destination] + [
        policy_resource(
            f"{STACK}::segment-pendula:index:PendulaTrigger${SUBSCRIPTION_TYPE}::orders-f{i}-sub",
            SUBSCRIPTION_TYPE,
            subscription(destinationId=UNKNOWN_STRING_VALUE),
            {"destinationId": [destination]},
        )
        for i in range(count)
    ]
    policy = POLICIES["destination-mapping-limit"]
    assert isinstance(policy, StackValidationPolicy)
    reported: list[tuple[str, Any]] = []

    def report(message: str, urn: str | None = None) -> None:
        reported.append((message, urn))

    policy.validate(StackValidationArgs(resources, config), report)
    return reported


def test_stack_policy_counts_mappings_per_destination_at_preview() -> None:
    assert run_stack_policy(5) == []
    ((message, urn),) = run_stack_policy(6)
    assert urn == DESTINATION_URN
    assert message.startswith('destination "orders-destination" has 6 mappings (orders-f0-sub,')
    assert run_stack_policy(2, config={"maxMappingsPerDestination": 1})[0][0].startswith(
        'destination "orders-destination" has 2 mappings'
    )
