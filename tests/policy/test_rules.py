"""Tests of policy.rules: the pure checks the pack and the offline plan share."""

from __future__ import annotations

import json
import sys
import types
from typing import Any

import pytest

from policy import rules
from policy.rules import (
    DESTINATION_TYPE,
    FLOW_TOKEN_TYPE,
    SEND_ACTION_ID,
    SUBSCRIPTION_TYPE,
    UNKNOWN,
    PolicyConfig,
    StackResource,
    Violation,
    check_resource,
    check_stack,
)

TOKEN = "pdl_live_5b1e0c7d9a2f4e6b8c1d3f5a7e9b0c2d"
AUTHORIZATION = f"Bearer {TOKEN}"
FLOW_URL = "https://pendula.app/webhook/inbound/3f6c2b1e-8a4d-4c7e-9b2f-1d5e6a7c8b9d"
STACK = "urn:pulumi:dev::segment-pendula"
COMPONENT_URN = f"{STACK}::segment-pendula:index:PendulaTrigger::orders"
DESTINATION_URN = (
    f"{STACK}::segment-pendula:index:PendulaTrigger${DESTINATION_TYPE}::orders-destination"
)


def settings(**changes: Any) -> str:
    """Canonical subscription settings as PendulaTrigger writes them, with ``changes``."""
    value: dict[str, Any] = {
        "batch_size": 0,
        "data": {"@path": "$."},
        "enable_batching": False,
        "headers": {"Authorization": AUTHORIZATION},
        "method": "POST",
        "url": FLOW_URL,
    }
    for key, new in changes.items():
        if new is None:
            value.pop(key)
        else:
            value[key] = new
    return json.dumps(value, sort_keys=True, separators=(",", ":"))


def subscription(**changes: Any) -> dict[str, Any]:
    props: dict[str, Any] = {
        "actionId": SEND_ACTION_ID,
        "destinationId": "dest_123",
        "enabled": True,
        "name": "orders",
        "settings": settings(),
        "trigger": 'type = "track" and event = "Order Completed"',
    }
    props.update(changes)
    return props


def messages(
    resource_type: str,
    props: dict[str, Any],
    secret_outputs: tuple[str, ...] = ("settings",),
    config: PolicyConfig | None = None,
    policy: str | None = None,
) -> list[str]:
    found = check_resource(resource_type, props, secret_outputs, config, urn_or_name="res")
    return [v.message for v in found if policy is None or v.policy == policy]


@pytest.fixture(autouse=True)
def fake_conditions(monkeypatch: pytest.MonkeyPatch) -> types.ModuleType:
    """A stand-in components.fql that rejects any trigger containing "!!".

    It keeps these tests about the policy's wiring and wording; the real parser's verdicts are
    tested in test_real_parser_* and in the conditions module's own tests.
    """

    class ConditionError(ValueError):
        pass

    def parse_fql(fql: str) -> dict[str, Any]:
        if "!!" in fql:
            raise ConditionError("unexpected token '!' at position 5")
        return {"type": "group", "operator": "and", "children": []}

    module = types.ModuleType("components.fql")
    module.ConditionError = ConditionError  # type: ignore[attr-defined]
    module.parse_fql = parse_fql  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "components.fql", module)
    return module


def test_a_subscription_as_the_component_writes_it_passes() -> None:
    assert messages(SUBSCRIPTION_TYPE, subscription()) == []


def test_another_action_is_named_with_the_send_action_to_use() -> None:
    assert messages(SUBSCRIPTION_TYPE, subscription(actionId="abc123"), policy=None)[0] == (
        'actionId is "abc123"; a Pendula mapping must use the Webhooks (Actions) action "Send" '
        '(nFPnRozhz1mh4Gbx4MLvT5). Fix: set action_id="nFPnRozhz1mh4Gbx4MLvT5".'
    )


def test_method_batching_and_batch_size_are_each_reported() -> None:
    props = subscription(settings=settings(method="PUT", enable_batching=True, batch_size=100))
    assert messages(SUBSCRIPTION_TYPE, props, policy="subscription-post-unbatched") == [
        'settings.method is "PUT"; Pendula webhook triggers accept POST only. '
        'Fix: set "method": "POST".',
        "settings.enable_batching is true; allowed: false (with batching Segment posts a JSON "
        "array of events in one request, not one event per call, and it applies no default). "
        'Fix: set "enable_batching": false.',
        'settings.batch_size is 100; allowed: 0 (batching off). Fix: set "batch_size": 0.',
    ]


def test_missing_fields_count_as_wrong_because_segment_fills_no_defaults() -> None:
    props = subscription(settings=settings(method=None, enable_batching=None, batch_size=None))
    found = messages(SUBSCRIPTION_TYPE, props, policy="subscription-post-unbatched")
    assert [m.split(";")[0] for m in found] == [
        "settings.method is missing",
        "settings.enable_batching is missing",
        "settings.batch_size is missing",
    ]


def test_a_boolean_batch_size_is_not_zero() -> None:
    props = subscription(settings=settings(batch_size=False))
    assert messages(SUBSCRIPTION_TYPE, props, policy="subscription-post-unbatched") == [
        'settings.batch_size is false; allowed: 0 (batching off). Fix: set "batch_size": 0.'
    ]


URL_FIX = (
    "Fix: use the POST URL of the flow's Webhook trigger "
    "(https://pendula.app/webhook/inbound/<uuid>)."
)


RULE = (
    "a credential is sent there, so it must be https on an allowed host (pendula.app) on the "
    "default port, without user info"
)


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        (
            "http://pendula.app/webhook/inbound/x",
            [
                f"settings.url 'http://pendula.app' is not allowed: it is not https ({RULE}) "
                f"(policy config allowedHosts). {URL_FIX}"
            ],
        ),
        (
            "https://hooks.example.com:8443/in",
            [
                "settings.url 'https://hooks.example.com:8443' is not allowed: its host is not "
                f"allowed ({RULE}) (policy config allowedHosts). {URL_FIX}"
            ],
        ),
        (
            "http://127.0.0.1:8787/webhook/inbound/x",
            [
                "settings.url 'http://127.0.0.1:8787' is not allowed: it points at this machine; "
                "http(s) on 127.0.0.1/localhost is allowed only when policy config allowLoopback "
                f"is true (policy config allowedHosts). {URL_FIX}"
            ],
        ),
        (
            "",
            [f"settings.url must not be empty (policy config allowedHosts). {URL_FIX}"],
        ),
        ("https://PENDULA.app/webhook/inbound/x", []),
        ("https://pendula.app:443/webhook/inbound/x", []),
    ],
)
def test_url_must_be_https_on_an_allowed_host(url: str, expected: list[str]) -> None:
    props = subscription(settings=settings(url=url))
    assert messages(SUBSCRIPTION_TYPE, props, policy="subscription-pendula-url") == expected


@pytest.mark.parametrize(
    ("url", "why"),
    [
        ("https://pendula.app.evil.net/webhook/inbound/x", "its host is not allowed"),
        ("https://evilpendula.app/webhook/inbound/x", "its host is not allowed"),
        ("https://xn--pendul-7ve.app/webhook/inbound/x", "its host is not allowed"),
        ("https://pendula.app:8443/webhook/inbound/x", "it names port 8443"),
        ("https://user:pw@pendula.app/webhook/inbound/x", "it carries user info"),
        ("https://pendula.app@evil.net/webhook/inbound/x", "it carries user info"),
    ],
)
def test_look_alike_hosts_user_info_and_ports_are_refused(url: str, why: str) -> None:
    props = subscription(settings=settings(url=url))
    (message,) = messages(SUBSCRIPTION_TYPE, props, policy="subscription-pendula-url")
    assert why in message
    assert "pw@" not in message and "/inbound/x" not in message


def test_loopback_is_allowed_only_with_allow_loopback() -> None:
    config = PolicyConfig(allow_loopback=True)
    for url in ("http://127.0.0.1:8787/webhook/inbound/x", "http://localhost/x"):
        props = subscription(settings=settings(url=url))
        assert messages(SUBSCRIPTION_TYPE, props, config=config, policy=None) == []
    props = subscription(settings=settings(url="ftp://127.0.0.1/x"))
    assert messages(SUBSCRIPTION_TYPE, props, config=config) == [
        "settings.url 'ftp://127.0.0.1' is not allowed: it must be http or https "
        f"(policy config allowedHosts). {URL_FIX}"
    ]


def test_allowed_hosts_come_from_config() -> None:
    config = PolicyConfig(allowed_hosts=("eu.pendula.app",))
    assert messages(SUBSCRIPTION_TYPE, subscription(), config=config) == [
        "settings.url 'https://pendula.app' is not allowed: its host is not allowed (a "
        "credential is sent there, so it must be https on an allowed host (eu.pendula.app) on "
        f"the default port, without user info) (policy config allowedHosts). {URL_FIX}"
    ]


def test_url_messages_show_the_origin_only_never_userinfo_or_path() -> None:
    url = "http://user:pa55word-in-url@evil.example/webhook/inbound/secret-path?k=v"
    found = messages(SUBSCRIPTION_TYPE, subscription(settings=settings(url=url)))
    assert found
    assert all("pa55word" not in m and "secret-path" not in m for m in found)
    assert "'http://evil.example' is not allowed" in found[0]


AUTH_FIX = "Fix: set headers.Authorization to the flow's PendulaFlowToken authorization output."


def test_missing_authorization_header_is_reported() -> None:
    props = subscription(settings=settings(headers={"X-PENDULA-CUSTOM-CONTEXT": "segment"}))
    assert messages(SUBSCRIPTION_TYPE, props, policy="subscription-authorization-header") == [
        "settings.headers has no Authorization header; Pendula answers 401 to webhook calls "
        f"without one. {AUTH_FIX}"
    ]
    props = subscription(settings=settings(headers=None))
    assert len(messages(SUBSCRIPTION_TYPE, props, policy="subscription-authorization-header")) == 1


def test_authorization_of_another_form_is_reported_without_its_value() -> None:
    props = subscription(settings=settings(headers={"authorization": TOKEN}))
    assert messages(SUBSCRIPTION_TYPE, props, policy="subscription-authorization-header") == [
        'settings.headers.authorization is not of the form "Bearer <token>" or '
        '"Basic <base64(tenant_id:token)>" (value not shown: it is a credential). ' + AUTH_FIX
    ]


def test_basic_authorization_is_accepted() -> None:
    headers = {"Authorization": "Basic dGVuYW50OnRva2Vu"}
    props = subscription(settings=settings(headers=headers))
    assert messages(SUBSCRIPTION_TYPE, props, policy="subscription-authorization-header") == []


def test_non_ascii_and_non_string_header_values_are_reported() -> None:
    headers = {"Authorization": AUTHORIZATION, "X-PENDULA-CUSTOM-CONTEXT": "café", "X-N": 3}
    props = subscription(settings=settings(headers=headers))
    assert messages(SUBSCRIPTION_TYPE, props, policy="subscription-authorization-header") == [
        "settings.headers.X-N is a number; header values must be strings. "
        "Fix: send the value as a string.",
        "settings.headers.X-PENDULA-CUSTOM-CONTEXT contains non-ASCII characters (value not "
        "shown); Segment sends only ASCII header values and fails the request otherwise. "
        "Fix: use ASCII only (encode other text, e.g. as JSON with \\u escapes).",
    ]


@pytest.mark.parametrize(
    ("value", "problem"),
    [
        ("{not json", "it is not valid JSON: Expecting property name enclosed in double quotes"),
        ("[1, 2]", "it holds JSON an array, not an object"),
        ({"url": FLOW_URL}, "it is an object, not a string holding a JSON object"),
    ],
)
def test_unreadable_settings_are_reported_once(value: Any, problem: str) -> None:
    found = check_resource(SUBSCRIPTION_TYPE, subscription(settings=value), ["settings"])
    settings_rules = {v.policy for v in found} - {"subscription-trigger-fql"}
    assert settings_rules == {"subscription-settings-json"}
    assert found[0].message.startswith(f"settings cannot be read: {problem}")


def test_settings_must_be_listed_in_additional_secret_outputs() -> None:
    found = messages(SUBSCRIPTION_TYPE, subscription(), secret_outputs=())
    assert found == [
        "settings is not listed in additionalSecretOutputs; it holds the Pendula token "
        "(headers.Authorization), and a policy cannot see whether an input is a secret, so the "
        "resource option is required. Fix: create the subscription with "
        'opts=pulumi.ResourceOptions(additional_secret_outputs=["settings"]) and pass settings '
        "as a pulumi secret."
    ]


def test_the_token_copied_into_a_plain_input_is_reported_by_input_name() -> None:
    props = subscription(name=f"orders {TOKEN}")
    assert messages(SUBSCRIPTION_TYPE, props, policy="subscription-settings-secret") == [
        'the Authorization credential appears in plain text in input "name", which is not '
        'secret. Fix: keep the credential out of "name"; only secret inputs may hold it.'
    ]


def test_no_message_ever_contains_the_token() -> None:
    bad = settings(
        url="http://evil.example/x",
        method="GET",
        headers={"Authorization": f"Token {TOKEN}", "X": f"é{TOKEN}"},
        enable_batching=True,
    )
    props = subscription(settings=bad, name=TOKEN, actionId="x", trigger=f"event = {TOKEN}!!")
    found = check_resource(SUBSCRIPTION_TYPE, props, [])
    assert len(found) >= 6
    leaked = [v for v in found if TOKEN in v.message and v.policy != "subscription-trigger-fql"]
    assert leaked == []


def test_unknown_settings_skip_only_the_checks_that_read_them() -> None:
    found = check_resource(SUBSCRIPTION_TYPE, subscription(settings=UNKNOWN, actionId="x"), [])
    assert [v.policy for v in found if v.policy != "subscription-trigger-fql"] == [
        "subscription-send-action",
        "subscription-settings-secret",
    ]


def test_trigger_rejected_by_the_parser_is_reported_with_its_reason() -> None:
    props = subscription(trigger='event = "A" !! x')
    assert messages(SUBSCRIPTION_TYPE, props, policy="subscription-trigger-fql") == [
        'trigger "event = \\"A\\" !! x" is not FQL that Segment\'s runtime '
        "(@segment/destination-subscriptions) reads as written: unexpected token '!' at "
        "position 5. Fix: declare the flow's conditions in the stack file so the trigger is "
        "generated, or correct the FQL."
    ]


def test_empty_trigger_is_reported() -> None:
    assert messages(SUBSCRIPTION_TYPE, subscription(trigger=""), policy=None) == [
        'trigger is ""; it must be FQL that Segment reads, e.g. type = "track". Fix: declare '
        "the flow's conditions in the stack file so the trigger is generated, or correct the FQL."
    ]


def test_an_unimportable_parser_fails_closed(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "components.fql", None)  # import raises ImportError
    found = messages(SUBSCRIPTION_TYPE, subscription(), policy="subscription-trigger-fql")
    assert len(found) == 1
    assert found[0].startswith("cannot check trigger: components.fql is not importable")


def test_real_parser_accepts_a_plain_trigger_and_rejects_garbage(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delitem(sys.modules, "components.fql")
    conditions = pytest.importorskip("components.fql")
    assert messages(SUBSCRIPTION_TYPE, subscription(), policy="subscription-trigger-fql") == []
    garbage = 'event = = "x" ((('
    with pytest.raises(conditions.ConditionError) as raised:
        conditions.parse_fql(garbage)
    found = messages(SUBSCRIPTION_TYPE, subscription(trigger=garbage), policy=None)
    assert found == [
        f'trigger "event = = \\"x\\" (((" is not FQL that Segment\'s runtime '
        f"(@segment/destination-subscriptions) reads as written: {raised.value}. Fix: declare "
        "the flow's conditions in the stack file so the trigger is generated, or correct the FQL."
    ]


DESTINATION_FIX = (
    "Fix: create the destination with "
    'metadata=DestinationMetadataArgs(id="614a3c7d791c91c41bae7599").'
)


def destination(**changes: Any) -> dict[str, Any]:
    props: dict[str, Any] = {
        "enabled": True,
        "metadata": {"id": "614a3c7d791c91c41bae7599"},
        "name": "Pendula",
        "settings": "{}",
        "sourceId": "src_1",
    }
    props.update(changes)
    return props


def test_destination_must_be_webhooks_actions() -> None:
    assert messages(DESTINATION_TYPE, destination(), secret_outputs=()) == []
    classic = destination(metadata={"id": "54521fdc25e721e32a72ef04"})
    assert messages(DESTINATION_TYPE, classic, secret_outputs=()) == [
        'metadata.id is "54521fdc25e721e32a72ef04"; a Pendula trigger destination must be '
        'Webhooks (Actions), metadata id "614a3c7d791c91c41bae7599" (not the classic "Webhooks" '
        f"54521fdc25e721e32a72ef04). {DESTINATION_FIX}"
    ]
    assert messages(DESTINATION_TYPE, destination(metadata=None), secret_outputs=())[0] == (
        "metadata.id is missing; a Pendula trigger destination must be Webhooks (Actions), "
        'metadata id "614a3c7d791c91c41bae7599" (not the classic "Webhooks" '
        f"54521fdc25e721e32a72ef04). {DESTINATION_FIX}"
    )


def test_destination_shared_secret_needs_secret_settings() -> None:
    signed = destination(settings=json.dumps({"sharedSecret": "hmac-shared-secret-1"}))
    assert messages(DESTINATION_TYPE, signed) == []
    assert messages(DESTINATION_TYPE, signed, secret_outputs=()) == [
        "settings holds sharedSecret but is not listed in additionalSecretOutputs; a policy "
        "cannot see whether an input is a secret, so the resource option is required. Fix: "
        "create the destination with opts=pulumi.ResourceOptions("
        'additional_secret_outputs=["settings"]) and pass settings as a pulumi secret.'
    ]
    leaked = dict(signed, name="Pendula hmac-shared-secret-1")
    assert messages(DESTINATION_TYPE, leaked) == [
        'the shared secret appears in plain text in input "name", which is not secret. '
        'Fix: keep the credential out of "name"; only secret inputs may hold it.'
    ]


TOKEN_FIX = (
    "Fix: register PendulaFlowToken with "
    'opts=pulumi.ResourceOptions(additional_secret_outputs=["authorization", "token"]).'
)


def flow_token(**changes: Any) -> dict[str, Any]:
    props: dict[str, Any] = {"flow_url": FLOW_URL, "mode": "provided", "token": TOKEN}
    props.update(changes)
    return props


def test_flow_token_outputs_must_be_secret() -> None:
    both = ("authorization", "token")
    assert messages(FLOW_TOKEN_TYPE, flow_token(), secret_outputs=both) == []
    assert messages(FLOW_TOKEN_TYPE, flow_token(), secret_outputs=()) == [
        "authorization is not listed in additional_secret_outputs; it is the full Authorization "
        "header (the Pendula token) and a dynamic provider's outputs are stored in plain text "
        f"unless listed. {TOKEN_FIX}",
        "token is not listed in additional_secret_outputs; a policy cannot see whether the token "
        "input is a secret, and a dynamic provider's outputs are stored in plain text unless "
        f"listed. {TOKEN_FIX}",
    ]


def test_managed_flow_token_without_token_input_needs_only_authorization() -> None:
    managed = flow_token(mode="managed", token=None, token_name="segment-orders")
    assert messages(FLOW_TOKEN_TYPE, managed, secret_outputs=("authorization",)) == []
    assert messages(FLOW_TOKEN_TYPE, flow_token(token=UNKNOWN), ("authorization",)) == [
        "token is not listed in additional_secret_outputs; a policy cannot see whether the token "
        "input is a secret, and a dynamic provider's outputs are stored in plain text unless "
        f"listed. {TOKEN_FIX}"
    ]


def test_flow_token_copied_into_a_plain_input_is_reported() -> None:
    props = flow_token(token_description=f"for segment {TOKEN}")
    found = messages(FLOW_TOKEN_TYPE, props, secret_outputs=("authorization", "token"))
    assert found == [
        'the token appears in plain text in input "token_description", which is not secret. '
        'Fix: keep the credential out of "token_description"; only secret inputs may hold it.'
    ]


def test_other_resource_types_are_not_judged() -> None:
    assert check_resource("segment:index/source:Source", {"name": "x"}, []) == []


def test_violations_carry_policy_and_resource() -> None:
    found = check_resource(
        SUBSCRIPTION_TYPE, subscription(actionId="x"), ["settings"], urn_or_name="orders-sub"
    )
    assert found[0] == Violation(
        "subscription-send-action",
        "orders-sub",
        'actionId is "x"; a Pendula mapping must use the Webhooks (Actions) action "Send" '
        '(nFPnRozhz1mh4Gbx4MLvT5). Fix: set action_id="nFPnRozhz1mh4Gbx4MLvT5".',
    )


def sub_urn(flow: str) -> str:
    return f"{STACK}::segment-pendula:index:PendulaTrigger${SUBSCRIPTION_TYPE}::orders-{flow}-sub"


def stack(count: int, **extra: Any) -> list[StackResource]:
    resources = [StackResource(DESTINATION_URN, DESTINATION_TYPE, destination(), COMPONENT_URN)]
    resources += [
        StackResource(
            sub_urn(f"f{index}"),
            SUBSCRIPTION_TYPE,
            subscription(destinationId=UNKNOWN),
            COMPONENT_URN,
            {"destinationId": [DESTINATION_URN]},
            **extra,
        )
        for index in range(count)
    ]
    return resources


def test_five_mappings_per_destination_pass_and_six_fail() -> None:
    assert check_stack(stack(5)) == []
    assert check_stack(stack(6)) == [
        Violation(
            "destination-mapping-limit",
            DESTINATION_URN,
            'destination "orders-destination" has 6 mappings (orders-f0-sub, orders-f1-sub, '
            "orders-f2-sub, orders-f3-sub, orders-f4-sub, orders-f5-sub); Segment allows at most "
            "5 on one Webhooks (Actions) destination (policy config maxMappingsPerDestination). "
            "Fix: move some flows to a second PendulaTrigger (its own destination) or remove "
            "flows.",
        )
    ]


def test_mapping_limit_is_configurable() -> None:
    assert len(check_stack(stack(3), PolicyConfig(max_mappings_per_destination=2))) == 1


def test_mappings_are_grouped_per_destination() -> None:
    other = f"{STACK}::segment-pendula:index:PendulaTrigger${DESTINATION_TYPE}::returns-destination"
    resources = stack(3) + [
        StackResource(sub_urn(f"r{i}"), SUBSCRIPTION_TYPE, {}, None, {"destinationId": [other]})
        for i in range(3)
    ]
    assert check_stack(resources) == []


def test_known_destination_ids_group_without_dependencies() -> None:
    resources = [
        StackResource(sub_urn(f"f{i}"), SUBSCRIPTION_TYPE, {"destinationId": "dest_9"})
        for i in range(6)
    ]
    (violation,) = check_stack(resources)
    assert violation.urn_or_name == sub_urn("f5")
    assert violation.message.startswith("destination id dest_9 has 6 mappings")


def test_config_is_read_from_camel_case_keys_with_defaults() -> None:
    assert PolicyConfig.from_policy_config({}) == PolicyConfig(("pendula.app",), False, 5)
    read = PolicyConfig.from_policy_config(
        {"allowedHosts": ["Pendula.app "], "allowLoopback": True, "maxMappingsPerDestination": 7.0}
    )
    assert read == PolicyConfig(("pendula.app",), True, 7)


@pytest.mark.parametrize(
    ("config", "message"),
    [
        (
            {"allowedHosts": "pendula.app"},
            'p.allowedHosts: "pendula.app" is not allowed; give a non-empty list of host names, '
            'e.g. ["pendula.app"]',
        ),
        ({"allowLoopback": "yes"}, 'p.allowLoopback: "yes" is not allowed; give true or false'),
        (
            {"maxMappingsPerDestination": 0},
            "p.maxMappingsPerDestination: 0 is not allowed; give a whole number of at least 1",
        ),
    ],
)
def test_bad_config_names_key_value_and_what_is_allowed(
    config: dict[str, Any], message: str
) -> None:
    with pytest.raises(ValueError) as raised:
        PolicyConfig.from_policy_config(config, key="p")
    assert str(raised.value) == message


def test_pack_config_files_match_their_stacks() -> None:
    for stack_name, loopback in (("local", True), ("dev", False), ("prod", False)):
        path = rules.__file__.replace("rules.py", f"config/{stack_name}.json")
        with open(path, encoding="utf-8") as handle:
            config = PolicyConfig.from_pack_config(json.load(handle))
        assert config.allow_loopback is loopback
        assert config.allowed_hosts == ("pendula.app",)


def test_pack_config_errors_name_the_policy() -> None:
    with pytest.raises(ValueError, match=r"^subscription-pendula-url\.allowLoopback: 1 "):
        PolicyConfig.from_pack_config(
            {"all": "mandatory", "subscription-pendula-url": {"allowLoopback": 1}}
        )


# --- hardening: the same validators as the stack config and the token provider -------------------


@pytest.mark.parametrize("value", [f"{AUTHORIZATION}\n", f"{AUTHORIZATION}\r\nX-Evil: 1"])
def test_authorization_with_a_line_break_is_refused(value: str) -> None:
    props = subscription(settings=settings(headers={"Authorization": value}))
    found = messages(SUBSCRIPTION_TYPE, props, policy="subscription-authorization-header")
    assert found and all(TOKEN not in m for m in found)


@pytest.mark.parametrize("constant", ["NaN", "Infinity", "-Infinity"])
def test_settings_with_non_json_numbers_are_refused(constant: str) -> None:
    raw = settings().replace('"batch_size":0', f'"batch_size":{constant}')
    assert constant in raw
    (message,) = messages(
        SUBSCRIPTION_TYPE, subscription(settings=raw), policy="subscription-settings-json"
    )
    assert f"{constant} is not a JSON number" in message


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"scheme": "basic", "tenant_id": "acme corp"}, "tenant_id"),
        ({"scheme": "basic", "tenant_id": "acme\r\n"}, "tenant_id"),
        ({"scheme": "basic", "tenant_id": "a:b"}, "tenant_id"),
        ({"mode": "managed", "token_name": "a\nb"}, "token_name"),
        ({"mode": "managed", "token_description": "x" * 501}, "token_description"),
    ],
)
def test_flow_token_fields_use_the_shared_validators(changes: dict[str, Any], field: str) -> None:
    both = ("authorization", "token")
    (message,) = messages(FLOW_TOKEN_TYPE, flow_token(**changes), both, policy="flow-token-fields")
    assert message.startswith(f"{field} ")
    assert messages(FLOW_TOKEN_TYPE, flow_token(), both, policy="flow-token-fields") == []
