"""components.guards.unreachable: which failures never reached the server, and why, in words."""

from __future__ import annotations

import requests

from components.guards.unreachable import CONNECT_TIMEOUT_SECONDS, why_unreachable
from sandbox.server import SandboxServer, free_port


def failure(url: str) -> requests.RequestException:
    try:
        requests.get(url, timeout=(CONNECT_TIMEOUT_SECONDS, 5))
    except requests.RequestException as exc:
        return exc
    raise AssertionError(f"{url} answered")


def test_a_closed_port_is_connection_refused() -> None:
    port = free_port()
    exc = failure(f"http://127.0.0.1:{port}/")
    assert why_unreachable(exc, f"127.0.0.1:{port}") == (
        f"connection refused: nothing listens at 127.0.0.1:{port}"
    )


def test_a_name_that_cannot_resolve_says_so() -> None:
    # .invalid never resolves (RFC 6761), with or without a network.
    exc = failure("http://segment-pendula.invalid/")
    assert why_unreachable(exc, "segment-pendula.invalid") == (
        "the host name segment-pendula.invalid does not resolve (no DNS answer: offline, or a typo?)"
    )


def test_a_connect_timeout_names_the_limit() -> None:
    exc = requests.ConnectTimeout("timed out")
    assert why_unreachable(exc, "api.segmentapis.com") == (
        f"api.segmentapis.com did not accept a connection within {CONNECT_TIMEOUT_SECONDS:g} s"
    )


def test_failures_after_connecting_are_not_unreachable(sandbox: SandboxServer) -> None:
    assert why_unreachable(requests.ReadTimeout("slow"), "h") is None
    assert why_unreachable(requests.ConnectionError("connection aborted"), "h") is None
    assert why_unreachable(requests.TooManyRedirects("loop"), "h") is None
    # A real connection the server drops mid-answer: the server was reached.
    requests.post(
        f"{sandbox.url}/_sandbox/faults",
        json={"path_prefix": "/_sandbox/requests", "count": 1, "drop_connection": True},
        timeout=5,
    ).raise_for_status()
    exc = failure(f"{sandbox.url}/_sandbox/requests")
    assert isinstance(exc, requests.ConnectionError)
    assert why_unreachable(exc, sandbox.url) is None
