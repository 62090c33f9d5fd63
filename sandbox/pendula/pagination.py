"""Opaque cursors for list endpoints: `{items, next_cursor}` pages ordered by insertion."""

from __future__ import annotations

import base64
import binascii

from sandbox.pendula.errors import PendulaApiError

DEFAULT_LIMIT = 50
MAX_LIMIT = 100


def encode_cursor(after_seq: int) -> str:
    """The cursor of the page that starts after row `after_seq`."""
    return base64.urlsafe_b64encode(f"after:{after_seq}".encode()).decode().rstrip("=")


def decode_cursor(cursor: str | None) -> int:
    """The row sequence number a cursor points after (0 for the first page)."""
    if cursor is None or cursor == "":
        return 0
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        prefix, _, seq = base64.urlsafe_b64decode(padded).decode().partition(":")
        if prefix == "after" and seq.isdigit():
            return int(seq)
    except (binascii.Error, UnicodeDecodeError, ValueError):
        pass
    raise PendulaApiError(
        422,
        "validation_error",
        f"query.cursor: {cursor!r} is not a cursor returned by this API;"
        " pass the previous page's next_cursor, or omit it for the first page",
    )


def check_limit(limit: int, maximum: int = MAX_LIMIT) -> int:
    """`limit` if it lies in 1..maximum, else a 422 naming the allowed range."""
    if not 1 <= limit <= maximum:
        raise PendulaApiError(
            422,
            "validation_error",
            f"query.limit: must be between 1 and {maximum}, got {limit}",
        )
    return limit
