"""Hiding credentials that people type where they do not belong: URLs, events, messages.

A credential turns up in a URL's user info (``https://user:pass@host``), its fragment
(``#access_token=…``) or a query parameter named like one (``?api_key=…``); in free text as an
Authorization value (``Bearer …``) or ``token=…``; and in an event under a key named like one
(``{"password": …}``). Every output path (plan, check, errors, ``send-test-event`` and its
``--sample-out`` file, ``adopt``) passes what it shows through these functions, so a
credential is replaced by ``[hidden]`` wherever it was typed. Escaping for the output medium
(``components.guards.escaping``) is a separate, later step.

Masking goes by structure, not by type: a key named like a credential (``is_credential_name``:
case-insensitive, percent-decoded, NFKC-folded, invisible characters removed, so
``API%5FKEY``, ``ＡｐｉＫｅｙ`` and ``to\u200bken`` count) has its whole value hidden, whether
it is a string, a number, a list or a nested object; in JSON-looking text (an error quoting a
dict, a custom-context header) a quoted credential-named key's value is hidden the same way.
"""

from __future__ import annotations

import functools
import json
import re
import unicodedata
from collections.abc import Mapping
from typing import Any
from urllib.parse import SplitResult, unquote_plus, urlsplit

from components.guards.escaping import escape_terminal, is_invisible

HIDDEN = "[hidden]"

CREDENTIAL_NAME = re.compile(
    r"(?i)token|secret|passw|pwd|api[_-]?key|apikey|access[_-]?key|private[_-]?key|"
    r"authorization|^auth$|credential|signature|^sig$|^key$|^code$"
)
"""A query parameter, JSON key or config key whose value is a credential (after
``normalized_name``; use ``is_credential_name``)."""


@functools.lru_cache(maxsize=4096)
def normalized_name(name: str) -> str:
    """A key as a reader takes it: percent-decoded (repeatedly: ``%255F``), NFKC-folded
    (full-width letters), case-folded, without invisible characters, trimmed."""
    text = str(name)
    for _ in range(3):
        decoded = unquote_plus(text)
        if decoded == text:
            break
        text = decoded
    text = unicodedata.normalize("NFKC", text)
    text = "".join(char for char in text if not is_invisible(char))
    return text.casefold().strip()


def is_credential_name(name: object) -> bool:
    """Whether a key, parameter or header named ``name`` holds a credential."""
    return bool(CREDENTIAL_NAME.search(normalized_name(str(name))))


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
    return f"{name}={HIDDEN}" if is_credential_name(name) else item


def redact_text(text: str, *, quoted_keys: bool = True) -> str:
    """Free text with every URL shown by ``shown_url`` and typed credentials hidden.

    ``quoted_keys``: also hide the value of a quoted credential-named key (``'apiKey': 12``),
    as an error quoting a dict shows it. A JSON document we rendered ourselves, whose values
    were already masked by ``redact_value``, passes False: its own keys (a plan's ``"token"``
    section) are descriptions, not credentials.
    """
    text = _URL.sub(lambda m: shown_url(m.group()), str(text))
    text = _AUTH_VALUE.sub(lambda m: f"{m.group(1)}{m.group(2)}{HIDDEN}", text)
    text = _ASSIGNMENT.sub(lambda m: f"{m.group(1)}{m.group(2)}{HIDDEN}", text)
    return _redact_quoted_keys(text) if quoted_keys else text


# A quoted key followed by ':' as JSON or a Python repr writes it: ``"apiKey": 123``,
# ``'token': ['a']``. Its value is hidden whatever it is, up to its end (a balanced bracket
# for an object or a list).
_QUOTED_KEY = re.compile(r"""(["'])((?:\\.|(?!\1).){1,200}?)\1(\s*:\s*)""")
_SCALAR_END = re.compile(r"""[,}\]\r\n]""")


def _redact_quoted_keys(text: str) -> str:
    out: list[str] = []
    position = 0
    for match in _QUOTED_KEY.finditer(text):
        if match.start() < position or not is_credential_name(match.group(2)):
            continue
        start = match.end()
        end = _value_end(text, start)
        if text[start:end].strip() in ("", HIDDEN, f'"{HIDDEN}"', "null", "None", '""', "''"):
            continue
        out.append(text[position:start])
        # JSON text stays JSON: a double-quoted key gets a double-quoted placeholder.
        out.append(f'"{HIDDEN}"' if match.group(1) == '"' else HIDDEN)
        position = end
    out.append(text[position:])
    return "".join(out)


def _value_end(text: str, start: int) -> int:
    """Where the JSON/repr value starting at ``start`` ends (best effort, never raises)."""
    if start >= len(text):
        return start
    opener = text[start]
    if opener in "\"'":
        index = start + 1
        while index < len(text) and text[index] != opener:
            index += 2 if text[index] == "\\" else 1
        return min(index + 1, len(text))
    if opener in "[{":
        depth = 0
        quote = ""
        index = start
        while index < len(text):
            char = text[index]
            if quote:
                if char == "\\":
                    index += 1
                elif char == quote:
                    quote = ""
            elif char in "\"'":
                quote = char
            elif char in "[{":
                depth += 1
            elif char in "]}":
                depth -= 1
                if depth == 0:
                    return index + 1
            index += 1
        return len(text)
    found = _SCALAR_END.search(text, start)
    return found.start() if found else len(text)


def redact_headers(headers: Mapping[str, Any]) -> dict[str, Any]:
    """Headers as shown: a credential-named header hidden, every other value by structure."""
    return {
        name: (
            HIDDEN
            if is_credential_name(name) and value not in (None, "")
            else redact_header_value(value)
            if isinstance(value, str)
            else redact_value(value)
        )
        for name, value in headers.items()
    }


def redact_header_value(value: str) -> str:
    """A header value as shown: JSON objects and lists by structure, other text as text."""
    try:
        parsed = json.loads(value)
    except (ValueError, RecursionError):
        return redact_text(value)
    if isinstance(parsed, dict | list):
        return json.dumps(redact_value(parsed), separators=(",", ":"), ensure_ascii=False)
    return redact_text(value)


def redact_value(value: Any) -> Any:
    """A JSON-like value with credential-named keys' values hidden and strings redacted.

    The whole value of a credential-named key is hidden, whatever its type (a number, a list
    or an object can be a credential, or hold one); only ``null`` and ``""`` stay, since they
    reveal nothing and show the key is unset.
    """
    if isinstance(value, str):
        return redact_text(value)
    if isinstance(value, dict):
        return {
            key: (
                HIDDEN
                if is_credential_name(key) and item is not None and item != ""
                else redact_value(item)
            )
            for key, item in value.items()
        }
    if isinstance(value, list):
        return [redact_value(item) for item in value]
    return value
