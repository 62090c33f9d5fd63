"""One validator per field, shared by the stack config, the token provider and the policy pack.

Each function answers "why is this value not allowed?" with a short phrase (or None), without
quoting a credential; the caller prefixes the key path in its own vocabulary
(``segment-pendula:destinations[0].flows[0].token.tenantId`` in a stack file, ``tenant_id`` on
the resource). So ``plan`` refuses exactly what ``pulumi up`` would refuse, before any call.
"""

from __future__ import annotations

import math
import re
from collections.abc import Collection, Iterator
from typing import Any
from urllib.parse import unquote, urlsplit

from components.guards.redaction import is_credential_name

MAX_TOKEN_NAME_LENGTH = 100
MAX_TOKEN_DESCRIPTION_LENGTH = 500
"""Pendula's limits on a token's name and description (docs/pendula-token-api.md)."""

_VISIBLE_ASCII = re.compile(r"[\x21-\x7e]+")
"""Header material: visible ASCII, no space (Segment sends only ASCII header values)."""
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")


def tenant_id_problem(value: object) -> str | None:
    """The Basic user name: visible ASCII without ':' (the user/password separator)."""
    if not isinstance(value, str):
        return f"must be a string, not {type(value).__name__}"
    if not _VISIBLE_ASCII.fullmatch(value) or ":" in value:
        return (
            f"{value!r} is not allowed: it must be non-empty visible ASCII without ':', "
            "spaces or line breaks (it becomes the Basic user name)"
        )
    return None


def token_text_problem(value: object) -> str | None:
    """A Pendula API token: visible ASCII without spaces. Never quotes the value."""
    if not isinstance(value, str) or not _VISIBLE_ASCII.fullmatch(value):
        return "must be non-empty visible ASCII without spaces (value not shown: it is secret)"
    return None


def token_name_problem(value: object) -> str | None:
    """A managed token's name in Pendula (Pendula trims it)."""
    if not isinstance(value, str):
        return f"must be a string, not {type(value).__name__}"
    text = value.strip()
    if not text:
        return "must not be empty"
    return _text_problem(text, MAX_TOKEN_NAME_LENGTH)


def token_description_problem(value: object) -> str | None:
    """A managed token's description in Pendula (Pendula trims it)."""
    if not isinstance(value, str):
        return f"must be a string, not {type(value).__name__}"
    return _text_problem(value.strip(), MAX_TOKEN_DESCRIPTION_LENGTH)


def _text_problem(text: str, limit: int) -> str | None:
    if len(text) > limit:
        return f"is {len(text)} characters long (at most {limit})"
    if _CONTROL.search(text):
        return f"{text!r} must not contain control characters or line breaks"
    return None


def header_value_problem(value: str) -> str | None:
    """A header value Segment can send: ASCII without control characters or line breaks."""
    if not value.isascii() or _CONTROL.search(value):
        return (
            f"{value!r} is not a valid header value: Segment sends only ASCII header values "
            "without control characters or line breaks (write non-ASCII text in an object, "
            "which is sent as JSON with \\u escapes)"
        )
    return None


def json_leaves(value: Any, path: str) -> Iterator[tuple[str, Any]]:
    """Every leaf of a JSON-like value with its key path (``path.key[0]``), depth first."""
    if isinstance(value, dict):
        for key, item in value.items():
            yield from json_leaves(item, f"{path}.{key}")
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from json_leaves(item, f"{path}[{index}]")
    else:
        yield path, value


def non_finite_numbers(value: Any, path: str) -> Iterator[str]:
    """The key path of every ``NaN``/``Infinity`` in a JSON-like value.

    JSON has no such numbers: Segment's JSON parser refuses them, so a mapping or setting that
    holds one would fail at deploy time.
    """
    for leaf_path, leaf in json_leaves(value, path):
        if isinstance(leaf, float) and not math.isfinite(leaf):
            yield leaf_path


def non_finite_problem(value: Any, path: str) -> str | None:
    """One message naming every non-finite number in ``value``, or None."""
    paths = list(non_finite_numbers(value, path))
    if not paths:
        return None
    return (
        f"{', '.join(paths)}: NaN/Infinity cannot be sent (JSON has no such numbers and "
        "Segment refuses them); use a finite number, a string or null"
    )


# --- credentials in plain values ------------------------------------------------------------

_TOKEN_SHAPED = re.compile(r"[A-Za-z0-9_\-.~+/=:]{12,}")
"""A long run of token characters without spaces: what API keys, JWTs and passwords look like
(``pdl_live_Q2hl…``, ``sk-…``, a UUID); prose has spaces."""
_AUTH_TEXT = re.compile(
    r"(?i)\b(?:bearer\s+[A-Za-z0-9+/=._~-]{8,}"
    r"|basic\s+(?=[A-Za-z]*[0-9+/=._~-])[A-Za-z0-9+/=._~-]{8,})"
)
"""``Bearer <token>`` or ``Basic <base64>``; a Basic credential has a digit or symbol (base64
of ``user:password`` always does), so prose such as "Basic membership" is not one."""
_URL_START = re.compile(r"(?i)^\s*[a-z][a-z0-9+.-]*://")


def credential_problems(value: Any, path: str, *, endpoints: Collection[str] = ()) -> Iterator[str]:
    """Every place in a plain (non-secret) config value that holds a credential, by key path.

    One walk for every key the engine hands to a provider: a URL with user info or a
    credential-named (or nameless, token-shaped) query or fragment parameter; an
    Authorization-style value (``Bearer …``, ``Basic …``); a long token-shaped string or
    number under a key named like a credential (``apiKey``, ``X-Auth-Token``, ``password``;
    ``components.guards.redaction.is_credential_name``). Messages never quote the value.
    ``endpoints``: key paths whose URL ``components.guards.endpoints`` checks already (user info is
    refused there, in every stack), so it is not reported twice.
    """
    for leaf_path, key, leaf in _keyed_leaves(value, path, ""):
        if isinstance(leaf, bool) or not isinstance(leaf, str | int | float):
            continue
        user_info = leaf_path not in endpoints
        if isinstance(leaf, str) and (problem := url_credential_problem(leaf, user_info=user_info)):
            yield f"{leaf_path}: {problem} (value not shown)"
        elif isinstance(leaf, str) and (problem := authorization_text_problem(leaf)):
            yield f"{leaf_path}: {problem}"
        elif key and is_credential_name(key) and _looks_like_token(leaf):
            yield (
                f"{leaf_path}: the key is named like a credential and its value looks like one "
                "(value not shown); keep credentials in secure config (`pulumi config set "
                "--secret`), never in plain keys, or rename the key if it is not one"
            )


def _looks_like_token(leaf: str | int | float) -> bool:
    """A long token-shaped string with letters and digits (``pdl_live_Q2hl…``, a UUID), or a
    number of 12+ digits; ``bearer-jwt-token`` or ``3`` under ``tokenType``/``tokenCount``
    are descriptions, not credentials."""
    if not isinstance(leaf, str):
        return sum(char.isdigit() for char in str(leaf)) >= 12
    return (
        _TOKEN_SHAPED.fullmatch(leaf) is not None
        and any(char.isdigit() for char in leaf)
        and any(char.isalpha() for char in leaf)
    )


def authorization_text_problem(text: str) -> str | None:
    """Why ``text`` looks like an Authorization credential (``Bearer …``), or None."""
    if _AUTH_TEXT.search(text):
        return (
            "looks like a plaintext credential ('Bearer …'/'Basic …'); the Authorization "
            "header is built from pendulaTokens, never written here"
        )
    return None


def url_credential_problem(url: str, *, user_info: bool = True) -> str | None:
    """Why ``url`` carries a credential (user info, a credential-named or nameless
    token-shaped query/fragment parameter), or None. Never quotes the credential."""
    if not _URL_START.match(url):
        return None
    try:
        parts = urlsplit(url.strip())
        netloc = parts.netloc
    except ValueError:
        return None
    if user_info and "@" in netloc:
        return "the URL carries user info (credentials belong in secure config, not URLs)"
    for where, text in (("query", parts.query), ("fragment", parts.fragment)):
        for item in re.split(r"[&;]", text):
            name, equals, item_value = item.partition("=")
            if equals and item_value and is_credential_name(name):
                return (
                    f"the URL's {where} parameter '{name}' is named like a credential "
                    "(credentials belong in secure config, not URLs)"
                )
            if not equals and _looks_like_token(unquote(item)):
                return (
                    f"the URL's {where} holds a token-shaped value (credentials belong in "
                    "secure config, not URLs)"
                )
    return None


def _keyed_leaves(value: Any, path: str, key: str) -> Iterator[tuple[str, str, Any]]:
    """Every leaf of a JSON-like value with its key path and the nearest key above it."""
    if isinstance(value, dict):
        for name, item in value.items():
            # A mapping directive (``@literal``, ``@template``) is transparent: the value
            # belongs to the key above it (``X-Api-Key: {"@literal": …}``).
            named = key if str(name).startswith("@") else str(name)
            yield from _keyed_leaves(item, f"{path}.{name}", named)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _keyed_leaves(item, f"{path}[{index}]", key)
    else:
        yield path, key, value
