"""Typed stack configuration: pydantic models, semantic checks, and clear errors.

A stack file is validated in two passes, both before any resource is registered:

1. structure (pydantic): types, required keys, unknown keys, closed sets;
2. meaning (plain functions with the full key path at hand): URLs on an allowed Pendula
   host, trigger conditions Segment reads as written, mapping directives, unique names,
   ASCII header values, and secrets kept in ``secure:`` keys.

Every problem becomes one line ``<stack-file key path>: <what is wrong> (<what is allowed>)``
and all lines are raised together as one ``ConfigError``. A secret's value never appears
in an error; only its key does.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pulumi
import pulumi.runtime
import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from components import webhook_url
from components.conditions import ConditionError, conditions_from_yaml, generate_fql, parse_fql
from components.mapping import MappingError, validate_mapping

PROJECT = "segment-pendula"
"""The Pulumi project name, which is also the namespace of our stack-file keys."""

DEFAULT_ALLOWED_HOSTS = webhook_url.DEFAULT_ALLOWED_HOSTS
LOOPBACK_HOSTS = webhook_url.LOOPBACK_HOSTS

DEFAULT_DATA_MAPPING: dict[str, Any] = {"@path": "$."}
"""The whole event, which Pendula's Segment article calls "the easiest way to get started"."""

MAX_MAPPINGS_PER_DESTINATION = 5
"""Segment's documented limit for the Webhooks (Actions) destination (segment.md §2.2)."""

NAME_PATTERN = r"^[a-z][a-z0-9-]{0,39}$"
"""Destination and flow names become Pulumi child names, so they are short stable slugs."""

SECRET_PLACEHOLDER = "[secret]"
"""What an undecrypted ``secure:`` value reads as when a stack file is loaded offline."""

_CREDENTIAL_TEXT = re.compile(r"(?i)\b(bearer|basic)\s+[A-Za-z0-9+/=._~-]{8,}")


class ConfigError(ValueError):
    """The stack configuration is invalid; the message lists every problem, one per line."""

    def __init__(self, problems: list[str], source: str = "stack configuration") -> None:
        self.problems = problems
        lines = "\n".join(f"  - {p}" for p in problems)
        noun = "problem" if len(problems) == 1 else "problems"
        super().__init__(f"{len(problems)} {noun} in {source}:\n{lines}")


class TokenMode(StrEnum):
    """Where a flow's Pendula API token comes from."""

    PROVIDED = "provided"
    """Generated in Pendula's UI and stored as a secret in ``pendulaTokens.<flow>``."""
    MANAGED = "managed"
    """Created through a Pendula token API (docs/pendula-token-api.md)."""


class AuthScheme(StrEnum):
    """How the token is put in the Authorization header (pendula.md §1.2)."""

    BEARER = "bearer"
    BASIC = "basic"


class _Model(BaseModel):
    """Stack-file keys are camelCase; unknown keys are errors, never silently ignored."""

    model_config = ConfigDict(extra="forbid", populate_by_name=False, frozen=True)


class FlowTokenConfig(_Model):
    """How one flow authenticates to its Pendula webhook trigger."""

    mode: TokenMode = TokenMode.PROVIDED
    scheme: AuthScheme = AuthScheme.BEARER
    tenant_id: str | None = Field(default=None, alias="tenantId")
    """Basic scheme only: the user name, "typically the tenant ID" (pendula.md §1.2)."""
    name: str | None = None
    """Managed mode only: the token's name in Pendula. Defaults to ``segment-<flow>``."""
    description: str | None = None
    """Managed mode only: the token's description in Pendula."""


class FlowConfig(_Model):
    """One Pendula flow: one Segment mapping plus the flow's token."""

    name: str = Field(pattern=NAME_PATTERN)
    url: str
    enabled: bool = False
    """Off by default: the safe rollout adds a flow disabled, tests it, then enables it."""
    display_name: str | None = Field(default=None, alias="displayName")
    conditions: dict[str, Any] | None = None
    trigger: str | None = None
    unsafe_trigger: bool = Field(default=False, alias="unsafeTrigger")
    data: Any = None
    custom_context: str | dict[str, Any] | None = Field(default=None, alias="customContext")
    token: FlowTokenConfig = FlowTokenConfig()
    sample_event: str | None = Field(default=None, alias="sampleEvent")


class DestinationConfig(_Model):
    """One Webhooks (Actions) destination on one Segment source."""

    name: str = Field(pattern=NAME_PATTERN)
    source_id: str = Field(alias="sourceId", min_length=1)
    display_name: str | None = Field(default=None, alias="displayName")
    enabled: bool = True
    flows: list[FlowConfig] = Field(min_length=1)


class _ProjectConfig(_Model):
    """The project keys of one stack file (``segment-pendula:<key>``)."""

    destinations: list[DestinationConfig] = Field(min_length=1)
    allowed_pendula_hosts: list[str] = Field(
        default=list(DEFAULT_ALLOWED_HOSTS), alias="allowedPendulaHosts", min_length=1
    )
    sandbox: bool = False
    production: bool = False
    max_mappings_per_destination: int = Field(
        default=MAX_MAPPINGS_PER_DESTINATION, alias="maxMappingsPerDestination", ge=1, le=50
    )
    pendula_api_url: str | None = Field(default=None, alias="pendulaApiUrl")
    pendula_api_token: str | None = Field(default=None, alias="pendulaApiToken")
    pendula_tokens: dict[str, str] = Field(default_factory=dict, alias="pendulaTokens")
    shared_secrets: dict[str, str] = Field(default_factory=dict, alias="sharedSecrets")


SECRET_KEYS = frozenset({"pendulaTokens", "sharedSecrets", "pendulaApiToken"})
"""Project keys that hold credentials and must be ``secure:`` outside the sandbox."""


@dataclass(frozen=True)
class Flow:
    """A validated flow, ready for ``PendulaTrigger``."""

    name: str
    display_name: str
    url: str
    flow_id: str
    enabled: bool
    fql: str
    """The exact trigger text sent to Segment."""
    ast: dict[str, Any] | None
    """Segment's AST of the trigger; None only for an acknowledged unsafe raw trigger."""
    data: Any
    custom_context: str | None
    """The ``X-PENDULA-CUSTOM-CONTEXT`` header value (objects as canonical JSON)."""
    token_mode: TokenMode
    token_scheme: AuthScheme
    tenant_id: str | None
    token: str | None = field(repr=False)
    """Provided mode: the token text. Never printed (``repr=False``)."""
    token_name: str | None
    token_description: str | None
    sample_event: str | None


@dataclass(frozen=True)
class Destination:
    """A validated destination with its flows."""

    name: str
    source_id: str
    display_name: str
    enabled: bool
    shared_secret: str | None = field(repr=False)
    flows: tuple[Flow, ...]


@dataclass(frozen=True)
class StackConfig:
    """Everything the stack program needs, validated."""

    destinations: tuple[Destination, ...]
    allowed_pendula_hosts: tuple[str, ...]
    sandbox: bool
    production: bool
    max_mappings_per_destination: int
    pendula_api_url: str | None

    def flows(self) -> Iterator[tuple[Destination, Flow]]:
        """Every flow of the stack with its destination."""
        for destination in self.destinations:
            for flow in destination.flows:
                yield destination, flow


def parse_stack_config(
    values: Mapping[str, Any], secret_keys: frozenset[str] | set[str], source: str = "stack"
) -> StackConfig:
    """Validate the project keys of a stack.

    ``values`` maps un-namespaced project keys (``destinations``, ``pendulaTokens``…) to
    their decoded values; ``secret_keys`` names the keys that were ``secure:`` in the stack
    file. Raises ``ConfigError`` listing every problem.
    """
    try:
        project = _ProjectConfig.model_validate(dict(values))
    except ValidationError as exc:
        problems = [_format_pydantic_error(e) for e in exc.errors()]
        raise ConfigError(_without_secrets(problems, values), source) from None
    problems = list(_semantic_problems(project, values, frozenset(secret_keys)))
    if problems:
        raise ConfigError(_without_secrets(problems, values), source)
    return _build(project)


def _without_secrets(problems: list[str], values: Mapping[str, Any]) -> list[str]:
    """Last line of defence: a secret's value copied into a plain key is echoed nowhere."""
    secrets = sorted(
        {
            text
            for name in SECRET_KEYS & set(values)
            for _, text in _plain_strings(values[name], name)
            if len(text) >= 4 and text != SECRET_PLACEHOLDER
        },
        key=len,
        reverse=True,
    )
    for secret in secrets:
        problems = [problem.replace(secret, SECRET_PLACEHOLDER) for problem in problems]
    return problems


def load_from_pulumi() -> StackConfig:
    """Read and validate the running stack's configuration (inside ``pulumi up``/mocks)."""
    values: dict[str, Any] = {}
    secret_keys: set[str] = set()
    for field_name, model_field in _ProjectConfig.model_fields.items():
        name = model_field.alias or field_name
        full_key = f"{PROJECT}:{name}"
        # get_config returns the decrypted string; objects and arrays arrive as JSON text.
        raw = pulumi.runtime.get_config(full_key)
        if raw is None:
            continue
        values[name] = _decode_config_value(raw)
        if pulumi.runtime.is_config_secret(full_key):
            secret_keys.add(name)
    return parse_stack_config(values, secret_keys, source=f"stack '{_stack_name()}'")


def load_stack_file(path: Path) -> StackConfig:
    """Validate a ``stacks/Pulumi.<stack>.yaml`` file offline, without decrypting anything.

    ``secure:`` values read as ``[secret]``; a key counts as secret only if every value
    under it is ``secure:``.
    """
    values, secret_keys = read_stack_file(path)
    return parse_stack_config(values, secret_keys, source=str(path))


def read_stack_file(path: Path) -> tuple[dict[str, Any], set[str]]:
    """The project keys of a stack file with secure values masked, and the fully secret keys."""
    document = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    config = document.get("config") or {}
    values: dict[str, Any] = {}
    secret_keys: set[str] = set()
    prefix = f"{PROJECT}:"
    for key, value in config.items():
        if not str(key).startswith(prefix):
            continue
        name = str(key)[len(prefix) :]
        masked, all_secure = _mask_secure(value)
        values[name] = masked
        if all_secure:
            secret_keys.add(name)
    return values, secret_keys


def _mask_secure(value: Any) -> tuple[Any, bool]:
    """Replace ``{secure: …}`` leaves with a placeholder; report whether all leaves were."""
    if isinstance(value, dict) and set(value) == {"secure"}:
        return SECRET_PLACEHOLDER, True
    if isinstance(value, dict):
        pairs = {k: _mask_secure(v) for k, v in value.items()}
        return {k: v for k, (v, _) in pairs.items()}, bool(pairs) and all(
            s for _, s in pairs.values()
        )
    if isinstance(value, list):
        items = [_mask_secure(v) for v in value]
        return [v for v, _ in items], bool(items) and all(s for _, s in items)
    return value, False


def _decode_config_value(raw: str) -> Any:
    """Pulumi hands structured config over as JSON text and scalars as plain strings."""
    try:
        return json.loads(raw)
    except ValueError:
        return raw


def _stack_name() -> str:
    return pulumi.get_stack()


# --- pass 2: meaning ------------------------------------------------------------------


def _semantic_problems(
    project: _ProjectConfig, raw: Mapping[str, Any], secret_keys: frozenset[str]
) -> Iterator[str]:
    key = f"{PROJECT}:"
    allowed_hosts = [h.lower() for h in project.allowed_pendula_hosts]
    yield from _secret_storage_problems(project, raw, secret_keys)

    destination_names: set[str] = set()
    flow_names: set[str] = set()
    for d_index, destination in enumerate(project.destinations):
        d_key = f"{key}destinations[{d_index}]"
        if destination.name in destination_names:
            yield f"{d_key}.name: '{destination.name}' is used twice (names must be unique)"
        destination_names.add(destination.name)
        if len(destination.flows) > project.max_mappings_per_destination:
            yield (
                f"{d_key}.flows: {len(destination.flows)} flows exceed the limit of "
                f"{project.max_mappings_per_destination} mappings per destination "
                f"({key}maxMappingsPerDestination); split them over several destinations"
            )
        for f_index, flow in enumerate(destination.flows):
            f_key = f"{d_key}.flows[{f_index}]"
            if flow.name in flow_names:
                yield (
                    f"{f_key}.name: '{flow.name}' is used twice in this stack "
                    "(flow names key pendulaTokens and child resources, so they are unique)"
                )
            flow_names.add(flow.name)
            yield from _url_problems(f"{f_key}.url", flow.url, allowed_hosts, project.sandbox)
            yield from _trigger_problems(f_key, flow)
            if flow.data is not None:
                try:
                    validate_mapping(flow.data, f"{f_key}.data")
                except MappingError as exc:
                    yield str(exc)
            yield from _custom_context_problems(f"{f_key}.customContext", flow.custom_context)
            yield from _token_problems(f"{f_key}.token", flow, project)
    if project.shared_secrets:
        for name in sorted(set(project.shared_secrets) - destination_names):
            yield (
                f"{key}sharedSecrets.{name}: no destination is named '{name}' "
                f"(destinations: {', '.join(sorted(destination_names))})"
            )
    for name in sorted(set(project.pendula_tokens) - flow_names):
        yield (
            f"{key}pendulaTokens.{name}: no flow is named '{name}' "
            f"(flows: {', '.join(sorted(flow_names))})"
        )


def _url_problems(key: str, url: str, allowed_hosts: list[str], sandbox: bool) -> Iterator[str]:
    if not webhook_url.origin_allowed(url, allowed_hosts, allow_loopback=sandbox):
        loopback = (urlsplit(url).hostname or "").lower() in webhook_url.LOOPBACK_HOSTS
        extra = "; http on 127.0.0.1/localhost is allowed only when sandbox is true"
        yield (
            f"{key}: '{webhook_url.shown(url)}' is not allowed: the Pendula webhook URL must be "
            f"https on an allowed Pendula host ({', '.join(allowed_hosts)})"
            f"{extra if loopback else ''}"
        )
    elif problem := webhook_url.shape_problem(url):
        yield f"{key}: '{webhook_url.shown(url)}' {problem}"


def _trigger_problems(f_key: str, flow: FlowConfig) -> Iterator[str]:
    if (flow.conditions is None) == (flow.trigger is None):
        yield (
            f"{f_key}: give exactly one of 'conditions' (recommended) or 'trigger' "
            "(raw FQL, must be in the subset Segment reads correctly)"
        )
        return
    if flow.conditions is not None:
        if flow.unsafe_trigger:
            yield f"{f_key}.unsafeTrigger: only applies to a raw 'trigger'"
        try:
            generate_fql(conditions_from_yaml(flow.conditions, f"{f_key}.conditions"))
        except ConditionError as exc:
            yield str(exc)
        return
    assert flow.trigger is not None
    if not flow.trigger.strip():
        yield f"{f_key}.trigger: must not be empty (Segment needs a trigger on every mapping)"
    elif not flow.unsafe_trigger:
        try:
            parse_fql(flow.trigger)
        except ConditionError as exc:
            yield (
                f"{f_key}.trigger: {exc}. Rewrite it as 'conditions', or set "
                "unsafeTrigger: true to keep it verbatim at your own risk"
            )


def _custom_context_problems(key: str, value: str | dict[str, Any] | None) -> Iterator[str]:
    if isinstance(value, str) and (not value.isascii() or any(c in value for c in "\r\n")):
        yield (
            f"{key}: {value!r} is not a valid header value: Segment sends only ASCII "
            "header values without line breaks (write non-ASCII text in an object, "
            "which is sent as JSON with \\u escapes)"
        )


def _token_problems(key: str, flow: FlowConfig, project: _ProjectConfig) -> Iterator[str]:
    token = flow.token
    tokens_key = f"{PROJECT}:pendulaTokens.{flow.name}"
    if token.scheme is AuthScheme.BASIC:
        if not token.tenant_id:
            yield f"{key}.tenantId: required with scheme 'basic' (the Basic user name)"
        elif not token.tenant_id.isascii() or ":" in token.tenant_id or not token.tenant_id:
            yield f"{key}.tenantId: {token.tenant_id!r} must be ASCII without ':'"
    elif token.tenant_id is not None:
        yield f"{key}.tenantId: only used with scheme 'basic'"
    if token.mode is TokenMode.PROVIDED:
        if token.name is not None or token.description is not None:
            yield f"{key}: name/description only apply to mode 'managed'"
        secret = project.pendula_tokens.get(flow.name)
        if secret is None:
            yield (
                f"{tokens_key}: missing; set it with "
                f"`pulumi config set --secret --path 'pendulaTokens.{flow.name}' <token>`"
            )
        elif secret != SECRET_PLACEHOLDER and not _is_header_safe_token(secret):
            # Never echo the value: it is a credential.
            yield f"{tokens_key}: the token must be non-empty ASCII without whitespace"
    else:
        if flow.name in project.pendula_tokens:
            yield f"{tokens_key}: not used with mode 'managed' (Pendula's API creates the token)"
        if not project.pendula_api_url:
            yield (
                f"{PROJECT}:pendulaApiUrl: required when {key}.mode is 'managed' "
                "(an endpoint speaking docs/pendula-token-api.md)"
            )


def _is_header_safe_token(token: str) -> bool:
    return bool(token) and token.isascii() and not any(c.isspace() for c in token)


def _secret_storage_problems(
    project: _ProjectConfig, raw: Mapping[str, Any], secret_keys: frozenset[str]
) -> Iterator[str]:
    """Credentials live only in ``secure:`` keys, and never leak into plain keys."""
    if not project.sandbox:
        for name in sorted(SECRET_KEYS & set(raw)):
            if name not in secret_keys and raw[name]:
                yield (
                    f"{PROJECT}:{name}: holds credentials in plaintext; store every value "
                    f"with `pulumi config set --secret --path '{name}.<key>' <value>` "
                    "(plaintext is allowed only in the sandbox stack)"
                )
    secrets = [
        s
        for s in [
            *project.pendula_tokens.values(),
            *project.shared_secrets.values(),
            project.pendula_api_token or "",
        ]
        if len(s) >= 4 and s != SECRET_PLACEHOLDER
    ]
    # One alternation scans each string once, however many flows (and tokens) there are.
    secret_text = re.compile("|".join(map(re.escape, secrets))) if secrets else None
    for name in sorted(set(raw) - SECRET_KEYS):
        for path, text in _plain_strings(raw[name], f"{PROJECT}:{name}"):
            if secret_text is not None and secret_text.search(text):
                yield f"{path}: contains a secret's value; keep credentials only in secure keys"
            elif _CREDENTIAL_TEXT.search(text):
                yield (
                    f"{path}: looks like a plaintext credential ('Bearer …'/'Basic …'); "
                    "the Authorization header is built from pendulaTokens, never written here"
                )


def _plain_strings(value: Any, path: str) -> Iterator[tuple[str, str]]:
    if isinstance(value, str):
        yield path, value
    elif isinstance(value, dict):
        for k, v in value.items():
            yield from _plain_strings(v, f"{path}.{k}")
    elif isinstance(value, list):
        for i, v in enumerate(value):
            yield from _plain_strings(v, f"{path}[{i}]")


# --- pass 1 error formatting ----------------------------------------------------------

_MODEL_BY_LOC_HINT: dict[str, type[_Model]] = {
    "destinations": DestinationConfig,
    "flows": FlowConfig,
    "token": FlowTokenConfig,
}


def _format_pydantic_error(error: Any) -> str:
    loc: tuple[Any, ...] = tuple(error["loc"])
    path = _loc_to_path(loc)
    kind = error["type"]
    if kind == "extra_forbidden":
        model = _model_for(loc[:-1])
        allowed = ", ".join(sorted(f.alias or n for n, f in model.model_fields.items()))
        return f"{path}: unknown key; allowed keys here: {allowed}"
    if kind == "missing":
        return f"{path}: required key is missing"
    message = error["msg"]
    value = error.get("input")
    # No value of a credential's key (a token written inline, ``token: pdl_…``, is still a
    # token), and no non-empty mapping or list: those may hold one anywhere inside.
    names = [part for part in loc if isinstance(part, str)]
    credential = bool(names) and (
        names[0] in SECRET_KEYS or any(word in names[-1].lower() for word in ("token", "secret"))
    )
    if credential or (isinstance(value, Mapping | list) and value):
        return f"{path}: {message}"
    return f"{path}: {message} (got {value!r})"


def _model_for(loc: tuple[Any, ...]) -> type[_Model]:
    model: type[_Model] = _ProjectConfig
    for part in loc:
        if isinstance(part, str) and part in _MODEL_BY_LOC_HINT:
            model = _MODEL_BY_LOC_HINT[part]
    return model


def _loc_to_path(loc: tuple[Any, ...]) -> str:
    path = PROJECT + ":"
    for i, part in enumerate(loc):
        if isinstance(part, int):
            path += f"[{part}]"
        else:
            path += ("" if i == 0 else ".") + str(part)
    return path


# --- building the validated config ----------------------------------------------------


def _build(project: _ProjectConfig) -> StackConfig:
    destinations = []
    for d_index, d in enumerate(project.destinations):
        flows = []
        for f_index, f in enumerate(d.flows):
            f_key = f"{PROJECT}:destinations[{d_index}].flows[{f_index}]"
            if f.conditions is not None:
                ast: dict[str, Any] | None = conditions_from_yaml(
                    f.conditions, f"{f_key}.conditions"
                )
                assert ast is not None
                fql = generate_fql(ast)
            else:
                assert f.trigger is not None
                fql = f.trigger
                ast = None if f.unsafe_trigger else parse_fql(f.trigger)
            flows.append(
                Flow(
                    name=f.name,
                    display_name=f.display_name or f.name,
                    url=f.url,
                    flow_id=webhook_url.flow_id(f.url),
                    enabled=f.enabled,
                    fql=fql,
                    ast=ast,
                    data=DEFAULT_DATA_MAPPING if f.data is None else f.data,
                    custom_context=custom_context_header(f.custom_context),
                    token_mode=f.token.mode,
                    token_scheme=f.token.scheme,
                    tenant_id=f.token.tenant_id,
                    token=project.pendula_tokens.get(f.name),
                    token_name=(
                        (f.token.name or f"segment-{f.name}")
                        if f.token.mode is TokenMode.MANAGED
                        else None
                    ),
                    token_description=f.token.description
                    if f.token.mode is TokenMode.MANAGED
                    else None,
                    sample_event=f.sample_event,
                )
            )
        destinations.append(
            Destination(
                name=d.name,
                source_id=d.source_id,
                display_name=d.display_name or f"Pendula ({d.name})",
                enabled=d.enabled,
                shared_secret=project.shared_secrets.get(d.name),
                flows=tuple(flows),
            )
        )
    return StackConfig(
        destinations=tuple(destinations),
        allowed_pendula_hosts=tuple(project.allowed_pendula_hosts),
        sandbox=project.sandbox,
        production=project.production,
        max_mappings_per_destination=project.max_mappings_per_destination,
        pendula_api_url=project.pendula_api_url,
    )


def canonical_json(value: Any) -> str:
    """One byte-exact JSON text per value, so the same config never shows a diff."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=True)


def custom_context_header(value: str | Mapping[str, Any] | None) -> str | None:
    """The ``X-PENDULA-CUSTOM-CONTEXT`` value: strings as is, objects as canonical JSON."""
    if value is None or isinstance(value, str):
        return value
    return canonical_json(value)
