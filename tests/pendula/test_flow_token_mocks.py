"""PendulaFlowToken under `pulumi.runtime.set_mocks`: type token, secret outputs, secret inputs.

Uses the project's recording mock runtime (`components.review.offline`), whose mocks compute the
provided-mode outputs with the provider's own functions (its methods do not run here).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pulumi
import pytest

from components.pendula import PendulaFlowToken
from components.review.offline import (
    FLOW_TOKEN_TYPE,
    RecordedResource,
    RecordingMocks,
    RecordingMonitor,
    Secret,
)

URL = "https://pendula.app/webhook/inbound/0f8fad5b-d9cb-469f-a165-70867728950e"


@pytest.fixture
def monitor() -> Iterator[RecordingMonitor]:
    recording = RecordingMonitor(RecordingMocks())
    pulumi.runtime.set_mocks(
        recording.mocks, project="segment-pendula", stack="dev", monitor=recording
    )
    yield recording


def recorded(monitor: RecordingMonitor, name: str) -> RecordedResource:
    (resource,) = [r for r in monitor.recorded if r.name == name]
    return resource


async def _is_secret(output: pulumi.Output[Any]) -> bool:
    return await output.is_secret()


@pulumi.runtime.test
def test_registers_the_dynamic_type_with_secret_outputs(monitor: RecordingMonitor) -> Any:
    token = PendulaFlowToken("orders-token", {"flow_url": URL, "token": "pdl_plain_input"})

    def check(values: list[Any]) -> None:
        authorization, authorization_secret, fingerprint_secret = values
        resource = recorded(monitor, "orders-token")
        assert resource.type == FLOW_TOKEN_TYPE
        assert resource.additional_secret_outputs == ("authorization", "token")
        assert (authorization, authorization_secret) == ("Bearer pdl_plain_input", True)
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
        inputs = recorded(monitor, "orders-token").inputs
        assert inputs["token"] == Secret("pdl_plain_input")
        assert inputs["mode"] == "provided"
        assert inputs["token_name"] == "orders-token"

    return token.urn.apply(check)


@pulumi.runtime.test
def test_caller_options_keep_their_own_secret_outputs(monitor: RecordingMonitor) -> Any:
    opts = pulumi.ResourceOptions(additional_secret_outputs=["flow_id"])
    token = PendulaFlowToken("t", {"flow_url": URL, "token": "pdl_x"}, opts)

    def check(_: Any) -> None:
        secret = recorded(monitor, "t").additional_secret_outputs
        assert sorted(secret) == ["authorization", "flow_id", "token"]

    return token.urn.apply(check)
