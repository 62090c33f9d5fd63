"""Drive the real dynamic-provider host (`python -m pulumi.dynamic`) over gRPC, as the engine does.

Follows reference/pulumi.md §1.8: the provider is serialized exactly like
`pulumi.dynamic.Resource.__init__` does and sent plain as `__provider`; `Configure` comes first
with the namespaced stack config; cwd = project root; `PULUMI_PROJECT=segment-pendula`.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from types import TracebackType
from typing import Any

import grpc
from google.protobuf import empty_pb2, struct_pb2
from google.protobuf.json_format import MessageToDict
from google.protobuf.message import Message
from pulumi.dynamic.dynamic import serialize_provider
from pulumi.runtime._serialization import _serialize
from pulumi.runtime.proto import provider_pb2, provider_pb2_grpc

from components.pendula.flow_token import PendulaFlowTokenProvider

PROJECT_ROOT = Path(__file__).resolve().parents[2]
PROJECT = "segment-pendula"
URN = f"urn:pulumi:dev::{PROJECT}::pulumi-python:dynamic/pendula:FlowToken::orders-token"


def serialized_provider() -> str:
    serialized, _contains_secrets = _serialize(True, serialize_provider, PendulaFlowTokenProvider())
    return serialized


def _struct(values: dict[str, Any]) -> struct_pb2.Struct:
    struct = struct_pb2.Struct()
    struct.update(values)
    return struct


def _plain(struct: struct_pb2.Struct) -> dict[str, Any]:
    return MessageToDict(struct)


class DynamicHost:
    """One host process; every response is kept so tests can search them for secrets."""

    def __init__(self, config: dict[str, str], env: dict[str, str] | None = None) -> None:
        self.provider = serialized_provider()
        self._config = config
        self._env = {**os.environ, "PULUMI_PROJECT": PROJECT, **(env or {})}
        for name in ("PENDULA_API_URL", "PENDULA_API_TOKEN"):
            if env is None or name not in env:
                self._env.pop(name, None)
        self.responses: list[Message] = []
        self.stdout = ""
        self.stderr = ""

    def __enter__(self) -> DynamicHost:
        self._proc = subprocess.Popen(
            [sys.executable, "-u", "-m", "pulumi.dynamic", "127.0.0.1:0"],
            cwd=PROJECT_ROOT,
            env=self._env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        assert self._proc.stdout is not None
        port = int(self._proc.stdout.readline())
        self._channel = grpc.insecure_channel(f"127.0.0.1:{port}")
        grpc.channel_ready_future(self._channel).result(timeout=10)
        self.stub = provider_pb2_grpc.ResourceProviderStub(self._channel)
        self.stub.GetPluginInfo(empty_pb2.Empty())
        self.stub.Configure(provider_pb2.ConfigureRequest(args=_struct(self._config)))
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._channel.close()
        self._proc.terminate()
        self.stdout, self.stderr = self._proc.communicate(timeout=5)

    def _keep(self, response: Any) -> Any:
        self.responses.append(response)
        return response

    def check(self, news: dict[str, Any], olds: dict[str, Any] | None = None) -> Any:
        request = provider_pb2.CheckRequest(
            urn=URN,
            olds=_struct(olds or {}),
            news=_struct({**news, "__provider": self.provider}),
        )
        return self._keep(self.stub.Check(request))

    def checked(self, news: dict[str, Any], olds: dict[str, Any] | None = None) -> dict[str, Any]:
        """Check that must pass; the checked inputs."""
        response = self.check(news, olds)
        failures = [(f.property, f.reason) for f in response.failures]
        assert failures == [], failures
        return _plain(response.inputs)

    def create(self, inputs: dict[str, Any]) -> tuple[str, dict[str, Any]]:
        response = self._keep(
            self.stub.Create(provider_pb2.CreateRequest(urn=URN, properties=_struct(inputs)))
        )
        return response.id, _plain(response.properties)

    def diff(self, id_: str, olds: dict[str, Any], news: dict[str, Any]) -> Any:
        request = provider_pb2.DiffRequest(id=id_, urn=URN, olds=_struct(olds), news=_struct(news))
        return self._keep(self.stub.Diff(request))

    def update(self, id_: str, olds: dict[str, Any], news: dict[str, Any]) -> dict[str, Any]:
        request = provider_pb2.UpdateRequest(
            id=id_, urn=URN, olds=_struct(olds), news=_struct(news)
        )
        return _plain(self._keep(self.stub.Update(request)).properties)

    def read(self, id_: str, props: dict[str, Any], inputs: dict[str, Any]) -> tuple[str, Any]:
        request = provider_pb2.ReadRequest(
            id=id_, urn=URN, properties=_struct(props), inputs=_struct(inputs)
        )
        response = self._keep(self.stub.Read(request))
        return response.id, _plain(response.properties)

    def delete(self, id_: str, props: dict[str, Any]) -> None:
        request = provider_pb2.DeleteRequest(id=id_, urn=URN, properties=_struct(props))
        self._keep(self.stub.Delete(request))
