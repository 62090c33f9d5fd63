"""Pathological requests get a clean 4xx on every route: 413 for big bodies, 400/422 for bad JSON."""

from __future__ import annotations

import gzip
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from sandbox.limits import MAX_JSON_DEPTH, gunzip_limited, parse_json
from sandbox.server import SandboxServer
from sandbox.settings import SandboxSettings
from tests.pendula.support import admin, new_flow, new_tenant
from tests.sandbox.segment_helpers import SegmentWorkspace

TIMEOUT = 10
LIMIT = 64 * 1024


@pytest.fixture
def small(tmp_path: Path) -> Iterator[SandboxServer]:
    """A sandbox whose body limit is 64 KiB, so the tests stay quick."""
    with SandboxServer(SandboxSettings(tmp_path / "limits.sqlite3", max_body_bytes=LIMIT)) as s:
        yield s


def routes(server: SandboxServer) -> dict[str, tuple[str, dict[str, str]]]:
    """One POST route of each kind, with the headers that get past its authentication."""
    workspace = SegmentWorkspace(server)
    tenant = new_tenant(server)
    hook = new_flow(tenant)
    token = requests.post(
        f"{tenant.api_url}/tokens", json={"name": "t"}, headers=admin(tenant), timeout=TIMEOUT
    ).json()["token"]
    json_type = {"Content-Type": "application/json"}
    return {
        "webhook": (hook, {"Authorization": f"Bearer {token}", **json_type}),
        "public api": (
            f"{server.url}/sources",
            {"Authorization": f"Bearer {workspace.token}", **json_type},
        ),
        "token api": (f"{tenant.api_url}/tokens", {**admin(tenant), **json_type}),
        "tracking": (f"{server.url}/v1/track", {"Authorization": "Basic d2s6", **json_type}),
        "control: faults": (f"{server.url}/_sandbox/faults", json_type),
        "control: workspaces": (f"{server.url}/_sandbox/segment/workspaces", json_type),
        "control: tenants": (f"{server.url}/_sandbox/pendula/tenants", json_type),
    }


ROUTES = [
    "webhook",
    "public api",
    "token api",
    "tracking",
    "control: faults",
    "control: workspaces",
    "control: tenants",
]


@pytest.mark.parametrize("route", ROUTES)
def test_declared_oversize_body_gets_413_before_it_is_sent(
    small: SandboxServer, route: str
) -> None:
    url, headers = routes(small)[route]
    body = b"{" + b" " * (LIMIT + 10) + b"}"
    response = requests.post(url, data=body, headers=headers, timeout=TIMEOUT)
    assert response.status_code == 413, response.text
    assert response.json()["error"]["code"] == "payload_too_large"


@pytest.mark.parametrize("route", ROUTES)
def test_streamed_oversize_body_gets_413_without_reading_it_whole(
    small: SandboxServer, route: str
) -> None:
    url, headers = routes(small)[route]
    sent = 0

    def chunks() -> Iterator[bytes]:
        nonlocal sent
        # Far more than the limit, in chunks without a Content-Length: the server stops early.
        for _ in range(2000):
            sent += 16 * 1024
            yield b" " * (16 * 1024)

    started = time.monotonic()
    try:
        response = requests.post(url, data=chunks(), headers=headers, timeout=TIMEOUT)
    except requests.ConnectionError:
        # The server answered 413 and closed while we were still sending: also a refusal.
        response = None
    assert time.monotonic() - started < 5
    if response is not None:
        assert response.status_code == 413, response.text


@pytest.mark.parametrize("route", ROUTES)
@pytest.mark.parametrize(
    "body",
    [
        b"[" * 30_000 + b"]" * 30_000,  # deeper than Python's recursion limit
        b'{"a":' * (MAX_JSON_DEPTH + 5) + b"1" + b"}" * (MAX_JSON_DEPTH + 5),
        b'{"name": "trunc',  # truncated
        b'{"name": NaN}',  # not JSON
    ],
    ids=["very deep", "deeper than the limit", "truncated", "NaN"],
)
def test_bad_json_is_a_4xx_never_500(small: SandboxServer, route: str, body: bytes) -> None:
    url, headers = routes(small)[route]
    response = requests.post(url, data=body, headers=headers, timeout=TIMEOUT)
    assert response.status_code in (400, 422), (response.status_code, response.text)


def test_gzip_bomb_to_the_tracking_api_is_refused(small: SandboxServer) -> None:
    bomb = gzip.compress(b'{"type": "track", "event": "' + b"A" * (20 * 1024 * 1024) + b'"}')
    assert len(bomb) < LIMIT
    response = requests.post(
        f"{small.url}/v1/track",
        data=bomb,
        headers={"Content-Encoding": "gzip", "Content-Type": "application/json"},
        auth=("wk", ""),
        timeout=TIMEOUT,
    )
    assert 400 <= response.status_code < 500, response.text


def test_requests_within_the_limit_still_work(small: SandboxServer) -> None:
    workspace = SegmentWorkspace(small)
    assert workspace.source("web")["slug"] == "web"


# --- the parsing helpers --------------------------------------------------------------------


def test_parse_json_refuses_depth_and_non_json_numbers() -> None:
    assert parse_json(b'{"a": [1, {"b": 2}]}') == {"a": [1, {"b": 2}]}
    for raw in (b"[" * 5000 + b"]" * 5000, b"[Infinity]", b"-Infinity", b"[" * 65 + b"]" * 65):
        with pytest.raises(ValueError):
            parse_json(raw)
    assert parse_json(b"[" * 64 + b"]" * 64) is not None


def test_gunzip_limited_stops_at_the_limit() -> None:
    assert gunzip_limited(gzip.compress(b"x" * 100), 100) == b"x" * 100
    with pytest.raises(ValueError):
        gunzip_limited(gzip.compress(b"x" * 101), 100)
    with pytest.raises(EOFError):
        gunzip_limited(gzip.compress(b"x" * 100)[:-8], 1000)


# --- a strict JSON server's reading: overflow to ±Infinity and unpaired surrogates ---------

STRICT_JSON_REFUSALS = [
    b'{"name": 1e999, "event": "x", "type": "track"}',  # overflows a double to +Infinity
    b'{"name": -1e400, "event": "x", "type": "track"}',
    b'{"name": ' + b"9" * 400 + b', "event": "x", "type": "track"}',  # integer beyond a double
    b'{"name": "\\ud800", "event": "x", "type": "track"}',  # unpaired high surrogate
    b'{"name": "ok\\udfff", "event": "x", "type": "track"}',  # unpaired low surrogate
    b'{"\\udbff": "key", "event": "x", "type": "track"}',  # in a key
    b'{"properties": {"a": ["\\ud83d"]}, "event": "x", "type": "track"}',  # nested, half a pair
]


@pytest.mark.parametrize("route", ROUTES)
@pytest.mark.parametrize(
    "body",
    STRICT_JSON_REFUSALS,
    ids=["1e999", "-1e400", "huge integer", "high surrogate", "low surrogate", "key", "nested"],
)
def test_json_a_strict_server_refuses_is_a_400_at_intake(
    small: SandboxServer, route: str, body: bytes
) -> None:
    url, headers = routes(small)[route]
    response = requests.post(url, data=body, headers=headers, timeout=TIMEOUT)
    assert response.status_code == 400, (response.status_code, response.text)


def test_after_hostile_bodies_every_read_route_still_answers(small: SandboxServer) -> None:
    """Nothing a strict server refuses is stored, so nothing read back can fail later."""
    all_routes = routes(small)
    for url, headers in all_routes.values():
        for body in STRICT_JSON_REFUSALS:
            requests.post(url, data=body, headers=headers, timeout=TIMEOUT)
    tenant_url, admin_headers = all_routes["token api"]
    workspace_headers = all_routes["public api"][1]
    for url, headers in (
        (tenant_url, admin_headers),
        (f"{small.url}/sources", workspace_headers),
        (f"{small.url}/_sandbox/requests", {}),
        (f"{small.url}/_sandbox/segment/events", {}),
        (f"{small.url}/_sandbox/segment/deliveries", {}),
    ):
        response = requests.get(url, headers=headers, timeout=TIMEOUT)
        assert response.status_code < 500, (url, response.status_code, response.text)


def test_paired_surrogates_and_large_finite_numbers_are_fine() -> None:
    assert parse_json(b'{"e": "\\ud83d\\ude00", "n": 1e308, "i": 123456789012345678901}') == {
        "e": "\U0001f600",
        "n": 1e308,
        "i": 123456789012345678901,
    }
    for raw in (b"1e999", b"[-1e999]", b'"\\ud800"', b'{"\\udc00": 1}', b"9" * 400):
        with pytest.raises(ValueError):
            parse_json(raw)
