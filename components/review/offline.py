"""Run the stack program under Pulumi's mock runtime and record what it declares.

Used by the tests, the offline ``plan``/``check`` commands and the benchmark: the real
program (``components.program.build``) runs against ``pulumi.runtime.set_mocks`` with a
monitor that records every registration request — type, name, parent, provider, inputs
(secrets still marked), ``additionalSecretOutputs`` and package reference — which the
plain ``Mocks.new_resource`` hook does not see. Nothing is sent anywhere.
"""

from __future__ import annotations

import gc
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi.runtime
from pulumi.runtime import mocks as pulumi_mocks
from pulumi.runtime import rpc
from pulumi.runtime.settings import SETTINGS
from pulumi.runtime.stack import run_pulumi_func
from pulumi.runtime.sync_await import _sync_await

from components.config.load import load_from_pulumi
from components.config.models import PROJECT
from components.pendula.flow_token import authorization_header, fingerprint
from components.program import build

FLOW_TOKEN_TYPE = "pulumi-python:dynamic/pendula:FlowToken"
DESTINATION_TYPE = "segment:index/destination:Destination"
SUBSCRIPTION_TYPE = "segment:index/destinationSubscription:DestinationSubscription"
PROVIDER_TYPE = "pulumi:providers:segment"


@dataclass(frozen=True)
class Secret:
    """A value the program marked secret; ``str()`` never shows it."""

    value: Any

    def __repr__(self) -> str:
        return "Secret([secret])"

    __str__ = __repr__


@dataclass(frozen=True)
class RecordedResource:
    """One resource registration as the engine would receive it."""

    urn: str
    type: str
    name: str
    parent: str
    custom: bool
    provider: str
    inputs: dict[str, Any]
    """Inputs with secret values wrapped in ``Secret`` (``__provider`` left out)."""
    additional_secret_outputs: tuple[str, ...]
    package_ref: str


class RecordingMocks(pulumi.runtime.Mocks):
    """Answers like the real providers would, closely enough for planning and tests.

    Calls (invokes) are not expected from the program: an unknown one raises, so a new
    invoke cannot slip into the program untested.
    """

    def __init__(self, preview: bool = False) -> None:
        self.preview = preview

    def new_resource(
        self, args: pulumi.runtime.MockResourceArgs
    ) -> tuple[str | None, dict[str, Any]]:
        state = dict(args.inputs)
        if args.typ == SUBSCRIPTION_TYPE:
            state["actionSlug"] = "send"
        elif args.typ == FLOW_TOKEN_TYPE:
            state.update(_flow_token_outputs(args.inputs, self.preview))
        resource_id = None if self.preview and args.custom else f"{args.name}-id"
        return resource_id, state

    def call(self, args: pulumi.runtime.MockCallArgs) -> tuple[dict[str, Any], None]:
        raise NotImplementedError(f"the program made an unexpected call: {args.token}")


def _flow_token_outputs(inputs: Mapping[str, Any], preview: bool) -> dict[str, Any]:
    """What ``PendulaFlowToken``'s provider computes locally for a provided token."""
    token = _unwrap(inputs.get("token"))
    if token is None:  # managed: the token exists only after Pendula's API created it
        return {} if preview else {"status": "active", "token_id": "managed-token-id"}
    authorization = authorization_header(
        _unwrap(inputs.get("scheme")) or "bearer", token, _unwrap(inputs.get("tenant_id"))
    )
    return {
        # Plain, as the engine returns it before applying additionalSecretOutputs: whatever
        # is secret downstream must be made so by the resource and the component themselves.
        "authorization": authorization,
        "fingerprint": fingerprint(authorization),
    }


class RecordingMonitor(pulumi_mocks.MockMonitor):
    """A mock monitor that also keeps each RegisterResource request's metadata."""

    def __init__(self, mocks: RecordingMocks) -> None:
        super().__init__(mocks)
        self.recorded: list[RecordedResource] = []

    def RegisterResource(self, request: Any) -> Any:  # noqa: N802 (gRPC method name)
        response = super().RegisterResource(request)  # type: ignore[no-untyped-call]
        if request.type != "pulumi:pulumi:Stack":
            inputs = rpc.deserialize_properties(request.object)
            inputs.pop("__provider", None)
            self.recorded.append(
                RecordedResource(
                    urn=response.urn,
                    type=request.type,
                    name=request.name,
                    parent=request.parent,
                    custom=request.custom,
                    provider=request.provider,
                    inputs={k: _mark_secrets(v) for k, v in inputs.items()},
                    additional_secret_outputs=tuple(request.additionalSecretOutputs),
                    package_ref=request.packageRef,
                )
            )
        return response


def _mark_secrets(value: Any) -> Any:
    if rpc.is_rpc_secret(value):
        return Secret(_mark_secrets(rpc.unwrap_rpc_secret(value)))
    if isinstance(value, dict):
        return {k: _mark_secrets(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_mark_secrets(v) for v in value]
    return value


def _unwrap(value: Any) -> Any:
    if rpc.is_rpc_secret(value):
        return rpc.unwrap_rpc_secret(value)
    if isinstance(value, Secret):
        return value.value
    return value


def unwrap(value: Any) -> Any:
    """The plain value behind ``Secret`` markers, recursively."""
    value = _unwrap(value)
    if isinstance(value, dict):
        return {k: unwrap(v) for k, v in value.items()}
    if isinstance(value, list):
        return [unwrap(v) for v in value]
    return value


def run_program(
    values: Mapping[str, Any],
    secret_keys: Iterable[str] = (),
    *,
    stack: str = "dev",
    preview: bool = False,
    provider_config: Mapping[str, str] | None = None,
    provider_secret_keys: Iterable[str] = (),
    monitor: RecordingMonitor | None = None,
) -> list[RecordedResource]:
    """Run ``__main__.py``'s program with these project config values; return the registrations.

    ``values`` are un-namespaced project keys as they would be in the stack file;
    ``secret_keys`` those that are secure. Raises ``ConfigError`` before anything is
    registered if the config is invalid.
    """
    config = {f"{PROJECT}:{k}": _config_text(v) for k, v in values.items()}
    config.update(provider_config or {})
    pulumi.runtime.set_all_config(
        config, [f"{PROJECT}:{k}" for k in secret_keys] + list(provider_secret_keys)
    )
    monitor = monitor or RecordingMonitor(RecordingMocks(preview=preview))
    # Package registrations are cached per process; a fresh run must register again.
    SETTINGS.package_refs = {}
    pulumi.runtime.set_mocks(
        monitor.mocks, project=PROJECT, stack=stack, preview=preview, monitor=monitor
    )
    SETTINGS.rpc_manager.clear()
    SETTINGS.outputs.clear()

    def program() -> None:
        # The offline review accepts a secret not set yet; `pulumi preview` refuses it.
        build(load_from_pulumi(allow_placeholders=True))

    # A run allocates many long-lived objects (resources, outputs, futures) that all die
    # together at its end. Cyclic-GC passes during the run only rescan them, and made the run
    # grow faster than the number of flows (bench/bench_program.py); they wait for the end.
    gc_was_enabled = gc.isenabled()
    gc.disable()
    try:
        _sync_await(run_pulumi_func(program))
    finally:
        if gc_was_enabled:
            gc.enable()
    return monitor.recorded


def _config_text(value: Any) -> str:
    """Pulumi passes config to programs as strings; structured values as JSON."""
    if isinstance(value, str):
        return value
    return json.dumps(value)
