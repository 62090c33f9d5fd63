"""Wraps the pure rules of ``policy.rules`` as pulumi-policy resource and stack policies."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Final, TypedDict

from pulumi_policy import (
    EnforcementLevel,
    Policy,
    PolicyConfigSchema,
    PolicyResource,
    ReportViolation,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    Severity,
    StackValidationArgs,
    StackValidationPolicy,
)
from pulumi_policy.proxy import UnknownValueError

from policy.rules import (
    CONFIG_ALLOW_LOOPBACK,
    CONFIG_ALLOWED_HOSTS,
    CONFIG_MAX_MAPPINGS,
    DEFAULT_ALLOWED_HOSTS,
    DEFAULT_MAX_MAPPINGS,
    RESOURCE_RULES,
    STACK_RULES,
    UNKNOWN,
    NotCheckableError,
    PolicyConfig,
    ResourceRule,
    StackResource,
    StackRule,
)

PACK_NAME: Final = "segment-pendula-guardrails"
PACK_DESCRIPTION: Final = (
    "Guard rails for Segment Webhooks (Actions) mappings that trigger Pendula flows: the Send "
    "action, POST without batching, https to Pendula, an Authorization header, secret settings "
    "and tokens, triggers Segment can read, and at most 5 mappings per destination."
)

_CONFIG_PROPERTIES: Final[Mapping[str, dict[str, Any]]] = {
    CONFIG_ALLOWED_HOSTS: {
        "type": "array",
        "items": {"type": "string", "minLength": 1},
        "minItems": 1,
        "default": list(DEFAULT_ALLOWED_HOSTS),
        "description": "Host names a mapping may post to.",
    },
    CONFIG_ALLOW_LOOPBACK: {
        "type": "boolean",
        "default": False,
        "description": "Allow http(s)://127.0.0.1 and localhost (the local sandbox stack only).",
    },
    CONFIG_MAX_MAPPINGS: {
        "type": "integer",
        "minimum": 1,
        "default": DEFAULT_MAX_MAPPINGS,
        "description": "Most mappings (subscriptions) on one Webhooks (Actions) destination.",
    },
}


def plain(value: Any) -> Any:
    """A plain copy of pulumi-policy's unknown-checking proxies, unknowns as ``rules.UNKNOWN``.

    The analyzer wraps inputs so that reading an unknown raises ``UnknownValueError``, which
    would abort a whole policy at preview. Reading each value once here lets a rule skip only
    the checks that need the unknown value.
    """
    if isinstance(value, str):
        return value
    if isinstance(value, Mapping):
        result: dict[str, Any] = {}
        for key in value:
            try:
                result[key] = plain(value[key])
            except UnknownValueError:
                result[key] = UNKNOWN
        return result
    if isinstance(value, Sequence):
        items: list[Any] = []
        for index in range(len(value)):
            try:
                items.append(plain(value[index]))
            except UnknownValueError:
                items.append(UNKNOWN)
        return items
    return value


def _schema(keys: Sequence[str]) -> PolicyConfigSchema | None:
    if not keys:
        return None
    return PolicyConfigSchema(properties={key: dict(_CONFIG_PROPERTIES[key]) for key in keys})


class _PolicyFields(TypedDict):
    """The constructor arguments a resource and a stack policy take alike from their rule."""

    name: str
    description: str
    enforcement_level: EnforcementLevel
    config_schema: PolicyConfigSchema | None
    severity: Severity


def _policy_fields(rule: ResourceRule | StackRule) -> _PolicyFields:
    """Every rule is mandatory: each guards against a mapping that fails or leaks at Segment."""
    return _PolicyFields(
        name=rule.name,
        description=rule.description,
        enforcement_level=EnforcementLevel.MANDATORY,
        config_schema=_schema(rule.config_keys),
        severity=Severity[rule.severity.upper()],
    )


def resource_policy(rule: ResourceRule) -> ResourceValidationPolicy:
    """The pulumi-policy form of one resource rule."""

    def validate(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
        if args.resource_type not in rule.resource_types:
            return
        config = PolicyConfig.from_policy_config(args.get_config(), key=rule.name)
        secret_outputs = list(args.opts.additional_secret_outputs)
        try:
            messages = rule.check(plain(args.props), secret_outputs, config)
        except NotCheckableError as exc:
            args.not_applicable(exc.reason)
            return
        for message in messages:
            report_violation(message, None)

    return ResourceValidationPolicy(validate=validate, **_policy_fields(rule))


def stack_resource(resource: PolicyResource) -> StackResource:
    """What the stack rules need from one pulumi-policy resource."""
    parent = resource.parent.urn if resource.parent is not None else resource.opts.parent
    return StackResource(
        urn=resource.urn,
        resource_type=resource.resource_type,
        props=plain(resource.props),
        parent=parent,
        property_dependencies={
            key: [dependency.urn for dependency in dependencies]
            for key, dependencies in resource.property_dependencies.items()
        },
    )


def stack_policy(rule: StackRule) -> StackValidationPolicy:
    """The pulumi-policy form of one stack rule."""

    def validate(args: StackValidationArgs, report_violation: ReportViolation) -> None:
        config = PolicyConfig.from_policy_config(args.get_config(), key=rule.name)
        resources = [stack_resource(resource) for resource in args.resources]
        for urn, message in rule.check(resources, config):
            report_violation(message, urn)

    return StackValidationPolicy(validate=validate, **_policy_fields(rule))


def build_policies() -> list[Policy]:
    """Every policy of the pack, resource policies first."""
    policies: list[Policy] = [resource_policy(rule) for rule in RESOURCE_RULES]
    policies.extend(stack_policy(rule) for rule in STACK_RULES)
    return policies
