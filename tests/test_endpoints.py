"""Where a credential may be sent: one rule, held by every URL that receives one."""

from __future__ import annotations

import pytest

from components.guards.endpoints import (
    DEFAULT_PENDULA_HOSTS,
    DEFAULT_SEGMENT_API_HOSTS,
    endpoint_problem,
    host_list_problem,
)

SEGMENT = DEFAULT_SEGMENT_API_HOSTS
PENDULA = DEFAULT_PENDULA_HOSTS


@pytest.mark.parametrize(
    "url",
    [
        "https://api.segmentapis.com",
        "https://eu1.api.segmentapis.com/",
        "https://API.SegmentAPIs.com",
        "https://api.segmentapis.com:443",
    ],
)
def test_segment_api_hosts_are_allowed(url: str) -> None:
    assert endpoint_problem(url, SEGMENT, allow_loopback=False) is None


REFUSED_SEGMENT_URLS = [
    ("https://api.segmentapis.com.evil.net", "its host is not allowed"),
    ("https://eu1.api.segmentapis.co", "its host is not allowed"),
    ("http://api.segmentapis.com", "it is not https"),
    ("https://api.segmentapis.com:8443", "it names port 8443"),
    ("https://tok:sta_secret@api.segmentapis.com", "it carries user info"),
]
"""Look-alikes of a Segment API URL that every layer holding the token must refuse (the rule
here, the stack config, the adopt client); `sta_secret` must never be shown."""


@pytest.mark.parametrize(
    ("url", "why"),
    [
        ("https://api.segmentapis.com.evil.net", "its host is not allowed"),
        ("https://evil.net/api.segmentapis.com", "its host is not allowed"),
        ("https://api-segmentapis.com", "its host is not allowed"),
        ("https://segmentapis.com", "its host is not allowed"),
        ("https://api.segmentapis.com.", "its host is not allowed"),
        ("http://api.segmentapis.com", "it is not https"),
        ("https://api.segmentapis.com:8443", "it names port 8443"),
        ("https://api.segmentapis.com:80", "it names port 80"),
        ("https://u:p@api.segmentapis.com", "it carries user info"),
        ("https://api.segmentapis.com@evil.net", "it carries user info"),
        ("https://api.segmentapis.com\\@evil.net", "user info"),
        ("https://api.segmentapis.com /x", "whitespace or control characters"),
        ("https://api.segmentapis.com:99999", "not a valid URL"),
        ("http://127.0.0.1:8787", "only when sandbox is true"),
        ("http://localhost", "only when sandbox is true"),
        ("http://[::1]:8787", "only when sandbox is true"),
        ("api.segmentapis.com", "has no host"),
        ("", "must not be empty"),
    ],
)
def test_look_alikes_user_info_ports_and_loopback_are_refused(url: str, why: str) -> None:
    problem = endpoint_problem(url, SEGMENT, allow_loopback=False)
    assert problem is not None and why in problem, problem
    assert ":p@" not in problem


@pytest.mark.parametrize(
    "url",
    ["https://pendula.app.evil.net/api/v1", "https://pendula.app@evil.net", "https://evil.app"],
)
def test_pendula_look_alikes_are_refused(url: str) -> None:
    assert endpoint_problem(url, PENDULA, allow_loopback=True) is not None


def test_loopback_only_where_allowed_and_only_http_s() -> None:
    for url in ("http://127.0.0.1:8787/api/v1", "https://localhost:1", "http://[::1]:9/x"):
        assert endpoint_problem(url, PENDULA, allow_loopback=True) is None
    assert endpoint_problem("ftp://127.0.0.1/x", PENDULA, allow_loopback=True) is not None
    assert endpoint_problem("http://u:p@127.0.0.1/x", PENDULA, allow_loopback=True) is not None


def test_messages_can_show_only_the_origin() -> None:
    problem = endpoint_problem(
        "http://evil.example/secret-path", PENDULA, allow_loopback=False, origin_only=True
    )
    assert problem is not None and "secret-path" not in problem
    assert problem.startswith("'http://evil.example' is not allowed")


@pytest.mark.parametrize(
    "hosts",
    [
        [],
        "pendula.app",
        ["https://pendula.app"],
        ["pendula.app/x"],
        ["*.pendula.app"],
        ["pendula.app:443"],
        ["localhost"],
        [""],
        [1],
    ],
)
def test_host_lists_hold_plain_host_names(hosts: object) -> None:
    assert host_list_problem(hosts) is not None


def test_valid_host_lists() -> None:
    assert host_list_problem(["pendula.app", "eu.pendula.app", "API.segmentapis.com"]) is None


# Allowed hosts are DNS names: every spelling of an address, wildcards and empty labels are
# refused by the one validator (config, token provider, policy pack).
NOT_HOST_NAMES = [
    ("10.0.0.1", "IP address"),
    ("127.1", "IP address"),  # shortened IPv4
    ("2130706433", "IP address"),  # decimal integer
    ("0x7f000001", "IP address"),  # hex integer
    ("017700000001", "IP address"),  # octal integer
    ("0x7f.0.0.1", "IP address"),  # mixed hex dotted
    ("::1", "IP address"),
    ("[::1]", "IP address"),  # bracketed IPv6
    ("[2001:db8::1]", "IP address"),
    ("::ffff:127.0.0.1", "IP address"),  # IPv4-mapped IPv6
    ("[10.0.0.1]", "IP address"),
    ("pendula.0x7f", "numeric label"),  # parsed as IPv4 by WHATWG URL parsers
    ("pendula.123", "numeric label"),
    ("*.pendula.app", "wildcard"),
    ("pendula.*", "wildcard"),
    ("pendula..app", "empty label"),
    (".pendula.app", "empty label"),
    ("pendula.app.", "empty label"),
]


@pytest.mark.parametrize(("host", "why"), NOT_HOST_NAMES)
def test_allowed_hosts_are_dns_names(host: str, why: str) -> None:
    problem = host_list_problem(["pendula.app", host])
    assert problem is not None and why in problem and repr(host) in problem


@pytest.mark.parametrize(("host", "why"), NOT_HOST_NAMES[:6])
def test_an_address_in_the_allowed_list_never_lets_a_credential_through(
    host: str, why: str
) -> None:
    url = f"https://{host}/api/v1"
    problem = endpoint_problem(url, ["pendula.app", host], allow_loopback=False)
    assert problem is not None and "allowed hosts are invalid" in problem
