"""PendulaFlowToken through the real dynamic-provider host over gRPC, against the sandbox.

Proves what only the wire shows: pickling by reference, Configure-before-Check, full outputs
from Update, local Diff (zero HTTP calls), retries on create, and that no token leaks into a
non-secret field or the host's output. Call counts come from the sandbox's request log.
"""

from __future__ import annotations

import base64
import json
from typing import Any

import grpc
import pytest
from google.protobuf.json_format import MessageToDict
from pulumi.runtime.proto import provider_pb2

from components.pendula.flow_token import SECRET_OUTPUTS, fingerprint
from sandbox.server import SandboxServer
from tests.pendula.dynamic_host import DynamicHost
from tests.pendula.support import (
    Tenant,
    arm_fault,
    calls,
    deactivate,
    deliver,
    last_seq,
    new_flow,
    new_tenant,
    new_token,
    requests_since,
    tokens,
)

pytestmark = pytest.mark.timeout(120)

TOKENS = "/api/v1/tokens"


def managed_config(tenant: Tenant) -> dict[str, str]:
    return {
        "segment-pendula:pendulaApiUrl": tenant.api_url,
        "segment-pendula:pendulaApiToken": tenant.admin_token,
        # The sandbox's token API listens on loopback: only a sandbox stack may call it.
        "segment-pendula:sandbox": "true",
    }


def leaks(host: DynamicHost, secrets: list[str]) -> list[str]:
    """Every place outside the secret outputs (and the host's output) where a secret shows."""
    found = []
    for response in host.responses:
        body = MessageToDict(response)
        for field in ("inputs", "properties"):
            for key in SECRET_OUTPUTS:
                body.get(field, {}).pop(key, None)
        text = json.dumps(body)
        found += [f"{type(response).__name__}: {s[:6]}…" for s in secrets if s in text]
    for stream, text in (("stdout", host.stdout), ("stderr", host.stderr)):
        found += [f"{stream}: {s[:6]}…" for s in secrets if s in text]
    return found


def test_provided_mode_full_cycle_makes_no_http_calls(sandbox: SandboxServer) -> None:
    """Check → Create → Diff → Update → Read → Delete in provided mode; headers Pendula accepts."""
    tenant = new_tenant(sandbox)
    flow_url = new_flow(tenant)
    first, second = new_token(tenant, "ui-1"), new_token(tenant, "ui-2")
    start = last_seq(sandbox)
    with DynamicHost({"segment-pendula:sandbox": "true"}) as host:  # loopback flow URLs
        inputs = host.checked({"flow_url": flow_url, "token": first})
        assert (inputs["mode"], inputs["scheme"]) == ("provided", "bearer")
        id_, outs = host.create(inputs)
        flow_id = flow_url.rsplit("/", 1)[1]
        assert id_ == f"provided-{flow_id}"
        assert outs["authorization"] == f"Bearer {first}"
        assert outs["fingerprint"] == fingerprint(f"Bearer {first}")
        assert (outs["flow_id"], outs["flow_url"]) == (flow_id, flow_url)
        assert "token_id" not in outs and "status" not in outs  # None is not sent on the wire

        same = host.diff(id_, outs, host.checked({"flow_url": flow_url, "token": first}, inputs))
        assert same.changes == provider_pb2.DiffResponse.DIFF_NONE

        rotated = host.checked(
            {
                "flow_url": flow_url,
                "token": second,
                "scheme": "basic",
                "tenant_id": tenant.tenant_id,
            },
            inputs,
        )
        diff = host.diff(id_, outs, rotated)
        assert (diff.changes, list(diff.replaces)) == (provider_pb2.DiffResponse.DIFF_SOME, [])
        new_outs = host.update(id_, outs, rotated)
        basic = base64.b64encode(f"{tenant.tenant_id}:{second}".encode()).decode()
        assert new_outs["authorization"] == f"Basic {basic}"
        assert new_outs["fingerprint"] != outs["fingerprint"]
        assert new_outs["flow_id"] == flow_id  # full outputs, not just __provider

        read_id, read_outs = host.read(id_, new_outs, rotated)
        assert (read_id, read_outs["authorization"]) == (id_, f"Basic {basic}")
        host.delete(id_, new_outs)
    assert requests_since(sandbox, start) == []
    assert deliver(flow_url, outs["authorization"]) == 202
    assert deliver(flow_url, new_outs["authorization"]) == 202
    assert leaks(host, [first, second, basic, tenant.admin_token]) == []


def test_managed_mode_full_cycle(sandbox: SandboxServer) -> None:
    """The managed lifecycle against the token API, with the HTTP calls of each step."""
    tenant = new_tenant(sandbox)
    flow_url = new_flow(tenant)
    counts: dict[str, list[tuple[str, str, int]]] = {}
    with DynamicHost(managed_config(tenant)) as host:
        spec = {"flow_url": flow_url, "mode": "managed", "token_name": "segment-orders"}
        seq = last_seq(sandbox)
        inputs = host.checked(spec)
        id_, outs = host.create(inputs)
        counts["create"] = calls(requests_since(sandbox, seq))
        remote = tokens(tenant)
        assert [(t["id"], t["name"], t["description"], t["status"]) for t in remote] == [
            (id_, "segment-orders", "", "active")
        ]
        assert outs["token_id"] == id_ and outs["status"] == "active"
        assert outs["authorization"].startswith("Bearer pdl_")
        assert deliver(flow_url, outs["authorization"]) == 202
        token = outs["token"]

        seq = last_seq(sandbox)
        same = host.diff(id_, outs, host.checked(spec, inputs))
        counts["no-op diff"] = calls(requests_since(sandbox, seq))
        assert same.changes == provider_pb2.DiffResponse.DIFF_NONE

        renamed_spec = {**spec, "token_name": "orders", "token_description": "Segment → orders"}
        renamed = host.checked(renamed_spec, inputs)
        diff = host.diff(id_, outs, renamed)
        assert (diff.changes, list(diff.replaces)) == (provider_pb2.DiffResponse.DIFF_SOME, [])
        seq = last_seq(sandbox)
        new_outs = host.update(id_, outs, renamed)
        counts["update (rename)"] = calls(requests_since(sandbox, seq))
        assert (new_outs["token_name"], new_outs["token_description"]) == (
            "orders",
            "Segment → orders",
        )
        assert new_outs["authorization"] == outs["authorization"]  # same token, kept in state

        basic_spec = {**renamed_spec, "scheme": "basic"}
        basic_inputs = host.checked(basic_spec, renamed)
        seq = last_seq(sandbox)
        basic_outs = host.update(id_, new_outs, basic_inputs)
        counts["update (scheme only)"] = calls(requests_since(sandbox, seq))
        credentials = base64.b64encode(f"{tenant.tenant_id}:{token}".encode()).decode()
        assert basic_outs["authorization"] == f"Basic {credentials}"
        assert basic_outs["tenant_id"] == tenant.tenant_id
        assert deliver(flow_url, basic_outs["authorization"]) == 202

        seq = last_seq(sandbox)
        read_id, read_outs = host.read(id_, basic_outs, basic_inputs)
        counts["read"] = calls(requests_since(sandbox, seq))
        assert read_id == id_ and read_outs == basic_outs

        deactivate(tenant, id_)  # out of band, e.g. by someone who suspects a leak
        _, drifted = host.read(id_, basic_outs, basic_inputs)
        assert drifted["status"] == "inactive"
        replace = host.diff(id_, drifted, basic_inputs)
        assert list(replace.replaces) == ["status"]
        assert replace.deleteBeforeReplace is False

        seq = last_seq(sandbox)
        host.delete(id_, drifted)
        counts["delete"] = calls(requests_since(sandbox, seq))
        host.delete("no-such-token", drifted)  # already gone counts as deleted
        gone_id, gone = host.read("no-such-token", drifted, basic_inputs)
        assert (gone_id, set(gone)) == ("", {"__provider"})  # empty id: gone from state
    assert [t["status"] for t in tokens(tenant)] == ["inactive"]
    assert counts == {
        # Create and read list the tokens once: a create an earlier run gave up on, finished
        # by the server afterwards, is found by its idempotency key (and deactivated).
        "create": [("GET", TOKENS, 200), ("POST", TOKENS, 201)],
        "no-op diff": [],
        "update (rename)": [("PATCH", f"{TOKENS}/{id_}", 200)],
        "update (scheme only)": [],
        "read": [("GET", f"{TOKENS}/{id_}", 200), ("GET", TOKENS, 200)],
        "delete": [("POST", f"{TOKENS}/{id_}/deactivate", 202)],
    }
    assert leaks(host, [token, credentials, tenant.admin_token]) == []


FAULTS = {
    "500": {"status": 500},
    "502": {"status": 502},
    "503": {"status": 503},
    "429 with Retry-After": {"status": 429, "retry_after": 1},
    "timeout": {"delay_ms": 1500},
    "dropped connection": {"drop_connection": True},
}


@pytest.mark.parametrize("fault", FAULTS.values(), ids=FAULTS.keys())
def test_create_survives_one_fault_with_exactly_one_token(
    sandbox: SandboxServer, fault: dict[str, Any]
) -> None:
    """A failed first attempt is retried; the tenant ends with one active token, ours."""
    tenant = new_tenant(sandbox)
    flow_url = new_flow(tenant)
    arm_fault(sandbox, path_prefix=TOKENS, method="POST", count=1, **fault)
    seq = last_seq(sandbox)
    env = {"PENDULA_API_TIMEOUT_SECONDS": "0.5"}
    with DynamicHost(managed_config(tenant), env) as host:
        inputs = host.checked({"flow_url": flow_url, "mode": "managed", "token_name": "t"})
        id_, outs = host.create(inputs)
    # The list call for an earlier run's late create, the failed attempt (never logged for a
    # timeout: the sandbox cancels it with its connection), the retry, and, when the failure
    # may have hidden a create, one list call to find and deactivate a token whose text was
    # lost.
    failed = [] if "delay_ms" in fault else [("POST", TOKENS, fault.get("status", 0))]
    ambiguous = fault.get("status") not in (429, 503)
    sweep = [("GET", TOKENS, 200)] if ambiguous else []
    expected = [("GET", TOKENS, 200), *failed, ("POST", TOKENS, 201), *sweep]
    assert calls(requests_since(sandbox, seq)) == expected
    assert [(t["id"], t["status"]) for t in tokens(tenant)] == [(id_, "active")]
    assert deliver(flow_url, outs["authorization"]) == 202
    assert leaks(host, [outs["token"], tenant.admin_token]) == []


def test_create_that_keeps_failing_reports_the_call_not_the_token(sandbox: SandboxServer) -> None:
    """After the last attempt the engine gets one clear error; nothing is left behind."""
    tenant = new_tenant(sandbox)
    flow_url = new_flow(tenant)
    arm_fault(sandbox, path_prefix=TOKENS, method="POST", count=5, status=503)
    with DynamicHost(managed_config(tenant)) as host:
        inputs = host.checked({"flow_url": flow_url, "mode": "managed", "token_name": "t"})
        with pytest.raises(grpc.RpcError) as raised:
            host.create(inputs)
    assert raised.value.code() == grpc.StatusCode.UNKNOWN
    assert (
        raised.value.details()
        .rstrip()
        .endswith(
            "PendulaApiError: Pendula API POST /api/v1/tokens failed (HTTP 503): "
            "injected_fault: fault injected by /_sandbox/faults: status 503"
        )
    )
    assert tenant.admin_token not in raised.value.details() + host.stdout + host.stderr
    assert tokens(tenant) == []


CHECK_FAILURES = {
    "bad url": (
        {"flow_url": "https://pendula.app/webhook/outbound/x", "token": "t"},
        [
            (
                "flow_url",
                "'https://pendula.app/webhook/outbound/x' is not a Pendula webhook trigger URL"
                " (the path must be /webhook/inbound/<uuid>, as"
                " Pendula shows it under 'Configure Webhook trigger URL')",
            )
        ],
    ),
    "bad token": (
        {"flow_url": "https://pendula.app/webhook/inbound/{uuid}", "token": "s3cr3t value"},
        [
            (
                "token",
                "must be non-empty visible ASCII without spaces (value not shown: it is secret)",
            )
        ],
    ),
    "bad mode and scheme": (
        {
            "flow_url": "https://pendula.app/webhook/inbound/{uuid}",
            "mode": "auto",
            "token": "t",
            "scheme": "digest",
        },
        [
            ("mode", "'auto' is not allowed (allowed: provided, managed)"),
            ("scheme", "'digest' is not allowed (allowed: bearer, basic)"),
        ],
    ),
    "managed without API config": (
        {
            "flow_url": "https://pendula.app/webhook/inbound/{uuid}",
            "mode": "managed",
            "token_name": "t",
        },
        [
            (
                "mode",
                "'managed' needs the Pendula token API: set segment-pendula:pendulaApiUrl and"
                " (as a secret) segment-pendula:pendulaApiToken",
            )
        ],
    ),
}


@pytest.mark.parametrize("news, expected", CHECK_FAILURES.values(), ids=CHECK_FAILURES.keys())
def test_check_failures_name_the_property(
    news: dict[str, str], expected: list[tuple[str, str]]
) -> None:
    """The engine shows these as `<urn>: property <name>: <reason>` before anything is created."""
    flow = "0f8fad5b-d9cb-469f-a165-70867728950e"
    news = {k: v.replace("{uuid}", flow) for k, v in news.items()}
    with DynamicHost({}) as host:
        response = host.check(news)
    assert [(f.property, f.reason) for f in response.failures] == expected
    assert leaks(host, ["s3cr3t"]) == []
