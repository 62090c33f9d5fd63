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

from components.guards.endpoints import DEFAULT_PENDULA_HOSTS, endpoint_problem
from components.guards.endpoints import LOOPBACK_HOSTS as _LOOPBACK_HOSTS
from components.guards.redaction import shown_url

DEFAULT_ALLOWED_HOSTS = DEFAULT_PENDULA_HOSTS
LOOPBACK_HOSTS = _LOOPBACK_HOSTS

PATH_SHAPE = "/webhook/inbound/<uuid>"

_PATH = re.compile(r"^/webhook/inbound/(?P<flow_id>[0-9a-fA-F-]{36})\Z")


def origin_allowed(url: str, allowed_hosts: Iterable[str], allow_loopback: bool) -> bool:
    """Whether a token may be sent to ``url`` (``components.guards.endpoints.endpoint_problem``)."""
    return endpoint_problem(url, allowed_hosts, allow_loopback) is None


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
    """``url`` fit for an error message (``components.guards.redaction.shown_url``)."""
    return shown_url(url)


def _is_uuid(text: str) -> bool:
    try:
        uuid.UUID(text)
    except ValueError:
        return False
    return True
