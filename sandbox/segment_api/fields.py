"""Request-body field checks and the settings merge that several Public API resources share."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sandbox.segment_api.conventions import invalid


def checked_bool(field: str, value: Any) -> bool:
    """`value` when it is a JSON boolean; 422 naming `field` otherwise."""
    if not isinstance(value, bool):
        raise invalid(field, f"{value!r} is not a boolean; allowed true or false.")
    return value


def checked_object(field: str, value: Any) -> dict[str, Any]:
    """`value` when it is a JSON object; 422 naming `field` and the type sent otherwise."""
    if not isinstance(value, dict):
        raise invalid(field, f"must be a JSON object, got {type(value).__name__}.")
    return value


def checked_optional_str(field: str, value: Any) -> str | None:
    """`value` when it is a string or null (null unsets it); 422 naming `field` otherwise."""
    if value is not None and not isinstance(value, str):
        raise invalid(field, f"{value!r} is not a string.")
    return value


def merge_settings(
    stored: Mapping[str, Any], patch: Mapping[str, Any], *, mask: str | None = None
) -> dict[str, Any]:
    """`stored` updated key by key, as the Terraform provider expects of a PATCH.

    Keys absent from `patch` keep their value and a key sent as null is removed (how the provider
    deletes keys dropped from config). A value equal to `mask` is a censored secret sent back
    unchanged, so it keeps the stored value instead of overwriting the secret with its mask.
    """
    merged = dict(stored)
    for key, value in patch.items():
        if value is None:
            merged.pop(key, None)
        elif mask is None or value != mask:
            merged[key] = value
    return merged
