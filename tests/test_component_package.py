"""The component package (provider/): its schema over gRPC, and Construct with a mock monitor.

The plugin is spawned exactly as the language host runs it (``python -u __main__.py <engine>``)
and driven over gRPC without the Pulumi CLI. Construct runs against a loopback
``ResourceMonitor`` that delegates to Pulumi's ``MockMonitor``, which shows where the
cross-language path breaks (pulumi/pulumi#5455): the token's serialized dynamic provider
refers to the module ``components.pendula.flow_token`` by reference, so a dynamic-provider host
started in the consuming project cannot load it.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from concurrent import futures
from pathlib import Path
from typing import Any

import grpc
import pytest
from google.protobuf import empty_pb2, struct_pb2
from google.protobuf.json_format import MessageToDict
from pulumi.runtime import mocks as pulumi_mocks
from pulumi.runtime import rpc
from pulumi.runtime.proto import (
    engine_pb2_grpc,
    provider_pb2,
    provider_pb2_grpc,
    resource_pb2,
    resource_pb2_grpc,
)

ROOT = Path(__file__).resolve().parent.parent
GOLDEN = ROOT / "tests" / "fixtures" / "plan" / "component_schema.json"
PLUGIN = ROOT / "provider" / "__main__.py"
TOKEN = "component-test-token-Qw8e"
URL = "https://pendula.app/webhook/inbound/0b5f3c1e-7d2a-4c8e-9f41-2a6d8e3b7c10"
ALLOW = "SEGMENT_PENDULA_ALLOW_DYNAMIC_IN_COMPONENT"


class _Mocks(pulumi_mocks.Mocks):
    def new_resource(self, args: pulumi_mocks.MockResourceArgs) -> tuple[str, dict[str, Any]]:
        return f"{args.name}-id", dict(args.inputs)

    def call(self, args: pulumi_mocks.MockCallArgs) -> dict[str, Any]:
        return {}


class _Monitor(resource_pb2_grpc.ResourceMonitorServicer):
    """A loopback resource monitor recording every registration (Pulumi's MockMonitor inside)."""

    def __init__(self) -> None:
        self.mock = pulumi_mocks.MockMonitor(_Mocks())
        self.requests: list[Any] = []

    def SupportsFeature(self, request: Any, context: Any) -> Any:
        # MockMonitor answers with a plain object; gRPC needs the protobuf message.
        answer = self.mock.SupportsFeature(request)
        return resource_pb2.SupportsFeatureResponse(hasSupport=answer.hasSupport)

    def GetDeploymentInfo(self, request: Any, context: Any) -> Any:
        return self.mock.GetDeploymentInfo(request)

    def RegisterResource(self, request: Any, context: Any) -> Any:
        self.requests.append(request)
        return self.mock.RegisterResource(request)

    def RegisterResourceOutputs(self, request: Any, context: Any) -> Any:
        return empty_pb2.Empty()

    def RegisterPackage(self, request: Any, context: Any) -> Any:
        return self.mock.RegisterPackage(request)

    def Invoke(self, request: Any, context: Any) -> Any:
        return self.mock.Invoke(request)


class _Engine(engine_pb2_grpc.EngineServicer):
    """The engine's log service, so the provider's log calls have somewhere to go."""

    def __init__(self) -> None:
        self.messages: list[str] = []

    def Log(self, request: Any, context: Any) -> Any:
        self.messages.append(request.message)
        return empty_pb2.Empty()


class _Plugin:
    def __init__(self, env: dict[str, str], engine: str = "127.0.0.1:1") -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-u", str(PLUGIN), engine],
            cwd=ROOT,
            env={**os.environ, **env},
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        assert self.process.stdout is not None
        port = int(self.process.stdout.readline())
        self.channel = grpc.insecure_channel(f"127.0.0.1:{port}")
        grpc.channel_ready_future(self.channel).result(timeout=20)
        self.stub = provider_pb2_grpc.ResourceProviderStub(self.channel)

    def close(self) -> str:
        self.channel.close()
        self.process.terminate()
        _, err = self.process.communicate(timeout=10)
        return err


@pytest.fixture
def plugin() -> Iterator[_Plugin]:
    started = _Plugin({ALLOW: ""})
    yield started
    started.close()


@pytest.fixture
def monitor() -> Iterator[tuple[_Monitor, str]]:
    servicer = _Monitor()
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=4))
    resource_pb2_grpc.add_ResourceMonitorServicer_to_server(servicer, server)
    engine_pb2_grpc.add_EngineServicer_to_server(_Engine(), server)
    port = server.add_insecure_port("127.0.0.1:0")
    server.start()
    yield servicer, f"127.0.0.1:{port}"
    server.stop(grace=None)


def test_schema_matches_golden(plugin: _Plugin) -> None:
    response = plugin.stub.GetSchema(provider_pb2.GetSchemaRequest())
    schema = json.loads(response.schema)
    if os.environ.get("UPDATE_GOLDEN") == "1":
        GOLDEN.write_text(json.dumps(schema, indent=2, sort_keys=True) + "\n")
    assert schema == json.loads(GOLDEN.read_text())
    resource = schema["resources"]["segment-pendula:index:PendulaTrigger"]
    assert resource["isComponent"] is True
    assert resource["requiredInputs"] == ["flows", "sourceId"]
    assert sorted(resource["properties"]) == [
        "destinationId",
        "subscriptionIds",
        "tokenFingerprints",
        "triggers",
        "webhookUrls",
    ]


def _construct_request(endpoint: str) -> provider_pb2.ConstructRequest:
    inputs = struct_pb2.Struct()
    inputs.update(
        {
            "sourceId": "qRTqz5cTyodBXJ4Ex2Ka1W",
            "flows": [
                {
                    "name": "welcome",
                    "url": URL,
                    "trigger": 'type = "track"',
                    # Plain, not secret: a secret inside `flows` turns the whole list into an
                    # Output, which PendulaTrigger (written for Python callers) cannot iterate.
                    "token": TOKEN,
                }
            ],
        }
    )
    return provider_pb2.ConstructRequest(
        project="consumer",
        stack="dev",
        monitorEndpoint=endpoint,
        type="segment-pendula:index:PendulaTrigger",
        name="web",
        parent="urn:pulumi:dev::consumer::pulumi:pulumi:Stack::consumer-dev",
        inputs=inputs,
        dryRun=True,
    )


def test_construct_refuses_with_the_limitation_and_the_supported_way(
    plugin: _Plugin, monitor: tuple[_Monitor, str]
) -> None:
    servicer, endpoint = monitor
    with pytest.raises(grpc.RpcError) as raised:
        plugin.stub.Construct(_construct_request(endpoint), timeout=30)

    details = raised.value.details() or ""
    assert "PendulaTrigger cannot be used through the cross-language component package" in details
    assert "pulumi/pulumi#5455" in details
    assert "from components.trigger import PendulaTrigger" in details
    assert servicer.requests == []  # refused before anything was registered
    assert TOKEN not in details + plugin.close()


def test_dynamic_token_from_a_component_cannot_load_in_the_consumers_host(
    monitor: tuple[_Monitor, str], tmp_path: Path
) -> None:
    """With the guard lifted, Construct registers the children; the token's provider is
    pickled by reference, so only a host that can import ``components`` can run it."""
    servicer, endpoint = monitor
    started = _Plugin({ALLOW: "1"}, engine=endpoint)
    try:
        response = started.stub.Construct(_construct_request(endpoint), timeout=60)
    finally:
        stderr = started.close()
    assert response.urn.endswith("segment-pendula:index:PendulaTrigger::web")
    types = {r.name: r.type for r in servicer.requests}
    assert types == {
        "web": "segment-pendula:index:PendulaTrigger",
        "web-destination": "segment:index/destination:Destination",
        "web-welcome-token": "pulumi-python:dynamic/pendula:FlowToken",
        "web-welcome-subscription": "segment:index/destinationSubscription:DestinationSubscription",
    }
    assert TOKEN not in stderr
    token = next(r for r in servicer.requests if r.name == "web-welcome-token")
    inputs = MessageToDict(token.object)
    provider = (
        rpc.unwrap_rpc_secret(inputs["__provider"])
        if rpc.is_rpc_secret(inputs["__provider"])
        else inputs["__provider"]
    )
    news = {k: v for k, v in inputs.items() if k != "__provider"}
    news = {k: rpc.unwrap_rpc_secret(v) if rpc.is_rpc_secret(v) else v for k, v in news.items()}

    consumer = tmp_path / "consumer"  # a consuming project: no `components` package there
    consumer.mkdir()
    failed = _check_in_dynamic_host(consumer, provider, news)
    assert "No module named 'components'" in failed
    # The same serialized provider works where `components` is importable (this checkout).
    assert _check_in_dynamic_host(ROOT, provider, news) == ""


def _check_in_dynamic_host(cwd: Path, provider: str, news: dict[str, Any]) -> str:
    """Run ``Check`` in ``python -m pulumi.dynamic`` started in ``cwd``; the error text or ''."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    process = subprocess.Popen(
        [sys.executable, "-u", "-m", "pulumi.dynamic", "127.0.0.1:1"],
        cwd=cwd,
        env={**env, "PULUMI_PROJECT": "consumer"},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        port = int(process.stdout.readline())
        with grpc.insecure_channel(f"127.0.0.1:{port}") as channel:
            grpc.channel_ready_future(channel).result(timeout=20)
            stub = provider_pb2_grpc.ResourceProviderStub(channel)
            stub.Configure(provider_pb2.ConfigureRequest(args=struct_pb2.Struct()))
            request_news = struct_pb2.Struct()
            request_news.update({**news, "__provider": provider})
            urn = "urn:pulumi:dev::consumer::pulumi-python:dynamic/pendula:FlowToken::t"
            try:
                stub.Check(
                    provider_pb2.CheckRequest(urn=urn, olds=struct_pb2.Struct(), news=request_news),
                    timeout=30,
                )
            except grpc.RpcError as exc:
                return exc.details() or str(exc)
            return ""
    finally:
        process.terminate()
        process.communicate(timeout=10)
