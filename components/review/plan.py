"""Offline plan of a stack: what it declares, how that differs from a git ref, and the policies.

The real stack program runs under Pulumi's mock runtime (``components.review.offline``), so the plan
shows exactly what ``pulumi preview`` would send to the engine, without the CLI, credentials
or network. ``secure:`` values are never decrypted: each one becomes a private stand-in
derived from its ciphertext, so a re-encrypted secret shows as ``[secret] changed`` and its
value can never appear. Every secret is printed as ``[secret]``.

The result is one JSON-able document (``build_plan``); ``render_text`` and
``render_markdown`` present the same document for terminals and pull-request comments."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pulumi.output import Unknown

from components.config.models import (
    PROJECT,
    SECRET_KEYS,
    SEGMENT_DEFAULT_URL,
    StackConfig,
)
from components.guards import placeholders
from components.guards.files import (
    MAX_EVENT_FILE_BYTES,
    FileError,
    read_project_file,
)
from components.guards.redaction import redact_headers, redact_text, redact_value, shown_url
from components.mapping import MappingError, render
from components.review.diff import diff_runs
from components.review.document import (
    EXIT_UNREADABLE,
    KNOWN_AFTER_APPLY,
    SECRET,
    PlanError,
    plan_status,
    shown_value,
)
from components.review.offline import (
    RecordedResource,
    Secret,
    unwrap,
)
from components.review.stack_run import (
    ProgramRun,
    StackInput,
    ordered_resources,
    read_stack_at_ref,
    read_stack_file,
    run_stack,
    settings_fallback,
    stack_file,
)
from components.rules.model import UNKNOWN, PolicyConfig, StackResource
from components.rules.stack_rules import check_resource, check_stack

_PROVIDER_URL_KEY = "segment:url"
_PROVIDER_TOKEN_KEY = "segment:token"


def policy_config(config: StackConfig) -> PolicyConfig:
    """The guard rails' tunables as the stack configures them."""
    return PolicyConfig(
        allowed_hosts=tuple(h.lower() for h in config.allowed_pendula_hosts),
        allow_loopback=config.sandbox,
        max_mappings_per_destination=config.max_mappings_per_destination,
    )


def _policy_value(value: Any) -> Any:
    """Inputs as the policy engine sees them: secrets unwrapped, unknowns as ``UNKNOWN``."""
    if isinstance(value, Secret):
        return _policy_value(value.value)
    if isinstance(value, Unknown):
        return UNKNOWN
    if isinstance(value, dict):
        return {k: _policy_value(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_policy_value(v) for v in value]
    return value


def check_policies(run: ProgramRun) -> list[dict[str, str]]:
    """Every resource rule on each recorded resource, and the stack rules on all of them."""
    if run.config is None:
        return []
    config = policy_config(run.config)
    violations = []
    stack_resources = []
    for resource in run.resources:
        props = _policy_value(resource.inputs)
        violations.extend(
            check_resource(
                resource.type, props, resource.additional_secret_outputs, config, resource.name
            )
        )
        stack_resources.append(
            StackResource(resource.urn, resource.type, props, parent=resource.parent or None)
        )
    violations.extend(check_stack(stack_resources, config))
    return [
        {"policy": v.policy, "resource": _urn_name(v.urn_or_name), "message": v.message}
        for v in violations
    ]


def _urn_name(urn_or_name: str) -> str:
    return urn_or_name.rsplit("::", 1)[-1]


def _resource_rows(run: ProgramRun) -> list[dict[str, Any]]:
    names_by_urn = {r.urn: r.name for r in run.resources}
    return [
        {
            "type": r.type,
            "name": r.name,
            "parent": names_by_urn.get(r.parent),
            "provider": _provider_label(r.provider),
        }
        for r in ordered_resources(run)
    ]


def _provider_label(reference: str) -> str | None:
    """``urn::<name>`` of an explicit provider reference (``<urn>::<id>``), else None."""
    if not reference:
        return None
    urn = reference.rsplit("::", 1)[0]
    return urn.rsplit("::", 1)[-1]


def _settings_of(resource: RecordedResource | None, fallback: str) -> dict[str, Any]:
    """A subscription's settings object; ``fallback`` when not known before apply."""
    raw = unwrap(resource.inputs.get("settings")) if resource is not None else None
    text = raw if isinstance(raw, str) else fallback
    parsed: dict[str, Any] = json.loads(text)
    return parsed


def _body_preview(flow: Any, data: Any, root: Path, key: str) -> tuple[Any, str | None]:
    """The body Pendula would receive for the flow's sample event, or the problem."""
    if flow.sample_event is None:
        return None, None
    shown = f"{key}: '{flow.sample_event}'"
    try:
        event = json.loads(
            read_project_file(root, flow.sample_event, key, MAX_EVENT_FILE_BYTES),
            parse_constant=_refuse_constant,
        )
    except FileError as exc:
        return None, str(exc)
    except (ValueError, RecursionError) as exc:
        return None, f"{shown} cannot be read as JSON ({exc})"
    if not isinstance(event, dict):
        return None, f"{shown} must hold one JSON object (a Segment event)"
    try:
        # Shown to reviewers, so credentials typed into the sample event are hidden.
        return redact_value(render(data, event)), None
    except MappingError as exc:
        return None, f"{shown}: rendering the flow's data mapping fails: {exc}"


def _refuse_constant(name: str) -> Any:
    """``json.loads`` hook: NaN/Infinity are not JSON, and Segment refuses them."""
    raise ValueError(f"{name} is not a JSON number")


def _destinations(run: ProgramRun, root: Path) -> tuple[list[dict[str, Any]], list[str]]:
    assert run.config is not None
    by_name = {r.name: r for r in run.resources}
    problems: list[str] = []
    destinations = []
    for d_index, destination in enumerate(run.config.destinations):
        resource = by_name.get(f"{destination.name}-destination")
        inputs = resource.inputs if resource is not None else {}
        flows = []
        for f_index, flow in enumerate(destination.flows):
            key = f"{PROJECT}:destinations[{d_index}].flows[{f_index}].sampleEvent"
            prefix = f"{destination.name}-{flow.name}"
            subscription = by_name.get(f"{prefix}-subscription")
            token = by_name.get(f"{prefix}-token")
            settings = _settings_of(subscription, settings_fallback(flow))
            headers = dict(settings.get("headers") or {})
            known = headers.get("Authorization") != KNOWN_AFTER_APPLY
            headers = redact_headers(headers)  # shown to reviewers: masked by structure
            headers["Authorization"] = SECRET if known else f"{SECRET} {KNOWN_AFTER_APPLY}"
            preview, problem = _body_preview(flow, settings.get("data"), root, key)
            if problem is not None:
                problems.append(problem)
            token_inputs = unwrap(token.inputs) if token is not None else {}
            sub_inputs = subscription.inputs if subscription is not None else {}
            flows.append(
                {
                    "name": flow.name,
                    "displayName": sub_inputs.get("name"),
                    "enabled": sub_inputs.get("enabled"),
                    "trigger": sub_inputs.get("trigger"),
                    "url": settings.get("url"),
                    "method": settings.get("method"),
                    "batchSize": settings.get("batch_size"),
                    "enableBatching": settings.get("enable_batching"),
                    "headers": headers,
                    "customContext": headers.get("X-PENDULA-CUSTOM-CONTEXT"),
                    "data": redact_value(settings.get("data")),
                    "token": {
                        "mode": token_inputs.get("mode", "provided"),
                        "scheme": token_inputs.get("scheme", "bearer"),
                        "resource": token.name if token is not None else None,
                    },
                    "subscription": subscription.name if subscription is not None else None,
                    "sampleEvent": flow.sample_event,
                    "bodyPreview": preview,
                }
            )
        destinations.append(
            {
                "name": destination.name,
                "resource": resource.name if resource is not None else None,
                "displayName": inputs.get("name"),
                "sourceId": inputs.get("sourceId"),
                "enabled": inputs.get("enabled"),
                "sharedSecret": SECRET if destination.shared_secret is not None else None,
                "flows": flows,
            }
        )
    return destinations, problems


# --- the document -------------------------------------------------------------------------


@dataclass(frozen=True)
class PlanRequest:
    """What to plan: a stack name, where its files are, and an optional git ref to compare."""

    stack: str
    stacks_dir: Path
    project_root: Path
    against: str | None = None


def build_plan(request: PlanRequest) -> dict[str, Any]:
    """The whole plan as one JSON-able document (see the module docstring)."""
    path = stack_file(request.stacks_dir, request.stack)
    head_input = read_stack_file(path)
    base_input: StackInput | None = None
    if request.against is not None:
        base_input = read_stack_at_ref(path, request.against)

    head = run_stack(head_input, request.stack)
    document: dict[str, Any] = {
        "stack": request.stack,
        "stackFile": str(path),
        "segmentProvider": {
            "url": head_input.provider.get("url"),
            "token": head_input.provider.get("token"),
        },
        "resources": [],
        "destinations": [],
        "problems": list(head.problems),
        "violations": [],
        "settings": stack_settings(head.config) if head.config is not None else {},
        "review": [],
        "environment": list(head_input.environment),
        "notSetYet": _not_set_yet(head_input),
    }
    if head.config is not None and not head.problems:
        document["resources"] = _resource_rows(head)
        document["destinations"], problems = _destinations(head, request.project_root)
        document["problems"] += problems
        document["violations"] = check_policies(head)
    if request.against is not None:
        document["against"] = _against(request.against, base_input, head, request.stack)
        document["review"] = [
            f"{change['key']} changed: {shown_value(change['old'])} → {shown_value(change['new'])} "
            "(this decides where credentials are sent; review it)"
            for change in document["against"]["settingChanges"]
        ]
    document["status"] = plan_status(document)
    document["_secrets"] = head_input.secrets | (base_input.secrets if base_input else set())
    return document


def _not_set_yet(stack: StackInput) -> list[dict[str, str]]:
    """Secrets still ``PLACEHOLDER``: fine offline, refused by the program until set."""
    pairs = [(f"{PROJECT}:{k}", v) for k, v in stack.values.items() if k in SECRET_KEYS]
    pairs += [(f"segment:{k}", v) for k, v in stack.segment.values.items() if k == "token"]
    return [
        {"key": path, "command": placeholders.set_secret_command(path)}
        for key, value in sorted(pairs)
        for path in placeholders.placeholder_paths(key, value)
    ]


def _against(
    ref: str, base_input: StackInput | None, head: ProgramRun, stack: str
) -> dict[str, Any]:
    if head.problems:
        return {
            "ref": ref,
            "existed": base_input is not None,
            "changes": [],
            "summary": {},
            "settingChanges": [],
        }
    if base_input is None:
        base = ProgramRun(StackInput(ref, {}, frozenset(), {}, frozenset()))
    else:
        base = run_stack(base_input, stack)
        if base.problems:
            lines = "\n".join(f"  - {p}" for p in base.problems)
            raise PlanError(
                f"cannot plan the stack as of {ref}, so there is nothing to compare with:\n{lines}",
                EXIT_UNREADABLE,
            )
    changes = diff_runs(base, head)
    summary = {a: 0 for a in ("create", "update", "replace", "delete", "same")}
    for entry in changes:
        summary[entry["action"]] += 1
    old_settings = stack_settings(base.config) if base.config is not None else {}
    new_settings = stack_settings(head.config) if head.config is not None else {}
    return {
        "ref": ref,
        "existed": base_input is not None,
        "changes": [c for c in changes if c["action"] != "same"],
        "summary": summary,
        "settingChanges": [
            {"key": key, "old": old_settings.get(key), "new": new_settings.get(key)}
            for key in new_settings
            if old_settings.get(key) != new_settings.get(key)
        ],
    }


def stack_settings(config: StackConfig) -> dict[str, Any]:
    """Where the stack's credentials go, and the flags that loosen the rules: each change to
    one of these is called out for review (``--against``), in every output format."""
    return {
        "segment:url": shown_url(config.segment_url or SEGMENT_DEFAULT_URL),
        f"{PROJECT}:pendulaApiUrl": (
            shown_url(config.pendula_api_url) if config.pendula_api_url else None
        ),
        f"{PROJECT}:allowedPendulaHosts": list(config.allowed_pendula_hosts),
        f"{PROJECT}:allowedSegmentApiHosts": list(config.allowed_segment_api_hosts),
        f"{PROJECT}:sandbox": config.sandbox,
        f"{PROJECT}:production": config.production,
    }


def redact(text: str, document: Mapping[str, Any], *, structured: bool = False) -> str:
    """Last line of defence: no secret text from the stack file may reach the output, and no
    credential typed into a URL or a value (``components.guards.redaction``). ``structured``: the
    text is our JSON rendering, whose values ``redact_value`` already masked by key."""
    for secret in sorted(document.get("_secrets", ()), key=len, reverse=True):
        if len(secret) >= 4:
            text = text.replace(secret, SECRET)
    return redact_text(text, quoted_keys=not structured)
