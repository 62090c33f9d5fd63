"""Why an HTTP request never reached its server, in words a user can act on.

``send-test-event`` and ``adopt`` talk to one server each. When nothing answers there, a
retry will not help and a traceback does not say what to do; these helpers tell the two cases
apart (never connected vs. failed later) and name the cause.
"""

from __future__ import annotations

import errno
import socket
from typing import Final

import requests
from urllib3.exceptions import NameResolutionError, NewConnectionError

CONNECT_TIMEOUT_SECONDS: Final = 5.0
"""How long to wait for a TCP connection: a server that is up accepts within milliseconds, and
a route that goes nowhere should fail within seconds, not after the read timeout."""


def why_unreachable(exc: requests.RequestException, host: str) -> str | None:
    """The reason ``exc`` never reached ``host``, or None when it did (e.g. a read timeout).

    The message names the host, never a header, so no credential can appear in it.
    """
    if isinstance(exc, requests.ConnectTimeout):
        return f"{host} did not accept a connection within {CONNECT_TIMEOUT_SECONDS:g} s"
    if not isinstance(exc, requests.ConnectionError):
        return None
    wrapped = exc.args[0] if exc.args else None
    reason = getattr(wrapped, "reason", wrapped)  # urllib3's MaxRetryError wraps the cause
    cause = getattr(reason, "__cause__", None) or getattr(reason, "__context__", None)
    if isinstance(reason, NameResolutionError) or isinstance(cause, socket.gaierror):
        return f"the host name {host} does not resolve (no DNS answer: offline, or a typo?)"
    if not isinstance(reason, NewConnectionError):
        return None  # connected, then the connection broke: the server was reached
    if isinstance(cause, ConnectionRefusedError):
        return f"connection refused: nothing listens at {host}"
    if isinstance(cause, OSError) and cause.errno in (errno.ENETUNREACH, errno.EHOSTUNREACH):
        return f"no network route to {host}"
    return f"could not connect to {host} ({cause or reason})"
