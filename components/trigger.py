"""``PendulaTrigger``: one Segment Webhooks (Actions) destination whose mappings call Pendula flows.

It replaces the manual steps of Pendula's article "Triggering Pendula flows from Segment":
a Webhooks (Actions) destination on a source, and per flow a mapping ("destination
subscription") with trigger conditions, the flow's webhook URL, method POST, batching off,
an Authorization header with the flow's Pendula API token, and the event as payload.
"""

# No `from __future__ import annotations` here: the component provider (provider/) infers its
# schema from these annotations with inspect.get_annotations, which does not evaluate strings.
import re
from collections.abc import Mapping, Sequence
from typing import Any, NotRequired, TypedDict

import pulumi
import pulumi_segment as segment

from components.config.models import (
    DEFAULT_DATA_MAPPING,
    NAME_PATTERN,
    canonical_json,
    custom_context_header,
)
from components.fql import ConditionError, generate_fql, parse_fql
from components.mapping import MappingError, validate_mapping
from components.pendula import PendulaFlowToken

TYPE_TOKEN = "segment-pendula:index:PendulaTrigger"

WEBHOOKS_ACTIONS_METADATA_ID = "614a3c7d791c91c41bae7599"
"""Catalog id of "Webhooks (Actions)" (segment.md §2.1); not the classic "Webhooks"."""

SEND_ACTION_ID = "nFPnRozhz1mh4Gbx4MLvT5"
"""Catalog id of the destination's only action, "Send" (segment.md §2.2)."""

CUSTOM_CONTEXT_HEADER = "X-PENDULA-CUSTOM-CONTEXT"
"""Pendula's header for tagging where a webhook call comes from (pendula.md §1.4)."""


class PendulaFlowArgs(TypedDict):
    """One Pendula flow: a Segment mapping plus the flow's token."""

    name: str
    """Stable slug (``^[a-z][a-z0-9-]{0,39}$``) used in child resource names. Never rename it:
    a new name means a new mapping and token."""
    url: pulumi.Input[str]
    """The flow's webhook trigger POST URL, ``https://pendula.app/webhook/inbound/<uuid>``."""
    conditions: NotRequired[Mapping[str, Any]]
    """Trigger conditions in Segment's own AST (``components.fql``). Exactly one of
    ``conditions`` and ``trigger``."""
    trigger: NotRequired[str]
    """Raw FQL, accepted only if Segment's parser reads it as written."""
    unsafe_trigger: NotRequired[bool]
    """Keep a raw ``trigger`` verbatim even if Segment may misread it (adoption only).
    Defaults to False."""
    display_name: NotRequired[str]
    """The mapping's name in Segment. Defaults to ``name``."""
    enabled: NotRequired[bool]
    """Whether the mapping sends events. Defaults to False (enable after a test event)."""
    data: NotRequired[Any]
    """Mapping-kit directives for the body. Defaults to the whole event, ``{"@path": "$."}``."""
    custom_context: NotRequired[Any]
    """``X-PENDULA-CUSTOM-CONTEXT`` value: a string, or an object sent as canonical JSON.
    (Typed ``Any`` because the component schema cannot express a union.)"""
    token: NotRequired[pulumi.Input[str]]
    """Provided mode: the Pendula API token (made secret here)."""
    token_mode: NotRequired[str]
    """``provided`` (default) or ``managed`` (created through a Pendula token API)."""
    token_scheme: NotRequired[str]
    """``bearer`` (default) or ``basic``."""
    tenant_id: NotRequired[str]
    """Basic scheme: the user name (the Pendula tenant id)."""
    token_name: NotRequired[str]
    """Managed mode: the token's name in Pendula."""
    token_description: NotRequired[str]
    """Managed mode: the token's description in Pendula."""


class PendulaTriggerArgs(TypedDict):
    """Inputs of ``PendulaTrigger``."""

    source_id: pulumi.Input[str]
    """The Segment source whose events feed the destination. Changing it replaces the
    destination and every mapping."""
    flows: Sequence[PendulaFlowArgs]
    """At least one flow; Segment documents at most 5 mappings for this destination."""
    destination_name: NotRequired[pulumi.Input[str]]
    """The destination's name in Segment. Defaults to ``Pendula``."""
    enabled: NotRequired[pulumi.Input[bool]]
    """Whether the destination is enabled. Defaults to True; mappings have their own flag."""
    shared_secret: NotRequired[pulumi.Input[str]]
    """Makes Segment sign each request (``X-Signature``, HMAC-SHA1). Made secret here."""


class PendulaTrigger(pulumi.ComponentResource):
    """A Webhooks (Actions) destination on one source, with one mapping and token per flow.

    Children (names never change once released): ``<name>-destination``, and per flow
    ``<name>-<flow>-token`` and ``<name>-<flow>-subscription``. Segment resources use the
    ``segment`` provider from ``opts`` (``providers=[...]`` or ``provider=``), so one program
    can serve several workspaces.
    """

    destination_id: pulumi.Output[str]
    """The Segment destination id."""
    subscription_ids: pulumi.Output[dict[str, str]]
    """Segment subscription (mapping) id per flow name."""
    triggers: pulumi.Output[dict[str, str]]
    """The FQL trigger per flow name, exactly as sent to Segment."""
    webhook_urls: pulumi.Output[dict[str, str]]
    """The Pendula webhook URL per flow name."""
    token_fingerprints: pulumi.Output[dict[str, str]]
    """A short non-secret hash of each flow's Authorization header, to see rotations."""

    def __init__(
        self, name: str, args: PendulaTriggerArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__(TYPE_TOKEN, name, {}, opts)
        flows = list(args["flows"])
        _check_flows(flows)
        triggers = {flow["name"]: _trigger_text(flow, index) for index, flow in enumerate(flows)}

        shared_secret = args.get("shared_secret")
        destination_settings: pulumi.Input[str] = (
            pulumi.Output.secret(shared_secret).apply(
                lambda secret: canonical_json({"sharedSecret": secret})
            )
            if shared_secret is not None
            else canonical_json({})
        )
        destination = segment.Destination(
            f"{name}-destination",
            enabled=args.get("enabled", True),
            metadata=segment.DestinationMetadataArgs(id=WEBHOOKS_ACTIONS_METADATA_ID),
            name=args.get("destination_name", "Pendula"),
            settings=destination_settings,
            source_id=args["source_id"],
            opts=pulumi.ResourceOptions(
                parent=self,
                additional_secret_outputs=["settings"] if shared_secret is not None else None,
            ),
        )

        subscription_ids: dict[str, pulumi.Output[str]] = {}
        fingerprints: dict[str, pulumi.Output[str]] = {}
        for flow in flows:
            flow_name = flow["name"]
            token = PendulaFlowToken(
                f"{name}-{flow_name}-token",
                token_args(flow),
                opts=pulumi.ResourceOptions(parent=self),
            )
            settings = _settings_output(flow, token.authorization)
            subscription = segment.DestinationSubscription(
                f"{name}-{flow_name}-subscription",
                action_id=SEND_ACTION_ID,
                destination_id=destination.id,
                enabled=flow.get("enabled", False),
                name=flow.get("display_name", flow_name),
                settings=settings,
                trigger=triggers[flow_name],
                opts=pulumi.ResourceOptions(parent=self, additional_secret_outputs=["settings"]),
            )
            subscription_ids[flow_name] = subscription.id
            fingerprints[flow_name] = token.fingerprint

        self.destination_id = destination.id
        self.subscription_ids = pulumi.Output.all(**subscription_ids).apply(dict)
        self.triggers = pulumi.Output.from_input(triggers)
        self.webhook_urls = pulumi.Output.all(**{f["name"]: f["url"] for f in flows}).apply(dict)
        self.token_fingerprints = pulumi.Output.all(**fingerprints).apply(dict)
        self.register_outputs(
            {
                "destination_id": self.destination_id,
                "subscription_ids": self.subscription_ids,
                "triggers": self.triggers,
                "webhook_urls": self.webhook_urls,
                "token_fingerprints": self.token_fingerprints,
            }
        )


def subscription_settings(
    *, url: str, authorization: str, data: Any, custom_context: str | None
) -> str:
    """The Send action's settings with every field explicit.

    Segment applies no field defaults at run time (segment.md §2.2), so ``method``,
    ``batch_size`` and ``enable_batching`` are always written out.
    """
    headers = {"Authorization": authorization}
    if custom_context is not None:
        headers[CUSTOM_CONTEXT_HEADER] = custom_context
    return canonical_json(
        {
            "batch_size": 0,
            "data": data,
            "enable_batching": False,
            "headers": headers,
            "method": "POST",
            "url": url,
        }
    )


def _settings_output(
    flow: PendulaFlowArgs, authorization: pulumi.Output[str]
) -> pulumi.Output[str]:
    """The subscription settings, secret because they carry the Authorization header."""
    data = flow.get("data", DEFAULT_DATA_MAPPING)
    custom_context = custom_context_header(flow.get("custom_context"))

    def build(values: list[Any]) -> str:
        url, header = values
        return subscription_settings(
            url=url, authorization=header, data=data, custom_context=custom_context
        )

    settings: pulumi.Output[str] = pulumi.Output.all(flow["url"], authorization).apply(build)
    return pulumi.Output.secret(settings)


def _trigger_text(flow: PendulaFlowArgs, index: int) -> str:
    """The FQL for one flow, refusing anything Segment would read differently."""
    key = f"flows[{index}]"
    conditions, trigger = flow.get("conditions"), flow.get("trigger")
    if (conditions is None) == (trigger is None):
        raise ValueError(f"{key}: give exactly one of 'conditions' and 'trigger'")
    try:
        if conditions is not None:
            return generate_fql(conditions)
        assert trigger is not None
        if not flow.get("unsafe_trigger", False):
            parse_fql(trigger)
        return trigger
    except ConditionError as exc:
        raise ValueError(f"{key}: {exc}") from None


def _check_flows(flows: list[PendulaFlowArgs]) -> None:
    if not flows:
        raise ValueError("flows: at least one flow is required")
    seen: set[str] = set()
    for index, flow in enumerate(flows):
        name = flow["name"]
        if not re.match(NAME_PATTERN, name):
            raise ValueError(
                f"flows[{index}].name: {name!r} must match {NAME_PATTERN} "
                "(it becomes part of child resource names)"
            )
        if name in seen:
            raise ValueError(f"flows[{index}].name: {name!r} is used twice")
        seen.add(name)
        if "data" in flow:
            try:
                validate_mapping(flow["data"], f"flows[{index}].data")
            except MappingError as exc:
                raise ValueError(str(exc)) from None


def token_args(flow: PendulaFlowArgs) -> Any:
    """The `PendulaFlowToken` inputs of one flow (the component's `<name>-<flow>-token` child)."""
    args: dict[str, Any] = {"flow_url": flow["url"]}
    for source, target in (
        ("token_mode", "mode"),
        ("token_scheme", "scheme"),
        ("tenant_id", "tenant_id"),
        ("token_name", "token_name"),
        ("token_description", "token_description"),
    ):
        if source in flow:
            args[target] = flow[source]  # type: ignore[literal-required]
    if "token" in flow:
        args["token"] = pulumi.Output.secret(flow["token"])
    return args
