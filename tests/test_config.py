"""Stack configuration: valid files load; each bad configuration fails with its exact error."""

from __future__ import annotations

import copy
import re
from pathlib import Path
from typing import Any

import pytest

from components.config.checks import foreign_credential_problems
from components.config.load import (
    load_stack_file,
    parse_stack_config,
    read_stack_document,
    read_stack_file,
)
from components.config.models import AuthScheme, ConfigError, SegmentConfig, TokenMode
from tests.fixture_stacks import fixture_stack
from tests.test_endpoints import REFUSED_SEGMENT_URLS

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
        "'segment-pendula:pendulaTokens.welcome' <Pendula API token>`, or until you have the "
        "token declare `welcome: PLACEHOLDER` under segment-pendula:pendulaTokens (the offline "
        "review passes; pulumi preview refuses it until the real token is set)",
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
def test_fixture_stack_files_are_valid(stack: str) -> None:
    config = load_stack_file(fixture_stack(stack))
    assert config.destinations
    assert config.sandbox is (stack == "local")
    assert config.production is (stack == "prod")


def test_stack_file_secure_values_are_masked_and_counted_secret() -> None:
    values, secret_keys = read_stack_file(fixture_stack("dev"))
    assert values["pendulaTokens"] == {
        "welcome": "[secret]",
        "upgrade-nudge": "[secret]",
        "vip": "[secret]",
    }
    assert "pendulaTokens" in secret_keys


def test_partly_plaintext_secret_map_is_rejected(tmp_path: Path) -> None:
    text = fixture_stack("dev").read_text()
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


# --- hardening: every credential endpoint, every namespace, every plaintext credential -------

SECRET_SEGMENT = SegmentConfig(
    {"url": "https://api.segmentapis.com", "token": "[secret]"}, frozenset({"token"})
)
LOCAL_URL = "http://127.0.0.1:8787/webhook/inbound/0b5f3c1e-7d2a-4c8e-9f41-2a6d8e3b7c10"
LOCAL_URL2 = "http://localhost:8787/webhook/inbound/5c2e9a47-1b3d-4f6a-8e20-7d9c4b1a3f58"


def problems_of(
    values: dict[str, Any],
    secret_keys: set[str] | None = None,
    segment: SegmentConfig = SECRET_SEGMENT,
    other_keys: tuple[str, ...] = (),
) -> list[str]:
    try:
        parse_stack_config(
            values, SECRET if secret_keys is None else secret_keys, segment=segment,
            other_keys=other_keys,
        )  # fmt: skip
    except ConfigError as exc:
        return list(exc.problems)
    return []


def managed(url: str) -> dict[str, Any]:
    values = _with(f"{FL0}.token", {"mode": "managed"})
    del values["pendulaTokens"]["welcome"]
    values["pendulaApiUrl"] = url
    values["pendulaApiToken"] = "[secret]"
    return values


@pytest.mark.parametrize(
    ("url", "why"),
    [
        ("https://pendula.app.evil.net/api/v1", "its host is not allowed"),
        ("https://evil.net/pendula.app/api/v1", "its host is not allowed"),
        ("http://pendula.app/api/v1", "it is not https"),
        ("https://pendula.app:8443/api/v1", "it names port 8443"),
        ("https://admin:hunter22@pendula.app/api/v1", "it carries user info"),
        ("http://127.0.0.1:8787/api/v1", "only when sandbox is true"),
    ],
)
def test_pendula_api_url_is_held_to_the_credential_endpoint_rule(url: str, why: str) -> None:
    problems = problems_of(managed(url), {"pendulaTokens", "pendulaApiToken"})
    assert len(problems) == 1, problems
    assert problems[0].startswith(f"{P}pendulaApiUrl: '")
    assert why in problems[0] and "hunter22" not in problems[0]


def test_pendula_api_url_on_an_allowed_host_is_fine() -> None:
    values = managed("https://eu.pendula.app/api/v1")
    assert problems_of(values, {"pendulaTokens", "pendulaApiToken"}) != []
    values["allowedPendulaHosts"] = ["pendula.app", "eu.pendula.app"]
    assert problems_of(values, {"pendulaTokens", "pendulaApiToken"}) == []


@pytest.mark.parametrize(
    ("url", "why"),
    [*REFUSED_SEGMENT_URLS, ("http://127.0.0.1:8787", "only when sandbox is true")],
)
def test_segment_url_is_held_to_the_credential_endpoint_rule(url: str, why: str) -> None:
    segment = SegmentConfig({"url": url, "token": "[secret]"}, frozenset({"token"}))
    problems = problems_of(base(), segment=segment)
    assert len(problems) == 1, problems
    assert problems[0].startswith("segment:url: '") and why in problems[0]
    assert problems[0].endswith("(allowedSegmentApiHosts)")
    assert "sta_secret" not in problems[0]


def test_segment_hosts_are_extendable_by_config() -> None:
    segment = SegmentConfig({"url": "https://au1.api.segmentapis.com"}, frozenset())
    segment = SegmentConfig({**segment.values, "token": "[secret]"}, frozenset({"token"}))
    assert problems_of(base(), segment=segment) != []
    values = base()
    values["allowedSegmentApiHosts"] = ["api.segmentapis.com", "au1.api.segmentapis.com"]
    assert problems_of(values, segment=segment) == []
    assert parse_stack_config(values, SECRET, segment=segment).segment_url == (
        "https://au1.api.segmentapis.com"
    )


@pytest.mark.parametrize("hosts", [["https://pendula.app"], ["*.pendula.app"], ["pendula.app/x"]])
def test_allowed_host_lists_hold_host_names(hosts: list[str]) -> None:
    for key in ("allowedPendulaHosts", "allowedSegmentApiHosts"):
        values = base()
        values[key] = hosts
        assert any(p.startswith(f"{P}{key}: ") for p in problems_of(values)), key


@pytest.mark.parametrize(
    ("segment", "secret_keys", "expected"),
    [
        (
            SegmentConfig({"token": "sta_plain_token"}),
            SECRET,
            "segment:token: holds credentials in plaintext; store every value with `pulumi "
            "config set --secret token <value>` (plaintext is allowed only in the sandbox stack)",
        ),
        (
            SECRET_SEGMENT,
            set(),
            f"{P}pendulaTokens: holds credentials in plaintext; store every value with `pulumi "
            "config set --secret --path 'pendulaTokens.<key>' <value>` (plaintext is allowed "
            "only in the sandbox stack)",
        ),
    ],
)
def test_no_plaintext_credential_outside_the_sandbox_whatever_the_key(
    segment: SegmentConfig, secret_keys: set[str], expected: str
) -> None:
    problems = problems_of(base(), secret_keys, segment=segment)
    assert expected in problems
    assert not any("sta_plain_token" in p or TOKEN in p for p in problems)


def test_plaintext_shared_secret_and_api_token_are_refused() -> None:
    values = managed("https://pendula.app/api/v1")
    values["pendulaApiToken"] = "pdl_admin_plain"
    values["sharedSecrets"] = {"web": "shh-plain-secret"}
    problems = problems_of(values, {"pendulaTokens"})
    assert {p.split(":")[1] for p in problems} == {"pendulaApiToken", "sharedSecrets"}


def sandbox_values() -> dict[str, Any]:
    values = _with(f"{FL0}.url", LOCAL_URL)
    values["destinations"][0]["flows"][1]["url"] = LOCAL_URL2
    values["sandbox"] = True
    return values


LOCAL_SEGMENT = SegmentConfig({"url": "http://127.0.0.1:8787", "token": "sta-sandbox-token"})


def test_sandbox_with_every_url_loopback_is_allowed() -> None:
    assert problems_of(sandbox_values(), set(), segment=LOCAL_SEGMENT) == []


@pytest.mark.parametrize(
    ("change", "where"),
    [
        (lambda v, s: s.pop("url"), "segment:url is 'https://api.segmentapis.com'"),
        (lambda v, s: s.update(url="https://api.segmentapis.com"), "segment:url"),
        (lambda v, s: v["destinations"][0]["flows"][1].update(url=URL2), "flows[1].url"),
        (lambda v, s: v.update(pendulaApiUrl="https://pendula.app/api/v1"), "pendulaApiUrl"),
    ],
)
def test_sandbox_is_refused_unless_every_url_is_loopback(change: Any, where: str) -> None:
    values, segment_values = sandbox_values(), dict(LOCAL_SEGMENT.values)
    change(values, segment_values)
    problems = problems_of(values, set(), segment=SegmentConfig(segment_values))
    assert any(
        p.startswith(f"{P}sandbox: true is allowed only when every URL") and where in p
        for p in problems
    ), problems


def test_sandbox_is_never_production() -> None:
    values = sandbox_values()
    values["production"] = True
    assert problems_of(values, set(), segment=LOCAL_SEGMENT) == [
        f"{P}sandbox: true is not allowed together with production: true (a sandbox stack keeps "
        "throwaway credentials in plaintext; a production stack never does)"
    ]


@pytest.mark.parametrize(
    ("segment", "other_keys", "expected"),
    [
        (
            SegmentConfig(
                {"urll": "https://api.segmentapis.com", "token": "[secret]"}, frozenset({"token"})
            ),
            (),
            "segment:urll: unknown key (did you mean 'segment:url'?); the Segment provider reads "
            "only segment:url, segment:token",
        ),
        (
            SegmentConfig({"tokn": "[secret]"}, frozenset({"tokn"})),
            (),
            "segment:tokn: unknown key (did you mean 'segment:token'?); the Segment provider "
            "reads only segment:url, segment:token",
        ),
        (
            SECRET_SEGMENT,
            ("segment-pendla:destinations",),
            "segment-pendla:destinations: unknown namespace 'segment-pendla' (did you mean "
            "'segment-pendula:destinations'?); this project reads only segment-pendula: and "
            "segment: keys",
        ),
        (
            SECRET_SEGMENT,
            ("segmnet:url",),
            "segmnet:url: unknown namespace 'segmnet' (did you mean 'segment:url'?); this "
            "project reads only segment-pendula: and segment: keys",
        ),
        (
            SECRET_SEGMENT,
            ("Segment-Pendula:production",),
            "Segment-Pendula:production: unknown namespace 'Segment-Pendula' (did you mean "
            "'segment-pendula:production'?); this project reads only segment-pendula: and "
            "segment: keys",
        ),
        (
            SECRET_SEGMENT,
            ("production",),
            "production: not namespaced; stack config keys are '<namespace>:<key>' (did you "
            "mean 'segment-pendula:production'?)",
        ),
    ],
)
def test_keys_are_checked_in_every_namespace(
    segment: SegmentConfig, other_keys: tuple[str, ...], expected: str
) -> None:
    assert expected in problems_of(base(), segment=segment, other_keys=other_keys)


def test_unrelated_namespaces_are_left_to_their_readers() -> None:
    assert problems_of(base(), other_keys=("aws:region", "pulumi:tags")) == []


def test_unknown_project_key_says_what_was_meant() -> None:
    values = base()
    values["allowedPendulaHost"] = ["pendula.app"]
    assert problems_of(values)[0].startswith(
        f"{P}allowedPendulaHost: unknown key (did you mean 'allowedPendulaHosts'?)"
    )


def test_typos_are_errors_in_the_deployed_program_too() -> None:
    """Under `pulumi up` every key of the stack is seen, not only the ones the model names."""
    from components.review.offline import run_program

    for provider, expected in (
        ({"segment:urll": "https://api.segmentapis.com"}, "segment:urll: unknown key"),
        ({"segment-pendla:production": "true"}, "segment-pendla:production: unknown namespace"),
        ({"segment:token": "sta_plain"}, "segment:token: holds credentials in plaintext"),
    ):
        with pytest.raises(ConfigError) as raised:
            run_program(base(), SECRET, provider_config=provider)
        assert any(p.startswith(expected) for p in raised.value.problems), raised.value.problems
        assert "sta_plain" not in str(raised.value)


@pytest.mark.parametrize(
    "tenant", ["acme corp", "acme\r\nX-Injected: 1", "acme\n", "a:b", "tab\there", "é"]
)
def test_tenant_id_is_refused_offline_as_the_provider_refuses_it(tenant: str) -> None:
    values = _with(f"{FL0}.token", {"scheme": "basic", "tenantId": tenant})
    assert any(
        p.startswith(f"{F0}.token.tenantId: ") and "visible ASCII without ':'" in p
        for p in problems_of(values)
    )


@pytest.mark.parametrize(
    ("path", "value", "where"),
    [
        (f"{FL0}.data", {"total": float("nan")}, f"{F0}.data.total"),
        (f"{FL0}.data", {"a": [1, float("inf")]}, f"{F0}.data.a[1]"),
        (f"{FL0}.customContext", {"score": -float("inf")}, f"{F0}.customContext.score"),
    ],
)
def test_nan_and_infinity_are_refused_anywhere(path: str, value: Any, where: str) -> None:
    problems = problems_of(_with(path, value))
    nan = [p for p in problems if "NaN/Infinity cannot be sent" in p]
    assert nan and nan[0].startswith(where.replace("destinations[0]", "destinations[0]"))


@pytest.mark.parametrize(
    ("field", "value"), [("name", "a\nb"), ("name", "x" * 101), ("description", "tab\there")]
)
def test_managed_token_name_and_description_use_the_providers_validators(
    field: str, value: str
) -> None:
    values = managed("https://pendula.app/api/v1")
    values["destinations"][0]["flows"][0]["token"][field] = value
    problems = problems_of(values, {"pendulaTokens", "pendulaApiToken"})
    assert any(p.startswith(f"{F0}.token.{field}: ") for p in problems), problems


def test_config_errors_show_control_characters_escaped() -> None:
    values = _with(f"{FL0}.url", "https://evil.example/\x1b[2J\u202ex")
    values["destinations"][0]["displayName"] = "x"
    problems = problems_of(values)
    assert problems and all("\x1b" not in p and "\u202e" not in p for p in problems)
    assert any("\\x1b[2J\\u202ex" in p for p in problems)


# --- no credential in plain text anywhere in a reviewed stack --------------------------------

PLAIN_CREDENTIAL = "pdl_live_Zm9yZWlnbktleVRlc3Q"


@pytest.mark.parametrize(
    ("path", "value", "where"),
    [
        (f"{FL0}.url", URL + "?token=" + PLAIN_CREDENTIAL, f"{F0}.url"),
        (f"{FL0}.url", URL + "#access_token=" + PLAIN_CREDENTIAL, f"{F0}.url"),
        (f"{FL0}.url", URL + "?" + PLAIN_CREDENTIAL, f"{F0}.url"),
        (f"{FL0}.customContext", {"callback": "https://ada:pw@x.example/cb"}, "customContext"),
        (f"{FL0}.customContext", {"apiKey": PLAIN_CREDENTIAL}, "customContext.apiKey"),
        (f"{FL0}.customContext", {"team": {"X-Auth-Token": 123456789012345}}, "X-Auth-Token"),
        (f"{FL0}.customContext", "Basic dXNlcjpwYXNzd29yZA==", "customContext"),
        (f"{FL0}.data", {"headers": {"X-API-KEY": {"@literal": PLAIN_CREDENTIAL}}}, "X-API-KEY"),
        (f"{FL0}.data", {"cb": {"@literal": "https://x.example/?Signature=abc"}}, "data.cb"),
        (f"{FL0}.data", {"password": {"@literal": PLAIN_CREDENTIAL}}, "data.password"),
        (f"{FL0}.data", {"auth": {"@literal": "Bearer " + PLAIN_CREDENTIAL}}, "data.auth"),
    ],
)
def test_credential_looking_values_are_refused_anywhere(path: str, value: Any, where: str) -> None:
    problems = problems_of(_with(path, value))
    assert any(where in p for p in problems), problems
    assert not any(PLAIN_CREDENTIAL in p or ":pw@" in p for p in problems)


def test_api_urls_with_credential_parameters_are_refused() -> None:
    values = managed("https://pendula.app/api/v1?api_key=abcd")
    segment = SegmentConfig(
        {"url": "https://api.segmentapis.com/?X-Amz-Signature=abcd", "token": "[secret]"},
        frozenset({"token"}),
    )
    problems = problems_of(values, {"pendulaTokens", "pendulaApiToken"}, segment=segment)
    assert any(
        p.startswith(f"{P}pendulaApiUrl: the URL's query parameter 'api_key'") for p in problems
    )
    assert any(
        p.startswith("segment:url: the URL's query parameter 'X-Amz-Signature'") for p in problems
    )


def test_ordinary_values_are_not_mistaken_for_credentials() -> None:
    values = _with(
        f"{FL0}.customContext",
        {"tier": "Basic membership", "tokenCount": 3, "tokenType": "bearer-jwt-token"},
    )
    values = _with_value(values, f"{FL0}.data", {"key": {"@path": "$.properties.key"}, "n": 1})
    assert problems_of(values) == []


def _with_value(values: dict[str, Any], path: str, value: Any) -> dict[str, Any]:
    flow = values["destinations"][0]["flows"][0]
    flow[path.rsplit(".", 1)[1]] = value
    return values


@pytest.mark.parametrize(
    "key",
    ["segmnet:token", "Segment:token", "pendula:apiToken", "aws:secretKey", "acme:password",
     "myapp:X-Api-Key", "apiToken"],
)  # fmt: skip
def test_plaintext_credential_keys_in_any_namespace_are_refused(key: str) -> None:
    problems = problems_of(base(), other_keys=(key,))
    assert any(
        p.startswith(f"{key}: named like a credential and stored in plaintext") for p in problems
    )
    try:
        parse_stack_config(base(), SECRET, segment=SECRET_SEGMENT, other_keys=(key,),
                           other_secret_keys={key})  # fmt: skip
    except ConfigError as exc:
        assert not any("plaintext" in p for p in exc.problems)


def test_sandbox_stack_may_keep_throwaway_credentials_in_plain_keys() -> None:
    values = sandbox_values()
    values["destinations"][0]["flows"][0]["customContext"] = {"apiKey": PLAIN_CREDENTIAL}
    assert [
        p
        for p in problems_of(values, segment=LOCAL_SEGMENT, other_keys=("acme:apiToken",))
        if "credential" in p
    ] == []


def test_plaintext_credential_keys_are_refused_from_a_stack_file(tmp_path: Path) -> None:
    stack = tmp_path / "Pulumi.dev.yaml"
    stack.write_text(
        "config:\n"
        "  segmnet:token: sgmt-plain-0123456789\n"
        "  pendula:apiToken:\n"
        "    secure: AAABAKx\n"
    )
    document = read_stack_document(stack)
    assert document.other_secret_keys == frozenset({"pendula:apiToken"})
    problems = list(foreign_credential_problems(document.other_keys, document.other_secret_keys))
    assert [p.split(":", 2)[:2] for p in problems] == [["segmnet", "token"]]
    assert "sgmt-plain" not in "".join(problems)


@pytest.mark.parametrize(
    "host",
    ["10.0.0.1", "2130706433", "0x7f000001", "[::1]", "127.1", "*.pendula.app", "pendula..app"],
)
def test_allowed_hosts_refuse_addresses_wildcards_and_empty_labels(host: str) -> None:
    for key in ("allowedPendulaHosts", "allowedSegmentApiHosts"):
        values = base()
        values[key] = ["pendula.app", "api.segmentapis.com", host]
        problems = problems_of(values)
        assert any(p.startswith(f"{P}{key}: {host!r} ") for p in problems), (key, problems)


@pytest.mark.parametrize("key", ["apiKey", "Password", "x-auth-token", "client%5Fsecret"])
def test_a_type_error_under_a_credential_named_key_never_quotes_the_value(key: str) -> None:
    values = _with(f"{FL0}.token", {key: 918273645546372819})
    problems = problems_of(values)
    assert any(f"token.{key}" in p for p in problems), problems
    assert not any("918273645546372819" in p for p in problems)


@pytest.mark.parametrize(
    ("key", "value", "where"),
    [
        ("acme:settings", {"apiKey": PLAIN_CREDENTIAL}, "acme:settings.apiKey"),
        ("aws:endpoints", {"s3": "https://s3.example/?X-Amz-Signature=abcd"}, "aws:endpoints.s3"),
        ("segment-pendla:destinations", [{"auth": "Bearer " + PLAIN_CREDENTIAL}], "[0].auth"),
    ],
)
def test_credentials_inside_other_namespaces_values_are_refused(
    key: str, value: Any, where: str
) -> None:
    try:
        parse_stack_config(base(), SECRET, segment=SECRET_SEGMENT, other_keys=(key,),
                           other_values={key: value})  # fmt: skip
    except ConfigError as exc:
        problems = exc.problems
    else:
        problems = []
    assert any(p.startswith(key) and where in p for p in problems), problems
    assert not any(PLAIN_CREDENTIAL in p for p in problems)


def test_the_engine_shows_a_bad_triggers_caret_under_its_problem() -> None:
    """ConfigError's message is what `pulumi preview` prints: the caret block on indented
    lines under the problem, each part escaped."""
    with pytest.raises(ConfigError) as caught:
        parse_stack_config(_raw_trigger("type = track\x1b[2J"), SECRET)
    message = str(caught.value)
    assert message.startswith("1 problem in stack:\n  - ")
    assert (
        "', column 13: cannot read it: expected termination character after identifier" in message
    )
    assert message.endswith("\n      type = track\\x1b[2J\n                  ^^^^")
    assert "\x1b" not in message
