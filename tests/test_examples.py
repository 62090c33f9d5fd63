"""examples/two-workspaces under Pulumi's mocks: each workspace's children use its provider."""

from __future__ import annotations

import runpy
from pathlib import Path

import pulumi
import pulumi.runtime
from pulumi.runtime.settings import SETTINGS
from pulumi.runtime.stack import run_pulumi_func
from pulumi.runtime.sync_await import _sync_await

from components.review.offline import (
    DESTINATION_TYPE,
    FLOW_TOKEN_TYPE,
    PROVIDER_TYPE,
    SUBSCRIPTION_TYPE,
    RecordedResource,
    RecordingMocks,
    RecordingMonitor,
    unwrap,
)

EXAMPLE = Path(__file__).resolve().parent.parent / "examples" / "two-workspaces"
PROJECT = "pendula-two-workspaces"
TOKENS = {
    "usSegmentToken": "us-segment-token-Hj7",
    "euSegmentToken": "eu-segment-token-Kp2",
    "usWelcomeToken": "us-welcome-token-Rt5",
    "euWelcomeToken": "eu-welcome-token-Wq9",
}


def run_example() -> list[RecordedResource]:
    pulumi.runtime.set_all_config(
        {f"{PROJECT}:{k}": v for k, v in TOKENS.items()}, [f"{PROJECT}:{k}" for k in TOKENS]
    )
    monitor = RecordingMonitor(RecordingMocks())
    SETTINGS.package_refs = {}
    pulumi.runtime.set_mocks(monitor.mocks, project=PROJECT, stack="dev", monitor=monitor)
    SETTINGS.rpc_manager.clear()
    SETTINGS.outputs.clear()
    _sync_await(run_pulumi_func(lambda: runpy.run_path(str(EXAMPLE / "__main__.py"))))
    return monitor.recorded


def test_each_workspace_uses_its_own_provider() -> None:
    resources = run_example()
    by_name = {r.name: r for r in resources}

    providers = {r.name: r for r in resources if r.type == PROVIDER_TYPE}
    assert {n: unwrap(p.inputs["url"]) for n, p in providers.items()} == {
        "us": "https://api.segmentapis.com",
        "eu": "https://eu1.api.segmentapis.com",
    }
    for region in ("us", "eu"):
        provider_urn = providers[region].urn
        for child in (f"{region}-web-destination", f"{region}-web-welcome-subscription"):
            assert by_name[child].provider.startswith(provider_urn + "::"), child
            assert by_name[child].parent.endswith(f"PendulaTrigger::{region}-web")
        # Our dynamic token resource is not a Segment resource: no Segment provider for it.
        assert by_name[f"{region}-web-welcome-token"].type == FLOW_TOKEN_TYPE
        assert by_name[f"{region}-web-welcome-token"].provider == ""
    assert sorted(r.type for r in resources if r.type in (DESTINATION_TYPE, SUBSCRIPTION_TYPE)) == [
        DESTINATION_TYPE,
        DESTINATION_TYPE,
        SUBSCRIPTION_TYPE,
        SUBSCRIPTION_TYPE,
    ]


def test_provider_tokens_stay_secret() -> None:
    resources = run_example()
    for resource in resources:
        text = repr(resource.inputs) + str(resource.inputs)
        for token in TOKENS.values():
            assert token not in text, resource.name
