"""`python -m components send-test-event`: explanation, body, guard rails, token handling, sending."""

from __future__ import annotations

import base64
import io
import json
import os
import stat
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import requests
import yaml

import sandbox.__main__ as sandbox_cli
from components.__main__ import main
from components.commands import send_test_event as send_test_event_command
from components.config.load import load_stack_file
from components.fql import explain
from components.mapping import render
from components.pendula.flow_token import fingerprint
from components.review.test_event import (
    PendulaUnreachableError,
    customer_data_findings,
    is_fictional_phone,
    send,
)
from sandbox.seed import seed_database
from sandbox.server import SandboxServer, free_port
from tests.fixture_stacks import fixture_stack

ROOT = Path(__file__).resolve().parent.parent
EVENTS = ROOT / "tests" / "fixtures" / "events"
LOCAL = fixture_stack("local")
NUDGE_TOKEN = "sandbox-provided-token-upgrade-nudge"
VIP_TOKEN = "sandbox-provided-token-vip"
ADMIN = {"Authorization": "Bearer sandbox-pendula-admin-token"}
NUDGE_FLOW = "00000000-0000-4000-8000-000000000002"

Run = Callable[..., tuple[int, str, str]]


def write_stack(
    tmp_path: Path, port: int, change: Callable[[dict[str, Any]], None] | None = None
) -> Path:
    """A copy of the local stack at `port` in `tmp_path/stacks`, optionally edited."""
    document = yaml.safe_load(LOCAL.read_text().replace("127.0.0.1:8787", f"127.0.0.1:{port}"))
    if change is not None:
        change(document["config"])
    stacks = tmp_path / "stacks"
    stacks.mkdir(parents=True, exist_ok=True)
    path = stacks / "Pulumi.local.yaml"
    path.write_text(yaml.safe_dump(document, sort_keys=False))
    return stacks


def event_file(tmp_path: Path, name: str, **changes: Any) -> Path:
    """A fixture event, with top-level keys replaced (None deletes), written to tmp_path."""
    event = json.loads((EVENTS / name).read_text())
    for key, value in changes.items():
        if value is None:
            event.pop(key, None)
        else:
            event[key] = value
    path = tmp_path / f"event-{len(list(tmp_path.glob('event-*')))}.json"
    path.write_text(json.dumps(event))
    return path


@pytest.fixture
def run(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> Run:
    """Run the CLI with no Pulumi CLI on PATH and no PENDULA_TOKEN unless a test sets them."""
    monkeypatch.delenv("PENDULA_TOKEN", raising=False)
    monkeypatch.setenv("PATH", "/nonexistent")

    def invoke(stacks: Path, *argv: str) -> tuple[int, str, str]:
        code = main(["send-test-event", "--stacks-dir", str(stacks), *argv])
        captured = capsys.readouterr()
        return code, captured.out, captured.err

    return invoke


@pytest.fixture
def seeded(sandbox: SandboxServer, tmp_path: Path) -> Path:
    """The sandbox seeded from the local stack; returns the stacks dir pointing at it."""
    stacks = write_stack(tmp_path, sandbox.port)
    seed_database(sandbox.settings.db_path, stacks / "Pulumi.local.yaml")
    return stacks


def experiences(sandbox: SandboxServer, flow_id: str) -> list[dict[str, Any]]:
    response = requests.get(
        f"{sandbox.url}/api/v1/flows/{flow_id}/experiences", headers=ADMIN, timeout=10
    )
    assert response.status_code == 200, response.text
    items: list[dict[str, Any]] = response.json()["items"]
    return items


def flow_of(stacks: Path, name: str) -> Any:
    config = load_stack_file(stacks / "Pulumi.local.yaml")
    return next(flow for _, flow in config.flows() if flow.name == name)


# --- explanation, body, sample ---------------------------------------------------------------


def test_dry_run_explains_the_match_and_shows_headers_and_body(run: Run, tmp_path: Path) -> None:
    stacks = write_stack(tmp_path, free_port())
    event = EVENTS / "identify-free-plan.json"

    code, out, err = run(stacks, "--flow", "upgrade-nudge", "--event", str(event), "--dry-run")

    assert (code, err) == (0, "")
    assert 'Trigger: type = "identify" and traits.plan != "pro"\n' in out
    assert '  ✓ type = "identify"\n  ✓ traits.plan != "pro"\n' in out
    assert "Match: yes, Segment sends this event to the flow.\n" in out
    expected_fp = fingerprint(f"Bearer {NUDGE_TOKEN}")
    assert f"  Authorization: Bearer **** (fingerprint {expected_fp})\n" in out
    assert "  Content-Type: application/json\n" in out
    body = json.loads(out.split("Body:\n", 1)[1].split("Dry run:", 1)[0])
    assert body == json.loads(event.read_text())  # the default mapping: the whole event
    assert out.endswith("Dry run: nothing was sent.\n")
    assert NUDGE_TOKEN not in out


def test_a_non_matching_event_shows_the_failing_condition_and_is_not_sent(
    run: Run, tmp_path: Path
) -> None:
    stacks = write_stack(tmp_path, free_port())
    pro = json.loads((EVENTS / "identify-free-plan.json").read_text())
    pro["traits"]["plan"] = "pro"
    event = tmp_path / "pro.json"
    event.write_text(json.dumps(pro))

    code, out, _ = run(stacks, "--flow", "upgrade-nudge", "--event", str(event), "--dry-run")
    assert code == 0
    assert '  ✓ type = "identify"\n  ✗ traits.plan != "pro"\n' in out
    assert "Match: no, Segment would not send this event to the flow.\n" in out

    code, out, err = run(stacks, "--flow", "upgrade-nudge", "--event", str(event))
    assert code == 3
    assert err.startswith("refused: the event does not match flow 'upgrade-nudge''s trigger")


def test_the_explanation_lists_every_condition_in_order(run: Run, tmp_path: Path) -> None:
    stacks = write_stack(tmp_path, free_port())
    event = event_file(tmp_path, "order-completed-vip.json", userId="user-9", event="Refunded")
    flow = flow_of(stacks, "vip")

    _, out, _ = run(stacks, "--flow", "vip", "--event", str(event), "--dry-run")

    verdicts = explain(flow.ast, json.loads(event.read_text()))
    assert [v.matched for v in verdicts] == [False, False]
    lines = [line for line in out.splitlines() if line.startswith(("  ✓", "  ✗"))]
    assert lines == [f"  ✗ {v.fql}" for v in verdicts]


def test_sample_out_writes_the_rendered_body_of_a_custom_mapping(run: Run, tmp_path: Path) -> None:
    data = {
        "orderId": {"@path": "$.properties.order_id"},
        "firstName": {"@path": "$.context.traits.first_name"},
        "total": {"@path": "$.properties.total"},
    }

    def custom_mapping(config: dict[str, Any]) -> None:
        config["segment-pendula:destinations"][0]["flows"][2]["data"] = data

    stacks = write_stack(tmp_path, free_port(), custom_mapping)
    event_path = EVENTS / "order-completed-vip.json"
    sample = tmp_path / "sample.json"

    code, out, _ = run(
        stacks,
        "--flow",
        "vip",
        "--event",
        str(event_path),
        "--dry-run",
        "--sample-out",
        str(sample),
    )

    event = json.loads(event_path.read_text())
    assert code == 0
    assert json.loads(sample.read_text()) == {
        "orderId": event["properties"]["order_id"],
        "firstName": event["context"]["traits"]["first_name"],
        "total": event["properties"]["total"],
    }
    assert json.loads(sample.read_text()) == render(data, event)
    assert f"Wrote the payload sample to {sample}" in out


def test_the_event_defaults_to_the_flows_sample_event(run: Run, tmp_path: Path) -> None:
    stacks = write_stack(tmp_path, free_port())
    fixture_dir = tmp_path / "tests" / "fixtures" / "events"
    fixture_dir.mkdir(parents=True)
    (fixture_dir / "signed-up.json").write_text((EVENTS / "signed-up.json").read_text())

    code, out, _ = run(stacks, "--flow", "welcome", "--dry-run")

    assert code == 0
    assert f"Event {fixture_dir / 'signed-up.json'} (track)\n" in out


# --- customer-data guard ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("field", "value", "rule"),
    [
        ("email", "someone@gmail.com", "an email address outside the reserved example domains"),
        ("email", "a@example.co", "an email address outside the reserved example domains"),
        ("phone", "+61 412 345 678", "a phone number outside the reserved fictional ranges"),
        ("phone", "0491 570 005", "a phone number outside the reserved fictional ranges"),
        ("phone", "+1 202 555 0200", "a phone number outside the reserved fictional ranges"),
        ("phone", "07700 901000", "a phone number outside the reserved fictional ranges"),
        ("note", "+44 20 7946 1000", "a phone number outside the reserved fictional ranges"),
        ("card", "4111 1111 1111 1111", "a payment card number"),
        ("card", "5500-0000-0000-0004", "a payment card number"),
    ],
)
def test_events_that_look_like_customer_data_are_refused(
    run: Run, tmp_path: Path, field: str, value: str, rule: str
) -> None:
    stacks = write_stack(tmp_path, free_port())
    event = json.loads((EVENTS / "signed-up.json").read_text())
    event["context"]["traits"][field] = value
    path = tmp_path / "event.json"
    path.write_text(json.dumps(event))

    code, out, err = run(stacks, "--flow", "welcome", "--event", str(path), "--dry-run")

    assert code == 3
    assert err.startswith("refused: the event looks like real customer data")
    assert f"  - $.context.traits.{field}: {rule}" in err
    assert "Body:" not in out

    code, out, _ = run(
        stacks, "--flow", "welcome", "--event", str(path), "--dry-run", "--allow-customer-data"
    )
    assert code == 0
    assert "Dry run: nothing was sent." in out


@pytest.mark.parametrize(
    "value",
    [
        "+61 491 570 006",  # ACMA: first and last of the 30 fictional mobiles
        "0491 579 455",
        "(02) 5550 1234",  # ACMA geographic 5550 xxxx
        "+61 8 7010 9999",  # ACMA geographic 7010 xxxx
        "+1 (202) 555-0100",  # NANPA 555-0100 … 555-0199
        "212-555-0199",
        "07700 900000",  # Ofcom drama mobile range
        "+44 7700 900999",
        "0161 496 0000",  # Ofcom Manchester
        "020 7946 0999",  # Ofcom London
    ],
)
def test_fictional_phone_numbers_pass(value: str) -> None:
    assert is_fictional_phone(value)
    assert customer_data_findings({"context": {"traits": {"phone": value}}}) == []


@pytest.mark.parametrize(
    "email",
    ["a@example.com", "b@mail.example.org", "c@example.net", "d@shop.test", "e@x.invalid",
     "f@corp.example", "g@dev.localhost"],
)  # fmt: skip
def test_reserved_email_domains_pass(email: str) -> None:
    assert customer_data_findings({"traits": {"email": email, "note": f"write to {email}"}}) == []


def test_ids_and_timestamps_are_not_mistaken_for_card_or_phone_numbers() -> None:
    event = json.loads((EVENTS / "order-completed-vip.json").read_text())
    event["properties"]["epoch_ms"] = 1700000000000
    event["properties"]["reference"] = "1234567812345670"  # Luhn-valid, but no card prefix
    event["messageId"] = "0b1c2d3e-4f50-4a61-8b72-9c8d7e6f5a41"
    assert customer_data_findings(event) == []


@pytest.mark.parametrize(
    "name", ["signed-up.json", "identify-free-plan.json", "order-completed-vip.json"]
)
def test_the_shipped_sample_events_are_fictional(name: str) -> None:
    assert customer_data_findings(json.loads((EVENTS / name).read_text())) == []


# --- sending -----------------------------------------------------------------------------------


def test_sends_the_event_to_the_sandbox_flow(
    run: Run, seeded: Path, sandbox: SandboxServer
) -> None:
    event_path = EVENTS / "identify-free-plan.json"

    code, out, err = run(seeded, "--flow", "upgrade-nudge", "--event", str(event_path))

    assert (code, err) == (0, "")
    (experience,) = experiences(sandbox, NUDGE_FLOW)
    assert experience["body"] == json.loads(event_path.read_text())
    assert experience["auth_scheme"] == "bearer"
    assert f'Pendula answered 202: {{"experience_id":"{experience["id"]}"}}\n' in out
    assert NUDGE_TOKEN not in out


def test_basic_scheme_flow_is_sent_with_basic_credentials(
    run: Run, seeded: Path, sandbox: SandboxServer
) -> None:
    code, out, _ = run(seeded, "--flow", "vip", "--event", str(EVENTS / "order-completed-vip.json"))

    assert code == 0
    (experience,) = experiences(sandbox, "00000000-0000-4000-8000-000000000003")
    assert experience["auth_scheme"] == "basic"
    basic = base64.b64encode(f"sandbox-tenant:{VIP_TOKEN}".encode()).decode()
    assert VIP_TOKEN not in out
    assert basic not in out
    assert f"Authorization: Basic **** (fingerprint {fingerprint(f'Basic {basic}')})" in out


def test_a_rejected_token_exits_4_and_is_never_printed(
    run: Run, seeded: Path, sandbox: SandboxServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    wrong = "pdl_not-the-right-token-0123456789"
    monkeypatch.setenv("PENDULA_TOKEN", wrong)

    code, out, err = run(
        seeded, "--flow", "upgrade-nudge", "--event", str(EVENTS / "identify-free-plan.json")
    )

    assert code == 4
    assert "Pendula answered 401:" in out
    assert "hint: the token is wrong, deactivated or of another tenant" in err
    assert wrong not in out + err
    assert experiences(sandbox, NUDGE_FLOW) == []


def test_managed_flow_needs_the_token_in_the_environment(
    run: Run, seeded: Path, sandbox: SandboxServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    args = ("--flow", "welcome", "--event", str(EVENTS / "signed-up.json"))
    code, _, err = run(seeded, *args)
    assert code == 1
    assert "flow 'welcome' uses a managed token" in err
    assert "Export PENDULA_TOKEN=<token>" in err

    created = requests.post(
        f"{sandbox.url}/api/v1/tokens", json={"name": "segment-welcome"}, headers=ADMIN, timeout=10
    ).json()
    monkeypatch.setenv("PENDULA_TOKEN", created["token"])
    code, out, _ = run(seeded, *args)
    assert code == 0
    (experience,) = experiences(sandbox, "00000000-0000-4000-8000-000000000001")
    assert experience["token_id"] == created["id"]
    assert experience["custom_context"] == {
        "flow": "welcome",
        "source": "segment",
        "stack": "local",
    }
    assert created["token"] not in out


def fake_pulumi(tmp_path: Path, script: str) -> Path:
    """A `pulumi` executable on its own PATH directory, standing in for the CLI."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    pulumi = bin_dir / "pulumi"
    pulumi.write_text(f"#!/bin/sh\n{script}\n")
    pulumi.chmod(pulumi.stat().st_mode | stat.S_IEXEC)
    return bin_dir


def without_plaintext_tokens(config: dict[str, Any]) -> None:
    config["segment-pendula:sandbox"] = True
    config["segment-pendula:pendulaTokens"] = {
        "upgrade-nudge": {"secure": "v1:abc"},
        "vip": {"secure": "v1:def"},
    }


def test_the_token_comes_from_pulumi_config_when_the_cli_is_installed(
    run: Run, sandbox: SandboxServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    seed_database(
        sandbox.settings.db_path, write_stack(tmp_path / "seed", sandbox.port) / "Pulumi.local.yaml"
    )
    stacks = write_stack(tmp_path, sandbox.port, without_plaintext_tokens)
    calls = tmp_path / "calls.txt"
    bin_dir = fake_pulumi(tmp_path, f'echo "$@" >> {calls}\necho {NUDGE_TOKEN}')
    monkeypatch.setenv("PATH", str(bin_dir))

    code, out, _ = run(
        stacks, "--flow", "upgrade-nudge", "--event", str(EVENTS / "identify-free-plan.json")
    )

    assert code == 0
    assert calls.read_text() == "config get --path pendulaTokens.upgrade-nudge --stack local\n"
    assert len(experiences(sandbox, NUDGE_FLOW)) == 1
    assert NUDGE_TOKEN not in out


def test_a_failing_pulumi_config_get_is_a_clear_error(
    run: Run, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    stacks = write_stack(tmp_path, free_port(), without_plaintext_tokens)
    bin_dir = fake_pulumi(tmp_path, 'echo "error: no stack named local found" >&2\nexit 255')
    monkeypatch.setenv("PATH", str(bin_dir))

    code, _, err = run(
        stacks, "--flow", "upgrade-nudge", "--event", str(EVENTS / "identify-free-plan.json")
    )

    assert code == 1
    assert err == (
        "error: `pulumi config get --path 'pendulaTokens.upgrade-nudge' --stack local` failed "
        "(exit 255: error: no stack named local found); set it with `pulumi config set --secret "
        "--path 'pendulaTokens.upgrade-nudge' <token>` or export PENDULA_TOKEN=<token>\n"
    )


def test_without_any_token_source_the_error_says_how_to_provide_one(
    run: Run, tmp_path: Path
) -> None:
    stacks = write_stack(tmp_path, free_port(), without_plaintext_tokens)

    code, _, err = run(
        stacks, "--flow", "upgrade-nudge", "--event", str(EVENTS / "identify-free-plan.json")
    )

    assert code == 1
    assert err == (
        "error: no Pendula token for flow 'upgrade-nudge': export PENDULA_TOKEN=<token>, or "
        "install the Pulumi CLI so `pulumi config get --path 'pendulaTokens.upgrade-nudge' "
        "--stack local` can read the stack's secret\n"
    )


# --- production confirmation -------------------------------------------------------------------


class Terminal(io.StringIO):
    """Standard input that claims to be a terminal, with the user's typed answer."""

    def isatty(self) -> bool:
        return True


PLACEHOLDER_SECRET = {"secure": "v1:cGxhY2Vob2xkZXI="}


@pytest.fixture
def production_stack(
    sandbox: SandboxServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Path:
    """The local stack as a production stack: real hosts, secure values, never sandbox.

    A production stack cannot point at loopback, so the POST to pendula.app is redirected to
    the sandbox seeded with the same flows, after the command decided to send.
    """
    seeded = write_stack(tmp_path / "seed", sandbox.port)
    seed_database(sandbox.settings.db_path, seeded / "Pulumi.local.yaml")
    local = f"http://127.0.0.1:{sandbox.port}"

    def production(config: dict[str, Any]) -> None:
        del config["segment-pendula:sandbox"]
        config["segment-pendula:production"] = True
        config["segment:url"] = "https://api.segmentapis.com"
        config["segment:token"] = PLACEHOLDER_SECRET
        config["segment-pendula:pendulaApiUrl"] = "https://pendula.app/api/v1"
        config["segment-pendula:pendulaApiToken"] = PLACEHOLDER_SECRET
        for destination in config["segment-pendula:destinations"]:
            for flow in destination["flows"]:
                flow["url"] = flow["url"].replace(local, "https://pendula.app")
        tokens = config["segment-pendula:pendulaTokens"]
        config["segment-pendula:pendulaTokens"] = {name: PLACEHOLDER_SECRET for name in tokens}

    real_send = send_test_event_command.send

    def send_to_sandbox(url: str, body: Any, headers: Any) -> Any:
        return real_send(url.replace("https://pendula.app", sandbox.url), body, headers)

    monkeypatch.setattr(send_test_event_command, "send", send_to_sandbox)
    monkeypatch.setenv("PENDULA_TOKEN", NUDGE_TOKEN)
    return write_stack(tmp_path, sandbox.port, production)


NUDGE_ARGS = ("--flow", "upgrade-nudge", "--event", str(EVENTS / "identify-free-plan.json"))


def test_production_without_a_terminal_is_refused(
    run: Run, production_stack: Path, sandbox: SandboxServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO("upgrade-nudge\n"))

    code, _, err = run(production_stack, *NUDGE_ARGS)

    assert code == 3
    assert err == (
        "refused: stack 'local' is a production stack; sending triggers the real flow "
        "'upgrade-nudge'. Run in a terminal to confirm, or pass --yes\n"
    )
    assert experiences(sandbox, NUDGE_FLOW) == []


def test_production_sends_after_the_flow_name_is_typed(
    run: Run, production_stack: Path, sandbox: SandboxServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("sys.stdin", Terminal("upgrade-nudge\n"))

    code, out, _ = run(production_stack, *NUDGE_ARGS)

    assert code == 0
    assert "Type the flow name to send: " in out
    assert len(experiences(sandbox, NUDGE_FLOW)) == 1


def test_production_with_a_wrong_answer_sends_nothing(
    run: Run, production_stack: Path, sandbox: SandboxServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("sys.stdin", Terminal("y\n"))

    code, _, err = run(production_stack, *NUDGE_ARGS)

    assert (code, err) == (3, "refused: not confirmed; nothing was sent\n")
    assert experiences(sandbox, NUDGE_FLOW) == []


def test_production_yes_skips_the_question(
    run: Run, production_stack: Path, sandbox: SandboxServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO(""))

    code, out, _ = run(production_stack, *NUDGE_ARGS, "--yes")

    assert code == 0
    assert "Type the flow name" not in out
    assert len(experiences(sandbox, NUDGE_FLOW)) == 1


# --- bad input -----------------------------------------------------------------------------------


def test_unknown_flow_lists_the_flows(run: Run, tmp_path: Path) -> None:
    stacks = write_stack(tmp_path, free_port())

    code, _, err = run(stacks, "--flow", "welcom", "--event", str(EVENTS / "signed-up.json"))

    assert (code, err) == (
        1,
        "error: --flow: 'welcom' is not a flow of this stack (flows: welcome, upgrade-nudge, vip)\n",
    )


def test_event_file_errors_name_the_file(run: Run, tmp_path: Path) -> None:
    stacks = write_stack(tmp_path, free_port())
    broken = tmp_path / "broken.json"
    broken.write_text("[1, 2]")

    code, _, err = run(stacks, "--flow", "welcome", "--event", str(broken))
    assert (code, err) == (
        1,
        f"error: --event: '{broken}' must hold one JSON object (a Segment event), got list\n",
    )
    code, _, err = run(stacks, "--flow", "welcome", "--event", str(tmp_path / "missing.json"))
    assert (code, err) == (1, f"error: --event: '{tmp_path / 'missing.json'}' does not exist\n")


def test_unknown_stack_is_a_clear_error(run: Run, tmp_path: Path) -> None:
    code, _, err = run(tmp_path, "--stack", "qa", "--flow", "welcome")
    assert (code, err) == (1, f"error: --stack: '{tmp_path / 'Pulumi.qa.yaml'}' does not exist\n")


# --- when nothing answers ------------------------------------------------------------------------


def test_a_sandbox_that_is_not_running_is_named_with_the_command_that_starts_it(
    tmp_path: Path,
) -> None:
    """A real process, as a user runs it: exit 1 within seconds, the URL, the command, no trace."""
    port = free_port()  # nothing listens here: the sandbox "is not running"
    stacks = write_stack(tmp_path, port)
    event = EVENTS / "identify-free-plan.json"
    argv = ["--flow", "upgrade-nudge", "--event", str(event), "--stacks-dir", str(stacks)]
    started = time.monotonic()
    completed = subprocess.run(
        [sys.executable, "-m", "components", "send-test-event", *argv],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "PATH": "/nonexistent", "PENDULA_TOKEN": ""},
        check=False,
    )
    elapsed = time.monotonic() - started

    assert completed.returncode == 1, completed.stderr
    assert elapsed < 10, elapsed
    url = f"http://127.0.0.1:{port}/webhook/inbound/{NUDGE_FLOW}"
    assert completed.stderr == (
        f"error: POST {url}: nothing was sent, connection refused: nothing listens at "
        f"127.0.0.1:{port}\n"
        f"hint: {stacks}/Pulumi.local.yaml is a sandbox stack; its flows POST to the local "
        "sandbox, which is not running. Start it in another terminal:\n"
        f"  venv/bin/python -m sandbox --seed {stacks}/Pulumi.local.yaml\n"
        "or run `make demo`, which starts it and leaves it running.\n"
    )
    assert NUDGE_TOKEN not in completed.stdout + completed.stderr


def test_a_flow_the_sandbox_does_not_know_says_how_to_seed_it(
    run: Run, sandbox: SandboxServer, seeded: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A flow added to the stack after the sandbox was seeded (this sandbox has no --seed
    file to re-read): Pendula's 404, then the command that teaches the sandbox the flow."""
    stack = seeded / "Pulumi.local.yaml"
    new_flow = "00000000-0000-4000-8000-0000000000b1"

    def add(config: dict[str, Any]) -> None:
        flows = config["segment-pendula:destinations"][0]["flows"]
        url = f"http://127.0.0.1:{sandbox.port}/webhook/inbound/{new_flow}"
        flows.append({"name": "big-order", "url": url, "enabled": False,
                      "conditions": {"all": [{"event": {"is": "Signed Up"}}]}})  # fmt: skip
        config["segment-pendula:pendulaTokens"]["big-order"] = "sandbox-token-big-order"

    write_stack(seeded.parent, sandbox.port, add)
    argv = ("--flow", "big-order", "--event", str(EVENTS / "signed-up.json"))

    code, out, err = run(seeded, *argv)

    assert code == 4
    assert "Pendula answered 404: " in out and "this sandbox was started without --seed" in out
    assert err == (
        f"hint: the sandbox knows no flow at this URL. A sandbox started with --seed {stack} "
        "re-reads it for an unknown flow, so check the flow's url there; a sandbox started from "
        "another file (or without --seed) learns the flows of this one with:\n"
        f"  venv/bin/python -m sandbox --seed {stack} --seed-only\n"
    )
    # The command as printed (with this sandbox's database), then the same event again.
    sandbox_cli.main(["--seed", str(stack), "--seed-only", "--db", str(sandbox.settings.db_path)])
    capsys.readouterr()
    code, out, _ = run(seeded, *argv)
    assert code == 0, out
    assert len(experiences(sandbox, new_flow)) == 1


def test_the_sandbox_listens_on_the_port_its_stack_names(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """The hint above names no --port: `--seed` alone serves on the stack's own port."""
    port = free_port()
    stack = write_stack(tmp_path, port) / "Pulumi.local.yaml"
    ports: list[int] = []
    monkeypatch.setattr(sandbox_cli.uvicorn, "run", lambda app, **kw: ports.append(kw["port"]))
    sandbox_cli.main(["--seed", str(stack), "--db", str(tmp_path / "db.sqlite3")])
    assert ports == [port]


def test_the_sandbox_port_without_a_stack_is_8787(monkeypatch: pytest.MonkeyPatch) -> None:
    ports: list[int] = []
    monkeypatch.setattr(sandbox_cli, "create_app", lambda settings: object())
    monkeypatch.setattr(sandbox_cli.uvicorn, "run", lambda app, **kw: ports.append(kw["port"]))
    sandbox_cli.main([])
    assert ports == [8787]


def test_an_unreachable_real_flow_url_says_what_to_check(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    def refuse(*_: Any, **kwargs: Any) -> requests.Response:
        connect, read = kwargs["timeout"]
        assert connect <= 5 < read  # a dead route fails fast; a slow flow may still answer
        raise requests.ConnectTimeout("connect timed out")

    with pytest.raises(PendulaUnreachableError) as caught:
        send(
            "https://pendula.app/webhook/inbound/x", {}, {"Authorization": "Bearer t"}, post=refuse
        )
    assert str(caught.value) == (
        "POST https://pendula.app/webhook/inbound/x: nothing was sent, pendula.app did not "
        "accept a connection within 5 s"
    )


# --- hardening: files, redaction and escaping ------------------------------------------------------


def test_sample_out_gets_the_same_redaction_as_stdout(run: Run, tmp_path: Path) -> None:
    stacks = write_stack(tmp_path, free_port())
    event = event_file(
        tmp_path,
        "identify-free-plan.json",
        traits={
            "plan": "free",
            "password": "hunter22-secret",
            "website": "https://ada:pw-in-url@example.com/?api_key=k-secret",
            "note": "\x1b[2Jcleared\u202e",
        },
    )
    sample = tmp_path / "sample.json"

    code, out, err = run(
        stacks, "--flow", "upgrade-nudge", "--event", str(event), "--dry-run",
        "--sample-out", str(sample),
    )  # fmt: skip

    assert code == 0, err
    written = sample.read_text()
    for secret in ("hunter22-secret", "pw-in-url", "k-secret", NUDGE_TOKEN):
        assert secret not in out + err + written
    traits = json.loads(written)["traits"]
    assert traits["password"] == "[hidden]"
    assert traits["website"] == "https://[hidden]@example.com/?api_key=[hidden]"
    assert "\x1b" not in out and "\u202e" not in out


@pytest.mark.parametrize(
    ("sample", "why"),
    [
        ("../outside.json", "leads outside the project root"),
        ("/etc/hostname", "must be relative to the project root"),
    ],
)
def test_sample_event_stays_inside_the_project(
    run: Run, tmp_path: Path, sample: str, why: str
) -> None:
    def point(config: dict[str, Any]) -> None:
        config["segment-pendula:destinations"][0]["flows"][1]["sampleEvent"] = sample

    stacks = write_stack(tmp_path, free_port(), point)
    (tmp_path.parent / "outside.json").write_text((EVENTS / "identify-free-plan.json").read_text())
    code, out, err = run(stacks, "--flow", "upgrade-nudge", "--dry-run")
    assert (code, out) == (1, "")
    assert err.startswith(f"error: flow 'upgrade-nudge' sampleEvent: '{sample}' ") and why in err


@pytest.mark.parametrize(
    ("name", "content", "why"),
    [
        ("big.json", "{" + " " * (2 * 1024 * 1024) + "}", "at most 1048576 are read"),
        ("latin.json", None, "is not UTF-8 text"),
        ("nan.json", '{"type": "track", "properties": {"x": NaN}}', "NaN is not a JSON number"),
        ("deep.json", "[" * 100_000 + "]" * 100_000, "is not valid JSON"),
    ],
)
def test_event_files_are_read_within_limits(
    run: Run, tmp_path: Path, name: str, content: str | None, why: str
) -> None:
    stacks = write_stack(tmp_path, free_port())
    path = tmp_path / name
    if content is None:
        path.write_bytes(b'{"type": "track", "event": "Caf\xe9"}')
    else:
        path.write_text(content)
    code, _, err = run(stacks, "--flow", "upgrade-nudge", "--event", str(path), "--dry-run")
    assert code == 1 and why in err and "Traceback" not in err


def test_event_file_must_be_a_regular_file(run: Run, tmp_path: Path) -> None:
    stacks = write_stack(tmp_path, free_port())
    code, _, err = run(stacks, "--flow", "upgrade-nudge", "--event", "/dev/zero", "--dry-run")
    assert (code, err) == (1, "error: --event: '/dev/zero': is not a regular file\n")
