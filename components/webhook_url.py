"""What a Pendula webhook trigger URL looks like, decided in one place.

Pendula shows each flow's POST URL under *Configure Webhook trigger URL*, in the shape
``https://pendula.app/webhook/inbound/<uuid>`` (reference/pendula.md §1.1). The stack config,
the token resource, ``adopt`` and the policy pack all ask the same questions of a URL: is its
origin one a token may be sent to, and does it have the trigger's shape? They word the answer
for their own audience, but the rules live here.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterable
from urllib.parse import urlsplit

DEFAULT_ALLOWED_HOSTS = ("pendula.app",)
"""Pendula's documented webhook host."""

LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})
"""Hosts the local sandbox serves on; allowed (over http too) only where the caller says so."""

PATH_SHAPE = "/webhook/inbound/<uuid>"

_PATH = re.compile(r"^/webhook/inbound/(?P<flow_id>[0-9a-fA-F-]{36})$")


def origin_allowed(url: str, allowed_hosts: Iterable[str], allow_loopback: bool) -> bool:
    """https on an allowed host, or http(s) on a loopback host when ``allow_loopback``."""
    parts = urlsplit(url)
    host = (parts.hostname or "").lower()
    if allow_loopback and host in LOOPBACK_HOSTS:
        return parts.scheme in ("http", "https")
    return parts.scheme == "https" and host in {h.lower() for h in allowed_hosts}


def shape_problem(url: str) -> str | None:
    """Why ``url`` is not a webhook trigger URL (its origin aside), or None when it is."""
    parts = urlsplit(url)
    if parts.query or parts.fragment or parts.username or parts.password:
        return "must not carry a query, fragment or credentials"
    match = _PATH.match(parts.path)
    if match is None or not _is_uuid(match["flow_id"]):
        return (
            f"is not a Pendula webhook trigger URL (the path must be {PATH_SHAPE}, as Pendula "
            "shows it under 'Configure Webhook trigger URL')"
        )
    return None


def flow_id(url: str) -> str:
    """The flow's UUID in canonical lower-case form; ``url`` must pass ``shape_problem``."""
    match = _PATH.match(urlsplit(url).path)
    if match is None:
        raise ValueError(f"'{shown(url)}' {shape_problem(url)}")
    return str(uuid.UUID(match["flow_id"]))


def shown(url: str) -> str:
    """``url`` fit for an error message: whatever may be a credential replaced by ``[hidden]``.

    A credential hides in the user info (``user:pass@``), the fragment (``#access_token=…``) or
    a query parameter named like one (``?token=…``, ``?api_key=…``), or is the parameter itself
    (``?pdl_…``). Such a URL is refused anyway, and the message must not repeat the secret;
    other parameters (``?debug=1``) stay, so the user sees what to remove.
    """
    try:
        parts = urlsplit(url)
    except ValueError:
        return "[URL not shown: it cannot be parsed]"
    netloc = parts.netloc
    if "@" in netloc:
        netloc = "[hidden]@" + netloc.rpartition("@")[2]
    query = "&".join(_shown_parameter(item) for item in parts.query.split("&"))
    base = f"{parts.scheme}://{netloc}" if parts.scheme or netloc else ""
    return (
        base
        + parts.path
        + (f"?{query}" if parts.query else "")
        + ("#[hidden]" if parts.fragment else "")
    )


_CREDENTIAL_NAME = re.compile(r"(?i)token|secret|key|auth|pass|pwd|sig|session|credential|code")


def _shown_parameter(item: str) -> str:
    name, equals, _ = item.partition("=")
    if not equals:
        return "[hidden]" if item else item
    return f"{name}=[hidden]" if _CREDENTIAL_NAME.search(name) else item


def _is_uuid(text: str) -> bool:
    try:
        uuid.UUID(text)
    except ValueError:
        return False
    return True
