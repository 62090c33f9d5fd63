"""Credentials typed into URLs, text and events are hidden wherever they are shown."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from components.__main__ import main
from components.guards.redaction import redact_text, redact_value, shown_url

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("https://user:pa55@api.segmentapis.com/v1", "https://[hidden]@api.segmentapis.com/v1"),
        ("https://tok3n@pendula.app/x", "https://[hidden]@pendula.app/x"),
        ("https://h.example/x?token=abc&debug=1", "https://h.example/x?token=[hidden]&debug=1"),
        ("https://h.example/x?api_key=abc", "https://h.example/x?api_key=[hidden]"),
        ("https://h.example/x?X-Amz-Signature=abc", "https://h.example/x?X-Amz-Signature=[hidden]"),
        ("https://h.example/x?pdl_live_abcdef", "https://h.example/x?[hidden]"),
        ("https://h.example/x#access_token=abc", "https://h.example/x#[hidden]"),
        ("https://pendula.app/webhook/inbound/1", "https://pendula.app/webhook/inbound/1"),
    ],
)
def test_shown_url_hides_every_credential_place(url: str, shown: str) -> None:
    assert shown_url(url) == shown


@pytest.mark.parametrize(
    ("text", "secret"),
    [
        ("no answer from https://u:hunter22@eu1.api.segmentapis.com: ConnectionError", "hunter22"),
        ("GET https://x.example/a?password=hunter22 failed", "hunter22"),
        ("header was Bearer pdl_live_abcdefgh", "pdl_live_abcdefgh"),
        ("Authorization: Basic dXNlcjpwYXNzd29yZA==", "dXNlcjpwYXNzd29yZA=="),
        ("export PENDULA_TOKEN=pdl_live_abcdefgh", "pdl_live_abcdefgh"),
        ("client_secret=abcd1234 in the log", "abcd1234"),
    ],
)
def test_redact_text_hides_typed_credentials(text: str, secret: str) -> None:
    assert secret not in redact_text(text)
    assert "[hidden]" in redact_text(text)


@pytest.mark.parametrize(
    "text",
    [
        "segment-pendula:pendulaTokens.welcome: missing",
        "token:          provided, bearer; Authorization [secret]",
        "Export PENDULA_TOKEN=<token> to send",
        "https://pendula.app/webhook/inbound/0b5f3c1e-7d2a-4c8e-9f41-2a6d8e3b7c10",
    ],
)
def test_redact_text_leaves_ordinary_messages_alone(text: str) -> None:
    assert redact_text(text) == text


def test_redact_value_hides_credential_keys_and_urls_in_events() -> None:
    event = {
        "type": "track",
        "properties": {
            "password": "hunter22",
            "api_key": "k-123",
            "accessToken": "tok",
            "callback": "https://u:p@example.com/cb?token=abc",
            "coupon": "SAVE10",
            "items": [{"secret": "s"}, {"sku": "x"}],
            "author": "Ada",
        },
    }
    shown = redact_value(event)
    properties = shown["properties"]
    assert (
        properties["password"] == properties["api_key"] == properties["accessToken"] == "[hidden]"
    )
    assert properties["callback"] == "https://[hidden]@example.com/cb?token=[hidden]"
    assert properties["items"] == [{"secret": "[hidden]"}, {"sku": "x"}]
    assert (properties["coupon"], properties["author"], shown["type"]) == ("SAVE10", "Ada", "track")


@pytest.mark.parametrize(
    "secret",
    [
        "hunter22",
        1234567890,
        12.5,
        True,
        ["pdl_live_a", "pdl_live_b"],
        {"value": "pdl_live_abcdef", "kind": "bearer"},
        [{"deep": {"deeper": "pdl_live_abcdef"}}],
    ],
    ids=["string", "int", "float", "bool", "list", "object", "nested"],
)
def test_a_credential_named_key_is_masked_whatever_its_value(secret: object) -> None:
    shown = redact_value({"properties": {"apiKey": secret, "plan": "pro"}})
    assert shown["properties"] == {"apiKey": "[hidden]", "plan": "pro"}


@pytest.mark.parametrize(
    "name",
    [
        "PASSWORD",
        "Api-Key",
        "X-API-KEY",
        "api%5Fkey",  # percent-encoded underscore
        "api%255Fkey",  # encoded twice
        "%74oken",  # percent-encoded letter
        "ＡｃｃｅｓｓＴｏｋｅｎ",  # full-width letters (NFKC)
        "to\u200bken",  # zero-width space inside the name
        "ClientSecret",
        "AUTHORIZATION",
        " key ",
    ],
)
def test_credential_names_count_however_they_are_spelled(name: str) -> None:
    shown = redact_value({name: 42, "other": 1})
    assert shown == {name: "[hidden]", "other": 1}
    assert shown_url(f"https://h.example/x?{name}=abc&debug=1").endswith("=[hidden]&debug=1")


def test_empty_and_null_credentials_stay_visible_as_unset() -> None:
    assert redact_value({"token": None, "secret": ""}) == {"token": None, "secret": ""}


@pytest.mark.parametrize(
    ("text", "secret"),
    [
        ("bad event {'apiKey': 9876543210, 'plan': 'pro'}", "9876543210"),
        ('bad event {"password": ["hunter22", "x"], "plan": "pro"}', "hunter22"),
        ('{"Client_Secret": {"v": "s3cr3t-value"}}', "s3cr3t-value"),
        ('{"API%5FKEY": "k-1234567"}', "k-1234567"),
        ("'TOKEN': 'pdl_live_abcdefgh'", "pdl_live_abcdefgh"),
    ],
)
def test_redact_text_masks_credential_keys_quoted_in_messages(text: str, secret: str) -> None:
    shown = redact_text(text)
    assert secret not in shown
    assert "[hidden]" in shown
    assert "plan" not in text or "'pro'" in shown or '"pro"' in shown


def test_header_values_are_masked_by_structure() -> None:
    from components.guards.redaction import redact_header_value

    assert redact_header_value('{"apiKey":123,"team":"growth"}') == (
        '{"apiKey":"[hidden]","team":"growth"}'
    )
    assert redact_header_value("team-growth") == "team-growth"
    assert "pdl_live_abcdefgh" not in redact_header_value("Bearer pdl_live_abcdefgh")


# --- end to end: every output of plan and send-test-event masks by structure ---------------

SANDBOX_STACK = """\
config:
  segment:url: http://127.0.0.1:8787
  segment:token: sandbox-segment-public-api-token
  segment-pendula:sandbox: true
  segment-pendula:destinations:
    - name: web
      sourceId: sandboxSourceWeb01
      flows:
        - name: welcome
          url: http://127.0.0.1:8787/webhook/inbound/00000000-0000-4000-8000-000000000001
          conditions:
            all:
              - event_type: {is: identify}
          customContext: {apiKey: 424242424242, team: growth}
          data:
            user: {"@path": "$.userId"}
            traits: {"@path": "$.traits"}
          sampleEvent: events/sample.json
  segment-pendula:pendulaTokens:
    welcome: sandbox-provided-token-welcome
"""
EVENT_SECRETS = ("98765123", "nested-secret-xyz", "list-secret-abc", "31415926")
SAMPLE = {
    "type": "identify",
    "userId": "u-1",
    "traits": {
        "Api%5FKey": 98765123,
        "PASSWORD": {"value": "nested-secret-xyz"},
        "tokens": ["list-secret-abc"],
        "pin_code": 1,
        "accessToken": 31415926,
        "plan": "pro",
    },
}


def _sandbox_project(tmp_path: Path) -> Path:
    root = tmp_path / "project"
    (root / "stacks").mkdir(parents=True)
    (root / "events").mkdir()
    (root / "Pulumi.yaml").write_text((ROOT / "Pulumi.yaml").read_text())
    (root / "stacks" / "Pulumi.local.yaml").write_text(SANDBOX_STACK)
    (root / "events" / "sample.json").write_text(json.dumps(SAMPLE))
    return root


@pytest.mark.parametrize("fmt", ["text", "markdown", "json"])
def test_plan_previews_mask_credential_keys_of_any_type(
    fmt: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = _sandbox_project(tmp_path)
    code = main(
        ["plan", "--stack", "local", "--format", fmt, "--stacks-dir", str(root / "stacks"),
         "--project-root", str(root)]
    )  # fmt: skip
    out, err = capsys.readouterr()
    assert code in (0, 1), err
    for secret in (*EVENT_SECRETS, "424242424242"):
        assert secret not in out + err
    assert "growth" in out  # the rest of the custom context is shown
    if fmt == "json":
        flow = json.loads(out)["destinations"][0]["flows"][0]
        traits = flow["bodyPreview"]["traits"]
        assert traits["Api%5FKey"] == traits["PASSWORD"] == traits["tokens"] == "[hidden]"
        assert traits["plan"] == "pro"
        assert json.loads(flow["customContext"]) == {"apiKey": "[hidden]", "team": "growth"}


def test_send_test_event_and_sample_out_mask_credential_keys_of_any_type(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    root = _sandbox_project(tmp_path)
    monkeypatch.delenv("PENDULA_TOKEN", raising=False)
    monkeypatch.setenv("PATH", "/nonexistent")
    sample = tmp_path / "sample-out.json"
    code = main(
        ["send-test-event", "--stacks-dir", str(root / "stacks"), "--flow", "welcome",
         "--event", str(root / "events" / "sample.json"), "--dry-run",
         "--sample-out", str(sample)]
    )  # fmt: skip
    out, err = capsys.readouterr()
    assert code == 0, err
    written = sample.read_text()
    for secret in (*EVENT_SECRETS, "424242424242"):
        assert secret not in out + err + written
    traits = json.loads(written)["traits"]
    assert traits["PASSWORD"] == traits["accessToken"] == "[hidden]"
    assert traits["plan"] == "pro"
    assert '"team":"growth"' in out
