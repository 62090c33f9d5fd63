"""The bytes Segment's Webhooks (Actions) destination puts on the wire: JSON body and X-Signature.

actions-core sends `json: payload.data` (JavaScript's `JSON.stringify`) and the webhook destination
signs `JSON.stringify(payload.data)` with HMAC-SHA1 (action-destinations webhook/index.ts), so the
body and the signed text are the same string. Python's json differs from JSON.stringify only in
separators, non-ASCII escaping and integral floats (`1.0` vs `1`), all handled here.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from typing import Any

# Integral floats beyond 2**53 print in exponent form in JavaScript; keep them as floats there.
_JS_SAFE_INTEGER = 2**53


def _as_javascript_numbers(value: Any) -> Any:
    if isinstance(value, float) and value.is_integer() and abs(value) < _JS_SAFE_INTEGER:
        return int(value)
    if isinstance(value, dict):
        return {key: _as_javascript_numbers(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_as_javascript_numbers(item) for item in value]
    return value


def json_stringify(value: Any) -> str:
    """`JSON.stringify(value)` for JSON-compatible values (dict order preserved)."""
    return json.dumps(
        _as_javascript_numbers(value), separators=(",", ":"), ensure_ascii=False, allow_nan=False
    )


def signature(shared_secret: str, body: str) -> str:
    """X-Signature: hex HMAC-SHA1 of the body text under the destination's shared secret."""
    return hmac.new(shared_secret.encode("utf-8"), body.encode("utf-8"), hashlib.sha1).hexdigest()
