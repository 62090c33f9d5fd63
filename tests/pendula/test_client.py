"""The Pendula token API client: operations, retries, duplicate-create safety, error text."""

from __future__ import annotations

import time
import uuid
from typing import Any

import pytest

from components import __version__
from components.pendula.client import PendulaApiError, PendulaClient, RetryPolicy
from sandbox.server import SandboxServer, free_port
from tests.pendula.fake_token_api import FakeTokenApi
from tests.pendula.support import (
    Tenant,
    arm_fault,
    calls,
    last_seq,
    new_tenant,
    requests_since,
)

pytestmark = pytest.mark.timeout(60)

FAST = RetryPolicy(backoff_factor=0.01, backoff_jitter=0.01, read_timeout=0.5)


@pytest.fixture
def tenant(sandbox: SandboxServer) -> Tenant:
    return new_tenant(sandbox)


def client(tenant: Tenant, policy: RetryPolicy = FAST) -> PendulaClient:
    return PendulaClient(tenant.api_url, tenant.admin_token, policy)


def test_token_lifecycle(tenant: Tenant) -> None:
    """Create (text shown once), get, rename, deactivate twice, reactivate, unknown ids."""
    with client(tenant) as api:
        created = api.create_token("segment-orders", "Segment → orders")
        info = created.info
        assert (info.name, info.description, info.status, info.tenant_id) == (
            "segment-orders",
            "Segment → orders",
            "active",
            tenant.tenant_id,
        )
        assert created.token.startswith("pdl_")
        assert (created.attempts, created.replayed, created.deactivated_orphans) == (1, False, ())
        assert api.get_token(info.id) == info
        renamed = api.update_token(info.id, "orders", "")
        assert (renamed.name, renamed.description) == ("orders", "")
        first = api.deactivate_token(info.id)
        again = api.deactivate_token(info.id)
        assert first is not None and again is not None
        assert (first.status, again.status) == ("inactive", "inactive")
        assert api.reactivate_token(info.id).status == "active"
        assert api.get_token("no-such-token") is None
        assert api.deactivate_token("no-such-token") is None


def test_list_follows_the_cursor(sandbox: SandboxServer, tenant: Tenant) -> None:
    with client(tenant) as api:
        ids = [api.create_token(f"t{i}", "").info.id for i in range(3)]
        seq = last_seq(sandbox)
        assert [t.id for t in api.list_tokens(page_size=2)] == ids
    pages = calls(requests_since(sandbox, seq))
    assert pages == [("GET", "/api/v1/tokens", 200)] * 2


RETRIED = {
    "500": {"status": 500},
    "502": {"status": 502},
    "503": {"status": 503},
    "504": {"status": 504},
    "429": {"status": 429},
    "timeout": {"delay_ms": 1500},
    "dropped connection": {"drop_connection": True},
}


@pytest.mark.parametrize("fault", RETRIED.values(), ids=RETRIED.keys())
@pytest.mark.parametrize("method", ["GET", "PATCH", "POST"])
def test_transient_failures_are_retried(
    sandbox: SandboxServer, tenant: Tenant, fault: dict[str, Any], method: str
) -> None:
    """429, 5xx, timeouts and dropped connections: one more try, then success."""
    with client(tenant) as api:
        token_id = api.create_token("t", "").info.id
        arm_fault(sandbox, path_prefix="/api/v1/tokens", method=method, count=1, **fault)
        seq = last_seq(sandbox)
        started = time.monotonic()
        if method == "GET":
            assert api.get_token(token_id) is not None
        elif method == "PATCH":
            assert api.update_token(token_id, "renamed", "").name == "renamed"
        else:
            assert api.deactivate_token(token_id) is not None
        elapsed = time.monotonic() - started
    logged = calls(requests_since(sandbox, seq))
    path = f"/api/v1/tokens/{token_id}" + ("/deactivate" if method == "POST" else "")
    ok = ({"GET": 200, "PATCH": 200, "POST": 202})[method]
    if "delay_ms" in fault:
        # The timed-out attempt is cancelled with its connection and may never be logged.
        assert elapsed >= FAST.read_timeout
        assert logged[-1] == (method, path, ok)
    else:
        failed = 0 if fault.get("drop_connection") else fault["status"]
        assert logged == [(method, path, failed), (method, path, ok)]


@pytest.mark.parametrize("status", [400, 401, 403, 404, 409, 422])
def test_other_client_errors_are_not_retried(
    sandbox: SandboxServer, tenant: Tenant, status: int
) -> None:
    arm_fault(sandbox, path_prefix="/api/v1/tokens", count=2, status=status)
    seq = last_seq(sandbox)
    with client(tenant) as api, pytest.raises(PendulaApiError) as raised:
        api.update_token("t-1", "name", "")
    assert str(raised.value) == (
        f"Pendula API PATCH /api/v1/tokens/t-1 failed (HTTP {status}): "
        f"injected_fault: fault injected by /_sandbox/faults: status {status}"
    )
    assert raised.value.status == status
    assert len(requests_since(sandbox, seq)) == 1


def test_gives_up_after_the_policy_attempts(sandbox: SandboxServer, tenant: Tenant) -> None:
    arm_fault(sandbox, path_prefix="/api/v1/tokens", count=10, status=502)
    seq = last_seq(sandbox)
    policy = RetryPolicy(attempts=3, backoff_factor=0.01)
    failed = r"GET /api/v1/tokens/x failed \(HTTP 502\)"
    with client(tenant, policy) as api, pytest.raises(PendulaApiError, match=failed):
        api.get_token("x")
    assert calls(requests_since(sandbox, seq)) == [("GET", "/api/v1/tokens/x", 502)] * 3


def test_unreachable_server_is_named_without_credentials() -> None:
    url = f"http://127.0.0.1:{free_port()}/api/v1"
    with (
        PendulaClient(url, "pdla_secret-admin", RetryPolicy(attempts=2)) as api,
        pytest.raises(PendulaApiError) as raised,
    ):
        api.get_token("x")
    assert str(raised.value) == (
        "Pendula API GET /api/v1/tokens/x failed (no response): "
        "could not connect (gave up after 2 tries)"
    )


def test_retry_after_is_honoured(sandbox: SandboxServer, tenant: Tenant) -> None:
    arm_fault(sandbox, path_prefix="/api/v1/tokens", count=1, status=429, retry_after=1)
    started = time.monotonic()
    with client(tenant) as api:
        list(api.list_tokens())
    assert time.monotonic() - started >= 1.0


def test_retry_after_is_capped(sandbox: SandboxServer, tenant: Tenant) -> None:
    """A server asking for an hour's pause cannot park a deployment."""
    arm_fault(sandbox, path_prefix="/api/v1/tokens", count=1, status=503, retry_after=3600)
    started = time.monotonic()
    with client(tenant, RetryPolicy(retry_after_max=0.3)) as api:
        list(api.list_tokens())
    assert 0.3 <= time.monotonic() - started < 3


def test_admin_token_never_in_errors_or_reprs(tenant: Tenant) -> None:
    wrong = "pdla_not-the-admin-token"
    with PendulaClient(tenant.api_url, wrong, FAST) as api:
        with pytest.raises(PendulaApiError) as raised:
            api.create_token("t", "")
        assert wrong not in repr(api)
    assert str(raised.value) == (
        "Pendula API POST /api/v1/tokens failed (HTTP 401): "
        "unauthorized: the admin token is not valid for any tenant"
    )
    with client(tenant) as api:
        created = api.create_token("t", "")
    assert created.token not in repr(created)


def test_requests_carry_user_agent_and_one_idempotency_key() -> None:
    """Retried creates repeat the same key, so a server that honours it creates once."""
    with FakeTokenApi(["503", "ok"]) as fake, PendulaClient(fake.url, "adm", FAST) as api:
        api.create_token("t", "")
    posts = [headers for method, _, headers in fake.requests if method == "POST"]
    assert [h["User-Agent"] for h in posts] == [f"segment-pendula/{__version__}"] * 2
    keys = {h["Idempotency-Key"] for h in posts}
    assert len(keys) == 1 and uuid.UUID(keys.pop())


def test_replayed_create_needs_no_cleanup() -> None:
    """Server honours the key: the lost first answer is replayed, one token exists."""
    with (
        FakeTokenApi(["created-then-502"], honour_idempotency=True) as fake,
        PendulaClient(fake.url, "adm", FAST) as api,
    ):
        created = api.create_token("t", "d")
    assert (created.attempts, created.replayed, created.deactivated_orphans) == (2, True, ())
    assert [t["id"] for t in fake.tokens.values()] == [created.info.id]
    assert [m for m, _, _ in fake.requests] == ["POST", "POST"]


def test_lost_create_is_deactivated_when_the_server_ignores_the_key() -> None:
    """Server ignores the key: the first token's text is lost, so it must not stay active."""
    with (
        FakeTokenApi(["created-then-502", "ok"]) as fake,
        PendulaClient(fake.url, "adm", FAST) as api,
    ):
        created = api.create_token("t", "d")
    orphan = next(t["id"] for t in fake.tokens.values() if t["id"] != created.info.id)
    assert created.deactivated_orphans == (orphan,)
    assert {t["id"]: t["status"] for t in fake.tokens.values()} == {
        orphan: "inactive",
        created.info.id: "active",
    }


def test_failed_create_sweeps_what_got_created() -> None:
    """Every attempt created a token and failed: none of them may stay active."""
    with (
        FakeTokenApi(["created-then-502"] * 2) as fake,
        PendulaClient(fake.url, "adm", RetryPolicy(attempts=2, backoff_factor=0.01)) as api,
        pytest.raises(PendulaApiError, match=r"HTTP 502"),
    ):
        api.create_token("t", "d")
    assert [t["status"] for t in fake.tokens.values()] == ["inactive", "inactive"]


def test_sweep_spares_same_named_tokens_from_before() -> None:
    """A token of the same name and description from an earlier create is not ours."""
    with (
        FakeTokenApi(["ok", "created-then-502", "ok"]) as fake,
        PendulaClient(fake.url, "adm", FAST) as api,
    ):
        earlier = api.create_token("t", "d").info.id
        created = api.create_token("t", "d")
    assert fake.tokens[earlier]["status"] == "active"
    assert len(created.deactivated_orphans) == 1


@pytest.mark.parametrize("first", ["bystander-then-502", "503"])
def test_sweep_spares_a_bystander_created_during_the_ambiguous_window(first: str) -> None:
    """Someone creates a same-named token while our create is in doubt: only ours goes."""
    outcomes = [first, "bystander-then-502", "ok"] if first == "503" else [first, "ok"]
    with (
        FakeTokenApi(outcomes) as fake,
        PendulaClient(fake.url, "adm", FAST) as api,
    ):
        created = api.create_token("t", "d")
    ours = {t["id"] for t in fake.tokens.values() if t["idempotency_key"] == created_key(fake)}
    bystanders = [t for t in fake.tokens.values() if t["id"] not in ours]
    assert len(bystanders) == 1 and bystanders[0]["status"] == "active"
    assert bystanders[0]["name"] == "t" and bystanders[0]["description"] == "d"
    assert set(created.deactivated_orphans) == ours - {created.info.id}
    assert len(created.deactivated_orphans) == 1
    assert fake.tokens[created.info.id]["status"] == "active"


def test_failed_create_spares_a_bystander() -> None:
    """Every attempt failed; the sweep deactivates our tokens, never the bystander's."""
    with (
        FakeTokenApi(["bystander-then-502", "created-then-502"]) as fake,
        PendulaClient(fake.url, "adm", RetryPolicy(attempts=2, backoff_factor=0.01)) as api,
        pytest.raises(PendulaApiError, match=r"HTTP 502"),
    ):
        api.create_token("t", "d")
    key = created_key(fake)
    statuses = {t["idempotency_key"] == key: t["status"] for t in fake.tokens.values()}
    assert statuses == {True: "inactive", False: "active"}


def test_server_without_keys_gets_no_guesswork() -> None:
    """A server that neither replays nor records keys: nothing is deactivated by name."""
    with (
        FakeTokenApi(["bystander-then-502", "ok"], records_keys=False) as fake,
        PendulaClient(fake.url, "adm", FAST) as api,
    ):
        created = api.create_token("t", "d")
    assert created.deactivated_orphans == ()
    assert created.unidentified_orphans is True
    assert all(t["status"] == "active" for t in fake.tokens.values())


def created_key(fake: FakeTokenApi) -> str:
    """The Idempotency-Key our client sent (one per create call)."""
    keys = {h["Idempotency-Key"] for m, path, h in fake.requests if path == "/api/v1/tokens"}
    keys.discard("")
    assert len(keys) == 1
    return keys.pop()
