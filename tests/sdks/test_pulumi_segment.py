"""The pulumi_segment SDK under Pulumi mocks: package registration, wire shape, secrecy, invokes."""

from __future__ import annotations

import base64
import hashlib
import importlib.metadata
import importlib.resources
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pulumi
import pulumi_segment
import pytest
from pulumi.runtime.config import _SECRET_KEYS, CONFIG
from pulumi.runtime.mocks import MockCallArgs, MockMonitor, MockResourceArgs
from pulumi.runtime.settings import SETTINGS

SDK_DIR = Path(__file__).resolve().parents[2] / "sdks" / "segment"
WEBHOOK_METADATA_ID = "614a3c7d791c91c41bae7599"
SEND_ACTION_ID = "nFPnRozhz1mh4Gbx4MLvT5"
GET_METADATA_TOKEN = "segment:index/getDestinationMetadata:getDestinationMetadata"
# Pulumi marks a secret value on the wire with this signature key (sdk/go/common/resource/sig).
SECRET_SIG_KEY = "4dabf18193072939515e22adb298388d"
SECRET_SIG_VALUE = "1b47061264138c4ac30d75fd1eb44270"

# What the real provider would return for the Webhooks (Actions) catalog entry (trimmed to one field).
WEBHOOK_CATALOG_ENTRY: dict[str, Any] = {
    "id": WEBHOOK_METADATA_ID,
    "name": "Webhooks (Actions)",
    "slug": "actions-webhook",
    "description": "Send events to a webhook.",
    "status": "PUBLIC",
    "website": "https://segment.com",
    "categories": ["Raw Data"],
    "previousNames": ["Webhook", "Webhooks (Actions)"],
    "supportedRegions": ["us-west-2", "eu-west-1"],
    "regionEndpoints": ["US"],
    "partnerOwned": False,
    "contacts": [],
    "presets": [],
    "options": [
        {
            "name": "sharedSecret",
            "type": "password",
            "required": False,
            "description": "If set, sign every request with X-Signature.",
            "defaultValue": '""',
            "label": "Shared Secret",
        }
    ],
    "components": [{"type": "CLOUD", "code": "https://github.com/segmentio", "owner": "SEGMENT"}],
    "logos": {"default": "https://cdn/logo.svg", "mark": "https://cdn/mark.svg", "alt": ""},
    "supportedFeatures": {
        "cloudModeInstances": "0",
        "deviceModeInstances": "0",
        "replay": False,
        "browserUnbundling": False,
        "browserUnbundlingPublic": False,
    },
    "supportedMethods": {
        "pageview": True,
        "identify": True,
        "alias": True,
        "track": True,
        "group": True,
    },
    "supportedPlatforms": {"browser": True, "server": True, "mobile": False},
    "actions": [
        {
            "id": SEND_ACTION_ID,
            "slug": "send",
            "name": "Send",
            "description": "Send an HTTP request.",
            "platform": "CLOUD",
            "hidden": False,
            "defaultTrigger": None,
            "fields": [
                {
                    "id": "chABtpe8R3Fuff394fGrRE",
                    "sortOrder": 0.0,
                    "fieldKey": "url",
                    "label": "URL",
                    "type": "STRING",
                    "description": "URL to deliver data to.",
                    "placeholder": "",
                    "defaultValue": "null",
                    "required": True,
                    "multiple": False,
                    "choices": "null",
                    "dynamic": False,
                    "allowNull": False,
                }
            ],
        }
    ],
}

# Outputs only the provider computes; the mocks add them the way the real provider would.
COMPUTED_OUTPUTS: dict[str, dict[str, Any]] = {
    "segment:index/destinationSubscription:DestinationSubscription": {"actionSlug": "send"},
    "segment:index/source:Source": {"workspaceId": "ws-1", "writeKeys": ["wk-1", "wk-2"]},
}


class RecordingMocks(pulumi.runtime.Mocks):
    """Echoes inputs (plus computed outputs) for resources; answers only the metadata invoke."""

    def __init__(self) -> None:
        self.resources: list[MockResourceArgs] = []
        self.calls: list[MockCallArgs] = []

    def new_resource(self, args: MockResourceArgs) -> tuple[str | None, dict[str, Any]]:
        self.resources.append(args)
        state = {**args.inputs, **COMPUTED_OUTPUTS.get(args.typ, {})}
        return args.resource_id or f"{args.name}_id", state

    def call(self, args: MockCallArgs) -> tuple[dict[str, Any], list[tuple[str, str]]]:
        if args.token != GET_METADATA_TOKEN:
            raise NotImplementedError(f"unexpected invoke {args.token!r}")
        self.calls.append(args)
        return WEBHOOK_CATALOG_ENTRY, []


class RecordingMonitor(MockMonitor):
    """Keeps the raw gRPC requests, which carry what MockResourceArgs drops (packageRef, secrets).

    Method names are the ResourceMonitor gRPC names that MockMonitor implements.
    """

    def __init__(self, mocks: RecordingMocks) -> None:
        super().__init__(mocks)
        self.register_package_requests: list[Any] = []
        self.register_resource_requests: list[Any] = []
        self.read_resource_requests: list[Any] = []
        self.invoke_requests: list[Any] = []

    def RegisterPackage(self, request: Any) -> Any:
        self.register_package_requests.append(request)
        return super().RegisterPackage(request)

    def RegisterResource(self, request: Any) -> Any:
        self.register_resource_requests.append(request)
        return super().RegisterResource(request)

    def ReadResource(self, request: Any) -> Any:
        self.read_resource_requests.append(request)
        return super().ReadResource(request)

    def Invoke(self, request: Any) -> Any:
        self.invoke_requests.append(request)
        return super().Invoke(request)


@dataclass
class Harness:
    """The mocks and the monitor of one test."""

    mocks: RecordingMocks
    monitor: RecordingMonitor
    registered: list[Any] = field(default_factory=list)

    def request_for(self, name: str) -> Any:
        """The one RegisterResource request for the resource called `name`."""
        matches = [r for r in self.monitor.register_resource_requests if r.name == name]
        assert len(matches) == 1, [r.name for r in self.monitor.register_resource_requests]
        return matches[0]

    def inputs_of(self, name: str) -> dict[str, Any]:
        """The inputs the mocks received for the resource called `name`."""
        matches = [r for r in self.mocks.resources if r.name == name]
        assert len(matches) == 1, [r.name for r in self.mocks.resources]
        return dict(matches[0].inputs)


@pytest.fixture
def harness() -> Iterator[Harness]:
    """Fresh mocks per test; the package-ref cache is process-wide, so it is emptied too."""
    SETTINGS.package_refs = {}
    mocks = RecordingMocks()
    monitor = RecordingMonitor(mocks)
    pulumi.runtime.set_mocks(
        mocks, project="segment-pendula", stack="test", preview=False, monitor=monitor
    )
    yield Harness(mocks, monitor)
    SETTINGS.package_refs = {}


def _webhook_destination(name: str = "dest") -> pulumi_segment.Destination:
    return pulumi_segment.Destination(
        name,
        enabled=True,
        metadata=pulumi_segment.DestinationMetadataArgs(id=WEBHOOK_METADATA_ID),
        name="Pendula (dev)",
        settings="{}",
        source_id="src-1",
    )


def _after(output: pulumi.Output[Any], check: Callable[[Any], None]) -> pulumi.Output[None]:
    """Run `check` once `output` (and so its registration) has resolved."""
    return output.apply(check)


# ---------------------------------------------------------------- package registration


@pulumi.runtime.test
def test_resources_register_the_parameterized_terraform_provider_package_once(
    harness: Harness,
) -> pulumi.Output[None]:
    """Every resource carries the package ref of one RegisterPackage call for segment 1.6.1."""
    first = _webhook_destination("first")
    second = _webhook_destination("second")

    def check(_: Any) -> None:
        assert len(harness.monitor.register_package_requests) == 1
        request = harness.monitor.register_package_requests[0]
        assert request.name == "terraform-provider"
        assert request.version == "1.1.0"
        assert request.download_url == ""
        assert request.parameterization.name == "segment"
        assert request.parameterization.version == "1.6.1"
        assert json.loads(request.parameterization.value) == {
            "remote": {"url": "registry.opentofu.org/segmentio/segment", "version": "1.6.1"}
        }
        for name in ("first", "second"):
            assert harness.request_for(name).packageRef == "mock-uuid"

    return _after(pulumi.Output.all(first.id, second.id), check)


def test_plugin_json_names_the_package_that_get_package_registers() -> None:
    """The engine installs plugins from pulumi-plugin.json, so it must match the RegisterPackage call."""
    plugin = json.loads(
        importlib.resources.files("pulumi_segment").joinpath("pulumi-plugin.json").read_text()
    )
    parameter = plugin["parameterization"]
    assert plugin["resource"] is True
    assert plugin["name"] == "terraform-provider"
    assert plugin["version"] == "1.1.0"
    assert parameter["name"] == "segment"
    assert parameter["version"] == pulumi_segment._utilities.get_version()
    assert json.loads(base64.b64decode(parameter["value"])) == {
        "remote": {"url": "registry.opentofu.org/segmentio/segment", "version": "1.6.1"}
    }


# ---------------------------------------------------------------- resources on the wire


@pulumi.runtime.test
def test_destination_sends_camel_case_inputs_with_its_type_token(
    harness: Harness,
) -> pulumi.Output[None]:
    """Destination: token segment:index/destination:Destination, camelCase inputs, typed outputs."""
    destination = _webhook_destination()

    def check(metadata: Any) -> None:
        assert harness.request_for("dest").type == "segment:index/destination:Destination"
        assert harness.inputs_of("dest") == {
            "enabled": True,
            "metadata": {"id": WEBHOOK_METADATA_ID},
            "name": "Pendula (dev)",
            "settings": "{}",
            "sourceId": "src-1",
        }
        assert isinstance(metadata, pulumi_segment.outputs.DestinationMetadata)
        assert metadata.id == WEBHOOK_METADATA_ID
        assert metadata.slug is None

    # Output.all rebuilds dicts, which would hide the output type, so read the one Output.
    return _after(destination.metadata, check)


@pulumi.runtime.test
def test_destination_subscription_sends_camel_case_inputs_and_reads_action_slug(
    harness: Harness,
) -> pulumi.Output[None]:
    """DestinationSubscription: its token, camelCase keys, the computed action_slug output."""
    subscription = pulumi_segment.DestinationSubscription(
        "sub",
        action_id=SEND_ACTION_ID,
        destination_id="dest-1",
        enabled=False,
        name="to flow a",
        settings='{"method":"POST"}',
        trigger='type = "track"',
    )

    def check(args: list[Any]) -> None:
        action_slug, model_id, schedule = args
        request = harness.request_for("sub")
        assert request.type == "segment:index/destinationSubscription:DestinationSubscription"
        assert request.packageRef == "mock-uuid"
        assert harness.inputs_of("sub") == {
            "actionId": SEND_ACTION_ID,
            "destinationId": "dest-1",
            "enabled": False,
            "name": "to flow a",
            "settings": '{"method":"POST"}',
            "trigger": 'type = "track"',
        }
        assert action_slug == "send"
        assert model_id is None
        assert schedule is None

    return _after(
        pulumi.Output.all(
            subscription.action_slug, subscription.model_id, subscription.reverse_etl_schedule
        ),
        check,
    )


@pulumi.runtime.test
def test_reverse_etl_schedule_accepts_args_class_and_plain_dict(
    harness: Harness,
) -> pulumi.Output[None]:
    """The nested schedule travels as {strategy, config} whether given as Args or ArgsDict."""
    common: dict[str, Any] = {
        "action_id": SEND_ACTION_ID,
        "destination_id": "dest-1",
        "enabled": True,
        "settings": "{}",
        "trigger": "",
        "model_id": "model-1",
    }
    as_args = pulumi_segment.DestinationSubscription(
        "as-args",
        reverse_etl_schedule=pulumi_segment.DestinationSubscriptionReverseEtlScheduleArgs(
            strategy="PERIODIC", config='{"interval":"1d"}'
        ),
        **common,
    )
    as_dict = pulumi_segment.DestinationSubscription(
        "as-dict", reverse_etl_schedule={"strategy": "MANUAL"}, **common
    )

    def check(schedule: Any) -> None:
        assert harness.inputs_of("as-args")["reverseEtlSchedule"] == {
            "strategy": "PERIODIC",
            "config": '{"interval":"1d"}',
        }
        assert harness.inputs_of("as-args")["modelId"] == "model-1"
        assert harness.inputs_of("as-dict")["reverseEtlSchedule"] == {"strategy": "MANUAL"}
        assert isinstance(
            schedule, pulumi_segment.outputs.DestinationSubscriptionReverseEtlSchedule
        )
        assert (schedule.strategy, schedule.config) == ("PERIODIC", '{"interval":"1d"}')

    return _after(as_dict.id.apply(lambda _: as_args.reverse_etl_schedule), check)


@pulumi.runtime.test
def test_source_sends_labels_and_metadata_and_reads_computed_write_keys(
    harness: Harness,
) -> pulumi.Output[None]:
    """Source: its token, nested labels/metadata on the wire, list-typed computed outputs."""
    source = pulumi_segment.Source(
        "src",
        enabled=True,
        slug="pendula-dev",
        settings="{}",
        metadata={"id": "iUM16Md8P2"},
        labels=[pulumi_segment.SourceLabelArgs(key="env", value="dev")],
    )

    def check(args: list[Any]) -> None:
        write_keys, workspace_id = args
        assert harness.request_for("src").type == "segment:index/source:Source"
        assert harness.inputs_of("src") == {
            "enabled": True,
            "labels": [{"key": "env", "value": "dev"}],
            "metadata": {"id": "iUM16Md8P2"},
            "settings": "{}",
            "slug": "pendula-dev",
        }
        assert write_keys == ["wk-1", "wk-2"]
        assert workspace_id == "ws-1"

    def check_labels(labels: Any) -> None:
        assert [(label.key, label.value) for label in labels] == [("env", "dev")]

    return pulumi.Output.all(
        _after(pulumi.Output.all(source.write_keys, source.workspace_id), check),
        _after(source.labels, check_labels),
    )


@pulumi.runtime.test
def test_get_reads_an_existing_subscription_by_id(harness: Harness) -> pulumi.Output[None]:
    """DestinationSubscription.get issues a ReadResource with the given id and its type token."""
    found = pulumi_segment.DestinationSubscription.get("existing", "sub-42")

    def check(resource_id: str) -> None:
        (request,) = harness.monitor.read_resource_requests
        assert request.type == "segment:index/destinationSubscription:DestinationSubscription"
        assert request.id == "sub-42"
        assert request.packageRef == "mock-uuid"
        assert resource_id == "sub-42"

    return _after(found.id, check)


REQUIRED_INPUTS: list[tuple[Callable[..., Any], dict[str, Any]]] = [
    (
        pulumi_segment.Destination,
        {
            "enabled": True,
            "metadata": {"id": WEBHOOK_METADATA_ID},
            "settings": "{}",
            "source_id": "src-1",
        },
    ),
    (
        pulumi_segment.DestinationSubscription,
        {
            "action_id": SEND_ACTION_ID,
            "destination_id": "dest-1",
            "enabled": True,
            "settings": "{}",
            "trigger": "",
        },
    ),
    (
        pulumi_segment.Source,
        {"enabled": True, "metadata": {"id": "iUM16Md8P2"}, "settings": "{}", "slug": "s"},
    ),
]


@pytest.mark.parametrize(
    ("resource", "kwargs", "missing"),
    [(resource, kwargs, key) for resource, kwargs in REQUIRED_INPUTS for key in kwargs],
    ids=lambda v: v if isinstance(v, str) else getattr(v, "__name__", ""),
)
def test_missing_required_input_raises_type_error_naming_it(
    harness: Harness, resource: Callable[..., Any], kwargs: dict[str, Any], missing: str
) -> None:
    """Generated constructors reject a missing Terraform-required attribute before registering."""
    without = {k: v for k, v in kwargs.items() if k != missing}
    with pytest.raises(TypeError, match=f"^Missing required property '{missing}'$"):
        resource("r", **without)
    assert harness.monitor.register_resource_requests == []


@pulumi.runtime.test
def test_subscription_name_is_optional_because_the_bridge_autonames_it(
    harness: Harness,
) -> pulumi.Output[None]:
    """`name` is Required in Terraform, but the dynamic bridge's autonaming makes it optional."""
    subscription = pulumi_segment.DestinationSubscription("unnamed", **REQUIRED_INPUTS[1][1])

    def check(_: Any) -> None:
        assert "name" not in harness.inputs_of("unnamed")

    return _after(subscription.id, check)


# ---------------------------------------------------------------- provider and secrets


async def _is_secret(output: pulumi.Output[Any]) -> bool:
    return await output.is_secret()


@pulumi.runtime.test
def test_provider_token_is_secret_everywhere(
    harness: Harness, capsys: pytest.CaptureFixture[str], caplog: pytest.LogCaptureFixture
) -> pulumi.Output[None]:
    """The Public API token is a secret input, a secret output and never printed or logged."""
    token = "sgp_" + hashlib.sha256(b"provider-token").hexdigest()
    provider = pulumi_segment.Provider(
        "workspace", token=token, url="https://eu1.api.segmentapis.com"
    )

    def check(args: list[Any]) -> None:
        token_is_secret, url_is_secret = args
        request = harness.request_for("workspace")
        assert request.type == "pulumi:providers:segment"
        assert request.packageRef == "mock-uuid"
        assert list(request.additionalSecretOutputs) == ["token"]
        assert harness.inputs_of("workspace") == {
            "token": {SECRET_SIG_KEY: SECRET_SIG_VALUE, "value": token},
            "url": "https://eu1.api.segmentapis.com",
        }
        assert token_is_secret is True
        assert url_is_secret is False
        captured = capsys.readouterr()
        assert token not in captured.out + captured.err + caplog.text

    return _after(
        pulumi.Output.all(
            pulumi.Output.from_input(_is_secret(provider.token)),
            pulumi.Output.from_input(_is_secret(provider.url)),
        ),
        check,
    )


@pulumi.runtime.test
def test_resources_use_an_explicit_provider(harness: Harness) -> pulumi.Output[None]:
    """A resource given `opts.provider` is registered against that provider instance."""
    provider = pulumi_segment.Provider("eu", token="t", url="https://eu1.api.segmentapis.com")
    destination = pulumi_segment.Destination(
        "eu-dest",
        enabled=True,
        metadata={"id": WEBHOOK_METADATA_ID},
        settings="{}",
        source_id="src-1",
        opts=pulumi.ResourceOptions(provider=provider),
    )

    def check(args: list[Any]) -> None:
        urn, provider_id, _ = args
        assert harness.request_for("eu-dest").provider == f"{urn}::{provider_id}"

    return _after(pulumi.Output.all(provider.urn, provider.id, destination.id), check)


def test_config_module_reads_the_segment_namespace(harness: Harness) -> None:
    """pulumi_segment.config exposes the stack keys segment:token and segment:url."""
    config_token = CONFIG.set({"segment:token": "cfg-token", "segment:url": "https://eu1"})
    secrets_token = _SECRET_KEYS.set({"segment:token"})
    try:
        assert pulumi_segment.config.token == "cfg-token"
        assert pulumi_segment.config.url == "https://eu1"
    finally:
        # Config is process-global; hand the previous values back to other test modules.
        _SECRET_KEYS.reset(secrets_token)
        CONFIG.reset(config_token)


# ---------------------------------------------------------------- invoke


@pulumi.runtime.test
def test_get_destination_metadata_invokes_and_returns_typed_results(
    harness: Harness,
) -> pulumi.Output[None]:
    """The plain invoke reaches the provider's token with {id} and returns nested Result types."""
    result = pulumi_segment.get_destination_metadata(id=WEBHOOK_METADATA_ID)

    (call,) = harness.mocks.calls
    assert call.token == GET_METADATA_TOKEN
    assert dict(call.args) == {"id": WEBHOOK_METADATA_ID}
    assert harness.monitor.invoke_requests[0].packageRef == "mock-uuid"
    assert isinstance(result, pulumi_segment.GetDestinationMetadataResult)
    assert (result.id, result.slug, result.name) == (
        WEBHOOK_METADATA_ID,
        "actions-webhook",
        "Webhooks (Actions)",
    )
    (action,) = result.actions
    assert isinstance(action, pulumi_segment.outputs.GetDestinationMetadataActionResult)
    assert (action.id, action.slug, action.default_trigger) == (SEND_ACTION_ID, "send", None)
    (url_field,) = action.fields
    assert (url_field.field_key, url_field.sort_order, url_field.required) == ("url", 0.0, True)
    assert result.supported_methods.track is True
    assert result.supported_platforms.mobile is False
    assert result.logos.default == "https://cdn/logo.svg"
    assert result.options[0].default_value == '""'
    return pulumi.Output.from_input(None)


@pulumi.runtime.test
def test_get_destination_metadata_output_accepts_an_output_id(
    harness: Harness,
) -> pulumi.Output[None]:
    """The _output form takes Input[str] and yields the same typed result as an Output."""
    metadata_id = pulumi.Output.from_input(WEBHOOK_METADATA_ID)
    result = pulumi_segment.get_destination_metadata_output(id=metadata_id)

    def check(value: pulumi_segment.GetDestinationMetadataResult) -> None:
        (call,) = harness.mocks.calls
        assert call.token == GET_METADATA_TOKEN
        assert dict(call.args) == {"id": WEBHOOK_METADATA_ID}
        send = next(action for action in value.actions if action.slug == "send")
        assert send.id == SEND_ACTION_ID
        assert value.supported_features.replay is False

    return _after(result, check)


# ---------------------------------------------------------------- installation


def test_installed_distribution_is_this_tree_with_its_package_data() -> None:
    """`pip install sdks/segment` ships py.typed and pulumi-plugin.json; a stale copy is caught."""
    dist_files = {str(path): path for path in importlib.metadata.files("pulumi_segment") or []}
    assert importlib.metadata.version("pulumi_segment") == "1.6.1"
    assert "pulumi_segment/py.typed" in dist_files
    assert "pulumi_segment/pulumi-plugin.json" in dist_files
    stale = [
        rel
        for rel, path in dist_files.items()
        if rel.startswith("pulumi_segment/")
        and not rel.endswith(".pyc")
        and path.locate().read_bytes() != (SDK_DIR / rel).read_bytes()
    ]
    assert stale == [], "reinstall with `venv/bin/pip install ./sdks/segment`"
