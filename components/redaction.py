"""Hiding credentials that people type where they do not belong: URLs, events, messages.

A credential turns up in a URL's user info (``https://user:pass@host``), its fragment
(``#access_token=…``) or a query parameter named like one (``?api_key=…``); in free text as an
Authorization value (``Bearer …``) or ``token=…``; and in an event under a key named like one
(``{"password": …}``). Every output path (plan, check, errors, ``send-test-event`` and its
``--sample-out`` file, ``adopt``) passes what it shows through these functions, so a
credential is replaced by ``[hidden]`` wherever it was typed. Escaping for the output medium
(``components.escaping``) is a separate, later step.
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import SplitResult, urlsplit

from components.escaping import escape_terminal

HIDDEN = "[hidden]"

CREDENTIAL_NAME = re.compile(
    r"(?i)token|secret|passw|pwd|api[_-]?key|apikey|access[_-]?key|private[_-]?key|"
    r"authorization|^auth$|credential|signature|^sig$|^key$|^code$"
)
"""A query parameter, JSON key or config key whose value is a credential."""

_URL = re.compile(r"\b[A-Za-z][A-Za-z0-9+.-]*://[^\s'\"<>`]+")
_AUTH_VALUE = re.compile(r"(?i)\b(bearer|basic)(\s+)[A-Za-z0-9+/=._~-]{4,}")
# ``name=value`` as typed in a query string, a shell line or a log; not ``name: value``,
# which is how our own messages name keys.
_ASSIGNMENT = re.compile(
    r"(?i)\b([A-Za-z0-9_-]*(?:token|secret|passw(?:or)?d|pwd|api[_-]?key|apikey)[A-Za-z0-9_-]*)"
    r"(=)(?!\[hidden\]|\[secret\]|[<$])([^\s&,;'\"]{4,})"
)


def shown_url(url: str) -> str:
    """``url`` with whatever may be a credential replaced by ``[hidden]``.

    User info, a fragment and credential-named query parameters are hidden, and so is a
    parameter without a name (``?pdl_…``); other parameters (``?debug=1``) stay, so the
    reader sees what to remove.
    """
    try:
        parts = urlsplit(url)
    except ValueError:
        return "[URL not shown: it cannot be parsed]"
    shown = _shown_url(parts)
    # Shown anywhere (terminal, PR comment, engine output): invisible characters made visible.
    return escape_terminal(shown)


def _shown_url(parts: SplitResult) -> str:
    netloc = parts.netloc
    if "@" in netloc:
        netloc = f"{HIDDEN}@" + netloc.rpartition("@")[2]
    query = "&".join(_shown_parameter(item) for item in parts.query.split("&"))
    base = f"{parts.scheme}://{netloc}" if parts.scheme or netloc else ""
    return (
        base
        + parts.path
        + (f"?{query}" if parts.query else "")
        + (f"#{HIDDEN}" if parts.fragment else "")
    )


def _shown_parameter(item: str) -> str:
    name, equals, _ = item.partition("=")
    if not equals:
        return HIDDEN if item else item
    return f"{name}={HIDDEN}" if CREDENTIAL_NAME.search(name) else item


def redact_text(text: str) -> str:
    """Free text with every URL shown by ``shown_url`` and typed credentials hidden."""
    text = _URL.sub(lambda m: shown_url(m.group()), str(text))
    text = _AUTH_VALUE.sub(lambda m: f"{m.group(1)}{m.group(2)}{HIDDEN}", text)
    return _ASSIGNMENT.sub(lambda m: f"{m.group(1)}{m.group(2)}{HIDDEN}", text)


def redact_value(value: Any) -> Any:
    """A JSON-like value with credential-named keys' values hidden and strings redacted."""
    if isinstance(value, str):
        return redact_text(value)
    if isinstance(value, dict):
        return {
            key: (
                HIDDEN
                if CREDENTIAL_NAME.search(str(key)) and isinstance(item, str) and item
                else redact_value(item)
            )
            for key, item in value.items()
        }
    if isinstance(value, list):
        return [redact_value(item) for item in value]
    return value
