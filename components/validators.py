"""One validator per field, shared by the stack config, the token provider and the policy pack.

Each function answers "why is this value not allowed?" with a short phrase (or None), without
quoting a credential; the caller prefixes the key path in its own vocabulary
(``segment-pendula:destinations[0].flows[0].token.tenantId`` in a stack file, ``tenant_id`` on
the resource). So ``plan`` refuses exactly what ``pulumi up`` would refuse, before any call.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterator
from typing import Any

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
