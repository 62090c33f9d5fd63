"""PendulaFlowToken under `pulumi.runtime.set_mocks`: type token, secret outputs, secret inputs."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pulumi
import pytest
from pulumi.runtime.mocks import MockMonitor

from components.pendula import PendulaFlowToken

URL = "https://pendula.app/webhook/inbound/0f8fad5b-d9cb-469f-a165-70867728950e"
TOKEN_TYPE = "pulumi-python:dynamic/pendula:FlowToken"


class Mocks(pulumi.runtime.Mocks):
    """Echoes inputs and adds what the provider would compute (its code does not run here)."""

    def new_resource(self, args: pulumi.runtime.MockResourceArgs) -> tuple[str, dict[str, Any]]:
        outputs = dict(args.inputs)
        if args.typ == TOKEN_TYPE:
            outputs.update(authorization="Bearer pdl_mock", fingerprint="0123456789ab")
        return f"{args.name}_id", outputs

    def call(self, args: pulumi.runtime.MockCallArgs) -> dict[str, Any]:
        raise AssertionError(f"unexpected invoke {args.token}")


class RecordingMonitor(MockMonitor):
    """The mock monitor does not apply additionalSecretOutputs; record what was asked for."""

    def __init__(self, mocks: pulumi.runtime.Mocks) -> None:
        super().__init__(mocks)
        self.registrations: dict[str, Any] = {}

    def RegisterResource(self, request: Any) -> Any:
        self.registrations[request.name] = request
        return super().RegisterResource(request)


@pytest.fixture
def monitor() -> Iterator[RecordingMonitor]:
    mocks = Mocks()
    recording = RecordingMonitor(mocks)
    pulumi.runtime.set_mocks(mocks, project="segment-pendula", stack="dev", monitor=recording)
    yield recording


async def _is_secret(output: pulumi.Output[Any]) -> bool:
    return await output.is_secret()


@pulumi.runtime.test
def test_registers_the_dynamic_type_with_secret_outputs(monitor: RecordingMonitor) -> Any:
    token = PendulaFlowToken("orders-token", {"flow_url": URL, "token": "pdl_plain_input"})

    def check(values: list[Any]) -> None:
        authorization, authorization_secret, fingerprint_secret = values
        request = monitor.registrations["orders-token"]
        assert request.type == TOKEN_TYPE
        assert list(request.additionalSecretOutputs) == ["authorization", "token"]
        assert (authorization, authorization_secret) == ("Bearer pdl_mock", True)
        assert fingerprint_secret is False

    return pulumi.Output.all(
        token.authorization,
        pulumi.Output.from_input(_is_secret(token.authorization)),
        pulumi.Output.from_input(_is_secret(token.fingerprint)),
    ).apply(check)


@pulumi.runtime.test
def test_a_plain_token_input_is_sent_as_a_secret(monitor: RecordingMonitor) -> Any:
    """Even a plain string token is wrapped, so state never holds it in clear."""
    token = PendulaFlowToken("orders-token", {"flow_url": URL, "token": "pdl_plain_input"})

    def check(_: Any) -> None:
        request = monitor.registrations["orders-token"]
        fields = request.object.fields
        secret_sig = "4dabf18193072939515e22adb298388d"
        assert secret_sig in fields["token"].struct_value.fields
        assert fields["token"].struct_value.fields["value"].string_value == "pdl_plain_input"
        assert fields["mode"].string_value == "provided"
        assert fields["token_name"].string_value == "orders-token"

    return token.urn.apply(check)


@pulumi.runtime.test
def test_caller_options_keep_their_own_secret_outputs(monitor: RecordingMonitor) -> Any:
    opts = pulumi.ResourceOptions(additional_secret_outputs=["flow_id"])
    token = PendulaFlowToken("t", {"flow_url": URL, "token": "pdl_x"}, opts)

    def check(_: Any) -> None:
        secret = list(monitor.registrations["t"].additionalSecretOutputs)
        assert sorted(secret) == ["authorization", "flow_id", "token"]

    return token.urn.apply(check)
