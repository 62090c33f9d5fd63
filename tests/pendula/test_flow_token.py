"""PendulaFlowTokenProvider called directly: validation, headers, local diff, managed CRUD."""

from __future__ import annotations

import base64
import hashlib
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from pulumi.dynamic import Config, ConfigureRequest
from pulumi.dynamic.dynamic import serialize_provider
from pulumi.output import Unknown
from pulumi.runtime._serialization import _serialize

from components.pendula.client import PendulaApiError, RetryPolicy
from components.pendula.flow_token import (
    PendulaFlowTokenProvider,
    PendulaTokenError,
    authorization_header,
    fingerprint,
)
from sandbox.server import SandboxServer
from tests.pendula.fake_token_api import FakeTokenApi
from tests.pendula.support import Tenant, new_flow, new_tenant, tokens

pytestmark = pytest.mark.timeout(60)

FLOW = "0f8fad5b-d9cb-469f-a165-70867728950e"
URL = f"https://pendula.app/webhook/inbound/{FLOW}"


def configured(tenant: Tenant | None = None) -> PendulaFlowTokenProvider:
    provider = PendulaFlowTokenProvider()
    raw = {}
    if tenant is not None:
        raw = {
            "segment-pendula:pendulaApiUrl": tenant.api_url,
            "segment-pendula:pendulaApiToken": tenant.admin_token,
            "segment-pendula:sandbox": "true",
        }
    provider.configure(ConfigureRequest(Config(raw, "segment-pendula")))
    return provider


def checked(provider: PendulaFlowTokenProvider, news: dict[str, Any]) -> dict[str, Any]:
    result = provider.check({}, news)
    assert [(f.property, f.reason) for f in result.failures] == []
    return dict(result.inputs)


def failures(news: dict[str, Any], provider: PendulaFlowTokenProvider | None = None) -> list[Any]:
    result = (provider or configured()).check({}, news)
    return [(f.property, f.reason) for f in result.failures]


def test_headers_follow_pendulas_two_formats() -> None:
    """Bearer <token>, or Basic base64(<tenant id>:<token>) (pendula.md §1.2)."""
    assert authorization_header("bearer", "pdl_abc") == "Bearer pdl_abc"
    assert authorization_header("basic", "pdl_abc", "tenant-1") == (
        "Basic " + base64.b64encode(b"tenant-1:pdl_abc").decode()
    )
    assert fingerprint("Bearer pdl_abc") == hashlib.sha256(b"Bearer pdl_abc").hexdigest()[:12]
    with pytest.raises(PendulaTokenError, match=r"^tenant_id: required with scheme 'basic'"):
        authorization_header("basic", "pdl_abc")


def test_check_fills_defaults_and_normalises() -> None:
    inputs = checked(
        configured(),
        {
            "flow_url": f"HTTPS://Pendula.App/webhook/inbound/{FLOW}",
            "mode": " Provided",
            "scheme": "BASIC",
            "token": "pdl_abc",
            "tenant_id": "tenant-1",
            "token_name": "ignored in provided mode",
        },
    )
    assert inputs == {
        "flow_url": URL,
        "mode": "provided",
        "scheme": "basic",
        "token": "pdl_abc",
        "tenant_id": "tenant-1",
    }


def test_check_trims_managed_names_like_pendula(sandbox: SandboxServer) -> None:
    provider = configured(new_tenant(sandbox))
    inputs = checked(provider, {"flow_url": URL, "mode": "managed", "token_name": " orders "})
    assert (inputs["token_name"], inputs["token_description"]) == ("orders", "")


CHECK_FAILURES: dict[str, tuple[dict[str, Any], list[tuple[str, str]]]] = {
    "no url": ({"token": "t"}, [("flow_url", "required: the flow's webhook trigger POST URL")]),
    "http off loopback": (
        {"flow_url": URL.replace("https", "http"), "token": "t"},
        [
            (
                "flow_url",
                f"'{URL.replace('https', 'http')}' must be https"
                " (http only on 127.0.0.1/localhost, for the sandbox)",
            )
        ],
    ),
    "query": (
        {"flow_url": URL + "?x=1", "token": "t"},
        [("flow_url", f"'{URL}?x=1' must not carry a query, fragment or credentials")],
    ),
    "not a uuid": (
        {"flow_url": "https://pendula.app/webhook/inbound/flow-1", "token": "t"},
        [
            (
                "flow_url",
                "'https://pendula.app/webhook/inbound/flow-1' is not a Pendula webhook trigger"
                " URL (the path must be /webhook/inbound/<uuid>, as"
                " Pendula shows it under 'Configure Webhook trigger URL')",
            )
        ],
    ),
    "provided without token": (
        {"flow_url": URL},
        [("token", "required with mode 'provided' (the API token from Pendula's UI)")],
    ),
    "non-ascii token": (
        {"flow_url": URL, "token": "pdl_ü"},
        [
            (
                "token",
                "must be non-empty visible ASCII without spaces (value not shown: it is secret)",
            )
        ],
    ),
    "basic without tenant": (
        {"flow_url": URL, "token": "t", "scheme": "basic"},
        [("tenant_id", "required with scheme 'basic' (the Basic user name, the tenant id)")],
    ),
    "tenant with colon": (
        {"flow_url": URL, "token": "t", "scheme": "basic", "tenant_id": "a:b"},
        [
            (
                "tenant_id",
                "'a:b' is not allowed: it must be non-empty visible ASCII without ':', spaces or "
                "line breaks (it becomes the Basic user name)",
            )
        ],
    ),
    "tenant with bearer": (
        {"flow_url": URL, "token": "t", "tenant_id": "x"},
        [("tenant_id", "'x' is only used with scheme 'basic'")],
    ),
    "managed with token": (
        {"flow_url": URL, "mode": "managed", "token": "t", "token_name": "n"},
        [("token", "not allowed with mode 'managed' (Pendula's API creates the token)")],
    ),
    "managed name too long": (
        {"flow_url": URL, "mode": "managed", "token_name": "n" * 101},
        [("token_name", "is 101 characters long (at most 100)")],
    ),
    "managed name blank": (
        {"flow_url": URL, "mode": "managed", "token_name": "  "},
        [("token_name", "must not be empty")],
    ),
}


@pytest.mark.parametrize("news, expected", CHECK_FAILURES.values(), ids=CHECK_FAILURES.keys())
def test_check_failures(news: dict[str, Any], expected: list[tuple[str, str]]) -> None:
    provider = configured()
    if news.get("mode") == "managed":
        provider = PendulaFlowTokenProvider()
        provider.configure(
            ConfigureRequest(
                Config(
                    {
                        "segment-pendula:pendulaApiUrl": "http://127.0.0.1:9/api/v1",
                        "segment-pendula:pendulaApiToken": "adm",
                        "segment-pendula:sandbox": "true",
                    },
                    "segment-pendula",
                )
            )
        )
    assert failures(news, provider) == expected


def test_check_passes_unknowns_through() -> None:
    """During preview an input computed elsewhere is unknown; it is checked on the real run."""
    result = configured().check({}, {"flow_url": Unknown(), "token": Unknown()})
    assert result.failures == []
    assert isinstance(result.inputs["flow_url"], Unknown)


OLD = {
    "flow_url": URL,
    "mode": "provided",
    "scheme": "bearer",
    "token": "pdl_a",
    "authorization": "Bearer pdl_a",
    "fingerprint": fingerprint("Bearer pdl_a"),
    "flow_id": FLOW,
}
NEW = {"flow_url": URL, "mode": "provided", "scheme": "bearer", "token": "pdl_a"}
OTHER_URL = "https://pendula.app/webhook/inbound/7c9e6679-7425-40de-944b-e07fc1f90ae7"
DIFFS: dict[str, tuple[dict[str, Any], dict[str, Any], bool, list[str]]] = {
    "nothing": (OLD, NEW, False, []),
    "token": (OLD, {**NEW, "token": "pdl_b"}, True, []),
    "scheme": (OLD, {**NEW, "scheme": "basic", "tenant_id": "t"}, True, []),
    "flow url": (OLD, {**NEW, "flow_url": OTHER_URL}, True, ["flow_url"]),
    "mode": (OLD, {**NEW, "mode": "managed", "token_name": "n"}, True, ["mode"]),
    "unknown url": (OLD, {**NEW, "flow_url": Unknown()}, True, ["flow_url"]),
    "managed rename": (
        {
            **OLD,
            "mode": "managed",
            "token_name": "a",
            "token_description": "",
            "status": "active",
            "tenant_id": "t1",
            "token": "pdl_x",
        },
        {
            "flow_url": URL,
            "mode": "managed",
            "scheme": "bearer",
            "token_name": "b",
            "token_description": "",
        },
        True,
        [],
    ),
    "managed unchanged": (
        {
            **OLD,
            "mode": "managed",
            "token_name": "a",
            "token_description": "",
            "status": "active",
            "tenant_id": "t1",
            "token": "pdl_x",
        },
        {
            "flow_url": URL,
            "mode": "managed",
            "scheme": "bearer",
            "token_name": "a",
            "token_description": "",
        },
        False,
        [],
    ),
    "managed deactivated out of band": (
        {
            **OLD,
            "mode": "managed",
            "token_name": "a",
            "token_description": "",
            "status": "inactive",
            "tenant_id": "t1",
            "token": "pdl_x",
        },
        {
            "flow_url": URL,
            "mode": "managed",
            "scheme": "bearer",
            "token_name": "a",
            "token_description": "",
        },
        True,
        ["status"],
    ),
}


@pytest.mark.parametrize("olds, news, changes, replaces", DIFFS.values(), ids=DIFFS.keys())
def test_diff_is_local_and_replaces_only_for_a_new_credential(
    olds: dict[str, Any], news: dict[str, Any], changes: bool, replaces: list[str]
) -> None:
    result = configured().diff("id", olds, news)
    assert (result.changes, result.replaces, result.delete_before_replace) == (
        changes,
        replaces,
        False,
    )


def test_credentials_are_never_on_the_provider(sandbox: SandboxServer) -> None:
    """Whatever is on the provider is pickled into `__provider` and so into state."""
    tenant = new_tenant(sandbox)
    provider = configured(tenant)
    serialized, contains_secrets = _serialize(True, serialize_provider, provider)
    assert vars(provider) == {}
    assert contains_secrets is False
    assert tenant.admin_token not in base64.b64decode(serialized).decode("latin-1")


def test_environment_overrides_stack_config(
    sandbox: SandboxServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    tenant = new_tenant(sandbox)
    monkeypatch.setenv("PENDULA_API_URL", tenant.api_url)
    monkeypatch.setenv("PENDULA_API_TOKEN", tenant.admin_token)
    provider = PendulaFlowTokenProvider()  # no API settings in the stack config at all
    sandbox_only = {"segment-pendula:sandbox": "true"}  # the flow URL is on loopback
    provider.configure(ConfigureRequest(Config(sandbox_only, "segment-pendula")))
    inputs = checked(provider, {"flow_url": new_flow(tenant), "mode": "managed", "token_name": "n"})
    result = provider.create(inputs)
    assert [t["id"] for t in tokens(tenant)] == [result.id]


def test_managed_without_credentials_fails_clearly(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("PENDULA_API_URL", raising=False)
    monkeypatch.delenv("PENDULA_API_TOKEN", raising=False)
    inputs = {"flow_url": URL, "mode": "managed", "scheme": "bearer", "token_name": "n"}
    with pytest.raises(PendulaTokenError) as raised:
        configured().create(inputs)
    assert str(raised.value) == (
        "mode: 'managed' needs segment-pendula:pendulaApiUrl and segment-pendula:pendulaApiToken"
        " (or PENDULA_API_URL/PENDULA_API_TOKEN)"
    )


def test_managed_tenant_mismatch_leaves_no_active_token(sandbox: SandboxServer) -> None:
    tenant = new_tenant(sandbox)
    provider = configured(tenant)
    inputs = checked(
        provider,
        {
            "flow_url": new_flow(tenant),
            "mode": "managed",
            "scheme": "basic",
            "tenant_id": "someone-else",
            "token_name": "n",
        },
    )
    with pytest.raises(PendulaTokenError) as raised:
        provider.create(inputs)
    assert str(raised.value) == (
        f"tenant_id: 'someone-else' is not the tenant of the Pendula API credential"
        f" ('{tenant.tenant_id}'); leave tenant_id unset in managed mode"
    )
    assert [t["status"] for t in tokens(tenant)] == ["inactive"]


def test_update_returns_full_outputs(sandbox: SandboxServer) -> None:
    """The default update would drop every output but `__provider` (DESIGN traps)."""
    tenant = new_tenant(sandbox)
    provider = configured(tenant)
    inputs = checked(provider, {"flow_url": new_flow(tenant), "mode": "managed", "token_name": "a"})
    created = provider.create(inputs)
    news = {**inputs, "token_name": "b"}
    outs = provider.update(created.id, created.outs, news).outs
    assert outs is not None and created.outs is not None
    assert set(outs) == set(created.outs)
    assert {k: v for k, v in outs.items() if v != created.outs[k]} == {"token_name": "b"}


# --- defence in depth: the admin token goes only where the stack config's rule allows ---------


class _Recorder:
    """A stand-in for the network: any request at all fails the test."""

    def __init__(self) -> None:
        self.calls: list[str] = []

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        self.calls.append(str(args[:2]))
        raise AssertionError("the admin token must not be sent")


@pytest.mark.parametrize(
    ("config", "why"),
    [
        ({"segment-pendula:pendulaApiUrl": "https://pendula.app.evil.net/api/v1"}, "its host"),
        ({"segment-pendula:pendulaApiUrl": "http://pendula.app/api/v1"}, "it is not https"),
        ({"segment-pendula:pendulaApiUrl": "https://pendula.app:8443/api/v1"}, "port 8443"),
        ({"segment-pendula:pendulaApiUrl": "https://u:p@pendula.app/api/v1"}, "user info"),
        ({"segment-pendula:pendulaApiUrl": "http://127.0.0.1:9/api/v1"}, "sandbox is true"),
        (
            {
                "segment-pendula:pendulaApiUrl": "https://tokens.example.com/api/v1",
                "segment-pendula:allowedPendulaHosts": '["pendula.app"]',
            },
            "its host",
        ),
    ],
)
def test_admin_token_is_never_sent_to_a_refused_endpoint(
    config: dict[str, str], why: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("PENDULA_API_URL", raising=False)
    monkeypatch.delenv("PENDULA_API_TOKEN", raising=False)
    recorder = _Recorder()
    monkeypatch.setattr("requests.Session.request", recorder)
    provider = PendulaFlowTokenProvider()
    raw = {**config, "segment-pendula:pendulaApiToken": "adm-secret-token"}
    provider.configure(ConfigureRequest(Config(raw, "segment-pendula")))
    news = {"flow_url": URL, "mode": "managed", "token_name": "n"}
    (failure,) = failures(news, provider)
    assert failure[0] == "mode" and why in failure[1]
    inputs = {**news, "scheme": "bearer", "token_description": ""}
    for operation in (
        lambda: provider.create(inputs),
        lambda: provider.read("id-1", {**inputs, "token": "t"}),
        lambda: provider.delete("id-1", inputs),
    ):
        with pytest.raises(PendulaTokenError, match=why) as raised:
            operation()
        assert "adm-secret-token" not in str(raised.value) and ":p@" not in str(raised.value)
    assert recorder.calls == []


def test_environment_url_is_held_to_the_same_hosts(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PENDULA_API_URL", "https://pendula.app.evil.net/api/v1")
    monkeypatch.setenv("PENDULA_API_TOKEN", "adm-secret-token")
    monkeypatch.setattr("requests.Session.request", _Recorder())
    inputs = {"flow_url": URL, "mode": "managed", "scheme": "bearer", "token_name": "n"}
    with pytest.raises(PendulaTokenError, match="its host is not allowed"):
        configured().create(inputs)


@pytest.mark.parametrize(
    ("url", "why"),
    [
        ("https://pendula.app.evil.net/webhook/inbound/" + FLOW, "its host is not allowed"),
        ("https://pendula.app:8443/webhook/inbound/" + FLOW, "it names port 8443"),
        ("http://127.0.0.1:8787/webhook/inbound/" + FLOW, "only when sandbox is true"),
    ],
)
def test_flow_url_is_held_to_the_stack_configs_rule(url: str, why: str) -> None:
    provider = PendulaFlowTokenProvider()
    provider.configure(ConfigureRequest(Config({}, "segment-pendula")))
    (failure,) = failures({"flow_url": url, "token": "pdl_t"}, provider)
    assert failure[0] == "flow_url" and why in failure[1]


def test_an_orphan_it_cannot_identify_is_reported_as_a_warning(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A server without idempotency keys: the create succeeds, nothing is deactivated by
    guesswork, and the user is told to look (the engine shows pulumi.log warnings)."""
    warnings: list[str] = []
    monkeypatch.setattr("pulumi.log.warn", lambda message, *_, **__: warnings.append(message))
    monkeypatch.setenv("PENDULA_API_TIMEOUT_SECONDS", "5")
    with FakeTokenApi(["bystander-then-502", "ok"], records_keys=False) as fake:
        provider = configured(Tenant("t1", "adm", fake.url))
        inputs = checked(provider, {"flow_url": URL, "mode": "managed", "token_name": "welcome"})
        provider.create(inputs)
    (warning,) = warnings
    assert warning.startswith("Pendula token 'welcome': an earlier attempt of this create")
    assert "adm" not in warning.split("'welcome'")[1]
    assert all(t["status"] == "active" for t in fake.tokens.values())


@pytest.mark.parametrize(
    "hosts",
    ['["127.0.0.1"]', '["0x7f000001"]', '["[::1]"]', '["*.evil.net"]', '["evil..net"]', "{}"],
)
def test_invalid_allowed_hosts_stop_the_admin_token_at_run_time(
    hosts: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The engine hands the provider whatever the stack holds; an address or wildcard in
    allowedPendulaHosts never becomes a place the admin token may go."""
    monkeypatch.delenv("PENDULA_API_URL", raising=False)
    monkeypatch.delenv("PENDULA_API_TOKEN", raising=False)
    recorder = _Recorder()
    monkeypatch.setattr("requests.Session.request", recorder)
    provider = PendulaFlowTokenProvider()
    raw = {
        "segment-pendula:pendulaApiUrl": "https://127.0.0.1/api/v1",
        "segment-pendula:pendulaApiToken": "adm-secret-token",
        "segment-pendula:allowedPendulaHosts": hosts,
    }
    provider.configure(ConfigureRequest(Config(raw, "segment-pendula")))
    inputs = {"flow_url": URL, "mode": "managed", "scheme": "bearer", "token_name": "n"}
    with pytest.raises(PendulaTokenError, match="allowed hosts are invalid"):
        provider.create(inputs)
    assert recorder.calls == []


# --- a create the server finished after the client gave up ----------------------------------


@dataclass(frozen=True)
class _QuickPolicy(RetryPolicy):
    """Two tries, no backoff: the late-create tests stay fast."""

    attempts: int = 2
    backoff_factor: float = 0.0
    backoff_jitter: float = 0.0


@pytest.mark.parametrize("honour_idempotency", [False, True], ids=["no replay", "replay"])
def test_a_create_finished_after_the_timeout_is_deactivated_by_the_next_up(
    honour_idempotency: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    warnings: list[str] = []
    monkeypatch.setattr("pulumi.log.warn", lambda message, *_, **__: warnings.append(message))
    monkeypatch.setattr("components.pendula.flow_token.RetryPolicy", _QuickPolicy)
    monkeypatch.setenv("PENDULA_API_TIMEOUT_SECONDS", "0.3")
    outcomes = ["late", "late"]  # both tries time out; the server finishes each one later
    with FakeTokenApi(outcomes, honour_idempotency, late_seconds=0.8) as fake:
        provider = configured(Tenant("t1", "adm-secret", fake.url))
        inputs = checked(provider, {"flow_url": URL, "mode": "managed", "token_name": "welcome"})
        with pytest.raises(PendulaApiError, match="timed out"):
            provider.create(inputs)  # the first `up` fails: nothing is in state
        _wait_for(lambda: len(fake.tokens) == len(outcomes))
        late = [t["id"] for t in fake.tokens.values() if t["status"] == "active"]
        assert late, "the server finished the create after the client gave up"

        result = provider.create(inputs)  # the next `up`

    active = [t for t in fake.tokens.values() if t["status"] == "active"]
    assert [t["id"] for t in active] == [result.id], "exactly one active token: the new one"
    assert all(fake.tokens[token_id]["status"] == "inactive" for token_id in late)
    (warning,) = warnings
    assert warning.startswith("Pendula token 'welcome': an earlier create of this token timed out")
    assert all(token_id in warning for token_id in late)
    assert "adm-secret" not in warning


def test_a_late_token_of_another_resource_or_person_is_never_touched(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr("pulumi.log.warn", lambda *_, **__: None)
    monkeypatch.setattr("components.pendula.flow_token.RetryPolicy", _QuickPolicy)
    monkeypatch.setenv("PENDULA_API_TIMEOUT_SECONDS", "0.3")
    with FakeTokenApi(["late", "late"], late_seconds=0.8) as fake:
        provider = configured(Tenant("t1", "adm", fake.url))
        other = checked(provider, {"flow_url": URL, "mode": "managed", "token_name": "other"})
        with pytest.raises(PendulaApiError):
            provider.create(other)
        _wait_for(lambda: len(fake.tokens) == 2)
        fake._insert({"name": "welcome", "description": ""}, "someone-elses-key")
        mine = checked(provider, {"flow_url": URL, "mode": "managed", "token_name": "welcome"})
        provider.create(mine)
    assert sum(t["status"] == "active" for t in fake.tokens.values()) == 4


def test_a_refresh_finds_a_late_token_beside_the_one_in_state(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The retry succeeded, and the first try's create finished only afterwards."""
    warnings: list[str] = []
    monkeypatch.setattr("pulumi.log.warn", lambda message, *_, **__: warnings.append(message))
    monkeypatch.setattr("components.pendula.flow_token.RetryPolicy", _QuickPolicy)
    monkeypatch.setenv("PENDULA_API_TIMEOUT_SECONDS", "0.3")
    with FakeTokenApi(["late", "ok"], late_seconds=0.8) as fake:
        provider = configured(Tenant("t1", "adm", fake.url))
        inputs = checked(provider, {"flow_url": URL, "mode": "managed", "token_name": "welcome"})
        result = provider.create(inputs)
        fake.late_done.wait(5)
        provider.read(result.id, {**inputs, **result.outs})
    active = [t["id"] for t in fake.tokens.values() if t["status"] == "active"]
    assert active == [result.id]
    assert len(warnings) == 1


def _wait_for(condition: Callable[[], bool], seconds: float = 5.0) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "the fake token API never finished its late create"
        time.sleep(0.02)
