"""The rules across a stack (mapping limit per destination), and the entry points the offline
plan calls: every resource rule for one resource, every stack rule for a stack."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Final

from components.rules.model import (
    CONFIG_MAX_MAPPINGS,
    DESTINATION_TYPE,
    SUBSCRIPTION_TYPE,
    NotCheckableError,
    PolicyConfig,
    StackResource,
    StackRule,
    Violation,
)
from components.rules.resource_rules import RESOURCE_RULES

# --- stack rules --------------------------------------------------------------------------


def _urn_name(urn: str) -> str:
    return urn.rsplit("::", 1)[-1]


def _destination_key(resource: StackResource, types_by_urn: Mapping[str, str]) -> str:
    """Which destination a subscription belongs to, even at preview when ids are unknown.

    The engine records which resources an input came from, so ``destinationId``'s dependency
    names the destination's URN before Segment has assigned an id.
    """
    dependencies = list(resource.property_dependencies.get("destinationId", ()))
    destinations = [urn for urn in dependencies if types_by_urn.get(urn) == DESTINATION_TYPE]
    if destinations or dependencies:
        return (destinations or dependencies)[0]
    destination_id = resource.props.get("destinationId")
    if isinstance(destination_id, str) and destination_id:
        return f"destination id {destination_id}"
    if resource.parent:
        return f"parent {resource.parent}"
    return "an unknown destination"


def check_mapping_limit(
    resources: Sequence[StackResource], config: PolicyConfig
) -> list[tuple[str | None, str]]:
    """At most ``max_mappings_per_destination`` subscriptions per destination."""
    types_by_urn = {resource.urn: resource.resource_type for resource in resources}
    groups: dict[str, list[StackResource]] = {}
    for resource in resources:
        if resource.resource_type == SUBSCRIPTION_TYPE:
            groups.setdefault(_destination_key(resource, types_by_urn), []).append(resource)
    findings: list[tuple[str | None, str]] = []
    limit = config.max_mappings_per_destination
    for key, subscriptions in groups.items():
        if len(subscriptions) <= limit:
            continue
        is_urn = key in types_by_urn
        label = f'destination "{_urn_name(key)}"' if is_urn else key
        names = ", ".join(sorted(_urn_name(s.urn) for s in subscriptions))
        findings.append(
            (
                key if is_urn else subscriptions[-1].urn,
                f"{label} has {len(subscriptions)} mappings ({names}); Segment allows at most "
                f"{limit} on one Webhooks (Actions) destination (policy config "
                f"{CONFIG_MAX_MAPPINGS}). Fix: move some flows to a second PendulaTrigger "
                "(its own destination) or remove flows.",
            )
        )
    return findings


STACK_RULES: Final[tuple[StackRule, ...]] = (
    StackRule(
        name="destination-mapping-limit",
        description="A Webhooks (Actions) destination has at most 5 mappings (configurable).",
        check=check_mapping_limit,
        severity="medium",
        config_keys=(CONFIG_MAX_MAPPINGS,),
    ),
)


# --- entry points for the offline plan -----------------------------------------------------


def check_resource(
    resource_type: str,
    props: Mapping[str, Any],
    opts_additional_secret_outputs: Sequence[str],
    config: PolicyConfig | None = None,
    urn_or_name: str = "",
) -> list[Violation]:
    """Every resource rule for one resource; rules that cannot judge yet are skipped."""
    config = config or PolicyConfig()
    violations: list[Violation] = []
    for rule in RESOURCE_RULES:
        if resource_type not in rule.resource_types:
            continue
        try:
            messages = rule.check(props, list(opts_additional_secret_outputs), config)
        except NotCheckableError:
            continue
        violations.extend(Violation(rule.name, urn_or_name, message) for message in messages)
    return violations


def check_stack(
    resources: Sequence[StackResource], config: PolicyConfig | None = None
) -> list[Violation]:
    """Every stack rule over all resources of a stack."""
    config = config or PolicyConfig()
    return [
        Violation(rule.name, urn or "", message)
        for rule in STACK_RULES
        for urn, message in rule.check(resources, config)
    ]
