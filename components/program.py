"""The stack program as a function, shared by ``__main__.py``, the offline plan and benchmarks."""

from __future__ import annotations

import pulumi

from components.config.models import Destination, Flow, StackConfig
from components.trigger import PendulaFlowArgs, PendulaTrigger, PendulaTriggerArgs

OUTPUT_DESTINATIONS = "destinations"
"""Stack output: per destination name, its ids, triggers, URLs and token fingerprints."""


def build(config: StackConfig) -> dict[str, PendulaTrigger]:
    """One ``PendulaTrigger`` per configured destination, and the stack outputs."""
    triggers = {d.name: PendulaTrigger(d.name, trigger_args(d)) for d in config.destinations}
    pulumi.export(
        OUTPUT_DESTINATIONS,
        {
            name: {
                "destinationId": t.destination_id,
                "subscriptionIds": t.subscription_ids,
                "triggers": t.triggers,
                "webhookUrls": t.webhook_urls,
                "tokenFingerprints": t.token_fingerprints,
            }
            for name, t in triggers.items()
        },
    )
    return triggers


def trigger_args(destination: Destination) -> PendulaTriggerArgs:
    """Translate one validated destination into the component's inputs."""
    args: PendulaTriggerArgs = {
        "source_id": destination.source_id,
        "destination_name": destination.display_name,
        "enabled": destination.enabled,
        "flows": [flow_args(f) for f in destination.flows],
    }
    if destination.shared_secret is not None:
        args["shared_secret"] = pulumi.Output.secret(destination.shared_secret)
    return args


def flow_args(flow: Flow) -> PendulaFlowArgs:
    """Translate one validated flow into its `PendulaFlowArgs`."""
    args: PendulaFlowArgs = {
        "name": flow.name,
        "url": flow.url,
        "display_name": flow.display_name,
        "enabled": flow.enabled,
        "data": flow.data,
        "token_mode": flow.token_mode.value,
        "token_scheme": flow.token_scheme.value,
    }
    # The validated text is sent verbatim (an adopted trigger keeps its exact spelling);
    # only an acknowledged unsafe trigger skips the component's parse check.
    args["trigger"] = flow.fql
    if flow.ast is None:
        args["unsafe_trigger"] = True
    if flow.custom_context is not None:
        args["custom_context"] = flow.custom_context
    if flow.token is not None:
        args["token"] = pulumi.Output.secret(flow.token)
    if flow.tenant_id is not None:
        args["tenant_id"] = flow.tenant_id
    if flow.token_name is not None:
        args["token_name"] = flow.token_name
    if flow.token_description is not None:
        args["token_description"] = flow.token_description
    return args
