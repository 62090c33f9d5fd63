"""Segment's stored form of a subscription, translated back into stack-file values: the trigger
as conditions, the custom context, the Authorization header as a token reference.

A credential read from Segment is never kept or shown: what Segment masks stays masked."""

from __future__ import annotations

import base64
import binascii
import json
from typing import Any

from components.config.models import (
    canonical_json,
)
from components.fql import ConditionError, conditions_to_yaml, generate_fql, parse_fql

_MASK_CHARACTERS = ("•", "*" * 3, "…")
"""How a censored value may look on read; Segment's exact mask is undocumented."""


def trigger_to_config(trigger: str) -> tuple[dict[str, Any], str, str | None]:
    """The stack-file keys for a trigger, its form, and a warning if it is kept unsafe.

    ``conditions`` only when they generate the very same text, so the trigger never diffs;
    otherwise the raw text verbatim, marked unsafe when Segment's parser may misread it.
    """
    try:
        ast = parse_fql(trigger)
    except ConditionError as exc:
        return (
            {"trigger": trigger, "unsafeTrigger": True},
            "unsafe trigger",
            f"its trigger is kept verbatim with unsafeTrigger: true because Segment's parser "
            f"may read it differently from what it says ({exc}); rewrite it as conditions and "
            "check with a test event",
        )
    conditions = conditions_to_yaml(ast)
    if generate_fql(ast) == trigger:
        return {"conditions": conditions}, "conditions", None
    return {"trigger": trigger}, "trigger", None


def custom_context_to_config(value: str) -> str | dict[str, Any]:
    """An object when the header is the canonical JSON of one (as the program writes it)."""
    try:
        decoded = json.loads(value)
    except ValueError:
        return value
    if isinstance(decoded, dict) and canonical_json(decoded) == value:
        return decoded
    return value


def token_config(header: Any) -> tuple[dict[str, Any] | None, str | None, str | None]:
    """(token config or None for the default bearer, a blocking problem, a warning)."""
    if header is None:
        return None, "it has no Authorization header (Pendula needs the flow's API token)", None
    if not isinstance(header, str) or not header.strip():
        return None, "its Authorization header is empty", None
    scheme, _, credential = header.partition(" ")
    canonical = scheme in ("Bearer", "Basic") and credential == credential.strip() and credential
    if scheme.lower() == "bearer" and credential.strip():
        warning = None if canonical else _header_spelling_warning()
        return None, None, warning
    if scheme.lower() == "basic" and credential.strip():
        warning = None if canonical else _header_spelling_warning()
        tenant_id = _basic_user(credential.strip())
        if tenant_id is None:
            return (
                {"scheme": "basic"},
                None,
                "its Basic Authorization header cannot be read (Segment returned it masked), so "
                "token.tenantId is left out: set it to the Pendula tenant id before the preview",
            )
        return {"scheme": "basic", "tenantId": tenant_id}, None, warning
    if _is_masked(header):
        return (
            None,
            None,
            "its Authorization header is masked, so its scheme cannot be read; the stack "
            "assumes 'Bearer <token>' (set token.scheme: basic and token.tenantId otherwise)",
        )
    return (
        None,
        "its Authorization header is neither 'Bearer <token>' nor 'Basic <base64>'",
        None,
    )


def _header_spelling_warning() -> str:
    return (
        "its Authorization header is not spelt 'Bearer <token>'/'Basic <credentials>' exactly; "
        "the program writes that spelling, so the first preview shows a settings change"
    )


def _basic_user(credential: str) -> str | None:
    """The user part of ``base64(user:password)``, or None if it cannot be read."""
    if _is_masked(credential):
        return None
    try:
        decoded = base64.b64decode(credential, validate=True).decode("ascii")
    except (binascii.Error, UnicodeDecodeError, ValueError):
        return None
    user, colon, _ = decoded.partition(":")
    return user if colon and user else None


def _is_masked(text: str) -> bool:
    return any(mask in text for mask in _MASK_CHARACTERS)
