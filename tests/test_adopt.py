"""``python -m components adopt`` against the Segment stand-in seeded like a hand-made setup.

The round trip is the promise users rely on: adopt → stack file → the program under mocks
declares exactly what Segment holds (trigger text, canonical settings, names, flags), so the
first ``pulumi preview`` after ``pulumi import`` shows no change to Segment resources.
"""

from __future__ import annotations

import base64
import json
import os
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import requests
import yaml

from components.__main__ import main
from components.config.load import read_stack_document
from components.config.models import canonical_json
from components.review import offline
from components.segment.adopt import read_setup, unique_slug
from components.segment.api import SegmentApi
from components.segment.stack_file import config_problems, stack_document, stack_file_text
from sandbox.server import SandboxServer, free_port
from sandbox.settings import SandboxSettings
from tests.sandbox.segment_helpers import TIMEOUT, WEBHOOKS_ACTIONS, SegmentWorkspace

ROOT = Path(__file__).resolve().parent.parent

EU_URL = "https://eu1.api.segmentapis.com"
# Adopting from the sandbox's Segment makes a sandbox stack, whose URLs are all loopback.
HOOK = "http://127.0.0.1:8787/webhook/inbound/"
PENDULA_HOOK = "https://pendula.app/webhook/inbound/"
WELCOME_TOKEN = "pdl_welcome_0123456789abcdef"
NUDGE_TOKEN = "pdl_nudge_0123456789abcdef"
VIP_TOKEN = "pdl_vip_0123456789abcdef"
VIP2_TOKEN = "pdl_vip2_0123456789abcdef"
LEGACY_TOKEN = "pdl_legacy_0123456789abcdef"
OTHER_TOKEN = "pdl_unsupported_0123456789"
TENANT = "tenant-42"
ALL_PENDULA_TOKENS = (WELCOME_TOKEN, NUDGE_TOKEN, VIP_TOKEN, VIP2_TOKEN, LEGACY_TOKEN, OTHER_TOKEN)


def the_error(err: str) -> str:
    """stderr from the error on: before it come adopt's progress lines."""
    progress, found, error = err.partition("error: ")
    assert found, err
    assert all(line.startswith(("reading ", "  ")) for line in progress.splitlines()), progress
    return found + error


def settings(
    flow: int, authorization: str | None, *, data: Any = None, **overrides: Any
) -> dict[str, Any]:
    """Send-action settings as Segment's UI saves them for a Pendula mapping."""
    value: dict[str, Any] = {
        "url": f"{HOOK}00000000-0000-4000-8000-{flow:012d}",
        "method": "POST",
        "batch_size": 0,
        "headers": {} if authorization is None else {"Authorization": authorization},
        "data": {"@path": "$."} if data is None else data,
        "enable_batching": False,
    }
    value.update(overrides)
    return value


def basic(tenant: str, token: str) -> str:
    return "Basic " + base64.b64encode(f"{tenant}:{token}".encode()).decode()


@dataclass
class HandMade:
    """A seeded workspace with one hand-made Webhooks (Actions) destination."""

    workspace: SegmentWorkspace
    source_id: str
    destination_id: str
    flows: dict[str, tuple[str, str]]
    """Adoptable mappings: flow name adopt derives → (Segment mapping name, Pendula token)."""


@pytest.fixture
def server(tmp_path: Path) -> Iterator[SandboxServer]:
    """A sandbox without the subscription write limit (the seed creates many mappings)."""
    config = SandboxSettings(db_path=tmp_path / "db.sqlite3", subscription_writes_per_minute=0)
    with SandboxServer(config) as running:
        yield running


def add_destination(workspace: SegmentWorkspace, source_id: str, name: str) -> str:
    response = workspace.call(
        "POST",
        "/destinations",
        json={
            "sourceId": source_id,
            "metadataId": WEBHOOKS_ACTIONS,
            "enabled": True,
            "name": name,
            "settings": {},
        },
    )
    assert response.status_code == 200, response.text
    destination_id: str = response.json()["data"]["destination"]["id"]
    return destination_id


def seed_hand_made(server: SandboxServer) -> HandMade:
    """Pendula's help article clicked together by hand, plus what people do differently."""
    workspace = SegmentWorkspace(server, "Acme")
    source_id = workspace.source("web")["id"]
    destination_id = add_destination(workspace, source_id, "Pendula (prod)")
    add = workspace.subscription
    welcome = settings(1, f"Bearer {WELCOME_TOKEN}")
    welcome["headers"]["X-PENDULA-CUSTOM-CONTEXT"] = '{"flow":"welcome","source":"segment"}'
    add(
        destination_id,
        welcome,
        trigger='type = "track" and event = "Signed Up"',
        name="Welcome on Signed Up",
    )
    nudge = settings(
        2,
        basic(TENANT, NUDGE_TOKEN),
        data={"userId": {"@path": "$.userId"}, "plan": {"@path": "$.traits.plan"}},
    )
    nudge["headers"]["X-PENDULA-CUSTOM-CONTEXT"] = "segment-prod"
    add(
        destination_id,
        nudge,
        trigger='type = "identify" and traits.plan != "pro"',
        enabled=False,
        name="Upgrade nudge!",
    )
    # Valid, but not how generateFql spells it: kept verbatim so the trigger never diffs.
    add(
        destination_id,
        settings(3, f"Bearer {VIP_TOKEN}"),
        trigger='event = "Order Completed"  and match(userId, "SA*")',
        name="VIP order",
    )
    add(destination_id, settings(4, f"Bearer {VIP2_TOKEN}"), "userId != null", name="VIP  Order")
    # Segment's parser flattens this into a top-level "or": kept verbatim, flagged unsafe.
    add(
        destination_id,
        settings(5, f"Bearer {LEGACY_TOKEN}"),
        trigger='type = "track" and (contains(event, "a") or event = "b")',
        name="Legacy nested",
    )
    # What the component cannot represent.
    batching = settings(6, f"Bearer {OTHER_TOKEN}", enable_batching=True, batch_size=100)
    add(destination_id, batching, name="Batch export")
    add(destination_id, settings(7, f"Bearer {OTHER_TOKEN}", method="PUT"), name="PUT hook")
    elsewhere = settings(8, f"Bearer {OTHER_TOKEN}", url="https://example.com/hook")
    add(destination_id, elsewhere, name="Other site")
    add(destination_id, settings(9, None), name="No auth")
    flows = {
        "welcome-on-signed-up": ("Welcome on Signed Up", WELCOME_TOKEN),
        "upgrade-nudge": ("Upgrade nudge!", NUDGE_TOKEN),
        "vip-order": ("VIP order", VIP_TOKEN),
        "vip-order-2": ("VIP  Order", VIP2_TOKEN),
        "legacy-nested": ("Legacy nested", LEGACY_TOKEN),
    }
    return HandMade(workspace, source_id, destination_id, flows)


def held_by_segment(made: HandMade) -> tuple[dict[str, Any], dict[str, dict[str, Any]]]:
    """The destination, and its subscriptions by mapping name, as the stand-in holds them."""
    call = made.workspace.call
    destination = call("GET", f"/destinations/{made.destination_id}").json()["data"]["destination"]
    listed = call("GET", f"/destinations/{made.destination_id}/subscriptions").json()["data"]
    return destination, {s["name"]: s for s in listed["subscriptions"]}


def run_adopted_stack(stack_file: Path, tokens: dict[str, str]) -> list[offline.RecordedResource]:
    """The program under mocks with the stack file plus the secrets the user would set."""
    document = read_stack_document(stack_file)
    values, secret_keys = document.values, document.secret_keys
    values["pendulaTokens"] = dict(tokens)
    provider = {f"segment:{k}": str(v) for k, v in document.segment.values.items()}
    provider["segment:token"] = "the-segment-token-the-user-sets"
    return offline.run_program(
        values,
        {*secret_keys, "pendulaTokens"},
        stack="adopted",
        provider_config=provider,
        provider_secret_keys=["segment:token"],
    )


def adopt_cli(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, token: str | None, *argv: str
) -> int:
    """``python -m components adopt …`` in ``tmp_path`` with PUBLIC_API_TOKEN as given."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("PUBLIC_API_URL", raising=False)
    if token is None:
        monkeypatch.delenv("PUBLIC_API_TOKEN", raising=False)
    else:
        monkeypatch.setenv("PUBLIC_API_TOKEN", token)
    return main(["adopt", "--stack", "prod", *argv])


def test_round_trip_declares_exactly_what_segment_holds(
    server: SandboxServer,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    made = seed_hand_made(server)

    code = adopt_cli(
        tmp_path,
        monkeypatch,
        made.workspace.token,
        "--source",
        made.source_id,
        "--segment-url",
        server.url,
    )
    out, err = capsys.readouterr()

    assert code == 0, err
    stack_file = tmp_path / "stacks" / "Pulumi.prod.yaml"
    recorded = run_adopted_stack(stack_file, {f: t for f, (_, t) in made.flows.items()})
    destination, subscriptions = held_by_segment(made)
    by_name = {r.name: r for r in recorded}

    declared_destination = by_name["pendula-prod-destination"]
    assert declared_destination.type == offline.DESTINATION_TYPE
    assert declared_destination.inputs == {
        "enabled": destination["enabled"],
        "metadata": {"id": destination["metadata"]["id"]},
        "name": destination["name"],
        "settings": canonical_json(destination["settings"]),
        "sourceId": destination["sourceId"],
    }
    declared_subscriptions = [r for r in recorded if r.type == offline.SUBSCRIPTION_TYPE]
    assert len(declared_subscriptions) == len(made.flows)
    document = json.loads((tmp_path / "import.prod.json").read_text())
    import_ids = {e["logicalName"]: e.get("id") for e in document["resources"]}
    for flow, (mapping_name, _) in made.flows.items():
        declared = by_name[f"pendula-prod-{flow}-subscription"]
        held = subscriptions[mapping_name]
        assert declared.inputs["name"] == held["name"]
        assert declared.inputs["trigger"] == held["trigger"]
        assert declared.inputs["enabled"] is held["enabled"]
        assert declared.inputs["actionId"] == held["actionId"]
        assert isinstance(declared.inputs["settings"], offline.Secret)
        # The same token the user stores, so even the secret header is unchanged.
        assert offline.unwrap(declared.inputs["settings"]) == canonical_json(held["settings"])
        assert import_ids[declared.name] == f"{made.destination_id}:{held['id']}"
    assert import_ids["pendula-prod-destination"] == made.destination_id

    # pulumi import: same types and names as the program's children, parented to the component.
    component = by_name["pendula-prod"]
    assert component.type == "segment-pendula:index:PendulaTrigger"
    assert document["resources"][0] == {
        "type": "segment-pendula:index:PendulaTrigger",
        "name": "pendula-prod",
        "logicalName": "pendula-prod",
        "component": True,
    }
    for entry in document["resources"][1:]:
        child = by_name[entry["logicalName"]]
        assert (entry["type"], entry["name"], entry["parent"]) == (
            child.type,
            child.name,
            "pendula-prod",
        )
        assert child.parent == component.urn
    assert len(document["resources"]) == 2 + len(made.flows)  # tokens cannot be imported

    # Secrets: neither the Segment token nor any Pendula token is printed or written.
    written = stack_file.read_text() + (tmp_path / "import.prod.json").read_text()
    for secret in (made.workspace.token, *ALL_PENDULA_TOKENS):
        assert secret not in out + err + written


def test_stack_file_uses_conditions_only_when_they_regenerate_the_same_text(
    server: SandboxServer,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    made = seed_hand_made(server)
    adopt_cli(
        tmp_path,
        monkeypatch,
        made.workspace.token,
        "--source",
        made.source_id,
        "--segment-url",
        server.url,
    )
    out = capsys.readouterr().out

    config = yaml.safe_load((tmp_path / "stacks" / "Pulumi.prod.yaml").read_text())["config"]
    assert config["segment:url"] == server.url
    assert config["segment-pendula:sandbox"] is True  # loopback Segment URL = the sandbox
    (destination,) = config["segment-pendula:destinations"]
    flows = {f["name"]: f for f in destination.pop("flows")}
    assert destination == {
        "name": "pendula-prod",
        "sourceId": made.source_id,
        "displayName": "Pendula (prod)",
        "enabled": True,
    }
    assert flows["welcome-on-signed-up"] == {
        "name": "welcome-on-signed-up",
        "displayName": "Welcome on Signed Up",
        "url": f"{HOOK}00000000-0000-4000-8000-000000000001",
        "enabled": True,
        "conditions": {"all": [{"event_type": {"is": "track"}}, {"event": {"is": "Signed Up"}}]},
        "customContext": {"flow": "welcome", "source": "segment"},
    }
    assert flows["upgrade-nudge"] == {
        "name": "upgrade-nudge",
        "displayName": "Upgrade nudge!",
        "url": f"{HOOK}00000000-0000-4000-8000-000000000002",
        "enabled": False,
        "conditions": {
            "all": [
                {"event_type": {"is": "identify"}},
                {"trait": {"name": "plan", "is_not": "pro"}},
            ]
        },
        "data": {"userId": {"@path": "$.userId"}, "plan": {"@path": "$.traits.plan"}},
        "customContext": "segment-prod",
        "token": {"scheme": "basic", "tenantId": TENANT},
    }
    assert flows["vip-order"]["trigger"] == 'event = "Order Completed"  and match(userId, "SA*")'
    assert "conditions" not in flows["vip-order"] and "unsafeTrigger" not in flows["vip-order"]
    assert flows["vip-order-2"]["conditions"] == {"all": [{"user_id": {"exists": True}}]}
    assert flows["legacy-nested"]["trigger"] == (
        'type = "track" and (contains(event, "a") or event = "b")'
    )
    assert flows["legacy-nested"]["unsafeTrigger"] is True

    # Unrepresentable mappings are explained, not dropped silently.
    assert "NOT adopted (left in Segment as they are; Pulumi will not manage them):" in out
    _, subscriptions = held_by_segment(made)
    for name, reason in [
        ("Batch export", "    - enable_batching is True; batches send a JSON array"),
        ("Batch export", "    - batch_size is 100; the component writes 0 (Pendula's setup)"),
        ("PUT hook", "    - method is 'PUT'; Pendula webhook triggers take POST only"),
        ("Other site", "    - url 'https://example.com/hook' is not a Pendula webhook trigger URL"),
        ("No auth", "    - it has no Authorization header (Pendula needs the flow's API token)"),
    ]:
        assert f"  mapping {subscriptions[name]['id']} ({name!r}):\n" in out
        assert f"\n{reason}" in out
    legacy = subscriptions["Legacy nested"]["id"]
    assert (
        f"  - mapping {legacy} ('Legacy nested'): its trigger is kept verbatim with "
        "unsafeTrigger: true because Segment's parser may read it differently" in out
    )
    # One secret command per adopted flow, with a placeholder instead of the value.
    for flow in made.flows:
        assert f"  pulumi config set --secret --path pendulaTokens.{flow} '<token>'\n" in out
    assert '  pulumi config set --secret segment:token "$PUBLIC_API_TOKEN"\n' in out
    assert "  pulumi import --file import.prod.json --generate-code=false\n" in out
    assert (
        "Expect no change to the 6 imported Segment resources (except where a warning above "
        "says otherwise), and 5 PendulaFlowToken resource(s) to create" in out
    )
    assert "The stack file needs edits" not in out


class ForwardingAdapter(requests.adapters.HTTPAdapter):
    """Sends requests for a real Segment host to the stand-in, recording the host asked for."""

    def __init__(self, target: str) -> None:
        super().__init__()
        self.target = target
        self.hosts: list[str] = []

    def send(self, request: requests.PreparedRequest, *args: Any, **kwargs: Any) -> Any:
        parts = urlsplit(request.url or "")
        self.hosts.append(parts.netloc)
        request.url = self.target + parts.path + (f"?{parts.query}" if parts.query else "")
        return super().send(request, *args, **kwargs)


def test_eu_workspace_keeps_the_eu_url_and_pages_through_everything(
    server: SandboxServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A real (EU) workspace's mappings point at Pendula itself.
    monkeypatch.setitem(globals(), "HOOK", PENDULA_HOOK)
    made = seed_hand_made(server)
    adapter = ForwardingAdapter(server.url)
    session = requests.Session()
    session.mount(EU_URL, adapter)
    api = SegmentApi(made.workspace.token, EU_URL, session=session, page_size=2)

    adoption = read_setup(api, made.source_id)

    assert set(adapter.hosts) == {"eu1.api.segmentapis.com"}
    # 9 mappings in pages of 2: every one was seen (5 adopted, 4 explained).
    subscriptions_path = f"/destinations/{made.destination_id}/subscriptions"
    assert [f.name for f in adoption.destinations[0].flows] == list(made.flows)
    assert len(adoption.skipped) == 4
    log = requests.get(f"{server.url}/_sandbox/requests", timeout=TIMEOUT).json()
    assert sum(1 for r in log if r["method"] == "GET" and r["path"] == subscriptions_path) == 5
    document = stack_document(adoption)["config"]
    assert document["segment:url"] == EU_URL
    assert "segment-pendula:sandbox" not in document
    # The EU stack file runs as well (no sandbox flag needed for pendula.app URLs).
    stack_file = tmp_path / "Pulumi.eu.yaml"
    stack_file.write_text(stack_file_text(adoption, "test"), encoding="utf-8")
    recorded = run_adopted_stack(stack_file, {f: t for f, (_, t) in made.flows.items()})
    assert sum(r.type == offline.SUBSCRIPTION_TYPE for r in recorded) == len(made.flows)


def test_public_api_url_from_the_environment_is_the_fallback(
    server: SandboxServer,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    made = seed_hand_made(server)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("PUBLIC_API_TOKEN", made.workspace.token)
    monkeypatch.setenv("PUBLIC_API_URL", server.url)

    assert main(["adopt", "--stack", "dev", "--source", made.source_id]) == 0

    config = yaml.safe_load((tmp_path / "stacks" / "Pulumi.dev.yaml").read_text())["config"]
    assert config["segment:url"] == server.url
    assert capsys.readouterr().out.startswith(f"Read source {made.source_id} from {server.url}.\n")


def test_token_without_permission_is_a_clear_error_without_the_token(
    server: SandboxServer,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    made = seed_hand_made(server)
    wrong = "sta_not-a-token-of-this-workspace-0123456789"

    code = adopt_cli(
        tmp_path, monkeypatch, wrong, "--source", made.source_id, "--segment-url", server.url
    )
    out, err = capsys.readouterr()

    assert code == 1
    assert out == ""
    assert the_error(err).startswith(
        f"error: Segment Public API GET /sources/{made.source_id}: 401 The Public API token is "
        "not valid for any workspace.. Check PUBLIC_API_TOKEN"
    )
    assert wrong not in err
    assert not (tmp_path / "stacks").exists() and not (tmp_path / "import.prod.json").exists()


def test_source_without_webhooks_actions_destination_exits_non_zero(
    server: SandboxServer,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    workspace = SegmentWorkspace(server)
    source_id = workspace.source("empty")["id"]

    code = adopt_cli(
        tmp_path, monkeypatch, workspace.token, "--source", source_id, "--segment-url", server.url
    )

    assert code == 1
    assert the_error(capsys.readouterr().err) == (
        f"error: source {source_id} has no Webhooks (Actions) destination (catalog id "
        "614a3c7d791c91c41bae7599); connected destinations: none. Create the destination in "
        "Segment first, or declare a new stack by hand\n"
    )
    assert not (tmp_path / "stacks").exists()


def test_only_unrepresentable_mappings_is_an_error_listing_why(
    server: SandboxServer,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    workspace = SegmentWorkspace(server)
    source_id = workspace.source()["id"]
    destination_id = add_destination(workspace, source_id, "Hooks")
    put = workspace.subscription(destination_id, settings(1, "Bearer x", method="PUT"), name="P")

    code = adopt_cli(
        tmp_path, monkeypatch, workspace.token, "--source", source_id, "--segment-url", server.url
    )

    assert code == 1
    assert the_error(capsys.readouterr().err) == (
        f"error: source {source_id}: no mapping can be adopted:\n"
        f"  mapping {put['id']} ('P'): method is 'PUT'; Pendula webhook triggers take POST only\n"
        f"  destination {destination_id} ('Hooks'): none of its mappings can be represented\n"
    )
    assert not (tmp_path / "stacks").exists()


def test_refuses_to_overwrite_without_force(
    server: SandboxServer,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    made = seed_hand_made(server)
    stack_file = tmp_path / "stacks" / "Pulumi.prod.yaml"
    stack_file.parent.mkdir()
    stack_file.write_text("config: {}\n")
    argv = ("--source", made.source_id, "--segment-url", server.url)

    assert adopt_cli(tmp_path, monkeypatch, made.workspace.token, *argv) == 2
    assert capsys.readouterr().err == (
        "error: stacks/Pulumi.prod.yaml already exist(s); pass --force to overwrite\n"
    )
    assert stack_file.read_text() == "config: {}\n"

    assert adopt_cli(tmp_path, monkeypatch, made.workspace.token, *argv, "--force") == 0
    assert "segment-pendula:destinations" in stack_file.read_text()


def test_missing_token_variable_is_an_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    assert adopt_cli(tmp_path, monkeypatch, None, "--source", "abc") == 2
    assert capsys.readouterr().err.startswith(
        "error: PUBLIC_API_TOKEN is not set; export a Segment Public API token"
    )


def test_destination_option_must_be_webhooks_actions_of_the_source(
    server: SandboxServer,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    made = seed_hand_made(server)
    other_source = made.workspace.source("other")["id"]
    other = add_destination(made.workspace, other_source, "Elsewhere")

    code = adopt_cli(
        tmp_path,
        monkeypatch,
        made.workspace.token,
        "--source",
        made.source_id,
        "--destination",
        other,
        "--segment-url",
        server.url,
    )

    assert code == 1
    assert the_error(capsys.readouterr().err) == (
        f"error: --destination {other}: belongs to source '{other_source}', not to --source "
        f"{made.source_id}\n"
    )


def test_other_actions_and_masked_basic_headers(server: SandboxServer, tmp_path: Path) -> None:
    """What the stand-in cannot create through the API is written into its store directly."""
    workspace = SegmentWorkspace(server)
    source_id = workspace.source()["id"]
    destination_id = add_destination(workspace, source_id, "Hooks")
    masked = settings(1, "Basic ••••••••")
    kept = workspace.subscription(destination_id, masked, name="Masked basic")
    other = workspace.subscription(destination_id, settings(2, "Bearer x"), name="Other action")
    with sqlite3.connect(server.settings.db_path) as conn:
        conn.execute(
            "UPDATE segment_subscriptions SET action_id = 'abcAction', action_slug = 'other'"
            " WHERE id = ?",
            (other["id"],),
        )

    adoption = read_setup(SegmentApi(workspace.token, server.url), source_id)

    (flow,) = adoption.destinations[0].flows
    assert (flow.subscription_id, flow.config["token"]) == (kept["id"], {"scheme": "basic"})
    assert adoption.warnings == [
        f"mapping {kept['id']} ('Masked basic'): its Basic Authorization header cannot be read "
        "(Segment returned it masked), so token.tenantId is left out: set it to the Pendula "
        "tenant id before the preview"
    ]
    (skipped,) = adoption.skipped
    assert skipped.what == f"mapping {other['id']} ('Other action')"
    assert skipped.reasons == (
        "action other (abcAction) is not Webhooks (Actions) Send (nFPnRozhz1mh4Gbx4MLvT5)",
    )
    assert config_problems(adoption) == [
        "segment-pendula:destinations[0].flows[0].token.tenantId: required with scheme 'basic' "
        "(the Basic user name)"
    ]


@pytest.mark.parametrize(
    ("text", "taken", "expected"),
    [
        ("Welcome on Signed Up", set(), "welcome-on-signed-up"),
        ("VIP  Order", {"vip-order"}, "vip-order-2"),
        ("VIP order", {"vip-order", "vip-order-2"}, "vip-order-3"),
        ("Café crème", set(), "cafe-creme"),
        ("2024 promo", set(), "flow-2024-promo"),
        ("!!!", set(), "flow"),
        ("x" * 60, set(), "x" * 40),
        ("x" * 60, {"x" * 40}, "x" * 38 + "-2"),
    ],
)
def test_unique_slug(text: str, taken: set[str], expected: str) -> None:
    assert unique_slug(text, "flow", taken) == expected


# --- no route, and many mappings -----------------------------------------------------------------


def test_an_api_nothing_answers_at_fails_within_seconds_saying_what_it_tried(
    tmp_path: Path,
) -> None:
    """A real process, as a user runs it when nothing answers at the API URL (the unresolvable
    and no-route cases are in tests/test_segment_api.py: only Segment's hosts may get a token)."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    started = time.monotonic()
    completed = subprocess.run(
        [
            sys.executable,
            "-m",
            "components",
            "adopt",
            "--stack",
            "live",
            "--source",
            "src1",
            "--segment-url",
            url,
            "--stacks-dir",
            str(tmp_path / "stacks"),
        ],
        cwd=tmp_path,
        env={**os.environ, "PUBLIC_API_TOKEN": "sta_never-printed-0123", "PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    elapsed = time.monotonic() - started

    assert completed.returncode == 1
    assert elapsed < 10, elapsed
    assert completed.stderr.startswith(
        f"reading source src1 from {url}\n"
        f"error: Segment Public API GET /sources/src1: could not reach {url}/sources/src1: "
        f"connection refused: nothing listens at 127.0.0.1:{port}"
    ), completed.stderr
    assert "Traceback" not in completed.stderr
    assert "sta_never-printed-0123" not in completed.stdout + completed.stderr
    assert not (tmp_path / "stacks").exists()


class _ManyMappings:
    """A workspace API stand-in with one Webhooks (Actions) destination and many mappings."""

    base_url = "https://api.segmentapis.com"

    def __init__(self, count: int) -> None:
        self.count = count

    def get_source(self, source_id: str) -> dict[str, Any]:
        return {"id": source_id}

    def connected_destinations(self, source_id: str) -> Iterator[dict[str, Any]]:
        yield {"id": "dest1", "name": "Hooks", "metadata": {"id": WEBHOOKS_ACTIONS}}

    def subscriptions(self, destination_id: str) -> Iterator[dict[str, Any]]:
        for index in range(self.count):
            yield {
                "id": f"sub{index}",
                "name": f"Flow {index}",
                "actionId": "nFPnRozhz1mh4Gbx4MLvT5",
                "trigger": f'event = "E{index}"',
                "enabled": False,
                "settings": settings(index, "Bearer x"),
            }


def test_reading_many_mappings_reports_progress(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(globals(), "HOOK", PENDULA_HOOK)  # a real workspace: real Pendula URLs
    heard: list[str] = []

    adoption = read_setup(_ManyMappings(250), "src1", progress=heard.append)  # type: ignore[arg-type]

    assert adoption.flow_count == 250
    assert heard == [
        "reading source src1 from https://api.segmentapis.com",
        "reading the mappings of destination dest1 ('Hooks')",
        "  100 mappings read so far",
        "  200 mappings read so far",
        "  250 mapping(s) read",
    ]


@pytest.mark.parametrize(
    "url",
    ["https://user:sta_pw_77@api.segmentapis.com", "https://api.segmentapis.com.evil.net"],
)
def test_adopt_refuses_a_segment_url_that_would_leak_the_token(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    url: str,
) -> None:
    code = adopt_cli(tmp_path, monkeypatch, "sta_token_1", "--source", "src1", "--segment-url", url)
    err = capsys.readouterr().err
    assert code == 2
    assert err.startswith("error: --segment-url: url: '")
    assert "sta_pw_77" not in err and "sta_token_1" not in err
    assert not (tmp_path / "stacks").exists()
