"""Where a credential may be sent: one rule for every URL that receives one.

Three kinds of URL receive a credential from this project: a flow's webhook trigger URL (the
flow's Pendula token, sent by Segment), ``pendulaApiUrl`` (the tenant admin token, sent by the
token provider) and ``segment:url`` (the Segment Public API token, sent by the Terraform
provider). A typo, a look-alike host or a pasted URL with a password in it must never receive
one, so all three are held to the same rule, by the stack config, the token provider at run
time and the policy pack alike:

- https, on a host that is *exactly* one of the allowed hosts (``pendula.app.evil.net`` and
  ``api.segmentapis.com.evil.net`` are different hosts), on the default port;
- no user info (``https://user:pass@host``): credentials belong in secure config;
- http or https on a loopback host (any port) only where the caller allows it: the sandbox.
"""

from __future__ import annotations

import ipaddress
import re
import socket
from collections.abc import Iterable
from urllib.parse import urlsplit

from components.guards.redaction import shown_url

DEFAULT_PENDULA_HOSTS = ("pendula.app",)
"""Pendula's documented webhook host."""

DEFAULT_SEGMENT_API_HOSTS = ("api.segmentapis.com", "eu1.api.segmentapis.com")
"""Segment's Public API hosts: US and EU workspaces (docs.segmentapis.com, Getting Started)."""

LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})
"""Hosts the local sandbox serves on; allowed (over http too) only where the caller says so."""

_LABEL = r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?"
_HOST_NAME = re.compile(rf"^(?=.{{1,253}}$){_LABEL}(?:\.{_LABEL})+$")


def is_loopback(url: str) -> bool:
    """Whether ``url`` points at this machine (parse failures count as not loopback)."""
    try:
        return (urlsplit(url).hostname or "").lower() in LOOPBACK_HOSTS
    except ValueError:
        return False


def endpoint_problem(
    url: object,
    allowed_hosts: Iterable[str],
    allow_loopback: bool,
    *,
    loopback_switch: str = "sandbox is true",
    origin_only: bool = False,
) -> str | None:
    """Why a credential may not be sent to ``url``, or None when it may.

    The answer quotes the URL with any credential hidden (``origin_only``: only
    ``scheme://host:port``, for audiences that must not see a path either), names the
    setting that allows loopback (``loopback_switch``) and says what is allowed.
    """
    if not isinstance(url, str) or not url.strip():
        return f"{url!r} is not a URL" if not isinstance(url, str) else "must not be empty"
    allowed_list = list(allowed_hosts)
    if list_problem := host_list_problem(allowed_list):
        # Whoever built the list (a stack, the engine's config, a policy config), an IP
        # literal or wildcard never turns into an allowed destination.
        return f"no credential is sent anywhere: the allowed hosts are invalid: {list_problem}"
    allowed = sorted({h.lower() for h in allowed_list})
    refused = f"'{_origin(url) if origin_only else shown_url(url)}' is not allowed:"
    rule = (
        f"a credential is sent there, so it must be https on an allowed host "
        f"({', '.join(allowed) or 'none'}) on the default port, without user info"
    )
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return f"{refused} it is not a valid URL ({rule})"
    host = (parts.hostname or "").lower()
    scheme = parts.scheme.lower()
    if "@" in parts.netloc:
        return f"{refused} it carries user info (credentials belong in secure config, not URLs)"
    if any(c.isspace() or ord(c) < 0x20 or ord(c) == 0x7F for c in url):
        return f"{refused} it contains whitespace or control characters ({rule})"
    if not host:
        return f"{refused} it has no host ({rule})"
    if host in LOOPBACK_HOSTS:
        if not allow_loopback:
            return (
                f"{refused} it points at this machine; http(s) on 127.0.0.1/localhost is "
                f"allowed only when {loopback_switch}"
            )
        if scheme not in ("http", "https"):
            return f"{refused} it must be http or https"
        return None
    if scheme != "https":
        return f"{refused} it is not https ({rule})"
    if host not in allowed:
        return f"{refused} its host is not allowed ({rule})"
    if port is not None and port != 443:
        return f"{refused} it names port {port} ({rule})"
    return None


def _origin(url: str) -> str:
    """``scheme://host[:port]`` of ``url``: no user info, path, query or fragment."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return "[URL not shown: it cannot be parsed]"
    host = parts.hostname or ""
    shown_host = f"[{host}]" if ":" in host else host
    return f"{parts.scheme}://{shown_host}" + (f":{port}" if port is not None else "")


def host_list_problem(hosts: object) -> str | None:
    """Why ``hosts`` is not a list of DNS host names (``pendula.app``), or None.

    The one validator of ``allowedPendulaHosts``, ``allowedSegmentApiHosts`` and the policy
    pack's ``allowedHosts``, at config time and in the token provider at run time.
    """
    if not isinstance(hosts, list | tuple) or not hosts:
        return 'must be a non-empty list of host names, e.g. ["pendula.app"]'
    for host in hosts:
        if problem := host_name_problem(host):
            return problem
    return None


_NUMERIC_LABEL = re.compile(r"^(?:0x[0-9a-f]*|[0-9]+)$")


def host_name_problem(host: object) -> str | None:
    """Why ``host`` is not a DNS host name an allow-list may hold, or None.

    Only names: an IP literal in any spelling (``10.0.0.1``, ``[::1]``, ``::ffff:7f00:1``, the
    integer forms ``2130706433``/``0x7f000001``/``017700000001``, the shortened ``127.1``) is
    refused, because an allow-list entry must name a host whose certificate proves who it
    is, and a URL parser reads those spellings as addresses; so is a last label that is all
    digits or hex (``x.0x7f``: WHATWG URL parsers read it as IPv4), a wildcard, and an empty
    label (``pendula..app``, a leading or trailing dot).
    """
    if not isinstance(host, str):
        return f"{host!r} is not a host name (give a string such as 'pendula.app')"
    name = host.lower()
    rule = (
        "a DNS host name: lower-case letters, digits, '-' and '.', at least two labels; no "
        "IP address, scheme, port, path, wildcard or empty label"
    )
    if _is_ip_literal(name):
        return f"{host!r} is an IP address, not a host name ({rule})"
    if "*" in name:
        return f"{host!r} is a wildcard, not a host name ({rule})"
    if name.startswith(".") or name.endswith(".") or ".." in name:
        return f"{host!r} has an empty label ({rule})"
    if not _HOST_NAME.match(name):
        return f"{host!r} is not a host name ({rule})"
    if _NUMERIC_LABEL.match(name.rpartition(".")[2]):
        return f"{host!r} ends in a numeric label, which URL parsers read as an IP address ({rule})"
    return None


def _is_ip_literal(name: str) -> bool:
    """Whether ``name`` is an IPv4/IPv6 address in any spelling a resolver or parser accepts."""
    bare = name[1:-1] if name.startswith("[") and name.endswith("]") else name
    try:
        ipaddress.ip_address(bare.split("%", 1)[0])  # IPv6 zone ids (fe80::1%eth0) too
        return True
    except ValueError:
        pass
    try:
        # inet_aton reads the legacy forms: 127.1, 0x7f.0.0.1, 017700000001, 2130706433.
        socket.inet_aton(bare)
        return True
    except (OSError, ValueError):
        return False
