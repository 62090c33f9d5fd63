"""The plan document as JSON (what ``--format json`` prints and CI keeps)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from components.fql.caret import without_caret
from components.guards.escaping import (
    escape_json,
)
from components.review.document import public

# --- rendering ----------------------------------------------------------------------------


def render_json(document: Mapping[str, Any]) -> str:
    """Stable, machine-readable: sorted keys, two-space indent, ASCII only (``escape_json``)."""
    shown = public(document) | {"problems": [without_caret(p) for p in document["problems"]]}
    return escape_json(shown, indent=2) + "\n"
