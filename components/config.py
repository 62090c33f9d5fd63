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

import difflib
import json
import re
from collections.abc import Collection, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Any

import pulumi
import pulumi.runtime
import pulumi.runtime.config
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from components import endpoints, placeholders, redaction, stack_config, validators, webhook_url
from components.fql import ConditionError, conditions_from_yaml, generate_fql, parse_fql
from components.fql.caret import escape_parts, lay_out, with_caret
from components.fql.suggest import suggest_conditions
from components.mapping import MappingError, validate_mapping
from components.stack_config import (
    ResolvedStack,
    StackConfigError,
    decode_config_text,
    resolve_stack_file,
)

PROJECT = stack_config.PROJECT
"""The Pulumi project name, which is also the namespace of our stack-file keys."""

SEGMENT = "segment"
"""The namespace of the Segment provider's keys, which this project reads too."""
SEGMENT_KEYS: Mapping[str, str] = {
    "url": "the Public API URL the Segment token is sent to",
    "token": "the Segment Public API token (secret)",
}
"""Every key the Segment provider (segmentio/segment 1.6.1) reads from the stack config."""
SEGMENT_SECRET_KEYS = frozenset({"token"})
SEGMENT_DEFAULT_URL = "https://api.segmentapis.com"
"""The provider's default when ``segment:url`` is not set."""
READ_NAMESPACES = (PROJECT, SEGMENT)

DEFAULT_ALLOWED_HOSTS = endpoints.DEFAULT_PENDULA_HOSTS
DEFAULT_SEGMENT_API_HOSTS = endpoints.DEFAULT_SEGMENT_API_HOSTS
LOOPBACK_HOSTS = endpoints.LOOPBACK_HOSTS

DEFAULT_DATA_MAPPING: dict[str, Any] = {"@path": "$."}
"""The whole event, which Pendula's Segment article calls "the easiest way to get started"."""

MAX_MAPPINGS_PER_DESTINATION = 5
"""Segment's documented limit for the Webhooks (Actions) destination (segment.md §2.2)."""

NAME_PATTERN = r"^[a-z][a-z0-9-]{0,39}$"
"""Destination and flow names become Pulumi child names, so they are short stable slugs."""

SECRET_PLACEHOLDER = "[secret]"
"""What an undecrypted ``secure:`` value reads as when a stack file is loaded offline."""


class ConfigError(ValueError):
    """The stack configuration is invalid; the message lists every problem, one per line."""

    def __init__(self, problems: list[str], source: str = "stack configuration") -> None:
        # The engine prints this message as is: whatever a value holds is made visible, and a
        # line break in a value cannot forge another problem line.
        # A trigger problem may carry a caret block (components/fql/caret.py): its parts are
        # escaped one by one, and it is laid out on indented lines under the problem.
        problems = [escape_parts(problem) for problem in problems]
        self.problems = problems
        lines = "\n".join(f"  - {lay_out(p)}" for p in problems)
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
    allowed_segment_api_hosts: list[str] = Field(
        default=list(DEFAULT_SEGMENT_API_HOSTS), alias="allowedSegmentApiHosts", min_length=1
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
    allowed_segment_api_hosts: tuple[str, ...] = DEFAULT_SEGMENT_API_HOSTS
    segment_url: str | None = None
    """``segment:url`` as set (None: the provider's default, ``SEGMENT_DEFAULT_URL``)."""

    def flows(self) -> Iterator[tuple[Destination, Flow]]:
        """Every flow of the stack with its destination."""
        for destination in self.destinations:
            for flow in destination.flows:
                yield destination, flow


@dataclass(frozen=True)
class SegmentConfig:
    """The ``segment:`` keys of a stack (un-namespaced), and which of them are secure."""

    values: Mapping[str, Any] = field(default_factory=dict, repr=False)
    secret_keys: frozenset[str] = frozenset()


def parse_stack_config(
    values: Mapping[str, Any],
    secret_keys: Collection[str],
    source: str = "stack",
    *,
    segment: SegmentConfig | None = None,
    other_keys: Iterable[str] = (),
    other_secret_keys: Collection[str] = (),
    other_values: Mapping[str, Any] | None = None,
) -> StackConfig:
    """Validate the keys of a stack this project reads.

    ``values`` maps un-namespaced project keys (``destinations``, ``pendulaTokens``…) to
    their decoded values; ``secret_keys`` names the keys that were ``secure:`` in the stack
    file. ``segment`` holds the Segment provider's keys (``url``, ``token``) and
    ``other_keys`` every other namespaced key of the stack, checked for near-miss namespaces
    and for plaintext credentials (``other_secret_keys``: those that were ``secure:``;
    ``other_values``: their values, searched like ours).
    Raises ``ConfigError`` listing every problem.
    """
    segment = segment or SegmentConfig()
    other_keys = tuple(other_keys)
    key_problems = list(namespace_problems(other_keys))
    key_problems += [
        f"{SEGMENT}:{name}: unknown key{_did_you_mean(name, SEGMENT_KEYS, SEGMENT + ':')}; the "
        f"Segment provider reads only {', '.join(SEGMENT + ':' + k for k in SEGMENT_KEYS)}"
        for name in sorted(set(segment.values) - set(SEGMENT_KEYS))
    ]
    try:
        project = _ProjectConfig.model_validate(dict(values))
    except ValidationError as exc:
        problems = key_problems + [_format_pydantic_error(e) for e in exc.errors()]
        raise ConfigError(_without_secrets(problems, values, segment), source) from None
    problems = key_problems + list(
        _semantic_problems(project, values, frozenset(secret_keys), segment)
    )
    if not project.sandbox:
        problems += foreign_credential_problems(
            other_keys, frozenset(other_secret_keys), other_values or {}
        )
    if problems:
        raise ConfigError(_without_secrets(problems, values, segment), source)
    return _build(project, segment)


def namespace_problems(keys: Iterable[str]) -> Iterator[str]:
    """Keys outside the namespaces we read that look like a typo of one of them.

    A key under ``segment-pendla:`` or ``segmnet:`` would be silently ignored by everyone, so
    it is an error with the likely intended name. Unrelated namespaces (``aws:``) are left to
    their readers, and ``pulumi:`` keys to the engine.
    """
    for key in sorted(set(keys)):
        namespace, colon, name = key.partition(":")
        if namespace in READ_NAMESPACES:
            continue
        if not colon:
            yield (
                f"{key}: not namespaced; stack config keys are '<namespace>:<key>' "
                f"(did you mean '{PROJECT}:{key}'?)"
            )
            continue
        close = difflib.get_close_matches(namespace.lower(), READ_NAMESPACES, n=1, cutoff=0.75)
        if close:
            yield (
                f"{key}: unknown namespace '{namespace}' (did you mean '{close[0]}:{name}'?); "
                f"this project reads only {PROJECT}: and {SEGMENT}: keys"
            )


def foreign_credential_problems(
    keys: Iterable[str], secret_keys: Collection[str], values: Mapping[str, Any] | None = None
) -> Iterator[str]:
    """Plaintext credentials outside our namespaces: keys named like one, and credentials
    inside their values (``validators.credential_problems``, as for our own keys).

    The engine hands every key of a stack to the providers (a ``segmnet:token`` or
    ``pendula:apiToken`` typo still reaches one, and is stored in the repository), so a
    credential is refused in plaintext whatever its namespace; ``pulumi:`` keys are the
    engine's own settings.
    """
    values = values or {}
    for key in sorted(set(keys)):
        namespace, colon, name = key.partition(":")
        if namespace == "pulumi" or key in secret_keys:
            continue
        if not redaction.is_credential_name(name if colon else key):
            yield from validators.credential_problems(values.get(key), key)
        else:
            yield (
                f"{key}: named like a credential and stored in plaintext (value not shown); the "
                "engine passes every key of the stack to the providers, so store it with "
                f"`pulumi config set --secret {key} <value>` or remove it (plaintext is "
                "allowed only in the sandbox stack)"
            )


def _did_you_mean(name: str, known: Iterable[str], prefix: str = "") -> str:
    close = difflib.get_close_matches(name, list(known), n=1, cutoff=0.6)
    return f" (did you mean '{prefix}{close[0]}'?)" if close else ""


def _without_secrets(
    problems: list[str], values: Mapping[str, Any], segment: SegmentConfig
) -> list[str]:
    """Last line of defence: a secret's value copied into a plain key is echoed nowhere."""
    secrets = sorted(
        {
            text
            for name, value in _credential_values(values, segment)
            for _, text in _plain_strings(value, name)
            if len(text) >= 4
            and text != SECRET_PLACEHOLDER
            and not placeholders.is_placeholder(text)
        },
        key=len,
        reverse=True,
    )
    for secret in secrets:
        problems = [problem.replace(secret, SECRET_PLACEHOLDER) for problem in problems]
    return problems


def _credential_values(
    values: Mapping[str, Any], segment: SegmentConfig
) -> Iterator[tuple[str, Any]]:
    """Every credential key of the stack with its value: project secrets and ``segment:token``."""
    for name in sorted(SECRET_KEYS & set(values)):
        yield f"{PROJECT}:{name}", values[name]
    for name in sorted(SEGMENT_SECRET_KEYS & set(segment.values)):
        yield f"{SEGMENT}:{name}", segment.values[name]


def load_from_pulumi(*, allow_placeholders: bool = False) -> StackConfig:
    """Read and validate the running stack's configuration (inside ``pulumi up``/mocks).

    A secret that is still ``PLACEHOLDER`` is refused, naming the key and the command that
    sets it; only the offline review (``allow_placeholders``) runs the program with it."""
    values: dict[str, Any] = {}
    secret_keys: set[str] = set()
    segment_values: dict[str, Any] = {}
    segment_secret: set[str] = set()
    # Every key of the stack, so a typo (an unknown key, a near-miss namespace) is an error
    # rather than a setting nobody reads.
    all_keys = set(pulumi.runtime.config.CONFIG.get()) | set(pulumi.runtime.config.get_config_env())
    other_keys = []
    other_secret: set[str] = set()
    other_values: dict[str, Any] = {}
    for full_key in sorted(all_keys):
        namespace, _, name = full_key.partition(":")
        # get_config returns the decrypted string; objects and arrays arrive as JSON text.
        raw = pulumi.runtime.get_config(full_key)
        if namespace == PROJECT and raw is not None:
            values[name] = decode_config_text(raw)
            if pulumi.runtime.is_config_secret(full_key):
                secret_keys.add(name)
        elif namespace == SEGMENT and raw is not None:
            segment_values[name] = raw
            if pulumi.runtime.is_config_secret(full_key):
                segment_secret.add(name)
        elif namespace not in READ_NAMESPACES:
            other_keys.append(full_key)
            other_values[full_key] = None if raw is None else decode_config_text(raw)
            if pulumi.runtime.is_config_secret(full_key):
                other_secret.add(full_key)
    segment = SegmentConfig(segment_values, frozenset(segment_secret))
    # A secret still `PLACEHOLDER` passes the offline review but never reaches a resource.
    unset = [
        path
        for key, value in _credential_values(values, segment)
        for path in placeholders.placeholder_paths(key, value)
    ]
    if unset and not allow_placeholders:
        raise ConfigError(placeholders.placeholder_problems(unset), f"stack '{_stack_name()}'")
    return parse_stack_config(
        values,
        secret_keys,
        source=f"stack '{_stack_name()}'",
        segment=segment,
        other_keys=other_keys,
        other_secret_keys=other_secret,
        other_values=other_values,
    )


def load_stack_file(path: Path) -> StackConfig:
    """Validate a ``stacks/Pulumi.<stack>.yaml`` file offline, without decrypting anything.

    ``secure:`` values read as ``[secret]``; a key counts as secret only if every value
    under it is ``secure:``.
    """
    document = read_stack_document(path)
    return parse_stack_config(
        document.values,
        document.secret_keys,
        source=str(path),
        segment=document.segment,
        other_keys=document.other_keys,
        other_secret_keys=document.other_secret_keys,
        other_values=document.other_values,
    )


@dataclass(frozen=True)
class StackDocument:
    """The keys of one stack file, split by namespace, ``secure:`` values masked."""

    values: dict[str, Any] = field(repr=False)
    secret_keys: set[str]
    segment: SegmentConfig
    other_keys: tuple[str, ...]
    environment: tuple[str, ...] = ()
    """ESC environments the stack imports: what they provide is not in ``values``."""
    other_secret_keys: frozenset[str] = frozenset()
    """The keys of ``other_keys`` whose every value is ``secure:``."""
    other_values: Mapping[str, Any] = field(default_factory=dict, repr=False)
    """The values of ``other_keys`` (``secure:`` leaves masked), searched for credentials."""


def read_stack_file(path: Path) -> tuple[dict[str, Any], set[str]]:
    """The project keys of a stack file with secure values masked, and the fully secret keys."""
    document = read_stack_document(path)
    return document.values, document.secret_keys


def read_stack_document(path: Path) -> StackDocument:
    """A stack's keys as the engine resolves them (``components.stack_config``), split.

    Pulumi.yaml's project values apply; raises ``ConfigError`` naming the file when the stack
    cannot be read or parsed.
    """
    try:
        resolved = resolve_stack_file(path)
    except StackConfigError as exc:
        raise ConfigError([str(exc)], str(path)) from None
    return split_resolved(resolved, mask_secure)


def split_resolved(resolved: ResolvedStack, mask: Any) -> StackDocument:
    """``split_stack_config`` of a resolved stack, keeping its ESC environment imports."""
    document = split_stack_config(resolved.values(), mask)
    return StackDocument(
        document.values,
        document.secret_keys,
        document.segment,
        document.other_keys,
        environment=resolved.environment,
        other_secret_keys=document.other_secret_keys,
        other_values=document.other_values,
    )


def split_stack_config(config: Mapping[Any, Any], mask: Any) -> StackDocument:
    """Split a stack file's ``config:`` mapping by namespace; ``mask`` replaces secure leaves.

    ``mask(value) -> (masked, all_secure)`` is the caller's: the config check uses a fixed
    placeholder, the offline plan a stand-in per ciphertext (so it can show "changed").
    """
    values: dict[str, Any] = {}
    secret_keys: set[str] = set()
    segment_values: dict[str, Any] = {}
    segment_secret: set[str] = set()
    other_keys: list[str] = []
    other_secret: set[str] = set()
    other_values: dict[str, Any] = {}
    for raw_key, value in config.items():
        key = str(raw_key)
        namespace, _, name = key.partition(":")
        masked, all_secure = mask(value)
        # A secret not set yet (PLACEHOLDER) is no plaintext credential: the key stays secret
        # offline, and the program refuses it (components/placeholders.py).
        all_secure = all_secure or placeholders.secure_or_placeholder(value)
        if namespace == PROJECT:
            values[name] = masked
            if all_secure:
                secret_keys.add(name)
        elif namespace == SEGMENT:
            segment_values[name] = masked
            if all_secure:
                segment_secret.add(name)
        else:
            other_keys.append(key)
            other_values[key] = masked
            if all_secure:
                other_secret.add(key)
    return StackDocument(
        values,
        secret_keys,
        SegmentConfig(segment_values, frozenset(segment_secret)),
        tuple(other_keys),
        other_secret_keys=frozenset(other_secret),
        other_values=other_values,
    )


def mask_secure(value: Any) -> tuple[Any, bool]:
    """Replace ``{secure: …}`` leaves with a placeholder; report whether all leaves were."""
    if isinstance(value, dict) and set(value) == {"secure"} and isinstance(value["secure"], str):
        return SECRET_PLACEHOLDER, True
    if isinstance(value, dict):
        pairs = {k: mask_secure(v) for k, v in value.items()}
        return {k: v for k, (v, _) in pairs.items()}, bool(pairs) and all(
            s for _, s in pairs.values()
        )
    if isinstance(value, list):
        items = [mask_secure(v) for v in value]
        return [v for v, _ in items], bool(items) and all(s for _, s in items)
    return value, False


def _stack_name() -> str:
    return pulumi.get_stack()


# --- pass 2: meaning ------------------------------------------------------------------


def _semantic_problems(
    project: _ProjectConfig,
    raw: Mapping[str, Any],
    secret_keys: frozenset[str],
    segment: SegmentConfig,
) -> Iterator[str]:
    key = f"{PROJECT}:"
    allowed_hosts = [h.lower() for h in project.allowed_pendula_hosts]
    yield from _secret_storage_problems(project, raw, secret_keys, segment)
    yield from _endpoint_problems(project, segment)
    for name in sorted(raw):
        if problem := validators.non_finite_problem(raw[name], f"{key}{name}"):
            yield problem

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
    if problem := endpoints.endpoint_problem(url, allowed_hosts, allow_loopback=sandbox):
        yield f"{key}: {problem} (allowedPendulaHosts)"
    elif problem := webhook_url.shape_problem(url):
        yield f"{key}: '{webhook_url.shown(url)}' {problem}"


def segment_url(segment: SegmentConfig) -> str:
    """Where the Segment provider sends its token: ``segment:url``, else its default."""
    url = segment.values.get("url")
    return url if isinstance(url, str) and url else SEGMENT_DEFAULT_URL


def _endpoint_problems(project: _ProjectConfig, segment: SegmentConfig) -> Iterator[str]:
    """Every URL that receives a credential, held to ``components.endpoints``' rule.

    Flow URLs are checked per flow (with their shape); here are the host lists, the two API
    URLs, and the sandbox flag, which loosens the rule only for a stack that talks to
    nothing but this machine.
    """
    key = f"{PROJECT}:"
    for name, hosts in (
        ("allowedPendulaHosts", project.allowed_pendula_hosts),
        ("allowedSegmentApiHosts", project.allowed_segment_api_hosts),
    ):
        if problem := endpoints.host_list_problem(hosts):
            yield f"{key}{name}: {problem}"
    if project.pendula_api_url:
        problem = endpoints.endpoint_problem(
            project.pendula_api_url, project.allowed_pendula_hosts, project.sandbox
        )
        if problem:
            yield f"{key}pendulaApiUrl: {problem} (allowedPendulaHosts)"
    url = segment.values.get("url")
    if url is not None and not (isinstance(url, str) and url == SECRET_PLACEHOLDER):
        problem = endpoints.endpoint_problem(
            url, project.allowed_segment_api_hosts, project.sandbox
        )
        if problem:
            yield f"{SEGMENT}:url: {problem} (allowedSegmentApiHosts)"
    if project.sandbox and project.production:
        yield (
            f"{key}sandbox: true is not allowed together with production: true (a sandbox "
            "stack keeps throwaway credentials in plaintext; a production stack never does)"
        )
    if project.sandbox:
        remote = [
            (where, shown)
            for where, shown in _credential_urls(project, segment)
            if not endpoints.is_loopback(shown)
        ]
        for where, shown in remote:
            yield (
                f"{key}sandbox: true is allowed only when every URL of the stack is loopback "
                f"(127.0.0.1/localhost), but {where} is '{webhook_url.shown(shown)}'"
            )


def _credential_urls(project: _ProjectConfig, segment: SegmentConfig) -> Iterator[tuple[str, str]]:
    """Every URL of the stack that receives a credential, with its key path."""
    yield f"{SEGMENT}:url", segment_url(segment)
    if project.pendula_api_url:
        yield f"{PROJECT}:pendulaApiUrl", project.pendula_api_url
    for d_index, destination in enumerate(project.destinations):
        for f_index, flow in enumerate(destination.flows):
            yield f"{PROJECT}:destinations[{d_index}].flows[{f_index}].url", flow.url


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
            # Never "set unsafeTrigger: true": the policy pack refuses every trigger that
            # parse_fql refuses, so only the conditions form can work.
            yield with_caret(f"{f_key}.trigger: {exc}. {suggest_conditions(flow.trigger)}", exc)


def _custom_context_problems(key: str, value: str | dict[str, Any] | None) -> Iterator[str]:
    if isinstance(value, str) and (problem := validators.header_value_problem(value)):
        yield f"{key}: {problem}"


def _token_problems(key: str, flow: FlowConfig, project: _ProjectConfig) -> Iterator[str]:
    token = flow.token
    tokens_key = f"{PROJECT}:pendulaTokens.{flow.name}"
    if token.scheme is AuthScheme.BASIC:
        if token.tenant_id is None:
            yield f"{key}.tenantId: required with scheme 'basic' (the Basic user name)"
        elif problem := validators.tenant_id_problem(token.tenant_id):
            yield f"{key}.tenantId: {problem}"
    elif token.tenant_id is not None:
        yield f"{key}.tenantId: only used with scheme 'basic'"
    if token.mode is TokenMode.MANAGED:
        for name, value, check in (
            ("name", token.name, validators.token_name_problem),
            ("description", token.description, validators.token_description_problem),
        ):
            if value is not None and (problem := check(value)):
                yield f"{key}.{name}: {problem}"
    if token.mode is TokenMode.PROVIDED:
        if token.name is not None or token.description is not None:
            yield f"{key}: name/description only apply to mode 'managed'"
        secret = project.pendula_tokens.get(flow.name)
        if secret is None:
            yield f"{tokens_key}: missing; {placeholders.how_to_declare(flow.name)}"
        elif (
            secret != SECRET_PLACEHOLDER
            and not placeholders.is_placeholder(secret)
            and validators.token_text_problem(secret)
        ):
            # Never echo the value: it is a credential.
            yield f"{tokens_key}: the token {validators.token_text_problem(secret)}"
    else:
        if flow.name in project.pendula_tokens:
            yield f"{tokens_key}: not used with mode 'managed' (Pendula's API creates the token)"
        if not project.pendula_api_url:
            yield (
                f"{PROJECT}:pendulaApiUrl: required when {key}.mode is 'managed' "
                "(an endpoint speaking docs/pendula-token-api.md)"
            )


def _secret_storage_problems(
    project: _ProjectConfig,
    raw: Mapping[str, Any],
    secret_keys: frozenset[str],
    segment: SegmentConfig,
) -> Iterator[str]:
    """Credentials live only in ``secure:`` keys, and never leak into plain keys.

    Every credential key counts, whatever its namespace (``segment:token`` as much as
    ``pendulaTokens``); only a sandbox stack (every URL loopback, see ``_endpoint_problems``)
    may keep throwaway values in plaintext.
    """
    if not project.sandbox:
        for key, value in _credential_values(raw, segment):
            namespace, _, name = key.partition(":")
            secure = segment.secret_keys if namespace == SEGMENT else secret_keys
            if name not in secure and value:
                path = f"'{name}.<key>'" if isinstance(value, dict) else name
                command = f"pulumi config set --secret {'--path ' if '<' in path else ''}{path}"
                yield (
                    f"{key}: holds credentials in plaintext; store every value with "
                    f"`{command} <value>` (plaintext is allowed only in the sandbox stack)"
                )
    segment_token = segment.values.get("token")
    secrets = [
        s
        for s in [
            *project.pendula_tokens.values(),
            *project.shared_secrets.values(),
            project.pendula_api_token or "",
            segment_token if isinstance(segment_token, str) else "",
        ]
        if len(s) >= 4 and s != SECRET_PLACEHOLDER and not placeholders.is_placeholder(s)
    ]
    # One alternation scans each string once, however many flows (and tokens) there are.
    secret_text = re.compile("|".join(map(re.escape, secrets))) if secrets else None
    endpoint_paths = {path for path, _ in _credential_urls(project, segment)}
    for name in sorted(set(raw) - SECRET_KEYS):
        copied = False
        for path, text in _plain_strings(raw[name], f"{PROJECT}:{name}"):
            if secret_text is not None and secret_text.search(text):
                copied = True
                yield f"{path}: contains a secret's value; keep credentials only in secure keys"
        if copied:
            continue
        if not project.sandbox:
            # Every plain key, nested values included (customContext, data, headers, URLs).
            yield from validators.credential_problems(
                raw[name], f"{PROJECT}:{name}", endpoints=endpoint_paths
            )
        else:  # an Authorization value is never written by hand, not even in the sandbox
            for path, text in _plain_strings(raw[name], f"{PROJECT}:{name}"):
                if problem := validators.authorization_text_problem(text):
                    yield f"{path}: {problem}"
    url = segment.values.get("url")
    if not project.sandbox and isinstance(url, str) and "url" not in segment.secret_keys:
        yield from validators.credential_problems(url, f"{SEGMENT}:url", endpoints=endpoint_paths)


def _plain_strings(value: Any, path: str) -> Iterator[tuple[str, str]]:
    return ((p, leaf) for p, leaf in validators.json_leaves(value, path) if isinstance(leaf, str))


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
        names = sorted(f.alias or n for n, f in model.model_fields.items())
        hint = _did_you_mean(str(loc[-1]), names)
        return f"{path}: unknown key{hint}; allowed keys here: {', '.join(names)}"
    if kind == "missing":
        return f"{path}: required key is missing"
    message = error["msg"]
    value = error.get("input")
    # No value of a credential's key (a token written inline, ``token: pdl_…``, is still a
    # token), and no non-empty mapping or list: those may hold one anywhere inside.
    names = [part for part in loc if isinstance(part, str)]
    credential = bool(names) and (
        names[0] in SECRET_KEYS or redaction.is_credential_name(names[-1])
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


def _build(project: _ProjectConfig, segment: SegmentConfig) -> StackConfig:
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
        allowed_segment_api_hosts=tuple(h.lower() for h in project.allowed_segment_api_hosts),
        segment_url=segment_url(segment) if segment.values.get("url") else None,
    )


def canonical_json(value: Any) -> str:
    """One byte-exact JSON text per value, so the same config never shows a diff."""
    return json.dumps(
        value, sort_keys=True, separators=(",", ":"), ensure_ascii=True, allow_nan=False
    )


def custom_context_header(value: str | Mapping[str, Any] | None) -> str | None:
    """The ``X-PENDULA-CUSTOM-CONTEXT`` value: strings as is, objects as canonical JSON."""
    if value is None or isinstance(value, str):
        return value
    return canonical_json(value)
