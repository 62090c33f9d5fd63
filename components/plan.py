"""Offline plan of a stack: what it declares, how that differs from a git ref, and the policies.

The real stack program runs under Pulumi's mock runtime (``components.offline``), so the plan
shows exactly what ``pulumi preview`` would send to the engine, without the CLI, credentials
or network. ``secure:`` values are never decrypted: each one becomes a private stand-in
derived from its ciphertext, so a re-encrypted secret shows as ``[secret] changed`` and its
value can never appear. Every secret is printed as ``[secret]``.

The result is one JSON-able document (``build_plan``); ``render_text`` and
``render_markdown`` present the same document for terminals and pull-request comments.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pulumi.output import Unknown

from components import placeholders
from components.config import (
    PROJECT,
    SECRET_KEYS,
    SEGMENT_DEFAULT_URL,
    ConfigError,
    SegmentConfig,
    StackConfig,
    parse_stack_config,
    split_resolved,
)
from components.escaping import (
    escape_json,
    escape_markdown,
    escape_terminal,
    markdown_code,
    markdown_fence,
)
from components.files import (
    MAX_EVENT_FILE_BYTES,
    FileError,
    read_project_file,
)
from components.fql.caret import lay_out, without_caret
from components.mapping import MappingError, render
from components.offline import (
    DESTINATION_TYPE,
    FLOW_TOKEN_TYPE,
    SUBSCRIPTION_TYPE,
    RecordedResource,
    Secret,
    run_program,
    unwrap,
)
from components.pendula.flow_token import REPLACING_FIELDS as TOKEN_REPLACING_FIELDS
from components.plan_diagram import mermaid_block
from components.redaction import redact_headers, redact_text, redact_value, shown_url
from components.stack_at_ref import resolve_stack_at_ref
from components.stack_config import (
    ResolvedStack,
    StackConfigError,
    resolve_stack_file,
    resolve_stack_text,
)
from components.trigger import subscription_settings
from components.validators import json_leaves
from policy.rules import UNKNOWN, PolicyConfig, StackResource, check_resource, check_stack

SECRET = "[secret]"
KNOWN_AFTER_APPLY = "(known after apply)"

EXIT_OK = 0
EXIT_INVALID_CONFIG = 3
"""The stack file or the program rejected the configuration (or a sample event is unusable)."""
EXIT_POLICY = 4
"""The configuration is valid but a guard-rail policy fails."""
EXIT_UNREADABLE = 5
"""The stack file (or the git ref given with --against) cannot be read."""

REPLACING_KEYS: Mapping[str, tuple[str, ...]] = {
    # Terraform RequiresReplace attributes of segmentio/segment 1.6.1 (sdks/segment docstrings).
    DESTINATION_TYPE: ("sourceId", "metadata.id"),
    SUBSCRIPTION_TYPE: ("destinationId", "actionId", "modelId"),
    FLOW_TOKEN_TYPE: tuple(TOKEN_REPLACING_FIELDS),
}
"""Input keys whose change makes the provider delete and re-create the resource."""

_SECRET_LEAVES = frozenset({"settings.headers.Authorization", "settings.sharedSecret"})
"""Inside a secret ``settings`` JSON, the leaves that hold credentials. The rest of it (URL,
method, body mapping, custom context) comes from plain stack config and is shown."""

_PROVIDER_URL_KEY = "segment:url"
_PROVIDER_TOKEN_KEY = "segment:token"


class PlanError(Exception):
    """The plan cannot be made at all; ``exit_code`` says why (see the EXIT_ constants)."""

    def __init__(self, message: str, exit_code: int) -> None:
        super().__init__(message)
        self.exit_code = exit_code


@dataclass(frozen=True)
class StackInput:
    """One stack file read offline: project values (secure ones replaced), provider config."""

    label: str
    values: dict[str, Any] = field(repr=False)
    """Project values; a sandbox (or mistaken plaintext) credential is among them as is."""
    secret_keys: frozenset[str]
    provider: dict[str, str | None]
    secrets: frozenset[str] = field(repr=False)
    """Every secret text the program may see (plaintext sandbox values and stand-ins), so the
    rendered plan can be scrubbed of them as a last line of defence."""
    segment: SegmentConfig = field(default_factory=SegmentConfig, repr=False)
    """The ``segment:`` keys (``token`` replaced like a project secret)."""
    other_keys: tuple[str, ...] = ()
    """Keys of other namespaces, checked for near-miss typos of ours."""
    environment: tuple[str, ...] = ()
    """ESC environments the stack imports; what they provide cannot be reviewed offline."""
    other_secret_keys: frozenset[str] = frozenset()
    """Those of ``other_keys`` that are ``secure:`` (a plaintext credential key is refused)."""
    other_values: Mapping[str, Any] = field(default_factory=dict, repr=False)
    """Their values (stand-ins for ``secure:`` leaves), searched for credentials."""


def read_stack_text(
    text: str, label: str, project_text: str | None = None, project_label: str | None = None
) -> StackInput:
    """Parse a stack file's text (on top of a Pulumi.yaml's); ``secure:`` leaves become
    stand-ins, never decrypted."""
    try:
        resolved = resolve_stack_text(text, label, project_text, project_label)
    except StackConfigError as exc:
        raise PlanError(str(exc), EXIT_UNREADABLE) from None
    return stack_input(resolved)


def stack_input(resolved: ResolvedStack) -> StackInput:
    """The plan's input from a stack resolved as the engine resolves it."""
    secrets: set[str] = set()
    split = split_resolved(resolved, lambda value: _replace_secure(value, secrets))
    for name in SECRET_KEYS & set(split.values):
        leaves = _leaf_strings(split.values[name])
        secrets.update(s for s in leaves if s and not placeholders.is_placeholder(s))
    provider: dict[str, str | None] = {}
    url = split.segment.values.get("url")
    if url is not None:
        provider["url"] = None if "url" in split.segment.secret_keys else str(url)
    if "token" in split.segment.values:
        provider["token"] = SECRET
        token = split.segment.values["token"]
        if isinstance(token, str) and token and not placeholders.is_placeholder(token):
            secrets.add(token)
    return StackInput(
        resolved.label,
        split.values,
        frozenset(split.secret_keys),
        provider,
        frozenset(secrets),
        split.segment,
        split.other_keys,
        split.environment,
        split.other_secret_keys,
        split.other_values,
    )


def _replace_secure(value: Any, secrets: set[str]) -> tuple[Any, bool]:
    """``{secure: <ciphertext>}`` -> a stand-in unique to that ciphertext; report all-secure."""
    if isinstance(value, dict) and set(value) == {"secure"} and isinstance(value["secure"], str):
        digest = hashlib.sha256(str(value["secure"]).encode()).hexdigest()[:16]
        stand_in = f"secure-{digest}"
        secrets.add(stand_in)
        return stand_in, True
    if isinstance(value, dict):
        pairs = {k: _replace_secure(v, secrets) for k, v in value.items()}
        secure = bool(pairs) and all(s for _, s in pairs.values())
        return {k: v for k, (v, _) in pairs.items()}, secure
    if isinstance(value, list):
        items = [_replace_secure(v, secrets) for v in value]
        return [v for v, _ in items], bool(items) and all(s for _, s in items)
    return value, False


def _leaf_strings(value: Any) -> Iterator[str]:
    return (leaf for _, leaf in json_leaves(value, "") if isinstance(leaf, str))


# --- running the program ----------------------------------------------------------------


@dataclass
class ProgramRun:
    """The program's result for one stack input: config, resources, or the problems."""

    stack: StackInput
    config: StackConfig | None = None
    resources: list[RecordedResource] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)


def run_stack(stack: StackInput, stack_name: str) -> ProgramRun:
    """Validate the config and run the real program under mocks, as a preview would."""
    run = ProgramRun(stack)
    try:
        run.config = parse_stack_config(
            stack.values,
            stack.secret_keys,
            source=stack.label,
            segment=stack.segment,
            other_keys=stack.other_keys,
            other_secret_keys=stack.other_secret_keys,
            other_values=stack.other_values,
        )
        provider_config = {
            f"segment:{name}": value if isinstance(value, str) else json.dumps(value)
            for name, value in stack.segment.values.items()
        }
        run.resources = run_program(
            stack.values,
            stack.secret_keys,
            stack=stack_name,
            preview=True,
            provider_config=provider_config,
            provider_secret_keys=[f"segment:{name}" for name in stack.segment.secret_keys],
        )
    except ConfigError as exc:
        run.problems = list(exc.problems)
    except Exception as exc:  # any program failure is a finding of the plan, not a crash
        run.problems = [f"the stack program failed: {type(exc).__name__}: {exc}"]
    return run


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


# --- describing what the stack declares ---------------------------------------------------


def _ordered(run: ProgramRun) -> list[RecordedResource]:
    """Registrations in tree order (registration order is not deterministic)."""
    expected: list[str] = []
    if run.config is not None:
        for destination in run.config.destinations:
            expected += [destination.name, f"{destination.name}-destination"]
            for flow in destination.flows:
                expected += [
                    f"{destination.name}-{flow.name}-token",
                    f"{destination.name}-{flow.name}-subscription",
                ]
    rank = {name: index for index, name in enumerate(expected)}
    return sorted(run.resources, key=lambda r: (rank.get(r.name, len(rank)), r.type, r.name))


def _resource_rows(run: ProgramRun) -> list[dict[str, Any]]:
    names_by_urn = {r.urn: r.name for r in run.resources}
    return [
        {
            "type": r.type,
            "name": r.name,
            "parent": names_by_urn.get(r.parent),
            "provider": _provider_label(r.provider),
        }
        for r in _ordered(run)
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


def _fallback_settings(flow: Any) -> str:
    """What a flow's settings will be once its managed token exists (the header is unknown)."""
    return subscription_settings(
        url=flow.url, authorization=KNOWN_AFTER_APPLY, data=flow.data,
        custom_context=flow.custom_context,
    )  # fmt: skip


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
            settings = _settings_of(subscription, _fallback_settings(flow))
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


# --- comparing two runs -------------------------------------------------------------------


@dataclass(frozen=True)
class _Leaf:
    """One flattened input value; secret and unknown values are compared, never shown."""

    value: Any
    secret: bool = False
    unknown: bool = False

    def shown(self) -> Any:
        if self.unknown:
            return KNOWN_AFTER_APPLY
        return SECRET if self.secret else self.value


def flatten_inputs(resource: RecordedResource, fallback_settings: str | None) -> dict[str, _Leaf]:
    """Inputs as dotted paths; JSON ``settings`` strings are opened so changes are precise."""
    leaves: dict[str, _Leaf] = {}
    for key, value in resource.inputs.items():
        secret = isinstance(value, Secret)
        plain = unwrap(value)
        if key == "settings" and isinstance(plain, Unknown) and fallback_settings is not None:
            plain, secret = fallback_settings, True
        if key == "settings" and isinstance(plain, str) and _json_object(plain) is not None:
            _flatten_into(leaves, "settings", _json_object(plain), secret)
        else:
            _flatten_into(leaves, key, plain, secret)
    return leaves


def _json_object(text: str) -> dict[str, Any] | None:
    try:
        parsed = json.loads(text)
    except ValueError:
        return None
    return parsed if isinstance(parsed, dict) else None


def _flatten_into(leaves: dict[str, _Leaf], path: str, value: Any, secret: bool) -> None:
    if isinstance(value, dict) and value:
        for key, item in value.items():
            _flatten_into(leaves, f"{path}.{key}", item, secret)
        return
    if isinstance(value, Unknown) or value == KNOWN_AFTER_APPLY:
        leaves[path] = _Leaf(None, secret, unknown=True)
        return
    # Only the credential leaves of a secret settings object stay hidden; a whole secret
    # value (a token) is hidden entirely.
    hidden = secret and (not path.startswith("settings.") or path in _SECRET_LEAVES)
    leaves[path] = _Leaf(value, hidden)


def _replaces(resource_type: str, path: str) -> bool:
    return any(path == k or path.startswith(k + ".") for k in REPLACING_KEYS.get(resource_type, ()))


def _change_row(path: str, old: _Leaf | None, new: _Leaf | None, replace: bool) -> dict[str, Any]:
    secret = (old is not None and old.secret) or (new is not None and new.secret)
    row: dict[str, Any] = {"key": path, "action": "replace" if replace else "update"}
    if secret:
        row.update(old=SECRET if old else None, new=SECRET if new else None, note="changed")
    else:
        row.update(old=old.shown() if old else None, new=new.shown() if new else None)
    return row


def diff_runs(base: ProgramRun, head: ProgramRun) -> list[dict[str, Any]]:
    """Per resource: create / delete / replace / update / same, with the changed keys."""
    base_by_key = {(r.type, r.name): r for r in base.resources}
    head_by_key = {(r.type, r.name): r for r in head.resources}
    base_fallbacks, head_fallbacks = _fallbacks(base), _fallbacks(head)
    entries: dict[tuple[str, str], dict[str, Any]] = {}
    for resource in _ordered(head):
        key = (resource.type, resource.name)
        old = base_by_key.get(key)
        if old is None:
            entries[key] = _entry(resource, "create", [])
            continue
        old_leaves = flatten_inputs(old, base_fallbacks.get(old.name))
        new_leaves = flatten_inputs(resource, head_fallbacks.get(resource.name))
        rows = []
        for path in sorted(set(old_leaves) | set(new_leaves)):
            before, after = old_leaves.get(path), new_leaves.get(path)
            if before == after:
                continue
            rows.append(_change_row(path, before, after, _replaces(resource.type, path)))
        entries[key] = _entry(resource, _action(rows), rows)
    for resource in _ordered(base):
        if (resource.type, resource.name) not in head_by_key:
            entries[(resource.type, resource.name)] = _entry(resource, "delete", [])
    _cascade(entries, head)
    order = [(r.type, r.name) for r in _ordered(head)]
    order += [k for k in entries if k not in set(order)]
    return [entries[k] for k in order]


def _fallbacks(run: ProgramRun) -> dict[str, str]:
    if run.config is None:
        return {}
    return {f"{d.name}-{f.name}-subscription": _fallback_settings(f) for d, f in run.config.flows()}


def _entry(resource: RecordedResource, action: str, rows: list[dict[str, Any]]) -> dict[str, Any]:
    return {"type": resource.type, "name": resource.name, "action": action, "changes": rows}


def _action(rows: Sequence[Mapping[str, Any]]) -> str:
    if not rows:
        return "same"
    return "replace" if any(r["action"] == "replace" for r in rows) else "update"


def _cascade(entries: dict[tuple[str, str], dict[str, Any]], head: ProgramRun) -> None:
    """Changes that follow from a replacement although no input of the dependant changed.

    A replaced destination gets a new id, so its subscriptions (``destinationId``,
    RequiresReplace) are replaced too; a replaced managed token gets a new credential, so its
    subscription's Authorization header changes. At preview both are unknown on each side,
    which is why they are added here rather than found by comparing inputs.
    """
    parent_of = {r.name: r.parent for r in head.resources}
    replaced_destinations = {
        parent_of[e["name"]]
        for e in entries.values()
        if e["type"] == DESTINATION_TYPE and e["action"] == "replace"
    }
    for entry in entries.values():
        if entry["type"] != SUBSCRIPTION_TYPE or entry["action"] in ("create", "delete"):
            continue
        if parent_of.get(entry["name"]) in replaced_destinations:
            entry["changes"].append(
                {
                    "key": "destinationId",
                    "action": "replace",
                    "old": "(current destination id)",
                    "new": KNOWN_AFTER_APPLY,
                    "note": "the destination is replaced",
                }
            )
            entry["action"] = "replace"
        token = entries.get(
            (FLOW_TOKEN_TYPE, entry["name"].removesuffix("-subscription") + "-token")
        )
        if token is not None and token["action"] == "replace":
            entry["changes"].append(
                {
                    "key": "settings.headers.Authorization",
                    "action": "update",
                    "old": SECRET,
                    "new": SECRET,
                    "note": "changed (new token)",
                }
            )
            entry["action"] = _action(entry["changes"])
        entry["changes"].sort(key=lambda row: row["key"])


# --- the document -------------------------------------------------------------------------


@dataclass(frozen=True)
class PlanRequest:
    """What to plan: a stack name, where its files are, and an optional git ref to compare."""

    stack: str
    stacks_dir: Path
    project_root: Path
    against: str | None = None


def stack_file(stacks_dir: Path, stack: str) -> Path:
    return stacks_dir / f"Pulumi.{stack}.yaml"


def find_project_root(stacks_dir: Path) -> Path:
    """The nearest directory at or above the stacks directory holding Pulumi.yaml, else cwd."""
    for directory in [stacks_dir.resolve(), *stacks_dir.resolve().parents]:
        if (directory / "Pulumi.yaml").is_file():
            return directory
    return Path.cwd()


def read_stack_file(path: Path) -> StackInput:
    try:
        return stack_input(resolve_stack_file(path))
    except StackConfigError as exc:
        raise PlanError(str(exc), EXIT_UNREADABLE) from None


def read_stack_at_ref(path: Path, ref: str) -> StackInput | None:
    """The stack file as of a git ref (with that ref's Pulumi.yaml), or None when the file did
    not exist there."""
    try:
        resolved = resolve_stack_at_ref(path, ref)
    except StackConfigError as exc:
        raise PlanError(str(exc), EXIT_UNREADABLE) from None
    return None if resolved is None else stack_input(resolved)


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
            f"{change['key']} changed: {_value(change['old'])} → {_value(change['new'])} "
            "(this decides where credentials are sent; review it)"
            for change in document["against"]["settingChanges"]
        ]
    document["status"] = _status(document)
    document["_secrets"] = head_input.secrets | (base_input.secrets if base_input else set())
    return document


def environment_notice(environments: Sequence[str]) -> str:
    """The review line of a stack whose config comes partly from Pulumi ESC environments."""
    names = ", ".join(environments)
    return (
        f"this stack imports ESC environment(s) {names}: what they provide cannot be reviewed "
        "offline (their values can add or override config, including where credentials are "
        "sent); this plan shows only the stack file and Pulumi.yaml"
    )


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


def _status(document: Mapping[str, Any]) -> str:
    if document["problems"]:
        return "invalid-config"
    if document["violations"]:
        return "policy-violations"
    return "ok"


def exit_code(document: Mapping[str, Any]) -> int:
    return {
        "ok": EXIT_OK,
        "invalid-config": EXIT_INVALID_CONFIG,
        "policy-violations": EXIT_POLICY,
    }[document["status"]]


def public(document: Mapping[str, Any]) -> dict[str, Any]:
    """The document without its private list of secret texts."""
    return {k: v for k, v in document.items() if not k.startswith("_")}


def redact(text: str, document: Mapping[str, Any], *, structured: bool = False) -> str:
    """Last line of defence: no secret text from the stack file may reach the output, and no
    credential typed into a URL or a value (``components.redaction``). ``structured``: the text
    is our JSON rendering, whose values ``redact_value`` already masked by key."""
    for secret in sorted(document.get("_secrets", ()), key=len, reverse=True):
        if len(secret) >= 4:
            text = text.replace(secret, SECRET)
    return redact_text(text, quoted_keys=not structured)


# --- rendering ----------------------------------------------------------------------------


def render_json(document: Mapping[str, Any]) -> str:
    """Stable, machine-readable: sorted keys, two-space indent, ASCII only (``escape_json``)."""
    shown = public(document) | {"problems": [without_caret(p) for p in document["problems"]]}
    return escape_json(shown, indent=2) + "\n"


def _value(value: Any) -> str:
    if value is None:
        return "(none)"
    if value in (SECRET, KNOWN_AFTER_APPLY) or (
        isinstance(value, str) and value.startswith(SECRET)
    ):
        return str(value)
    return json.dumps(value, ensure_ascii=False, sort_keys=True)


def _change_text(row: Mapping[str, Any]) -> str:
    if row.get("note", "").startswith("changed"):
        tail = f"{SECRET} {row['note']}"
    else:
        tail = f"{_value(row['old'])} → {_value(row['new'])}"
        if row.get("note"):
            tail += f" ({row['note']})"
    marker = " [REPLACE]" if row["action"] == "replace" else ""
    return f"{row['key']}: {tail}{marker}"


_ACTION_SIGN = {"create": "+", "delete": "-", "replace": "+-", "update": "~", "same": " "}


def _terminal_safe(value: Any) -> Any:
    """Every string of the document escaped for a terminal, dictionary keys included."""
    if isinstance(value, str):
        return escape_terminal(value)
    if isinstance(value, dict):
        return {escape_terminal(str(k)): _terminal_safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_terminal_safe(v) for v in value]
    return value


def render_text(document: Mapping[str, Any]) -> str:
    """For terminals: every value escaped (``escape_terminal``) before it is laid out."""
    problems = [lay_out(p) for p in document["problems"]]  # caret blocks on their own lines
    document = _terminal_safe(dict(document)) | {"problems": problems}
    lines = [
        f"Stack {document['stack']} ({document['stackFile']}): offline plan, nothing is "
        "deployed; secure values are not decrypted.",
    ]
    provider = document["segmentProvider"]
    lines.append(
        f"Segment provider: url {provider['url'] or '(default)'}, "
        f"token {provider['token'] or '(not set)'}"
    )
    lines += _settings_text(document["settings"])
    if document["environment"]:
        lines += ["", f"NOT REVIEWABLE OFFLINE: {environment_notice(document['environment'])}"]
    if document["review"]:
        lines += ["", f"REVIEW: credential endpoints changed ({len(document['review'])}):"]
        lines += [f"  ! {message}" for message in document["review"]]
    if document["resources"]:
        lines += ["", f"Resources ({len(document['resources'])}):"]
        depth = _depths(document["resources"])
        for row in document["resources"]:
            indent = "  " * (depth[row["name"]] + 1)
            via = f"  (provider {row['provider']})" if row["provider"] else ""
            lines.append(f"{indent}{row['name']}  {row['type']}{via}")
    for destination in document["destinations"]:
        lines += [
            "",
            f"Destination {destination['name']}: {_value(destination['displayName'])} on source "
            f"{destination['sourceId']}, {'enabled' if destination['enabled'] else 'disabled'}"
            + (", shared secret [secret]" if destination["sharedSecret"] else ""),
        ]
        for flow in destination["flows"]:
            lines += _flow_text(flow)
    lines += _against_text(document.get("against"))
    lines += _findings_text(document)
    return "\n".join(lines) + "\n"


def _settings_text(settings: Mapping[str, Any]) -> list[str]:
    if not settings:
        return []
    flags = [name for name in ("production", "sandbox") if settings.get(f"{PROJECT}:{name}")]
    return [
        f"Stack: {', '.join(flags) + ' stack' if flags else 'neither production nor sandbox'}; "
        f"production {_value(settings[f'{PROJECT}:production'])}, "
        f"sandbox {_value(settings[f'{PROJECT}:sandbox'])}",
        f"Credential endpoints: segment:url {settings['segment:url']}, pendulaApiUrl "
        f"{settings[f'{PROJECT}:pendulaApiUrl'] or '(none)'}; allowed Pendula hosts "
        f"{', '.join(settings[f'{PROJECT}:allowedPendulaHosts'])}; allowed Segment API hosts "
        f"{', '.join(settings[f'{PROJECT}:allowedSegmentApiHosts'])}",
    ]


def _depths(rows: Sequence[Mapping[str, Any]]) -> dict[str, int]:
    depth: dict[str, int] = {}
    for row in rows:
        parent = row["parent"]
        depth[row["name"]] = depth.get(parent, -1) + 1 if parent else 0
    return depth


def _flow_text(flow: Mapping[str, Any]) -> list[str]:
    token = flow["token"]
    lines = [
        f"  Flow {flow['name']} ({_value(flow['displayName'])}): mapping "
        f"{'enabled' if flow['enabled'] else 'disabled'}",
        f"    trigger:        {flow['trigger']}",
        f"    target:         {flow['method']} {flow['url']}",
        f"    batching:       enable_batching {_value(flow['enableBatching'])}, "
        f"batch_size {_value(flow['batchSize'])}",
        f"    custom context: {flow['customContext'] or '(none)'}",
        f"    token:          {token['mode']}, {token['scheme']}; "
        f"Authorization {flow['headers']['Authorization']}",
        f"    data:           {_value(flow['data'])}",
    ]
    if flow["sampleEvent"]:
        lines.append(f"    body preview for {flow['sampleEvent']}:")
        if flow["bodyPreview"] is None:
            lines.append("      (not available, see problems)")
        else:
            body = json.dumps(flow["bodyPreview"], indent=2, sort_keys=True, ensure_ascii=False)
            lines += [f"      {line}" for line in body.splitlines()]
    return lines


def _against_text(against: Mapping[str, Any] | None) -> list[str]:
    if against is None:
        return []
    lines = ["", f"Changes against {against['ref']}:"]
    if not against["existed"]:
        lines.append("  (the stack file does not exist there: everything is new)")
    if against["summary"]:
        lines.append("  " + _summary_text(against["summary"]))
    for change in against.get("settingChanges", []):
        lines.append(
            f"  ~ setting {change['key']}: {_value(change['old'])} → {_value(change['new'])}"
        )
    for entry in against["changes"]:
        lines.append(f"  {_ACTION_SIGN[entry['action']]} {entry['action']} {entry['name']}"
                     f"  {entry['type']}")  # fmt: skip
        lines += [f"      {_change_text(row)}" for row in entry["changes"]]
    return lines


def _summary_text(summary: Mapping[str, int]) -> str:
    return ", ".join(f"{summary[a]} to {a}" for a in ("create", "update", "replace", "delete")) + (
        f", {summary['same']} unchanged"
    )


def _findings_text(document: Mapping[str, Any]) -> list[str]:
    lines = [""]
    if document["problems"]:
        lines.append(f"Configuration problems ({len(document['problems'])}):")
        lines += [f"  - {p}" for p in document["problems"]]
    if document["violations"]:
        lines.append(f"Policy violations ({len(document['violations'])}):")
        lines += [
            f"  - [{v['policy']}] {v['resource']}: {v['message']}" for v in document["violations"]
        ]
    if document["notSetYet"]:
        lines.append(
            f"Secrets not set yet ({len(document['notSetYet'])}, still {placeholders.PLACEHOLDER}):"
            " the offline review passes, `pulumi preview` refuses them until you run:"
        )
        lines += [f"  {entry['command']}" for entry in document["notSetYet"]]
    if document["status"] == "ok":
        lines.append("Configuration valid; all policies pass.")
    return lines


def _md(value: Any) -> str:
    """A table cell holding a value: one inline code span (``markdown_code``)."""
    text = _value(value) if not isinstance(value, str) else value
    return markdown_code(text)


def render_markdown(document: Mapping[str, Any]) -> str:
    """For a pull-request comment: headings, tables, collapsed body previews.

    Every value from the stack file, an event or a server goes through ``markdown_code``
    (code spans), ``markdown_fence`` (code blocks) or ``escape_markdown`` (prose), so none
    can add HTML, links or formatting to the comment.
    """
    provider = document["segmentProvider"]
    lines = [
        f"## Offline plan: stack {markdown_code(document['stack'])}",
        "",
        f"Stack file {markdown_code(document['stackFile'])} · Segment API "
        f"{markdown_code(provider['url'] or '(default)')} "
        f"· token {markdown_code(provider['token'] or '(not set)')} · secure values are not "
        "decrypted.",
    ]
    status = {
        "ok": "✅ configuration valid, all policies pass",
        "invalid-config": "❌ invalid configuration",
        "policy-violations": "❌ policy violations",
    }[document["status"]]
    lines += ["", f"**Status:** {status}"]
    if document["environment"]:
        notice = escape_markdown(environment_notice(document["environment"]))
        lines += ["", "> [!CAUTION]", f"> **Not reviewable offline**: {notice}"]
    if document["notSetYet"]:
        lines += [
            "",
            "> [!NOTE]",
            f"> **Secrets not set yet** (still `{placeholders.PLACEHOLDER}`): `pulumi preview` "
            "refuses them until these commands have run:",
        ]
        lines += [f"> - {markdown_code(entry['command'])}" for entry in document["notSetYet"]]
    if document["review"]:
        lines += [
            "",
            "> [!WARNING]",
            "> **Credential endpoints changed**: these settings decide where the Segment and "
            "Pendula credentials are sent. Review each one:",
        ]
        lines += [f"> - {escape_markdown(message)}" for message in document["review"]]
    lines += _md_settings(document["settings"])
    against = document.get("against")
    if against is not None:
        lines += ["", f"### Changes against {markdown_code(against['ref'])}", ""]
        if not against["existed"]:
            lines += ["The stack file does not exist there: everything is new.", ""]
        if against["summary"]:
            lines += [_summary_text(against["summary"]) + ".", ""]
        if against.get("settingChanges"):
            lines += ["| setting | before | after |", "|---|---|---|"]
            lines += [
                f"| {markdown_code(c['key'])} | {_md(c['old'])} | {_md(c['new'])} |"
                for c in against["settingChanges"]
            ]
            lines.append("")
        if against["changes"]:
            lines += [
                "| action | resource | type | key | before | after |",
                "|---|---|---|---|---|---|",
            ]
            for entry in against["changes"]:
                rows = entry["changes"] or [None]
                for row in rows:
                    lines.append(_md_change_row(entry, row))
    if document["resources"]:
        lines += ["", "### Resources", "", "| resource | type | parent |", "|---|---|---|"]
        for r in document["resources"]:
            parent = markdown_code(r["parent"]) if r["parent"] else "—"
            lines.append(f"| {markdown_code(r['name'])} | {markdown_code(r['type'])} | {parent} |")
    for destination in document["destinations"]:
        lines += _md_destination(destination)
    if document["problems"]:
        lines += ["", "### Configuration problems", ""]
        lines += [f"- {escape_markdown(without_caret(p))}" for p in document["problems"]]
    if document["violations"]:
        lines += [
            "",
            "### Policy violations",
            "",
            "| policy | resource | message |",
            "|---|---|---|",
        ]
        for v in document["violations"]:
            lines.append(
                f"| {markdown_code(v['policy'])} | {markdown_code(v['resource'])} "
                f"| {escape_markdown(v['message'])} |"
            )
    diagram = mermaid_block(document)  # the picture opens the comment, under its heading
    lines[1:1] = ["", *diagram] if diagram else []
    return "\n".join(lines) + "\n"


def _md_settings(settings: Mapping[str, Any]) -> list[str]:
    if not settings:
        return []
    production = settings[f"{PROJECT}:production"]
    sandbox = settings[f"{PROJECT}:sandbox"]
    pendula_hosts = settings[f"{PROJECT}:allowedPendulaHosts"]
    segment_hosts = settings[f"{PROJECT}:allowedSegmentApiHosts"]
    return [
        "",
        f"**Stack:** production {markdown_code(_value(production))}"
        f"{' (production stack)' if production else ''}, "
        f"sandbox {markdown_code(_value(sandbox))} · **credential endpoints:** "
        f"Segment {markdown_code(settings['segment:url'])}, Pendula token API "
        f"{markdown_code(settings[f'{PROJECT}:pendulaApiUrl'] or '(none)')}, allowed Pendula "
        f"hosts {markdown_code(', '.join(pendula_hosts))}, allowed "
        f"Segment API hosts {markdown_code(', '.join(segment_hosts))}",
    ]


def _md_change_row(entry: Mapping[str, Any], row: Mapping[str, Any] | None) -> str:
    action = entry["action"].upper() if entry["action"] == "replace" else entry["action"]
    head = f"| {action} | {markdown_code(entry['name'])} | {markdown_code(entry['type'])} |"
    if row is None:
        return head + " | | |"
    key = row["key"] + (" (replace)" if row["action"] == "replace" else "")
    if row.get("note", "").startswith("changed"):
        return (
            head + f" {_md(key)} | {markdown_code(SECRET)} | {markdown_code(SECRET)} "
            f"{escape_markdown(row['note'])} |"
        )
    note = f" ({escape_markdown(row['note'])})" if row.get("note") else ""
    return head + f" {_md(key)} | {_md(row['old'])} | {_md(row['new'])}{note} |"


def _md_destination(destination: Mapping[str, Any]) -> list[str]:
    lines = [
        "",
        f"### Destination {markdown_code(destination['name'])}",
        "",
        f"{_md(destination['displayName'])} on source {_md(destination['sourceId'])}, "
        f"{'enabled' if destination['enabled'] else 'disabled'}"
        + (", shared secret `[secret]`" if destination["sharedSecret"] else "")
        + ".",
        "",
        "| flow | enabled | trigger | target | batching | custom context | token |",
        "|---|---|---|---|---|---|---|",
    ]
    for flow in destination["flows"]:
        token = flow["token"]
        lines.append(
            f"| {markdown_code(flow['name'])} | {'yes' if flow['enabled'] else 'no'} "
            f"| {_md(flow['trigger'])} "
            f"| {_md(str(flow['method']) + ' ' + str(flow['url']))} "
            f"| {_md('off' if flow['enableBatching'] is False else 'ON')} "
            f"(batch_size {escape_markdown(str(flow['batchSize']))}) "
            f"| {_md(flow['customContext']) if flow['customContext'] else '—'} "
            f"| {escape_markdown(token['mode'])}, {escape_markdown(token['scheme'])}, "
            f"{markdown_code('Authorization: ' + str(flow['headers']['Authorization']))} |"
        )
    for flow in destination["flows"]:
        if not flow["sampleEvent"]:
            continue
        body = (
            escape_json(flow["bodyPreview"], indent=2)
            if flow["bodyPreview"] is not None
            else "(not available, see configuration problems)"
        )
        # Inside <details>/<summary> Markdown is not processed, so only the flow's name (a
        # validated slug, html-escaped all the same) goes there; the path follows as Markdown.
        lines += [
            "",
            "<details>",
            f"<summary>Body preview: <code>{escape_markdown(flow['name'])}</code></summary>",
            "",
            f"For the sample event {markdown_code(flow['sampleEvent'])}:",
            "",
            markdown_fence(body, "json"),
            "",
            "</details>",
        ]
    return lines
