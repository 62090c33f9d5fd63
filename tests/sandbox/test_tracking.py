"""Segment's data plane on the sandbox: intake -> trigger -> render -> delivery to Pendula."""

from __future__ import annotations

import gzip
import hashlib
import hmac
import json
import sqlite3
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import requests
from segment.analytics.client import Client

from sandbox.server import SandboxServer, free_port
from sandbox.settings import SandboxSettings
from tests.sandbox.segment_helpers import TIMEOUT, SegmentWorkspace

SHARED_SECRET = "segment-shared-secret-value"
FAST = {"delivery_retry_base_seconds": 0.05, "subscription_writes_per_minute": 0}


@dataclass
class Pipeline:
    """A source with a Webhooks (Actions) destination, and an active Pendula flow + token."""

    server: SandboxServer
    workspace: SegmentWorkspace
    source: dict[str, Any]
    destination: dict[str, Any]
    admin: dict[str, str]
    flow: dict[str, Any]
    token: str

    @property
    def write_key(self) -> str:
        key: str = self.source["writeKeys"][0]
        return key

    def mapping(self, token: str | None = None, **overrides: Any) -> dict[str, Any]:
        settings = {
            "url": self.flow["webhook_url"],
            "method": "POST",
            "batch_size": 0,
            "headers": {"Authorization": f"Bearer {token or self.token}"},
            "data": {"@path": "$."},
            "enable_batching": False,
        }
        return {**settings, **overrides}

    def subscribe(self, trigger: str, enabled: bool = True, **mapping: Any) -> str:
        created = self.workspace.subscription(
            self.destination["id"], self.mapping(**mapping), trigger=trigger, enabled=enabled
        )
        subscription_id: str = created["id"]
        return subscription_id

    def track(self, event: str, **fields: Any) -> str:
        message_id = fields.pop("messageId", f"msg-{time.monotonic_ns()}")
        body = {"userId": "SA-42", "event": event, "messageId": message_id, **fields}
        response = requests.post(
            f"{self.server.url}/v1/track", json=body, auth=(self.write_key, ""), timeout=TIMEOUT
        )
        assert response.status_code == 200, response.text
        assert response.json() == {"success": True}
        return str(message_id)

    def drain(self) -> None:
        response = requests.post(
            f"{self.server.url}/_sandbox/segment/drain", params={"timeout": 20}, timeout=30
        )
        assert response.status_code == 200, response.text

    def attempts(self, **params: str) -> list[dict[str, Any]]:
        response = requests.get(
            f"{self.server.url}/_sandbox/segment/deliveries", params=params, timeout=TIMEOUT
        )
        items: list[dict[str, Any]] = response.json()["items"]
        return items

    def outcome(self, message_id: str) -> list[dict[str, Any]]:
        response = requests.get(
            f"{self.server.url}/_sandbox/segment/events",
            params={"message_id": message_id},
            timeout=TIMEOUT,
        )
        (event,) = response.json()["items"]
        mappings: list[dict[str, Any]] = event["mappings"]
        return mappings

    def experiences(self) -> list[dict[str, Any]]:
        response = requests.get(
            f"{self.server.url}/api/v1/flows/{self.flow['id']}/experiences",
            headers=self.admin,
            timeout=TIMEOUT,
        )
        assert response.status_code == 200, response.text
        items: list[dict[str, Any]] = response.json()["items"]
        return items

    def fault(self, **spec: Any) -> None:
        response = requests.post(f"{self.server.url}/_sandbox/faults", json=spec, timeout=TIMEOUT)
        assert response.status_code in {200, 201}, response.text


def pipeline(server: SandboxServer, shared_secret: str | None = SHARED_SECRET) -> Pipeline:
    workspace = SegmentWorkspace(server)
    source = workspace.source()
    settings = {"sharedSecret": shared_secret} if shared_secret else {}
    destination = workspace.destination(source["id"], settings)
    tenant = requests.post(f"{server.url}/_sandbox/pendula/tenants", json={}, timeout=TIMEOUT)
    admin = {"Authorization": f"Bearer {tenant.json()['admin_token']}"}
    token = requests.post(
        f"{server.url}/api/v1/tokens",
        json={"name": "segment", "description": "test"},
        headers=admin,
        timeout=TIMEOUT,
    ).json()["token"]
    flow = requests.post(
        f"{server.url}/api/v1/flows",
        json={"name": "welcome", "state": "active"},
        headers=admin,
        timeout=TIMEOUT,
    ).json()
    return Pipeline(server, workspace, source, destination, admin, flow, token)


@pytest.fixture
def fast(tmp_path: Path) -> Iterator[Pipeline]:
    settings = SandboxSettings(db_path=tmp_path / "db.sqlite3", **FAST)  # type: ignore[arg-type]
    with SandboxServer(settings) as server:
        yield pipeline(server)


def test_analytics_python_event_reaches_the_flow_signed(fast: Pipeline) -> None:
    subscription_id = fast.subscribe('event = "Signed Up"')
    client = Client(fast.write_key, host=fast.server.url, sync_mode=True)

    client.track(
        user_id="SA-42",
        event="Signed Up",
        properties={"plan": "pro", "seats": 3.0},
        message_id="m1",
    )
    fast.drain()

    (experience,) = fast.experiences()
    body = experience["body"]
    assert (body["type"], body["event"], body["userId"], body["messageId"]) == (
        "track",
        "Signed Up",
        "SA-42",
        "m1",
    )
    assert body["properties"] == {"plan": "pro", "seats": 3}
    assert body["context"]["library"]["name"] == "analytics-python"
    assert "writeKey" not in body
    assert experience["token_id"] is not None
    (attempt,) = fast.attempts(message_id="m1")
    assert (attempt["subscription_id"], attempt["attempt"], attempt["status"]) == (
        subscription_id,
        1,
        202,
    )
    assert attempt["outcome"] == "delivered"
    assert attempt["request"]["headers"]["Authorization"] == "[REDACTED]"
    # X-Signature is HMAC-SHA1 over exactly the JSON the flow received.
    sent = json.dumps(body, separators=(",", ":"), ensure_ascii=False)
    expected = hmac.new(SHARED_SECRET.encode(), sent.encode(), hashlib.sha1).hexdigest()
    assert attempt["request"]["headers"]["X-Signature"] == expected
    assert experience["headers"]["x-signature"] == expected


def test_secrets_never_appear_in_sandbox_records(fast: Pipeline) -> None:
    fast.subscribe('type = "track"')
    fast.subscribe('type = "track"', token="wrong-token-value-123")
    message_id = fast.track("Anything")
    fast.drain()

    for path in ("/_sandbox/segment/deliveries", "/_sandbox/segment/events", "/_sandbox/requests"):
        text = requests.get(f"{fast.server.url}{path}", timeout=TIMEOUT).text
        for secret in (fast.token, "wrong-token-value-123", SHARED_SECRET):
            assert secret not in text, (path, "leaks a secret")
    assert len(fast.attempts(message_id=message_id)) == 2


def test_non_matching_event_is_filtered_and_not_sent(fast: Pipeline) -> None:
    subscription_id = fast.subscribe('event = "Signed Up"')

    message_id = fast.track("Logged In")
    fast.drain()

    assert fast.outcome(message_id) == [
        {
            "subscription_id": subscription_id,
            "destination_id": fast.destination["id"],
            "state": "filtered",
            "reason": "event does not match the trigger",
            "attempts": 0,
        }
    ]
    assert fast.attempts(message_id=message_id) == []
    assert fast.experiences() == []


def test_disabled_mapping_and_disabled_destination_send_nothing(fast: Pipeline) -> None:
    fast.subscribe('type = "track"', enabled=False)
    first = fast.track("One")
    fast.drain()
    fast.workspace.call("PATCH", f"/destinations/{fast.destination['id']}", json={"enabled": False})
    fast.subscribe('type = "track"')
    second = fast.track("Two")
    fast.drain()

    assert [m["reason"] for m in fast.outcome(first)] == ["mapping disabled"]
    assert sorted(m["reason"] for m in fast.outcome(second)) == [
        "destination disabled",
        "destination disabled",
    ]
    assert fast.experiences() == []


def test_bad_token_is_recorded_once_and_the_good_mapping_delivers_once(fast: Pipeline) -> None:
    good = fast.subscribe('type = "track"')
    bad = fast.subscribe('type = "track"', token="not-a-pendula-token")

    message_id = fast.track("Signed Up")
    fast.drain()

    (bad_attempt,) = fast.attempts(message_id=message_id, subscription_id=bad)
    assert (bad_attempt["status"], bad_attempt["outcome"], bad_attempt["attempt"]) == (
        401,
        "failed",
        1,
    )
    assert [a["status"] for a in fast.attempts(message_id=message_id, subscription_id=good)] == [
        202
    ]
    states = {m["subscription_id"]: (m["state"], m["reason"]) for m in fast.outcome(message_id)}
    assert states == {good: ("delivered", None), bad: ("failed", "HTTP 401")}
    assert len(fast.experiences()) == 1


def test_pendula_429_and_5xx_are_retried_and_delivered_exactly_once(fast: Pipeline) -> None:
    fast.subscribe('type = "track"')
    inbound = f"/webhook/inbound/{fast.flow['id']}"
    fast.fault(path_prefix=inbound, count=1, status=429, retry_after=1)
    fast.fault(path_prefix=inbound, count=1, status=503)

    started = time.monotonic()
    message_id = fast.track("Signed Up")
    fast.drain()

    attempts = fast.attempts(message_id=message_id)
    assert [(a["attempt"], a["status"], a["outcome"]) for a in attempts] == [
        (1, 429, "retry"),
        (2, 503, "retry"),
        (3, 202, "delivered"),
    ]
    # Retry-After: 1 was honoured although the back-off base is 50 ms.
    assert attempts[1]["at"] - attempts[0]["at"] >= 0.95
    assert time.monotonic() - started >= 1.0
    assert len(fast.experiences()) == 1


def test_dropped_connections_are_retried(fast: Pipeline) -> None:
    fast.subscribe('type = "track"')
    fast.fault(path_prefix=f"/webhook/inbound/{fast.flow['id']}", count=2, drop_connection=True)

    message_id = fast.track("Signed Up")
    fast.drain()

    attempts = fast.attempts(message_id=message_id)
    assert [a["status"] for a in attempts] == [None, None, 202]
    assert all(a["error"].startswith("ConnectionError") for a in attempts[:2])
    assert len(fast.experiences()) == 1


def test_gives_up_after_max_attempts(fast: Pipeline) -> None:
    fast.subscribe('type = "track"')
    fast.fault(path_prefix=f"/webhook/inbound/{fast.flow['id']}", count=10, status=500)

    message_id = fast.track("Signed Up")
    fast.drain()

    attempts = fast.attempts(message_id=message_id)
    max_attempts = fast.server.settings.delivery_max_attempts
    assert [a["outcome"] for a in attempts] == ["retry"] * (max_attempts - 1) + ["failed"]
    assert [m["state"] for m in fast.outcome(message_id)] == ["failed"]
    assert fast.experiences() == []


def test_inactive_flow_answers_409_without_retries(fast: Pipeline) -> None:
    fast.subscribe('type = "track"')
    drained = requests.patch(
        f"{fast.server.url}/api/v1/flows/{fast.flow['id']}",
        json={"state": "draining"},
        headers=fast.admin,
        timeout=TIMEOUT,
    )
    assert drained.status_code == 200, drained.text

    message_id = fast.track("Signed Up")
    fast.drain()

    assert [(a["status"], a["outcome"]) for a in fast.attempts(message_id=message_id)] == [
        (409, "failed")
    ]


def test_unparsable_trigger_rejects_events_like_segment(fast: Pipeline) -> None:
    fast.subscribe("anonymousId != null")

    message_id = fast.track("Signed Up")
    fast.drain()

    (mapping,) = fast.outcome(message_id)
    assert mapping["state"] == "invalid"
    assert mapping["reason"].startswith("Invalid subscription : ")
    assert fast.experiences() == []


def test_invalid_rendered_payload_is_recorded_not_sent(fast: Pipeline) -> None:
    fast.subscribe('type = "track"', method="GET", headers={"X-Name": "Zoë"})

    message_id = fast.track("Signed Up")
    fast.drain()

    (attempt,) = fast.attempts(message_id=message_id)
    assert attempt["outcome"] == "invalid"
    assert attempt["error"] == (
        "PayloadValidationError: method: 'GET' is not allowed; allowed ['POST', 'PUT', 'PATCH']"
    )
    assert fast.experiences() == []


def test_custom_data_mapping_and_no_signature_without_secret(tmp_path: Path) -> None:
    settings = SandboxSettings(db_path=tmp_path / "db.sqlite3", **FAST)  # type: ignore[arg-type]
    with SandboxServer(settings) as server:
        unsigned = pipeline(server, shared_secret=None)
        unsigned.subscribe(
            'type = "track"',
            data={"who": {"@path": "$.userId"}, "plan": {"@path": "$.properties.plan"}},
        )
        message_id = unsigned.track("Signed Up", properties={"plan": "pro"})
        unsigned.drain()
        (experience,) = unsigned.experiences()
        (attempt,) = unsigned.attempts(message_id=message_id)

    assert experience["body"] == {"who": "SA-42", "plan": "pro"}
    assert "X-Signature" not in attempt["request"]["headers"]


def test_duplicate_message_ids_are_delivered_once(fast: Pipeline) -> None:
    fast.subscribe('type = "track"')

    fast.track("Signed Up", messageId="same")
    fast.track("Signed Up", messageId="same")
    fast.drain()

    assert len(fast.attempts(message_id="same")) == 1
    assert len(fast.experiences()) == 1


def test_batch_with_write_key_in_body_and_gzip(fast: Pipeline) -> None:
    fast.subscribe('type = "identify"')
    payload = {
        "writeKey": fast.write_key,
        "batch": [
            {"type": "identify", "userId": "u1", "traits": {"a": 1}, "messageId": "b1"},
            {"type": "track", "userId": "u1", "event": "E", "messageId": "b2"},
        ],
    }

    response = requests.post(
        f"{fast.server.url}/v1/batch",
        data=gzip.compress(json.dumps(payload).encode()),
        headers={"Content-Type": "application/json", "Content-Encoding": "gzip"},
        timeout=TIMEOUT,
    )
    fast.drain()

    assert response.json() == {"success": True}
    assert [e["body"]["messageId"] for e in fast.experiences()] == ["b1"]
    assert [m["state"] for m in fast.outcome("b2")] == ["filtered"]


def test_unknown_write_key_is_accepted_but_dropped(fast: Pipeline) -> None:
    fast.subscribe('type = "track"')

    response = requests.post(
        f"{fast.server.url}/v1/track",
        json={"userId": "u", "event": "E", "messageId": "lost"},
        auth=("not-a-write-key", ""),
        timeout=TIMEOUT,
    )
    fast.drain()
    events = requests.get(
        f"{fast.server.url}/_sandbox/segment/events", params={"message_id": "lost"}, timeout=10
    ).json()["items"]

    assert response.status_code == 200
    assert [(e["source_id"], e["note"], e["mappings"]) for e in events] == [
        (None, "dropped: unknown write key", [])
    ]


@pytest.mark.parametrize(
    ("path", "body", "code", "message"),
    [
        (
            "/v1/track",
            {"event": "E"},
            "missing_identity",
            "track events need a userId or an anonymousId.",
        ),
        ("/v1/track", {"userId": "u"}, "missing_field", "track events need event."),
        ("/v1/batch", {"batch": {}}, "invalid_batch", "batch must be a list of events."),
        (
            "/v1/batch",
            {"batch": [{"type": "boom", "userId": "u"}]},
            "invalid_type",
            "type 'boom' is not allowed; allowed "
            "['track', 'identify', 'page', 'screen', 'group', 'alias'].",
        ),
    ],
)
def test_malformed_calls_get_400_with_code(
    sandbox: SandboxServer, path: str, body: dict[str, Any], code: str, message: str
) -> None:
    response = requests.post(
        f"{sandbox.url}{path}", json={**body, "writeKey": "wk"}, timeout=TIMEOUT
    )

    assert response.status_code == 400
    assert response.json() == {"success": False, "code": code, "message": message}


def test_missing_write_key_is_rejected(sandbox: SandboxServer) -> None:
    response = requests.post(
        f"{sandbox.url}/v1/track", json={"userId": "u", "event": "E"}, timeout=TIMEOUT
    )

    assert response.status_code == 400
    assert response.json()["code"] == "missing_write_key"


def test_workers_stop_with_the_server(tmp_path: Path) -> None:
    settings = SandboxSettings(db_path=tmp_path / "db.sqlite3", **FAST)  # type: ignore[arg-type]
    server = SandboxServer(settings).start()
    try:
        live = pipeline(server)
        live.subscribe('type = "track"')
        live.track("Signed Up")
        live.drain()
        assert any(t.name.startswith("segment-delivery") for t in threading.enumerate())
    finally:
        server.stop()

    deadline = time.monotonic() + 2
    while time.monotonic() < deadline and any(
        t.name.startswith("segment-delivery") and t.is_alive() for t in threading.enumerate()
    ):
        time.sleep(0.02)
    assert not [t.name for t in threading.enumerate() if t.name.startswith("segment-delivery")]


def test_pending_deliveries_resume_after_a_restart(tmp_path: Path) -> None:
    port = free_port()
    settings = SandboxSettings(
        db_path=tmp_path / "db.sqlite3",
        delivery_retry_base_seconds=30,
        subscription_writes_per_minute=0,
    )
    with SandboxServer(settings, port=port) as first:
        before = pipeline(first)
        before.subscribe('type = "track"')
        before.fault(path_prefix=f"/webhook/inbound/{before.flow['id']}", count=1, status=503)
        message_id = before.track("Signed Up")
        deadline = time.monotonic() + 10
        while not before.attempts(message_id=message_id) and time.monotonic() < deadline:
            time.sleep(0.02)
        # The retry is 30 s away: stop now, with the job still pending in SQLite.

    resumed_settings = SandboxSettings(db_path=settings.db_path, subscription_writes_per_minute=0)
    with SandboxServer(resumed_settings, port=port) as second:
        after = Pipeline(
            second,
            before.workspace,
            before.source,
            before.destination,
            before.admin,
            before.flow,
            before.token,
        )
        # Make the rescheduled retry due now rather than in 30 s.
        with sqlite3.connect(settings.db_path) as conn:
            conn.execute("UPDATE segment_delivery_jobs SET next_at = 0 WHERE state = 'pending'")
        after.drain()
        statuses = [a["status"] for a in after.attempts(message_id=message_id)]
        experiences = after.experiences()

    assert statuses == [503, 202]
    assert len(experiences) == 1


def test_recorded_excerpts_hide_a_token_echoed_without_its_scheme() -> None:
    """An endpoint that repeats the bare token (or Basic's decoded pair) leaks nothing."""
    import base64

    from sandbox.tracking.delivery import _credential_parts, _scrub

    basic = "Basic " + base64.b64encode(b"tenant-1:pdl_ECHOED_SECRET_42").decode()
    secrets = (
        *_credential_parts("Bearer pdl_BEARER_SECRET_42"),
        *_credential_parts(basic),
    )
    echoed = (
        "bad token pdl_BEARER_SECRET_42; got Bearer pdl_BEARER_SECRET_42;"
        f" {basic}; tenant-1:pdl_ECHOED_SECRET_42; pdl_ECHOED_SECRET_42"
    )
    scrubbed = _scrub(echoed, secrets)
    for secret in ("pdl_BEARER_SECRET_42", "pdl_ECHOED_SECRET_42", basic.split(" ")[1]):
        assert secret not in scrubbed


def test_an_event_no_http_client_can_send_does_not_stop_the_next_ones(fast: Pipeline) -> None:
    """The delivery loop survives any event: one whose rendered URL cannot even be encoded
    fails its own job, and the events after it are delivered."""
    fast.subscribe('type = "track"', url={"@path": "$.properties.hook"})

    bad = fast.track("Bad", properties={"hook": "http://üü.invalid..x/"})
    good = fast.track("Good", properties={"hook": fast.flow["webhook_url"]})
    fast.drain()

    (failed,) = fast.attempts(message_id=bad)
    assert failed["outcome"] == "failed"
    (delivered,) = fast.attempts(message_id=good)
    assert delivered["outcome"] == "delivered"
    assert len(fast.experiences()) == 1
    later = fast.track("Later", properties={"hook": fast.flow["webhook_url"]})
    fast.drain()
    assert [a["outcome"] for a in fast.attempts(message_id=later)] == ["delivered"]
