"""The guard rails' vocabulary: resource types, ``UNKNOWN``, ``PolicyConfig``, rules and findings.

Shared by the policy pack (``policy/``) and the offline plan (``components.review``); it lives
below both so imports point one way: ``policy`` imports ``components``, never the reverse."""

from __future__ import annotations

import importlib
import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Final, Literal

SUBSCRIPTION_TYPE: Final = "segment:index/destinationSubscription:DestinationSubscription"
DESTINATION_TYPE: Final = "segment:index/destination:Destination"
FLOW_TOKEN_TYPE: Final = "pulumi-python:dynamic/pendula:FlowToken"

WEBHOOKS_ACTIONS_METADATA_ID: Final = "614a3c7d791c91c41bae7599"
"""Catalog id of "Webhooks (Actions)" (reference/segment.md §2.1)."""
SEND_ACTION_ID: Final = "nFPnRozhz1mh4Gbx4MLvT5"
"""Catalog id of its only action, "Send" (reference/segment.md §2.2)."""

DEFAULT_ALLOWED_HOSTS: Final = ("pendula.app",)
DEFAULT_MAX_MAPPINGS: Final = 5
"""The Webhooks (Actions) page says "You can create up to 5 mappings" (segment.md §2.2)."""
LOOPBACK_HOSTS: Final = frozenset({"127.0.0.1", "localhost", "::1"})

CONFIG_ALLOWED_HOSTS: Final = "allowedHosts"
CONFIG_ALLOW_LOOPBACK: Final = "allowLoopback"
CONFIG_MAX_MAPPINGS: Final = "maxMappingsPerDestination"

Severity = Literal["low", "medium", "high", "critical"]


class _Unknown:
    """The type of ``UNKNOWN``; compare with ``is``."""

    def __repr__(self) -> str:
        return "UNKNOWN"


UNKNOWN: Final = _Unknown()
"""Stands for an input whose value is not known yet (preview of a resource not yet created)."""


class NotCheckableError(Exception):
    """A rule cannot judge this resource yet (or at all); ``reason`` says why."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class Violation:
    """One broken rule: the policy's name, the resource it concerns, and what to fix."""

    policy: str
    urn_or_name: str
    message: str


@dataclass(frozen=True)
class PolicyConfig:
    """The pack's tunables, read from the policy pack config (camelCase keys per policy)."""

    allowed_hosts: tuple[str, ...] = DEFAULT_ALLOWED_HOSTS
    allow_loopback: bool = False
    max_mappings_per_destination: int = DEFAULT_MAX_MAPPINGS

    @classmethod
    def from_policy_config(cls, config: Mapping[str, Any], key: str = "config") -> PolicyConfig:
        """Reads one policy's config object; unset keys keep their defaults.

        Raises ValueError naming ``<key>.<field>``, the bad value and what is allowed.
        """
        allowed_hosts = config.get(CONFIG_ALLOWED_HOSTS, list(DEFAULT_ALLOWED_HOSTS))
        if (
            not isinstance(allowed_hosts, list | tuple)
            or not allowed_hosts
            or not all(isinstance(host, str) and host.strip() for host in allowed_hosts)
        ):
            raise ValueError(
                f"{key}.{CONFIG_ALLOWED_HOSTS}: {show_value(allowed_hosts)} is not allowed; "
                'give a non-empty list of host names, e.g. ["pendula.app"]'
            )
        endpoints = library_module("guards.endpoints")
        if problem := endpoints.host_list_problem([host.strip() for host in allowed_hosts]):
            raise ValueError(f"{key}.{CONFIG_ALLOWED_HOSTS}: {problem}")
        allow_loopback = config.get(CONFIG_ALLOW_LOOPBACK, False)
        if not isinstance(allow_loopback, bool):
            raise ValueError(
                f"{key}.{CONFIG_ALLOW_LOOPBACK}: {show_value(allow_loopback)} is not allowed; "
                "give true or false"
            )
        max_mappings = config.get(CONFIG_MAX_MAPPINGS, DEFAULT_MAX_MAPPINGS)
        # The engine hands JSON numbers over as floats; 5.0 is a fine way to say 5.
        if isinstance(max_mappings, float) and max_mappings.is_integer():
            max_mappings = int(max_mappings)
        if not isinstance(max_mappings, int) or isinstance(max_mappings, bool) or max_mappings < 1:
            raise ValueError(
                f"{key}.{CONFIG_MAX_MAPPINGS}: {show_value(max_mappings)} is not allowed; "
                "give a whole number of at least 1"
            )
        return cls(
            allowed_hosts=tuple(host.strip().lower() for host in allowed_hosts),
            allow_loopback=allow_loopback,
            max_mappings_per_destination=max_mappings,
        )

    @classmethod
    def from_pack_config(cls, pack_config: Mapping[str, Any]) -> PolicyConfig:
        """Reads a whole ``--policy-pack-config`` document (``{policy name: {key: value}}``).

        Entries that only set an enforcement level (a string) carry no tunables.
        """
        merged: dict[str, Any] = {}
        for policy_name, entry in pack_config.items():
            if not isinstance(entry, Mapping):
                continue
            for name, value in entry.items():
                if name in (
                    CONFIG_ALLOWED_HOSTS,
                    CONFIG_ALLOW_LOOPBACK,
                    CONFIG_MAX_MAPPINGS,
                ):
                    PolicyConfig.from_policy_config({name: value}, key=str(policy_name))
                    merged[name] = value
        return cls.from_policy_config(merged)


ResourceCheck = Callable[[Mapping[str, Any], Sequence[str], PolicyConfig], list[str]]
"""A resource rule's check: (inputs, additionalSecretOutputs, config) -> messages."""


@dataclass(frozen=True)
class ResourceRule:
    """A check of one resource's inputs and resource options."""

    name: str
    description: str
    resource_types: frozenset[str]
    check: ResourceCheck
    severity: Severity
    config_keys: tuple[str, ...] = ()


RESOURCE_RULE_REGISTRY: list[ResourceRule] = []


def resource_rule(
    name: str,
    resource_type: str,
    severity: Severity,
    description: str,
    config_keys: tuple[str, ...] = (),
) -> Callable[[ResourceCheck], ResourceCheck]:
    """Declares the decorated check as resource rule ``name``; keeps each rule beside its check."""

    def register(check: ResourceCheck) -> ResourceCheck:
        rule = ResourceRule(
            name, description, frozenset({resource_type}), check, severity, config_keys
        )
        RESOURCE_RULE_REGISTRY.append(rule)
        return check

    return register


@dataclass(frozen=True)
class StackResource:
    """What a stack rule needs to know about one resource of the stack."""

    urn: str
    resource_type: str
    props: Mapping[str, Any]
    parent: str | None = None
    property_dependencies: Mapping[str, Sequence[str]] = field(default_factory=dict)


@dataclass(frozen=True)
class StackRule:
    """A check across the stack; each finding is ``(urn or None, message)``."""

    name: str
    description: str
    check: Callable[[Sequence[StackResource], PolicyConfig], list[tuple[str | None, str]]]
    severity: Severity
    config_keys: tuple[str, ...] = ()


# --- helpers ------------------------------------------------------------------------------


def show_value(value: Any, limit: int = 120) -> str:
    """A short JSON rendering of a non-secret value for a message."""
    if value is None:
        return "missing"
    if value is UNKNOWN:
        return "unknown"
    try:
        text = json.dumps(value, ensure_ascii=False, sort_keys=True)
    except (TypeError, ValueError):
        text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def library_module(name: str) -> Any:
    """A module of the program's library (``components``), imported when a rule runs.

    Imported lazily so the pack loads (and reports this clearly) even where the library
    cannot be imported; a rule that needs it then fails closed with a violation.
    """
    return importlib.import_module(f"components.{name}")
