"""Stack configuration: valid files load; each bad configuration fails with its exact error."""

from __future__ import annotations

import copy
import re
from pathlib import Path
from typing import Any

import pytest

from components.config import (
    AuthScheme,
    ConfigError,
    SegmentConfig,
    TokenMode,
    load_stack_file,
    parse_stack_config,
    read_stack_file,
)

ROOT = Path(__file__).resolve().parent.parent
TOKEN = "pdl_live_Q2hlY2tUaGlzT3V0"
URL = "https://pendula.app/webhook/inbound/0b5f3c1e-7d2a-4c8e-9f41-2a6d8e3b7c10"
URL2 = "https://pendula.app/webhook/inbound/5c2e9a47-1b3d-4f6a-8e20-7d9c4b1a3f58"
P = "segment-pendula:"
F0 = f"{P}destinations[0].flows[0]"


def base() -> dict[str, Any]:
    """A valid production-like configuration with two flows."""
    return {
        "destinations": [
            {
                "name": "web",
                "sourceId": "qRTqz5cTyodBXJ4Ex2Ka1W",
                "flows": [
                    {
                        "name": "welcome",
                        "url": URL,
                        "enabled": True,
                        "conditions": {
                            "all": [{"event_type": {"is": "track"}}, {"event": {"is": "Signed Up"}}]
                        },
                    },
                    {
                        "name": "vip",
                        "url": URL2,
                        "conditions": {"all": [{"user_id": {"starts_with": "SA"}}]},
                    },
                ],
            }
        ],
        "pendulaTokens": {"welcome": TOKEN, "vip": TOKEN + "2"},
    }


SECRET = {"pendulaTokens"}


def test_valid_config_builds_flows_with_defaults() -> None:
    config = parse_stack_config(base(), SECRET)
    (destination,) = config.destinations
    welcome, vip = destination.flows
    assert destination.display_name == "Pendula (web)"
    assert destination.enabled is True
    assert welcome.fql == 'type = "track" and event = "Signed Up"'
    assert welcome.data == {"@path": "$."}
    assert welcome.enabled is True and vip.enabled is False
    assert welcome.flow_id == "0b5f3c1e-7d2a-4c8e-9f41-2a6d8e3b7c10"
    assert welcome.token_mode is TokenMode.PROVIDED
    assert welcome.token_scheme is AuthScheme.BEARER
    assert welcome.token == TOKEN
    assert vip.fql == 'match(userId, "SA*")'


def test_flow_repr_never_shows_the_token() -> None:
    config = parse_stack_config(base(), SECRET)
    assert TOKEN not in repr(config)


def _with(path: str, value: Any) -> dict[str, Any]:
    """base() with one key set (``a.b[0].c``); value ``DELETE`` removes the key."""
    config = copy.deepcopy(base())
    parts = path.replace("]", "").replace("[", ".").split(".")
    node: Any = config
    for part in parts[:-1]:
        node = node[int(part)] if part.isdigit() else node.setdefault(part, {})
    last = parts[-1]
    if value is DELETE:
        del node[int(last) if last.isdigit() else last]
    elif last.isdigit():
        node[int(last)] = value
    else:
        node[last] = value
    return config


DELETE = object()


def _raw_trigger(fql: str) -> dict[str, Any]:
    """base() with the first flow's conditions replaced by a raw FQL trigger."""
    config = _with("destinations.0.flows.0.conditions", DELETE)
    config["destinations"][0]["flows"][0]["trigger"] = fql
    return config


D0 = "destinations.0"
FL0 = "destinations.0.flows.0"

BAD_CONFIGS: list[tuple[str, dict[str, Any], set[str], str]] = [
    (
        "no destinations",
        _with("destinations", []),
        SECRET,
        f"{P}destinations: List should have at least 1 item after validation, not 0 (got [])",
    ),
    (
        "missing sourceId",
        _with(f"{D0}.sourceId", DELETE),
        SECRET,
        f"{P}destinations[0].sourceId: required key is missing",
    ),
    (
        "unknown destination key",
        _with(f"{D0}.source", "x"),
        SECRET,
        f"{P}destinations[0].source: unknown key (did you mean 'sourceId'?); allowed keys here: "
        "displayName, enabled, flows, name, sourceId",
    ),
    (
        "bad destination name",
        _with(f"{D0}.name", "Web App"),
        SECRET,
        f"{P}destinations[0].name: String should match pattern '^[a-z][a-z0-9-]{{0,39}}$' "
        "(got 'Web App')",
    ),
    (
        "bad flow name",
        _with(f"{FL0}.name", "welcome_flow"),
        SECRET,
        f"{F0}.name: String should match pattern '^[a-z][a-z0-9-]{{0,39}}$' (got 'welcome_flow')",
    ),
    (
        "enabled not a boolean",
        _with(f"{FL0}.enabled", "sometimes"),
        SECRET,
        f"{F0}.enabled: Input should be a valid boolean, unable to interpret input (got 'sometimes')",
    ),
    (
        "unknown flow key",
        _with(f"{FL0}.method", "GET"),
        SECRET,
        f"{F0}.method: unknown key; allowed keys here: conditions, customContext, data, "
        "displayName, enabled, name, sampleEvent, token, trigger, unsafeTrigger, url",
    ),
    (
        "http url",
        _with(f"{FL0}.url", URL.replace("https", "http")),
        SECRET,
        f"{F0}.url: '{URL.replace('https', 'http')}' is not allowed: it is not https ("
        "a credential is sent there, so it must be https on an allowed host (pendula.app) on the "
        "default port, without user info) (allowedPendulaHosts)",
    ),
    (
        "typo host",
        _with(f"{FL0}.url", URL.replace("pendula.app", "pendu1a.app")),
        SECRET,
        f"{F0}.url: '{URL.replace('pendula.app', 'pendu1a.app')}' is not allowed: its host is not "
        "allowed (a credential is sent there, so it must be https on an allowed host "
        "(pendula.app) on the default port, without user info) (allowedPendulaHosts)",
    ),
    (
        "loopback outside sandbox",
        _with(
            f"{FL0}.url",
            "http://127.0.0.1:8787/webhook/inbound/0b5f3c1e-7d2a-4c8e-9f41-2a6d8e3b7c10",
        ),
        SECRET,
        f"{F0}.url: 'http://127.0.0.1:8787/webhook/inbound/0b5f3c1e-7d2a-4c8e-9f41-2a6d8e3b7c10' "
        "is not allowed: it points at this machine; http(s) on 127.0.0.1/localhost is allowed "
        "only when sandbox is true (allowedPendulaHosts)",
    ),
    (
        "not a webhook path",
        _with(f"{FL0}.url", "https://pendula.app/flows/123"),
        SECRET,
        f"{F0}.url: 'https://pendula.app/flows/123' is not a Pendula webhook trigger URL (the "
        "path must be /webhook/inbound/<uuid>, as Pendula shows it under 'Configure Webhook "
        "trigger URL')",
    ),
    (
        "url with query",
        _with(f"{FL0}.url", URL + "?debug=1"),
        SECRET,
        f"{F0}.url: '{URL}?debug=1' must not carry a query, fragment or credentials",
    ),
    (
        "both conditions and trigger",
        _with(f"{FL0}.trigger", 'type = "track"'),
        SECRET,
        f"{F0}: give exactly one of 'conditions' (recommended) or 'trigger' (raw FQL, must be in "
        "the subset Segment reads correctly)",
    ),
    (
        "neither conditions nor trigger",
        _with(f"{FL0}.conditions", DELETE),
        SECRET,
        f"{F0}: give exactly one of 'conditions' (recommended) or 'trigger' (raw FQL, must be in "
        "the subset Segment reads correctly)",
    ),
    (
        "empty raw trigger",
        _raw_trigger(" "),
        SECRET,
        f"{F0}.trigger: must not be empty (Segment needs a trigger on every mapping)",
    ),
    (
        "unsafeTrigger with conditions",
        _with(f"{FL0}.unsafeTrigger", True),
        SECRET,
        f"{F0}.unsafeTrigger: only applies to a raw 'trigger'",
    ),
    (
        "duplicate flow names",
        _with("destinations.0.flows.1.name", "welcome"),
        SECRET,
        f"{P}destinations[0].flows[1].name: 'welcome' is used twice in this stack (flow names key "
        "pendulaTokens and child resources, so they are unique)",
    ),
    (
        "non-ascii custom context",
        _with(f"{FL0}.customContext", "café"),
        SECRET,
        f"{F0}.customContext: 'café' is not a valid header value: Segment sends only ASCII header "
        "values without control characters or line breaks (write non-ASCII text in an object, "
        "which is sent as JSON with \\u escapes)",
    ),
    (
        "custom context with newline",
        _with(f"{FL0}.customContext", "a\nb"),
        SECRET,
        f"{F0}.customContext: 'a\\nb' is not a valid header value: Segment sends only ASCII header "
        "values without control characters or line breaks (write non-ASCII text in an object, "
        "which is sent as JSON with \\u escapes)",
    ),
    (
        "token missing",
        _with("pendulaTokens.welcome", DELETE),
        SECRET,
        f"{P}pendulaTokens.welcome: missing; set it with `pulumi config set --secret --path "
        "'pendulaTokens.welcome' <token>`",
    ),
    (
        "token with whitespace",
        _with("pendulaTokens.welcome", "abc def"),
        SECRET,
        f"{P}pendulaTokens.welcome: the token must be non-empty visible ASCII without spaces "
        "(value not shown: it is secret)",
    ),
    (
        "token for unknown flow",
        _with("pendulaTokens.welcom", TOKEN + "3"),
        SECRET,
        f"{P}pendulaTokens.welcom: no flow is named 'welcom' (flows: vip, welcome)",
    ),
    (
        "plaintext tokens outside sandbox",
        base(),
        set(),
        f"{P}pendulaTokens: holds credentials in plaintext; store every value with `pulumi config "
        "set --secret --path 'pendulaTokens.<key>' <value>` (plaintext is allowed only in the "
        "sandbox stack)",
    ),
    (
        "token pasted into custom context",
        _with(f"{FL0}.customContext", f"x-{TOKEN}"),
        SECRET,
        f"{F0}.customContext: contains a secret's value; keep credentials only in secure keys",
    ),
    (
        "bearer header in data",
        _with(f"{FL0}.data", {"auth": {"@literal": "Bearer abcdefghijkl"}}),
        SECRET,
        f"{F0}.data.auth.@literal: looks like a plaintext credential ('Bearer …'/'Basic …'); the "
        "Authorization header is built from pendulaTokens, never written here",
    ),
    (
        "basic without tenant",
        _with(f"{FL0}.token", {"scheme": "basic"}),
        SECRET,
        f"{F0}.token.tenantId: required with scheme 'basic' (the Basic user name)",
    ),
    (
        "tenant with bearer",
        _with(f"{FL0}.token", {"tenantId": "acme"}),
        SECRET,
        f"{F0}.token.tenantId: only used with scheme 'basic'",
    ),
    (
        "unknown token mode",
        _with(f"{FL0}.token", {"mode": "generated"}),
        SECRET,
        f"{F0}.token.mode: Input should be 'provided' or 'managed' (got 'generated')",
    ),
    (
        "managed without api url",
        _with(f"{FL0}.token", {"mode": "managed"}) | {"pendulaTokens": {"vip": TOKEN}},
        SECRET,
        f"{P}pendulaApiUrl: required when {F0}.token.mode is 'managed' (an endpoint speaking "
        "docs/pendula-token-api.md)",
    ),
    (
        "managed with a provided token",
        _with(f"{FL0}.token", {"mode": "managed"})
        | {"pendulaApiUrl": "https://tokens.example.com/api/v1"},
        SECRET,
        f"{P}pendulaTokens.welcome: not used with mode 'managed' (Pendula's API creates the token)",
    ),
    (
        "name with provided mode",
        _with(f"{FL0}.token", {"name": "x"}),
        SECRET,
        f"{F0}.token: name/description only apply to mode 'managed'",
    ),
    (
        "too many flows",
        _with("maxMappingsPerDestination", 1),
        SECRET,
        f"{P}destinations[0].flows: 2 flows exceed the limit of 1 mappings per destination "
        f"({P}maxMappingsPerDestination); split them over several destinations",
    ),
    (
        "shared secret for unknown destination",
        _with("sharedSecrets", {"app": "s3cr3t-value"}),
        {"pendulaTokens", "sharedSecrets"},
        f"{P}sharedSecrets.app: no destination is named 'app' (destinations: web)",
    ),
    (
        "max mappings out of range",
        _with("maxMappingsPerDestination", 0),
        SECRET,
        f"{P}maxMappingsPerDestination: Input should be greater than or equal to 1 (got 0)",
    ),
    (
        "tokens not a map",
        _with("pendulaTokens", ["a"]),
        SECRET,
        f"{P}pendulaTokens: Input should be a valid dictionary",
    ),
]


@pytest.mark.parametrize(
    ("values", "secret_keys", "expected"),
    [case[1:] for case in BAD_CONFIGS],
    ids=[case[0] for case in BAD_CONFIGS],
)
def test_bad_config_fails_with_exact_error(
    values: dict[str, Any], secret_keys: set[str], expected: str
) -> None:
    with pytest.raises(ConfigError) as excinfo:
        parse_stack_config(values, secret_keys)
    assert expected in excinfo.value.problems, excinfo.value.problems
    assert TOKEN not in str(excinfo.value)


def test_at_least_25_bad_configurations() -> None:
    assert len(BAD_CONFIGS) >= 25


def test_all_problems_are_reported_together() -> None:
    values = _with(f"{FL0}.url", "http://evil.example/x")
    values["destinations"][0]["flows"][1]["name"] = "welcome"
    with pytest.raises(ConfigError) as excinfo:
        parse_stack_config(values, SECRET)
    problems = excinfo.value.problems
    assert [p.split(":")[1].split(" ")[0] for p in problems] == [
        "destinations[0].flows[0].url",
        "destinations[0].flows[1].name",
        "pendulaTokens.vip",
    ]
    assert str(excinfo.value).startswith("3 problems in stack:\n  - ")


def test_sandbox_allows_loopback_http_and_plaintext_tokens() -> None:
    values = _with(
        f"{FL0}.url", "http://127.0.0.1:8787/webhook/inbound/0b5f3c1e-7d2a-4c8e-9f41-2a6d8e3b7c10"
    )
    values["destinations"][0]["flows"][1]["url"] = URL2.replace(
        "https://pendula.app", "http://localhost:8787"
    )
    values["sandbox"] = True
    segment = SegmentConfig({"url": "http://127.0.0.1:8787", "token": "plain-sandbox-token"})
    config = parse_stack_config(values, set(), segment=segment)
    assert config.destinations[0].flows[0].url.startswith("http://127.0.0.1:8787/")


@pytest.mark.parametrize("stack", ["local", "dev", "staging", "prod"])
def test_committed_stack_files_are_valid(stack: str) -> None:
    config = load_stack_file(ROOT / "stacks" / f"Pulumi.{stack}.yaml")
    assert config.destinations
    assert config.sandbox is (stack == "local")
    assert config.production is (stack == "prod")


def test_stack_file_secure_values_are_masked_and_counted_secret() -> None:
    values, secret_keys = read_stack_file(ROOT / "stacks" / "Pulumi.dev.yaml")
    assert values["pendulaTokens"] == {
        "welcome": "[secret]",
        "upgrade-nudge": "[secret]",
        "vip": "[secret]",
    }
    assert "pendulaTokens" in secret_keys


def test_partly_plaintext_secret_map_is_rejected(tmp_path: Path) -> None:
    text = (ROOT / "stacks" / "Pulumi.dev.yaml").read_text()
    text, replaced = re.subn(
        r"    vip:\n      secure: \S+", "    vip: pdl_plaintext_token_value", text
    )
    assert replaced == 1
    path = tmp_path / "Pulumi.dev.yaml"
    path.write_text(text)
    with pytest.raises(ConfigError) as excinfo:
        load_stack_file(path)
    assert excinfo.value.problems == [
        f"{P}pendulaTokens: holds credentials in plaintext; store every value with `pulumi "
        "config set --secret --path 'pendulaTokens.<key>' <value>` (plaintext is allowed only "
        "in the sandbox stack)"
    ]
    assert "pdl_plaintext_token_value" not in str(excinfo.value)
