"""Credentials typed into URLs, text and events are hidden wherever they are shown."""

from __future__ import annotations

import pytest

from components.redaction import redact_text, redact_value, shown_url


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
