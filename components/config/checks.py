"""The second pass over a stack config: what its values mean.

Plain functions with the full key path at hand: URLs on an allowed Pendula host, trigger
conditions Segment reads as written, mapping directives, unique names, ASCII header values,
and secrets kept in ``secure:`` keys. Each yields problem lines; ``load`` raises them together."""

from __future__ import annotations

import difflib
import re
from collections.abc import Collection, Iterable, Iterator, Mapping
from typing import Any

from components import webhook_url
from components.config.models import (
    PROJECT,
    READ_NAMESPACES,
    SECRET_KEYS,
    SECRET_PLACEHOLDER,
    SEGMENT,
    SEGMENT_SECRET_KEYS,
    AuthScheme,
    FlowConfig,
    SegmentConfig,
    TokenMode,
    _ProjectConfig,
    segment_url,
)
from components.fql import ConditionError, conditions_from_yaml, generate_fql, parse_fql
from components.fql.caret import with_caret
from components.fql.suggest import suggest_conditions
from components.guards import endpoints, placeholders, redaction, validators
from components.mapping import MappingError, validate_mapping


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


def did_you_mean(name: str, known: Iterable[str], prefix: str = "") -> str:
    close = difflib.get_close_matches(name, list(known), n=1, cutoff=0.6)
    return f" (did you mean '{prefix}{close[0]}'?)" if close else ""


def credential_values(
    values: Mapping[str, Any], segment: SegmentConfig
) -> Iterator[tuple[str, Any]]:
    """Every credential key of the stack with its value: project secrets and ``segment:token``."""
    for name in sorted(SECRET_KEYS & set(values)):
        yield f"{PROJECT}:{name}", values[name]
    for name in sorted(SEGMENT_SECRET_KEYS & set(segment.values)):
        yield f"{SEGMENT}:{name}", segment.values[name]


# --- pass 2: meaning ------------------------------------------------------------------


def semantic_problems(
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


def _endpoint_problems(project: _ProjectConfig, segment: SegmentConfig) -> Iterator[str]:
    """Every URL that receives a credential, held to ``components.guards.endpoints``' rule.

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
        for key, value in credential_values(raw, segment):
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
        for path, text in plain_strings(raw[name], f"{PROJECT}:{name}"):
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
            for path, text in plain_strings(raw[name], f"{PROJECT}:{name}"):
                if problem := validators.authorization_text_problem(text):
                    yield f"{path}: {problem}"
    url = segment.values.get("url")
    if not project.sandbox and isinstance(url, str) and "url" not in segment.secret_keys:
        yield from validators.credential_problems(url, f"{SEGMENT}:url", endpoints=endpoint_paths)


def plain_strings(value: Any, path: str) -> Iterator[tuple[str, str]]:
    return ((p, leaf) for p, leaf in validators.json_leaves(value, path) if isinstance(leaf, str))
