"""Fault injection over real HTTP: statuses, Retry-After, delays and really dropped connections."""

from __future__ import annotations

import time
from typing import Any

import pytest
import requests

from sandbox.server import SandboxServer

TIMEOUT = 10
# A path no stand-in serves: faults apply before routing, so they work for every route.
ANY_PATH = "/v1/anything"


def arm(sandbox: SandboxServer, **spec: Any) -> requests.Response:
    return requests.post(f"{sandbox.url}/_sandbox/faults", json=spec, timeout=TIMEOUT)


def logged_statuses(sandbox: SandboxServer, since: int = 0) -> list[tuple[str, str, int]]:
    rows = requests.get(
        f"{sandbox.url}/_sandbox/requests", params={"since": since}, timeout=TIMEOUT
    ).json()
    return [(row["method"], row["path"], row["status"]) for row in rows]


def test_status_fault_fails_the_next_count_matching_requests(sandbox: SandboxServer) -> None:
    armed = arm(sandbox, path_prefix="/v1/", count=2, status=503)
    assert armed.status_code == 201
    assert armed.json()["remaining"] == 2
    responses = [requests.get(f"{sandbox.url}{ANY_PATH}", timeout=TIMEOUT) for _ in range(3)]
    assert [r.status_code for r in responses] == [503, 503, 404]
    assert responses[0].json() == {
        "error": {
            "code": "injected_fault",
            "message": "fault injected by /_sandbox/faults: status 503",
        }
    }
    assert "Retry-After" not in responses[0].headers
    assert logged_statuses(sandbox) == [
        ("GET", ANY_PATH, 503),
        ("GET", ANY_PATH, 503),
        ("GET", ANY_PATH, 404),
    ]


def test_other_paths_and_methods_are_not_affected(sandbox: SandboxServer) -> None:
    arm(sandbox, path_prefix="/v1/any", count=1, status=500, method="post")
    assert requests.get(f"{sandbox.url}{ANY_PATH}", timeout=TIMEOUT).status_code == 404
    assert requests.post(f"{sandbox.url}/v2/anything", timeout=TIMEOUT).status_code == 404
    assert requests.post(f"{sandbox.url}{ANY_PATH}", timeout=TIMEOUT).status_code == 500


def test_429_fault_carries_retry_after_and_a_custom_body(sandbox: SandboxServer) -> None:
    body = {"errors": [{"type": "too-many-requests", "message": "slow down"}]}
    arm(sandbox, path_prefix="/", count=1, status=429, retry_after=7, body=body)
    response = requests.get(f"{sandbox.url}{ANY_PATH}", timeout=TIMEOUT)
    assert response.status_code == 429
    assert response.headers["Retry-After"] == "7"
    assert response.json() == body


def test_delay_only_fault_slows_the_request_then_serves_it(sandbox: SandboxServer) -> None:
    arm(sandbox, path_prefix="/_sandbox/pendula/tenants", count=1, delay_ms=400)
    started = time.perf_counter()
    slow = requests.post(f"{sandbox.url}/_sandbox/pendula/tenants", json={}, timeout=TIMEOUT)
    slow_seconds = time.perf_counter() - started
    started = time.perf_counter()
    fast = requests.post(f"{sandbox.url}/_sandbox/pendula/tenants", json={}, timeout=TIMEOUT)
    fast_seconds = time.perf_counter() - started
    assert (slow.status_code, fast.status_code) == (201, 201)
    assert "tenant_id" in slow.json()
    assert slow_seconds >= 0.4 > fast_seconds


def test_delay_with_status_waits_before_failing(sandbox: SandboxServer) -> None:
    arm(sandbox, path_prefix="/v1/", count=1, status=502, delay_ms=300)
    started = time.perf_counter()
    response = requests.get(f"{sandbox.url}{ANY_PATH}", timeout=TIMEOUT)
    assert response.status_code == 502
    assert time.perf_counter() - started >= 0.3


def test_delay_beyond_the_client_timeout_makes_it_time_out(sandbox: SandboxServer) -> None:
    arm(sandbox, path_prefix="/v1/", count=1, delay_ms=800)
    with pytest.raises(requests.exceptions.ReadTimeout):
        requests.get(f"{sandbox.url}{ANY_PATH}", timeout=0.2)


def test_dropped_connection_closes_tcp_without_any_response(sandbox: SandboxServer) -> None:
    arm(sandbox, path_prefix="/v1/", count=1, drop_connection=True)
    with requests.Session() as session:
        with pytest.raises(requests.exceptions.ConnectionError) as caught:
            session.post(f"{sandbox.url}{ANY_PATH}", json={"a": 1}, timeout=TIMEOUT)
        assert "Remote end closed connection without response" in str(caught.value)
        # The server is unharmed: the next request on a fresh connection is served.
        assert session.get(f"{sandbox.url}{ANY_PATH}", timeout=TIMEOUT).status_code == 404
    assert logged_statuses(sandbox) == [("POST", ANY_PATH, 0), ("GET", ANY_PATH, 404)]


def test_dropped_connection_on_a_pendula_route(sandbox: SandboxServer) -> None:
    arm(sandbox, path_prefix="/webhook/inbound/", count=2, drop_connection=True)
    url = f"{sandbox.url}/webhook/inbound/00000000-0000-0000-0000-000000000000"
    for _ in range(2):
        with pytest.raises(requests.exceptions.ConnectionError):
            requests.post(url, json={}, headers={"Authorization": "Bearer x"}, timeout=TIMEOUT)
    assert requests.post(url, json={}, timeout=TIMEOUT).status_code == 401
    assert [status for _, _, status in logged_statuses(sandbox)] == [0, 0, 401]


def test_list_and_clear_armed_faults(sandbox: SandboxServer) -> None:
    arm(sandbox, path_prefix="/v1/", count=3, status=500)
    arm(sandbox, path_prefix="/api/", count=1, drop_connection=True)
    requests.get(f"{sandbox.url}{ANY_PATH}", timeout=TIMEOUT)
    listed = requests.get(f"{sandbox.url}/_sandbox/faults", timeout=TIMEOUT).json()["items"]
    assert [(f["path_prefix"], f["remaining"]) for f in listed] == [("/v1/", 2), ("/api/", 1)]
    cleared = requests.delete(f"{sandbox.url}/_sandbox/faults", timeout=TIMEOUT)
    assert cleared.json() == {"cleared": 2}
    assert requests.get(f"{sandbox.url}{ANY_PATH}", timeout=TIMEOUT).status_code == 404
    assert requests.get(f"{sandbox.url}/_sandbox/faults", timeout=TIMEOUT).json() == {"items": []}


def test_the_control_endpoint_itself_cannot_be_faulted(sandbox: SandboxServer) -> None:
    arm(sandbox, path_prefix="/_sandbox/", count=1, status=500)
    assert requests.get(f"{sandbox.url}/_sandbox/faults", timeout=TIMEOUT).status_code == 200
    assert requests.get(f"{sandbox.url}/_sandbox/requests", timeout=TIMEOUT).status_code == 500
    # Control traffic stays out of the request log, faulted or not.
    assert logged_statuses(sandbox) == []


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        (
            {"path_prefix": "/v1/", "count": 1},
            "body: Value error, give at least one of status, delay_ms or drop_connection: true",
        ),
        (
            {"path_prefix": "/v1/", "count": 1, "status": 500, "drop_connection": True},
            "body: Value error, status and drop_connection: true exclude each other",
        ),
        (
            {"path_prefix": "/v1/", "count": 1, "delay_ms": 5, "retry_after": 3},
            "body: Value error, retry_after and body need a status",
        ),
        (
            {"path_prefix": "v1", "count": 1, "status": 500},
            "path_prefix: String should match pattern '^/'",
        ),
        (
            {"path_prefix": "/", "count": 0, "status": 500},
            "count: Input should be greater than or equal to 1",
        ),
        (
            {"path_prefix": "/", "count": 1, "status": 200},
            "status: Input should be greater than or equal to 400",
        ),
        (
            {"path_prefix": "/", "count": 1, "status": 500, "times": 2},
            "times: Extra inputs are not permitted",
        ),
    ],
)
def test_bad_fault_specs_are_rejected_naming_the_field(
    sandbox: SandboxServer, spec: dict[str, Any], message: str
) -> None:
    response = arm(sandbox, **spec)
    assert response.status_code == 422
    assert response.json() == {"error": {"code": "validation_error", "message": message}}
    assert requests.get(f"{sandbox.url}/_sandbox/faults", timeout=TIMEOUT).json() == {"items": []}


def test_unsupported_control_method_is_405(sandbox: SandboxServer) -> None:
    response = requests.put(f"{sandbox.url}/_sandbox/faults", json={}, timeout=TIMEOUT)
    assert response.status_code == 405
    assert response.headers["Allow"] == "GET, POST, DELETE"
