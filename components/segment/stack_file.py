"""What ``adopt`` writes: the stack file (engine-safe YAML), the ``pulumi import`` document, and
the check of the written config by the same loader every tool uses."""

from __future__ import annotations

from typing import Any

import yaml

from components.config.engine_yaml import EngineYamlDumper
from components.config.load import parse_stack_config
from components.config.models import (
    MAX_MAPPINGS_PER_DESTINATION,
    PROJECT,
    SECRET_PLACEHOLDER,
    ConfigError,
    SegmentConfig,
)
from components.config.stack_config import StackConfigError, resolve_stack_text
from components.segment.adopt import DESTINATION_TYPE, SUBSCRIPTION_TYPE, Adoption
from components.trigger import (
    TYPE_TOKEN,
)

# --- writing ------------------------------------------------------------------------------


def stack_document(adoption: Adoption) -> dict[str, Any]:
    """The ``Pulumi.<stack>.yaml`` content (no secrets: those are set with ``pulumi config``)."""
    config: dict[str, Any] = {"segment:url": adoption.segment_url}
    if adoption.sandbox:
        config[f"{PROJECT}:sandbox"] = True
    most = max(len(d.flows) for d in adoption.destinations)
    if most > MAX_MAPPINGS_PER_DESTINATION:
        config[f"{PROJECT}:maxMappingsPerDestination"] = most
    config[f"{PROJECT}:destinations"] = [d.config for d in adoption.destinations]
    return {"config": config}


def stack_file_text(adoption: Adoption, command: str) -> str:
    """The stack file with a header saying where it came from and what is still missing."""
    header = (
        f"# Adopted from Segment source {adoption.source_id} ({adoption.segment_url}) by\n"
        f"#   {command}\n"
        "# Secrets are not in this file: set them with the `pulumi config set --secret` commands\n"
        "# that adopt printed (README: Adopting an existing setup).\n"
    )
    document = stack_document(adoption)
    key = f"{PROJECT}:destinations"
    document["config"][key] = [
        {**d, "flows": [{k: _inline_leaves(v) for k, v in f.items()} for f in d["flows"]]}
        for d in document["config"][key]
    ]
    body = yaml.dump(document, Dumper=_StackDumper, sort_keys=False, allow_unicode=True, width=100)
    return header + body


class _Inline(dict[str, Any]):
    """A mapping of scalars, written in flow style like ``event: {is: Signed Up}``."""


class _StackDumper(EngineYamlDumper):
    """Block style, except ``_Inline`` leaves, matching the hand-written stack files."""


_StackDumper.add_representer(
    _Inline,
    lambda dumper, data: dumper.represent_mapping("tag:yaml.org,2002:map", data, flow_style=True),
)


def _inline_leaves(value: Any) -> Any:
    """Mark every mapping whose values are all scalars for flow style, recursively."""
    if isinstance(value, dict):
        inner = {k: _inline_leaves(v) for k, v in value.items()}
        if inner and not any(isinstance(v, dict | list) for v in inner.values()):
            return _Inline(inner)
        return inner
    if isinstance(value, list):
        return [_inline_leaves(v) for v in value]
    return value


def import_document(adoption: Adoption) -> dict[str, Any]:
    """The ``pulumi import --file`` document: each component, its destination and mappings.

    Names are exactly those ``PendulaTrigger`` gives its children, parented to the component,
    so the imported resources are the ones the program declares. Token resources are dynamic
    and cannot be imported (pulumi#16175); the program creates them (provided mode: locally).
    """
    resources: list[dict[str, Any]] = []
    for destination in adoption.destinations:
        component = destination.name
        resources.append(
            {"type": TYPE_TOKEN, "name": component, "logicalName": component, "component": True}
        )
        resources.append(
            {
                "type": DESTINATION_TYPE,
                "name": f"{component}-destination",
                "logicalName": f"{component}-destination",
                "id": destination.destination_id,
                "parent": component,
            }
        )
        for flow in destination.flows:
            child = f"{component}-{flow.name}-subscription"
            resources.append(
                {
                    "type": SUBSCRIPTION_TYPE,
                    "name": child,
                    "logicalName": child,
                    "id": f"{destination.destination_id}:{flow.subscription_id}",
                    "parent": component,
                }
            )
    return {"nameTable": {}, "resources": resources}


def config_problems(adoption: Adoption) -> list[str]:
    """What the stack-file validation still reports once the secrets are set (ideally none).

    The check reads the stack file adopt writes back through ``components.config.stack_config`` (the
    engine's reading), so what is validated is what ``pulumi up`` will see; a value that would
    not read back as written is a problem too.
    """
    intended = stack_document(adoption)["config"]
    text = stack_file_text(adoption, "adopt")
    try:
        resolved = resolve_stack_text(text, "the adopted stack")
    except StackConfigError as exc:
        return [str(exc)]
    read_back = {k: v for k, v in resolved.values().items() if k in intended}
    changed = sorted(k for k in intended if read_back.get(k) != intended[k])
    problems = [f"{key}: would not read back as written (engine YAML)" for key in changed]
    values, secret_keys, segment_values = {}, set(), {}
    prefix = f"{PROJECT}:"
    for key, value in resolved.values().items():
        if key.startswith(prefix):
            values[key[len(prefix) :]] = value
        elif key.startswith("segment:"):
            segment_values[key.removeprefix("segment:")] = value
    for secret in adoption.secrets:
        group, _, key = secret.key.partition(".")
        values.setdefault(group, {})[key] = SECRET_PLACEHOLDER
        secret_keys.add(group)
    segment_values["token"] = SECRET_PLACEHOLDER
    try:
        segment = SegmentConfig(segment_values, frozenset({"token"}))
        parse_stack_config(values, secret_keys, source="the adopted stack", segment=segment)
    except ConfigError as exc:
        problems += list(exc.problems)
    return problems
