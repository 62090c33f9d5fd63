"""Tests of policy/__main__.py: the real analyzer process, driven over gRPC as the engine does."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import grpc
import pytest
from google.protobuf import empty_pb2, struct_pb2
from pulumi.runtime.proto import analyzer_pb2, analyzer_pb2_grpc

from policy.rules import DESTINATION_TYPE, SEND_ACTION_ID, SUBSCRIPTION_TYPE

PACK_DIR = Path(__file__).resolve().parents[2] / "policy"
TOKEN = "pdl_live_7f6e5d4c3b2a1f0e9d8c7b6a5f4e3d2c"
SECRET_SIG = {"4dabf18193072939515e22adb298388d": "1b47061264138c4ac30d75fd1eb44270"}
UNKNOWN_STRING = "04da6b54-80e4-46f7-96ec-b56ff0331ba9"
STACK = "urn:pulumi:dev::segment-pendula"
DESTINATION_URN = (
    f"{STACK}::segment-pendula:index:PendulaTrigger${DESTINATION_TYPE}::orders-destination"
)


@pytest.fixture(scope="module")
def analyzer() -> Iterator[analyzer_pb2_grpc.AnalyzerStub]:
    """The pack started exactly as the engine starts it: cwd = pack dir, args engine and '.'."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PULUMI_")}
    process = subprocess.Popen(
        [sys.executable, "-u", "-m", "pulumi.policy", "127.0.0.1:1", "."],
        cwd=PACK_DIR,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        port_line = process.stdout.readline().strip()
        if not port_line.isdigit():
            process.kill()
            _, stderr = process.communicate(timeout=10)
            pytest.fail(f"analyzer did not print its port; stderr:\n{stderr}")
        channel = grpc.insecure_channel(f"127.0.0.1:{port_line}")
        grpc.channel_ready_future(channel).result(timeout=20)
        yield analyzer_pb2_grpc.AnalyzerStub(channel)
        channel.close()
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)


def struct(value: dict[str, Any]) -> struct_pb2.Struct:
    message = struct_pb2.Struct()
    message.update(value)
    return message


def secret(value: Any) -> dict[str, Any]:
    """A value as the engine marshals a secret for analyzers (KeepSecrets: true)."""
    return {**SECRET_SIG, "value": value}


def subscription_props(url: str, trigger: str = 'type = "track"') -> dict[str, Any]:
    settings = {
        "batch_size": 0,
        "data": {"@path": "$."},
        "enable_batching": False,
        "headers": {"Authorization": f"Bearer {TOKEN}"},
        "method": "POST",
        "url": url,
    }
    return {
        "actionId": SEND_ACTION_ID,
        "destinationId": UNKNOWN_STRING,
        "enabled": True,
        "name": "orders",
        "settings": secret(json.dumps(settings, sort_keys=True, separators=(",", ":"))),
        "trigger": trigger,
    }


def test_analyzer_info_lists_the_pack_and_its_policies(
    analyzer: analyzer_pb2_grpc.AnalyzerStub,
) -> None:
    info = analyzer.GetAnalyzerInfo(empty_pb2.Empty())
    assert info.name == "segment-pendula-guardrails"
    assert [policy.name for policy in info.policies] == [
        "webhooks-actions-destination",
        "subscription-send-action",
        "subscription-settings-json",
        "subscription-post-unbatched",
        "subscription-pendula-url",
        "subscription-authorization-header",
        "subscription-settings-secret",
        "destination-settings-secret",
        "subscription-trigger-fql",
        "flow-token-secret",
        "flow-token-fields",
        "destination-mapping-limit",
    ]
    assert {policy.enforcementLevel for policy in info.policies} == {analyzer_pb2.MANDATORY}


def test_analyze_reports_a_plain_http_subscription_and_never_the_token(
    analyzer: analyzer_pb2_grpc.AnalyzerStub,
) -> None:
    urn = f"{STACK}::segment-pendula:index:PendulaTrigger${SUBSCRIPTION_TYPE}::orders-sub"
    response = analyzer.Analyze(
        analyzer_pb2.AnalyzeRequest(
            type=SUBSCRIPTION_TYPE,
            properties=struct(subscription_props("http://pendula.app/webhook/inbound/abc")),
            urn=urn,
            name="orders-sub",
            options=analyzer_pb2.AnalyzerResourceOptions(additionalSecretOutputs=["settings"]),
        )
    )
    reported = [(d.policyName, d.message, d.enforcementLevel, d.urn) for d in response.diagnostics]
    assert reported == [
        (
            "subscription-pendula-url",
            "A Pendula mapping posts over https to an allowed Pendula host.\n"
            "settings.url 'http://pendula.app' is not allowed: it is not https (a credential is "
            "sent there, so it must be https on an allowed host (pendula.app) on the default "
            "port, without user info) (policy config allowedHosts). Fix: use the POST URL of the "
            "flow's Webhook trigger (https://pendula.app/webhook/inbound/<uuid>).",
            analyzer_pb2.MANDATORY,
            "",  # empty: the engine attributes a resource policy's finding to the resource
        )
    ]
    assert TOKEN not in str(response)


def test_analyze_sees_the_missing_secret_option_though_the_value_arrived_secret(
    analyzer: analyzer_pb2_grpc.AnalyzerStub,
) -> None:
    response = analyzer.Analyze(
        analyzer_pb2.AnalyzeRequest(
            type=SUBSCRIPTION_TYPE,
            properties=struct(subscription_props("https://pendula.app/webhook/inbound/abc")),
            urn=f"{STACK}::x::sub",
            name="sub",
        )
    )
    assert [d.policyName for d in response.diagnostics] == ["subscription-settings-secret"]
    assert TOKEN not in str(response)


def test_analyze_at_preview_skips_what_is_unknown(
    analyzer: analyzer_pb2_grpc.AnalyzerStub,
) -> None:
    props = subscription_props("https://pendula.app/x")
    props["settings"] = secret(UNKNOWN_STRING)
    response = analyzer.Analyze(
        analyzer_pb2.AnalyzeRequest(
            type=SUBSCRIPTION_TYPE,
            properties=struct(props),
            urn=f"{STACK}::x::sub",
            name="sub",
            options=analyzer_pb2.AnalyzerResourceOptions(additionalSecretOutputs=["settings"]),
        )
    )
    assert list(response.diagnostics) == []
    assert {n.policy_name for n in response.not_applicable} == {
        "subscription-settings-json",
        "subscription-post-unbatched",
        "subscription-pendula-url",
        "subscription-authorization-header",
    }


def test_analyze_stack_counts_mappings_through_property_dependencies(
    analyzer: analyzer_pb2_grpc.AnalyzerStub,
) -> None:
    destination = analyzer_pb2.AnalyzerResource(
        type=DESTINATION_TYPE,
        properties=struct({"metadata": {"id": "614a3c7d791c91c41bae7599"}}),
        urn=DESTINATION_URN,
        name="orders-destination",
    )
    subscriptions = [
        analyzer_pb2.AnalyzerResource(
            type=SUBSCRIPTION_TYPE,
            properties=struct(subscription_props("https://pendula.app/x")),
            urn=f"{STACK}::segment-pendula:index:PendulaTrigger${SUBSCRIPTION_TYPE}::o-f{i}-sub",
            name=f"o-f{i}-sub",
            propertyDependencies={
                "destinationId": analyzer_pb2.AnalyzerPropertyDependencies(urns=[DESTINATION_URN])
            },
        )
        for i in range(6)
    ]
    response = analyzer.AnalyzeStack(
        analyzer_pb2.AnalyzeStackRequest(resources=[destination, *subscriptions])
    )
    ((diagnostic),) = response.diagnostics
    assert diagnostic.policyName == "destination-mapping-limit"
    assert diagnostic.urn == DESTINATION_URN
    assert diagnostic.message == (
        "A Webhooks (Actions) destination has at most 5 mappings (configurable).\n"
        'destination "orders-destination" has 6 mappings (o-f0-sub, o-f1-sub, o-f2-sub, '
        "o-f3-sub, o-f4-sub, o-f5-sub); Segment allows at most 5 on one Webhooks (Actions) "
        "destination (policy config maxMappingsPerDestination). Fix: move some flows to a "
        "second PendulaTrigger (its own destination) or remove flows."
    )
