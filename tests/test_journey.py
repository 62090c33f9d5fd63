"""The whole journey without the Pulumi CLI: seed, deploy (program + provider calls), track, deliver.

1. A sandbox is seeded from a copy of `stacks/Pulumi.local.yaml` pointing at its port.
2. The REAL stack program runs under mocks (`offline.run_program`); the managed flow's token is
   created by the real `PendulaFlowTokenProvider` against the sandbox's token API.
3. The Terraform provider's calls are replayed with the inputs the component produced
   (destination create; per subscription POST + PATCH; PATCH for later changes).
4. Events are tracked with the real `segment-analytics-python` client; the sandbox's Segment
   runtime filters them with the mappings' triggers and delivers them to the Pendula stand-in.
"""

from __future__ import annotations

import copy
import json
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pulumi
import pytest
import requests
import yaml
from pulumi.runtime import rpc
from segment.analytics.client import Client

from components.config.load import read_stack_file
from components.pendula import PendulaFlowTokenProvider
from components.review.offline import (
    DESTINATION_TYPE,
    FLOW_TOKEN_TYPE,
    SUBSCRIPTION_TYPE,
    RecordedResource,
    RecordingMocks,
    RecordingMonitor,
    run_program,
    unwrap,
)
from sandbox.seed import seed_database
from sandbox.server import SandboxServer
from sandbox.settings import SandboxSettings
from tests.fixture_stacks import fixture_stack
from tests.sandbox import tf_provider_replay as tf

ROOT = Path(__file__).resolve().parent.parent
STACK_FILE = fixture_stack("local")
EVENTS = ROOT / "tests" / "fixtures" / "events"
TIMEOUT = 10
ADMIN = {"Authorization": "Bearer sandbox-pendula-admin-token"}
FLOW_IDS = {
    "welcome": "00000000-0000-4000-8000-000000000001",
    "upgrade-nudge": "00000000-0000-4000-8000-000000000002",
    "vip": "00000000-0000-4000-8000-000000000003",
}
WELCOME_CONTEXT = {"flow": "welcome", "source": "segment", "stack": "local"}


class ManagedTokenMocks(RecordingMocks):
    """Mocks whose managed flow tokens are created by the real provider against the sandbox.

    One token per resource name for the life of the journey, as the engine's state would keep it.
    """

    def __init__(self) -> None:
        super().__init__(preview=False)
        self.created: dict[str, dict[str, Any]] = {}

    def new_resource(
        self, args: pulumi.runtime.MockResourceArgs
    ) -> tuple[str | None, dict[str, Any]]:
        if args.typ != FLOW_TOKEN_TYPE or unwrap(args.inputs.get("mode")) != "managed":
            return super().new_resource(args)
        if args.name not in self.created:
            provider = PendulaFlowTokenProvider()
            inputs = {k: unwrap(v) for k, v in args.inputs.items() if k != "__provider"}
            checked = provider.check({}, inputs)
            assert not checked.failures, checked.failures
            result = provider.create(checked.inputs)
            self.created[args.name] = {"id": result.id, **result.outs}
        outs = dict(self.created[args.name])
        for name in ("authorization", "token"):
            outs[name] = rpc.wrap_rpc_secret(outs[name])
        return outs.pop("id"), outs


@dataclass
class Journey:
    """A seeded sandbox, the deployed stack and helpers to track events and read results."""

    server: SandboxServer
    stack_file: Path
    mocks: ManagedTokenMocks = field(default_factory=ManagedTokenMocks)
    states: dict[str, dict[str, Any]] = field(default_factory=dict)
    recorded: list[RecordedResource] = field(default_factory=list)

    @property
    def config(self) -> dict[str, Any]:
        document: dict[str, Any] = yaml.safe_load(self.stack_file.read_text())
        config: dict[str, Any] = document["config"]
        return config

    def edit(self, change: Any) -> None:
        """Apply `change(config)` to the stack file, like a reviewed pull request would."""
        document = yaml.safe_load(self.stack_file.read_text())
        change(document["config"])
        self.stack_file.write_text(yaml.safe_dump(document, sort_keys=False))

    def deploy(self) -> None:
        """Run the program under mocks and replay the provider calls for what changed."""
        values, secret_keys = read_stack_file(self.stack_file)
        config = self.config
        self.recorded = run_program(
            values,
            secret_keys,
            stack="local",
            provider_config={"segment:url": self.server.url, "segment:token": "x"},
            monitor=RecordingMonitor(self.mocks),
        )
        api = tf.PublicApi(self.server.url, config["segment:token"])
        by_type: dict[str, list[RecordedResource]] = {}
        for resource in self.recorded:
            by_type.setdefault(resource.type, []).append(resource)
        (destination,) = by_type[DESTINATION_TYPE]
        inputs = unwrap(destination.inputs)
        if destination.name in self.states:
            state = self.states[destination.name]
            self.states[destination.name] = tf.destination_update(api, state, inputs)
        else:
            self.states[destination.name] = tf.destination_create(api, inputs)
        destination_id = self.states[destination.name]["id"]
        for subscription in by_type[SUBSCRIPTION_TYPE]:
            inputs = {**unwrap(subscription.inputs), "destinationId": destination_id}
            old = self.states.get(subscription.name)
            if old is None:
                self.states[subscription.name] = tf.subscription_create(api, inputs)
            elif {k: old[k] for k in ("name", "trigger", "enabled", "settings")} != {
                k: inputs[k] for k in ("name", "trigger", "enabled", "settings")
            }:
                self.states[subscription.name] = tf.subscription_update(api, old, inputs)

    def client(self) -> Client:
        source_id = self.config["segment-pendula:destinations"][0]["sourceId"]
        response = requests.get(
            f"{self.server.url}/sources/{source_id}",
            headers={"Authorization": f"Bearer {self.config['segment:token']}"},
            timeout=TIMEOUT,
        )
        write_key = response.json()["data"]["source"]["writeKeys"][0]
        return Client(write_key, host=self.server.url, sync_mode=True, max_retries=0)

    def drain(self) -> None:
        response = requests.post(
            f"{self.server.url}/_sandbox/segment/drain", params={"timeout": 30}, timeout=40
        )
        assert response.status_code == 200, response.text

    def received(self) -> dict[str, list[dict[str, Any]]]:
        """Experiences per flow name (every flow listed, even without any)."""
        received = {}
        for name, flow_id in FLOW_IDS.items():
            response = requests.get(
                f"{self.server.url}/api/v1/flows/{flow_id}/experiences",
                headers=ADMIN,
                timeout=TIMEOUT,
            )
            assert response.status_code == 200, response.text
            received[name] = response.json()["items"]
        return received

    def delivered_ids(self) -> dict[str, list[str]]:
        return {
            name: [item["body"]["messageId"] for item in items]
            for name, items in self.received().items()
        }

    def outcome(self, message_id: str) -> dict[str, tuple[str, str | None]]:
        """Per flow name, what became of the event: (state, reason)."""
        response = requests.get(
            f"{self.server.url}/_sandbox/segment/events",
            params={"message_id": message_id},
            timeout=TIMEOUT,
        )
        (event,) = response.json()["items"]
        names = {
            state["id"]: name.removeprefix("web-").removesuffix("-subscription")
            for name, state in self.states.items()
            if name.endswith("-subscription")
        }
        return {names[m["subscription_id"]]: (m["state"], m["reason"]) for m in event["mappings"]}

    def attempts(self, message_id: str) -> list[tuple[int, int | None, str]]:
        response = requests.get(
            f"{self.server.url}/_sandbox/segment/deliveries",
            params={"message_id": message_id},
            timeout=TIMEOUT,
        )
        return [(a["attempt"], a["status"], a["outcome"]) for a in response.json()["items"]]

    def token_ids(self) -> dict[str, str]:
        response = requests.get(f"{self.server.url}/api/v1/tokens", headers=ADMIN, timeout=TIMEOUT)
        return {item["name"]: item["id"] for item in response.json()["items"]}


def fixture_event(name: str) -> dict[str, Any]:
    event: dict[str, Any] = json.loads((EVENTS / name).read_text())
    return event


def new_id(label: str) -> str:
    return f"journey-{label}-{uuid.uuid4().hex[:12]}"


def track(client: Client, sample: dict[str, Any], **overrides: Any) -> str:
    """Send a fixture event through analytics-python as an app would; returns its messageId."""
    event = {**copy.deepcopy(sample), **overrides}
    message_id = new_id(event["type"])
    if event["type"] == "identify":
        client.identify(
            user_id=event.get("userId"),
            traits=event.get("traits"),
            context=event.get("context"),
            anonymous_id=event.get("anonymousId"),
            message_id=message_id,
        )
    else:
        client.track(
            user_id=event.get("userId"),
            event=event["event"],
            properties=event.get("properties"),
            context=event.get("context"),
            anonymous_id=event.get("anonymousId"),
            message_id=message_id,
        )
    return message_id


@pytest.fixture
def journey(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Journey]:
    settings = SandboxSettings(
        db_path=tmp_path / "sandbox.sqlite3",
        subscription_writes_per_minute=0,  # three mappings cost six writes; the limit has tests
        delivery_retry_base_seconds=0.05,
    )
    with SandboxServer(settings) as server:
        stack_file = tmp_path / "Pulumi.local.yaml"
        stack_file.write_text(
            STACK_FILE.read_text().replace("127.0.0.1:8787", f"127.0.0.1:{server.port}")
        )
        seed_database(settings.db_path, stack_file)
        journey = Journey(server, stack_file)
        # What `configure()` would read from segment-pendula:pendulaApiUrl/pendulaApiToken.
        monkeypatch.setenv("PENDULA_API_URL", journey.config["segment-pendula:pendulaApiUrl"])
        monkeypatch.setenv("PENDULA_API_TOKEN", journey.config["segment-pendula:pendulaApiToken"])
        journey.deploy()
        yield journey


def test_each_flow_receives_exactly_its_events_with_its_credential(journey: Journey) -> None:
    client = journey.client()
    signed_up = fixture_event("signed-up.json")
    identify = fixture_event("identify-free-plan.json")
    order = fixture_event("order-completed-vip.json")

    welcome_id = track(client, signed_up)
    nudge_id = track(client, identify)
    vip_id = track(client, order)
    journey.drain()

    received = journey.received()
    assert {name: [e["body"]["messageId"] for e in items] for name, items in received.items()} == {
        "welcome": [welcome_id],
        "upgrade-nudge": [nudge_id],
        "vip": [vip_id],
    }
    tokens = journey.token_ids()
    (welcome,) = received["welcome"]
    assert (welcome["auth_scheme"], welcome["token_id"]) == ("bearer", tokens["segment-welcome"])
    assert welcome["custom_context"] == WELCOME_CONTEXT
    assert welcome["headers"]["authorization"] == "Bearer [REDACTED]"
    (nudge,) = received["upgrade-nudge"]
    assert (nudge["auth_scheme"], nudge["token_id"]) == ("bearer", tokens["segment-upgrade-nudge"])
    assert nudge["custom_context"] is None
    (vip,) = received["vip"]
    assert (vip["auth_scheme"], vip["token_id"]) == ("basic", tokens["segment-vip"])

    # The default mapping sends the whole event as Segment stored it.
    for experience, sent in ((welcome, signed_up), (nudge, identify), (vip, order)):
        body = experience["body"]
        assert body["type"] == sent["type"]
        assert body["userId"] == sent["userId"]
        for key in ("event", "properties", "traits"):
            assert body.get(key) == sent.get(key)
        assert {k: body["context"][k] for k in sent["context"] if k != "library"} == {
            k: v for k, v in sent["context"].items() if k != "library"
        }
        assert body["context"]["library"]["name"] == "analytics-python"
        assert "receivedAt" in body


def test_non_matching_events_reach_no_flow(journey: Journey) -> None:
    client = journey.client()
    pro = fixture_event("identify-free-plan.json")
    pro["traits"] = {**pro["traits"], "plan": "pro"}
    sent = [
        track(client, pro),
        track(client, fixture_event("signed-up.json"), event="Logged In"),
        track(client, fixture_event("order-completed-vip.json"), userId="user-4004"),
    ]
    journey.drain()

    assert journey.delivered_ids() == {"welcome": [], "upgrade-nudge": [], "vip": []}
    filtered = ("filtered", "event does not match the trigger")
    for message_id in sent:
        assert journey.outcome(message_id) == {
            "welcome": filtered,
            "upgrade-nudge": filtered,
            "vip": filtered,
        }
        assert journey.attempts(message_id) == []


def test_disabling_a_mapping_in_the_stack_stops_its_deliveries(journey: Journey) -> None:
    def disable_vip(config: dict[str, Any]) -> None:
        config["segment-pendula:destinations"][0]["flows"][2]["enabled"] = False

    journey.edit(disable_vip)
    journey.deploy()
    client = journey.client()
    message_id = track(client, fixture_event("order-completed-vip.json"))
    journey.drain()

    assert journey.delivered_ids()["vip"] == []
    assert journey.outcome(message_id) == {
        "welcome": ("filtered", "event does not match the trigger"),
        "upgrade-nudge": ("filtered", "event does not match the trigger"),
        "vip": ("skipped", "mapping disabled"),
    }


def test_a_bad_token_is_recorded_as_401_and_other_flows_still_deliver(journey: Journey) -> None:
    def wrong_token(config: dict[str, Any]) -> None:
        config["segment-pendula:pendulaTokens"]["upgrade-nudge"] = "sandbox-token-with-a-typo"

    journey.edit(wrong_token)
    journey.deploy()
    client = journey.client()
    nudge_id = track(client, fixture_event("identify-free-plan.json"))
    welcome_id = track(client, fixture_event("signed-up.json"))
    journey.drain()

    assert journey.attempts(nudge_id) == [(1, 401, "failed")]
    assert journey.outcome(nudge_id)["upgrade-nudge"] == ("failed", "HTTP 401")
    assert journey.delivered_ids() == {"welcome": [welcome_id], "upgrade-nudge": [], "vip": []}
    # The event itself is kept: Segment's event record shows what failed and why.
    events = requests.get(
        f"{journey.server.url}/_sandbox/segment/events",
        params={"message_id": nudge_id},
        timeout=TIMEOUT,
    ).json()["items"]
    assert [e["event"]["traits"] for e in events] == [
        fixture_event("identify-free-plan.json")["traits"]
    ]


def test_pendula_429_and_5xx_are_retried_and_delivered_once(journey: Journey) -> None:
    inbound = f"/webhook/inbound/{FLOW_IDS['vip']}"
    for fault in (
        {"path_prefix": inbound, "count": 1, "status": 429, "retry_after": 1},
        {"path_prefix": inbound, "count": 1, "status": 503},
    ):
        response = requests.post(
            f"{journey.server.url}/_sandbox/faults", json=fault, timeout=TIMEOUT
        )
        assert response.status_code in (200, 201), response.text

    started = time.monotonic()
    message_id = track(journey.client(), fixture_event("order-completed-vip.json"))
    journey.drain()

    assert journey.attempts(message_id) == [
        (1, 429, "retry"),
        (2, 503, "retry"),
        (3, 202, "delivered"),
    ]
    assert time.monotonic() - started >= 1.0  # Retry-After was honoured
    assert journey.delivered_ids() == {"welcome": [], "upgrade-nudge": [], "vip": [message_id]}


def test_the_deployed_mappings_are_what_the_stack_declares(journey: Journey) -> None:
    subscriptions = {
        r.name: unwrap(r.inputs) for r in journey.recorded if r.type == SUBSCRIPTION_TYPE
    }
    assert {name: (s["trigger"], s["enabled"]) for name, s in subscriptions.items()} == {
        "web-welcome-subscription": ('type = "track" and event = "Signed Up"', True),
        "web-upgrade-nudge-subscription": ('type = "identify" and traits.plan != "pro"', True),
        "web-vip-subscription": ('event = "Order Completed" and match(userId, "SA*")', True),
    }
    # Replaying the same program again changes nothing (no diff that is not a real change).
    api_calls_before = requests.get(
        f"{journey.server.url}/_sandbox/requests", timeout=TIMEOUT
    ).json()
    journey.deploy()
    api_calls_after = requests.get(
        f"{journey.server.url}/_sandbox/requests", timeout=TIMEOUT
    ).json()
    writes = [
        c
        for c in api_calls_after[len(api_calls_before) :]
        if "/subscriptions" in c["path"] and c["method"] != "GET"
    ]
    assert writes == []
