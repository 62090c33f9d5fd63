"""Typed stack configuration, loaded: the stack file read by the engine's loader, then validated.

A stack file is validated in two passes, both before any resource is registered:

1. structure (pydantic, ``components.config.models``): types, required keys, unknown keys,
   closed sets;
2. meaning (``components.config.checks``): what the values mean, with the full key path.

Every problem becomes one line ``<stack-file key path>: <what is wrong> (<what is allowed>)``
and all lines are raised together as one ``ConfigError``. A secret's value never appears
in an error; only its key does.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pulumi
import pulumi.runtime
import pulumi.runtime.config
from pydantic import ValidationError

from components import webhook_url
from components.config.checks import (
    credential_values,
    did_you_mean,
    foreign_credential_problems,
    namespace_problems,
    plain_strings,
    semantic_problems,
)
from components.config.models import (
    DEFAULT_DATA_MAPPING,
    PROJECT,
    READ_NAMESPACES,
    SECRET_KEYS,
    SECRET_PLACEHOLDER,
    SEGMENT,
    SEGMENT_KEYS,
    ConfigError,
    Destination,
    DestinationConfig,
    Flow,
    FlowConfig,
    FlowTokenConfig,
    SegmentConfig,
    StackConfig,
    StrictModel,
    TokenMode,
    _ProjectConfig,
    custom_context_header,
    segment_url,
)
from components.config.stack_config import (
    ResolvedStack,
    StackConfigError,
    decode_config_text,
    resolve_stack_file,
)
from components.fql import conditions_from_yaml, generate_fql, parse_fql
from components.guards import placeholders, redaction


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
        f"{SEGMENT}:{name}: unknown key{did_you_mean(name, SEGMENT_KEYS, SEGMENT + ':')}; the "
        f"Segment provider reads only {', '.join(SEGMENT + ':' + k for k in SEGMENT_KEYS)}"
        for name in sorted(set(segment.values) - set(SEGMENT_KEYS))
    ]
    try:
        project = _ProjectConfig.model_validate(dict(values))
    except ValidationError as exc:
        problems = key_problems + [_format_pydantic_error(e) for e in exc.errors()]
        raise ConfigError(_without_secrets(problems, values, segment), source) from None
    problems = key_problems + list(
        semantic_problems(project, values, frozenset(secret_keys), segment)
    )
    if not project.sandbox:
        problems += foreign_credential_problems(
            other_keys, frozenset(other_secret_keys), other_values or {}
        )
    if problems:
        raise ConfigError(_without_secrets(problems, values, segment), source)
    return _build(project, segment)


def _without_secrets(
    problems: list[str], values: Mapping[str, Any], segment: SegmentConfig
) -> list[str]:
    """Last line of defence: a secret's value copied into a plain key is echoed nowhere."""
    secrets = sorted(
        {
            text
            for name, value in credential_values(values, segment)
            for _, text in plain_strings(value, name)
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
        for key, value in credential_values(values, segment)
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
    """A stack's keys as the engine resolves them (``components.config.stack_config``), split.

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


# --- pass 1 error formatting ----------------------------------------------------------

_MODEL_BY_LOC_HINT: dict[str, type[StrictModel]] = {
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
        hint = did_you_mean(str(loc[-1]), names)
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


def _model_for(loc: tuple[Any, ...]) -> type[StrictModel]:
    model: type[StrictModel] = _ProjectConfig
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
