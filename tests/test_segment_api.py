"""The read-only Public API client against the Segment stand-in over real HTTP."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from components.segment.api import SegmentApi, SegmentApiError
from sandbox.server import SandboxServer, free_port
from sandbox.settings import SandboxSettings
from tests.sandbox.segment_helpers import TIMEOUT, SegmentWorkspace
from tests.test_endpoints import REFUSED_SEGMENT_URLS

MAPPING = {
    "url": "https://pendula.app/webhook/inbound/0b7d9c1e-0000-4000-8000-000000000001",
    "method": "POST",
    "batch_size": 0,
    "headers": {"Authorization": "Bearer pdl_test_token"},
    "data": {"@path": "$."},
    "enable_batching": False,
}


@pytest.fixture
def server(tmp_path: Path) -> Iterator[SandboxServer]:
    """A sandbox without the subscription write limit (tests seed many mappings)."""
    settings = SandboxSettings(db_path=tmp_path / "db.sqlite3", subscription_writes_per_minute=0)
    with SandboxServer(settings) as running:
        yield running


def fault(server: SandboxServer, **spec: Any) -> None:
    response = requests.post(f"{server.url}/_sandbox/faults", json=spec, timeout=TIMEOUT)
    assert response.status_code < 300, response.text


def logged_gets(server: SandboxServer, path: str) -> int:
    """How many GET requests the sandbox logged for exactly this path."""
    log = requests.get(f"{server.url}/_sandbox/requests", timeout=TIMEOUT).json()
    return sum(1 for row in log if row["method"] == "GET" and row["path"] == path)


def client(
    server: SandboxServer, token: str, sleeps: list[float] | None = None, **kwargs: Any
) -> SegmentApi:
    recorder = sleeps if sleeps is not None else []
    return SegmentApi(token, server.url, sleep=recorder.append, **kwargs)


def test_pagination_follows_cursors_until_the_last_page(server: SandboxServer) -> None:
    workspace = SegmentWorkspace(server)
    source = workspace.source()
    created = [
        workspace.call(
            "POST",
            "/destinations",
            json={
                "sourceId": source["id"],
                "metadataId": "614a3c7d791c91c41bae7599",
                "enabled": True,
                "name": f"d{i}",
                "settings": {},
            },
        ).json()["data"]["destination"]["id"]
        for i in range(5)
    ]
    destination = created[0]
    subscriptions = [
        workspace.subscription(destination, MAPPING, name=f"m{i}")["id"] for i in range(7)
    ]
    api = client(server, workspace.token, page_size=2)

    assert [d["id"] for d in api.connected_destinations(source["id"])] == created
    assert [s["id"] for s in api.subscriptions(destination)] == subscriptions
    # 5 destinations in pages of 2 → 3 calls; 7 subscriptions → 4 calls.
    assert logged_gets(server, f"/sources/{source['id']}/connected-destinations") == 3
    assert logged_gets(server, f"/destinations/{destination}/subscriptions") == 4


def test_requests_carry_bearer_token_and_media_types(server: SandboxServer) -> None:
    workspace = SegmentWorkspace(server)
    source = workspace.source()
    destination = workspace.destination(source["id"])
    workspace.subscription(destination["id"], MAPPING)
    session = requests.Session()
    sent: list[requests.PreparedRequest] = []
    session.hooks["response"].append(
        lambda response, *args, **kwargs: sent.append(response.request)
    )
    api = SegmentApi(workspace.token, server.url, session=session)

    api.get_source(source["id"])
    list(api.subscriptions(destination["id"]))

    assert [r.headers["Authorization"] for r in sent] == [f"Bearer {workspace.token}"] * 2
    assert sent[0].headers["Accept"] == "application/vnd.segment.v1+json, application/json"
    assert sent[1].headers["Accept"] == "application/vnd.segment.v1alpha+json, application/json"
    assert sent[1].url == (
        f"{server.url}/destinations/{destination['id']}/subscriptions?pagination.count=200"
    )


def test_429_waits_for_ms_before_next_then_succeeds(server: SandboxServer) -> None:
    workspace = SegmentWorkspace(server)
    source = workspace.source()
    body = {
        "errors": [
            {
                "type": "RequestError",
                "message": "Too many requests",
                "data": {"remainingPoints": 0, "msBeforeNext": 1500, "consumedPoints": 21},
            }
        ]
    }
    fault(server, path_prefix="/sources/", count=2, status=429, retry_after=9, body=body)
    sleeps: list[float] = []

    assert client(server, workspace.token, sleeps).get_source(source["id"])["id"] == source["id"]
    assert sleeps == [1.5, 1.5]  # the body's hint wins over Retry-After


def test_429_wait_is_capped(server: SandboxServer) -> None:
    workspace = SegmentWorkspace(server)
    source = workspace.source()
    body = {"errors": [{"type": "RequestError", "message": "x", "data": {"msBeforeNext": 57647}}]}
    fault(server, path_prefix="/sources/", count=1, status=429, body=body)
    sleeps: list[float] = []

    client(server, workspace.token, sleeps, max_wait_seconds=7).get_source(source["id"])

    assert sleeps == [7]


def test_429_without_body_hint_uses_retry_after(server: SandboxServer) -> None:
    workspace = SegmentWorkspace(server)
    source = workspace.source()
    fault(server, path_prefix="/sources/", count=1, status=429, retry_after=3)
    sleeps: list[float] = []

    client(server, workspace.token, sleeps).get_source(source["id"])

    assert sleeps == [3.0]


def test_gives_up_after_max_attempts(server: SandboxServer) -> None:
    workspace = SegmentWorkspace(server)
    source = workspace.source()
    body = {"errors": [{"type": "RequestError", "message": "Too many requests"}]}
    fault(server, path_prefix="/sources/", count=10, status=429, body=body)
    sleeps: list[float] = []

    with pytest.raises(SegmentApiError) as caught:
        client(server, workspace.token, sleeps, max_attempts=3).get_source(source["id"])

    assert str(caught.value) == (
        f"Segment Public API GET /sources/{source['id']}: 429 Too many requests "
        "(still rate limited after 3 attempts)"
    )
    assert caught.value.status == 429
    assert sleeps == [1.0, 2.0]  # no hint: exponential back-off


def test_dropped_connection_and_503_are_retried(server: SandboxServer) -> None:
    workspace = SegmentWorkspace(server)
    source = workspace.source()
    fault(server, path_prefix="/sources/", count=1, drop_connection=True)
    sleeps: list[float] = []

    assert client(server, workspace.token, sleeps).get_source(source["id"])["id"] == source["id"]
    fault(server, path_prefix="/sources/", count=1, status=503)
    assert client(server, workspace.token, sleeps).get_source(source["id"])["id"] == source["id"]
    assert sleeps == [1.0, 1.0]


def test_invalid_token_error_is_clear_and_never_contains_the_token(
    server: SandboxServer,
) -> None:
    workspace = SegmentWorkspace(server)
    source = workspace.source()
    wrong = "sta_wrong-token-value-1234567890"

    with pytest.raises(SegmentApiError) as caught:
        client(server, wrong).get_source(source["id"])

    message = str(caught.value)
    assert caught.value.status == 401
    assert message.startswith(
        f"Segment Public API GET /sources/{source['id']}: 401 The Public API token is not valid "
        "for any workspace.. Check PUBLIC_API_TOKEN"
    )
    assert "https://eu1.api.segmentapis.com for EU" in message
    assert wrong not in message and wrong not in repr(caught.value)


def test_forbidden_answer_that_echoes_the_token_is_scrubbed(server: SandboxServer) -> None:
    workspace = SegmentWorkspace(server)
    source = workspace.source()
    body = {"errors": [{"type": "forbidden", "message": f"token {workspace.token} lacks access"}]}
    fault(server, path_prefix="/sources/", count=1, status=403, body=body)

    with pytest.raises(SegmentApiError) as caught:
        client(server, workspace.token).get_source(source["id"])

    assert caught.value.status == 403
    assert str(caught.value).startswith(
        f"Segment Public API GET /sources/{source['id']}: 403 token [secret] lacks access."
    )
    assert workspace.token not in str(caught.value)


def test_unknown_source_is_a_404_naming_it(server: SandboxServer) -> None:
    workspace = SegmentWorkspace(server)

    with pytest.raises(SegmentApiError) as caught:
        client(server, workspace.token).get_source("nosuchsource")

    assert str(caught.value) == (
        "Segment Public API GET /sources/nosuchsource: 404 "
        "Source 'nosuchsource' was not found in this workspace."
    )


def test_constructor_checks_and_repr_hides_the_token() -> None:
    api = SegmentApi("sta_secret_value", "https://eu1.api.segmentapis.com/")
    assert repr(api) == "SegmentApi(base_url='https://eu1.api.segmentapis.com', token=[secret])"
    with pytest.raises(ValueError, match=r"^token: a Segment Public API token is required"):
        SegmentApi("  ")
    with pytest.raises(ValueError, match=r"^url: 'ftp://x' is not an http\(s\) URL"):
        SegmentApi("t", "ftp://x")
    with pytest.raises(ValueError, match=r"^page_size: 0 is out of range; allowed 1..1000$"):
        SegmentApi("t", page_size=0)
    with pytest.raises(ValueError, match=r"^id: '\.\./x' is not a Segment id"):
        api.get_source("../x")


def test_an_api_nothing_answers_at_fails_at_once_saying_where_it_tried() -> None:
    """No retries: refused or unresolvable stays so for the next minute; a user wants to know."""
    port = free_port()
    for url, reason in (
        (f"http://127.0.0.1:{port}", f"connection refused: nothing listens at 127.0.0.1:{port}"),
        (
            "https://api.segment-pendula.invalid",
            "the host name api.segment-pendula.invalid does not resolve",
        ),
    ):
        sleeps: list[float] = []
        hosts = ["api.segment-pendula.invalid"]  # extended, as allowedSegmentApiHosts can be
        api = SegmentApi("sta_token-never-shown", url, sleep=sleeps.append, allowed_hosts=hosts)
        with pytest.raises(SegmentApiError) as caught:
            api.get_source("abc")
        assert sleeps == []
        message = str(caught.value)
        assert message.startswith(
            f"Segment Public API GET /sources/abc: could not reach {url}/sources/abc: {reason}"
        ), message
        assert "--segment-url or PUBLIC_API_URL" in message
        assert "sta_token-never-shown" not in message


def test_the_connect_timeout_is_short_and_the_read_timeout_is_not() -> None:
    seen: list[Any] = []

    class Session(requests.Session):
        def get(self, *args: Any, **kwargs: Any) -> requests.Response:  # type: ignore[override]
            seen.append(kwargs["timeout"])
            raise requests.ConnectTimeout("timed out")

    api = SegmentApi("t", "https://api.segmentapis.com", session=Session(), sleep=seen.append)
    with pytest.raises(SegmentApiError, match="did not accept a connection within 5 s"):
        api.get_source("abc")
    assert seen == [(5.0, 30.0)]  # one attempt, no sleep


# --- the Public API token goes only to a Segment API host ---------------------------------------


@pytest.mark.parametrize(
    ("url", "why"),
    REFUSED_SEGMENT_URLS,
)
def test_the_token_is_sent_only_to_segment_api_hosts(url: str, why: str) -> None:
    with pytest.raises(ValueError, match=why) as raised:
        SegmentApi("sta_token", url)
    assert str(raised.value).startswith("url: '")
    assert "sta_secret" not in str(raised.value)


def test_connection_errors_mask_credentials_in_the_url() -> None:
    # A loopback port nothing listens on: the error names the URL, credentials hidden.
    url = "http://127.0.0.1:9/?api_key=k-secret-1"
    api = SegmentApi("sta_token", url, max_attempts=1, timeout_seconds=1, sleep=lambda _: None)
    with pytest.raises(SegmentApiError) as raised:
        api.get_source("src1")
    message = str(raised.value)
    assert "could not reach http://127.0.0.1:9/?api_key=[hidden]" in message
    assert "k-secret-1" not in message and "sta_token" not in message
